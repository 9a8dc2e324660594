/**
 * When the page reads again (docs/api.md "Unsolicited"): the status after a card or device event,
 * the log after a warning — never on a timer while nothing happens. A burst of events (a card
 * going in sends a StatusChanged, CardInserted, CardIdentified…) becomes one read,
 * `DEBOUNCE_MS` after the last of them.
 */
export type Refresh = 'status' | 'log' | 'none';

/** Events after which `Common.Status` says something new. */
export const STATUS_EVENTS: ReadonlySet<string> = new Set([
  'Common.StatusChangedEvent',
  'CardReader.MediaInsertedEvent',
  'CardReader.MediaRemovedEvent',
  'SSCard.CardInsertedEvent',
  'SSCard.CardIdentifiedEvent',
  'SSCard.CardRemovedEvent',
  'SSCard.SessionEndedEvent',
  'SSCard.ResultEvent',
]);

export const LOG_EVENT = 'SSCard.LogChangedEvent';

export const DEBOUNCE_MS = 150;

export function refreshFor(eventName: string): Refresh {
  if (STATUS_EVENTS.has(eventName)) return 'status';
  if (eventName === LOG_EVENT) return 'log';
  return 'none';
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Runs `fn` once, `ms` after the last `poke()`; a read already running is not started twice — a
 * poke while it runs schedules one more after it ends (what changed meanwhile is read too).
 */
export class Debounced {
  private timer: unknown = null;
  private running = false;
  private again = false;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly ms: number = DEBOUNCE_MS,
    private readonly timers: Timers = REAL_TIMERS,
  ) {}

  poke(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.fire();
    }, this.ms);
  }

  /** Whether a read is waiting or running. */
  get pending(): boolean {
    return this.timer !== null || this.running;
  }

  cancel(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.again = false;
  }

  private async fire(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.fn();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    }
  }
}
