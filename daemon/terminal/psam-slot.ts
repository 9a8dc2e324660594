/**
 * The PSAM in its reader: opened when it is inserted (exclusively, and kept open), dropped when it
 * is taken out or its reader goes. Card identification wants it (INTERNAL AUTHENTICATE, the 3.0
 * card's EF06: docs/domain.md §1), and reset, unblock and activation need it for their MACs.
 * Opening and closing run one after the other; waiters are told of every change (no polling).
 */
import type { Logger } from '../../core/logger.js';
import { isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import { bi } from '../../core/text.js';
import type { PcscChannel } from '../../drivers/pcsc/channel.js';
import type { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import { Psam } from '../../drivers/psam/psam.js';
import type { TerminalEvent } from './port.js';
import { Changes, Deadline, nextChange } from './wait.js';

export interface PsamSlotOptions {
  readonly pcsc: PcscService;
  /** Which reader holds the PSAM; undefined: no PSAM reader is configured. */
  readonly isPsamReader: ((name: string) => boolean) | undefined;
  readonly log: Logger;
  readonly emit: (e: TerminalEvent) => void;
  /** The terminal is stopping: open nothing more. */
  readonly stopped: () => boolean;
  /** Told each time a PSAM is opened (card-slots.ts re-reads the cards that needed it). */
  readonly opened?: () => void;
}

export class PsamSlot {
  private current: Psam | undefined;
  private reader: string | undefined;
  private why: BilingualText | null = null;
  private channel: PcscChannel | undefined;
  private work: Promise<void> = Promise.resolve();
  private readonly changes = new Changes();

  public constructor(private readonly o: PsamSlotOptions) {}

  /** The open PSAM, when there is one. */
  public get psam(): Psam | undefined {
    return this.current;
  }

  /** Why there is no PSAM, once an attempt failed or it was taken out. */
  public get problem(): BilingualText | null {
    return this.why;
  }

  /** The PSAM's reader, once seen. */
  public get readerName(): string | undefined {
    return this.reader;
  }

  /** A configured PSAM reader (by its name). */
  public isReader(name: string): boolean {
    return this.o.isPsamReader?.(name) ?? false;
  }

  public get configured(): boolean {
    return this.o.isPsamReader !== undefined;
  }

  /** Resolves when the opening and closing queued so far are done. */
  public settled(): Promise<void> {
    return this.work;
  }

  private queue(step: () => Promise<void>): void {
    this.work = this.work.then(step).finally(() => this.changes.notify());
    this.changes.notify();
  }

  /** The PSAM's reader is there (a PSAM in it or not). */
  public attached(name: string): void {
    this.reader = name;
  }

  /** A PSAM is in reader `name`: open it. */
  public inserted(name: string): void {
    this.reader = name;
    this.queue(() => this.open(name));
  }

  private async open(name: string): Promise<void> {
    if (this.o.stopped()) return;
    try {
      await this.channel?.close('leave').catch(() => undefined);
      this.channel = await this.o.pcsc.connect(name, { share: 'exclusive' });
      const psam = new Psam(this.channel);
      const { terminalNumber } = await psam.open();
      this.current = psam;
      this.why = null;
      this.o.log.info('PSAM ready', { reader: name, terminalNumber });
      this.o.emit({ type: 'device', component: 'psam', connected: true, problem: null });
      this.o.opened?.();
    } catch (e) {
      this.current = undefined;
      this.why = isSsCardError(e) ? e.text : bi('PSAM 无法使用', 'the PSAM cannot be used');
      this.o.log.error('PSAM not usable', { reader: name, code: isSsCardError(e) ? e.code : undefined, message: this.why.en });
      this.o.emit({ type: 'device', component: 'psam', connected: false, problem: this.why });
    }
  }

  /** The PSAM was taken out, or its reader went. */
  public gone(): void {
    const ch = this.channel;
    this.channel = undefined;
    this.current = undefined;
    this.why = bi('PSAM 卡已取出', 'the PSAM was removed');
    this.queue(async () => {
      await ch?.close('leave').catch(() => undefined);
    });
    this.o.emit({ type: 'device', component: 'psam', connected: false, problem: this.why });
  }

  /**
   * Wait (at most `ms`) until a configured PSAM reader's PSAM is open or known to be unusable.
   * Without a PSAM reader configured, or with an empty one, nothing to wait for. Wakes on the
   * PSAM's changes only; the PSAM reader's insertion and removal are such changes.
   */
  public async ready(ms: number): Promise<void> {
    const time = new Deadline();
    for (;;) {
      await this.work;
      if (this.current !== undefined || this.why !== null || !this.configured) return;
      const reader = this.o.pcsc.readers().find((r) => this.isReader(r.name));
      if (reader === undefined || !reader.cardPresent) return;
      if (time.passed(ms)) return;
      if ((await nextChange([this.changes.watch], time.left(ms))) === 'timeout') time.timedOut(ms);
    }
  }

  /** Stop: let queued work end, then release the PSAM. */
  public async close(): Promise<void> {
    await this.work;
    await this.channel?.close('leave').catch(() => undefined);
    this.channel = undefined;
    this.current = undefined;
  }
}
