/**
 * Waiting without polling: the terminal's waits (a slot's flow to end, a card to be identified,
 * the PSAM to come up) sleep until something they watch changes — a slot, a session actor's
 * snapshot, the PSAM, an abort — with at most one timer for their time limit. An idle terminal
 * has no timer running and spends no CPU.
 */

/** Something to watch: calls `wake` at each change; returns how to stop watching. */
export type Watch = (wake: () => void) => () => void;

/** Listeners told of a change (a slot freed, presence work done, the PSAM's state). */
export class Changes {
  private readonly listeners = new Set<() => void>();

  public readonly watch: Watch = (wake) => {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  };

  public notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** Watch an abort signal. */
export function abortOf(signal: AbortSignal): Watch {
  return (wake) => {
    signal.addEventListener('abort', wake, { once: true });
    return () => signal.removeEventListener('abort', wake);
  };
}

/** Watch an actor's snapshots (xstate's `subscribe`). */
export function snapshotsOf(actor: { subscribe(next: () => void): { unsubscribe(): void } }): Watch {
  return (wake) => {
    const sub = actor.subscribe(wake);
    return () => sub.unsubscribe();
  };
}

/**
 * Resolves at the first wake of any of `watches`, or when `ms` have passed (one timer; none when
 * `ms` is undefined): `'timeout'` then, else `'change'`.
 */
export function nextChange(watches: readonly Watch[], ms?: number): Promise<'change' | 'timeout'> {
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const stops: (() => void)[] = [];
    const finish = (how: 'change' | 'timeout'): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const stop of stops) stop();
      resolve(how);
    };
    for (const w of watches) stops.push(w(() => finish('change')));
    if (done) {
      for (const stop of stops) stop();
      return;
    }
    if (ms !== undefined) timer = setTimeout(() => finish('timeout'), Math.max(0, ms));
  });
}

/**
 * Resolves true as soon as `done()` holds — checked now and at every wake of `watches` — or false
 * when `ms` pass first (one timer for the whole wait).
 */
export function until(done: () => boolean, watches: readonly Watch[], ms: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    let settled = false;
    const stops: (() => void)[] = [];
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const stop of stops) stop();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), Math.max(0, ms));
    for (const w of watches) stops.push(w(() => done() && finish(true)));
    if (settled) for (const stop of stops) stop();
  });
}

/**
 * A time limit measured from its creation, for waits that check it between wakes: `passed(ms)`
 * holds once `ms` have elapsed, and `left(ms)` is the timer a wait should arm for it. A timer that
 * fired counts as the time having passed, whatever the clock says.
 */
export class Deadline {
  private readonly start = performance.now();
  private reached = 0;

  public elapsed(): number {
    return Math.max(performance.now() - this.start, this.reached);
  }

  public passed(ms: number): boolean {
    return this.elapsed() >= ms;
  }

  public left(ms: number): number {
    return Math.max(0, ms - this.elapsed());
  }

  /** A wait for `ms` ended by its timer. */
  public timedOut(ms: number): void {
    this.reached = Math.max(this.reached, ms);
  }
}
