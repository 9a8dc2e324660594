/**
 * The terminal's card slots and their cards' presence. PC/SC presence events drive each slot's
 * session: a card in the slot is connected (exclusively: no other program can ride on a verified
 * PIN) and CARD_INSERTED is sent; removal sends CARD_REMOVED and drops the channel. Requests name
 * their slot by reader (exact name or unique part of it), or get the slot holding a card.
 */
import type { Logger } from '../../core/logger.js';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import { toHex } from '../../apdu/hex.js';
import type { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import type { PinPad } from '../../drivers/pinpad/pinpad.js';
import { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import { CardSlot } from './card-slot.js';
import type { SessionActor } from './card-slot.js';
import type { TerminalEvent } from './port.js';
import { until } from './wait.js';

/** How long a card insertion waits for a PSAM that is still coming up (ms). */
const PSAM_WAIT_MS = 1500;

export interface CardSlotsOptions {
  readonly pcsc: PcscService;
  /** Transmit timeout of the card channels (ms). */
  readonly transmitTimeoutMs: number | undefined;
  /** The terminal's PIN pad. */
  readonly pinPad: PinPad;
  /** With a touchscreen pad: each slot gets its own on-screen keypad. */
  readonly touchPadPerSlot: boolean;
  /** Resolves once the PSAM is open or known to be unusable (at most `ms`). */
  readonly psamReady: (ms: number) => Promise<void>;
  /** A PSAM is open now. */
  readonly psamOpen: () => boolean;
  /** Builds and starts a slot's session (slot-session.ts). */
  readonly session: (slot: CardSlot) => SessionActor;
  readonly log: Logger;
  readonly emit: (e: TerminalEvent) => void;
  /** The terminal is stopping: start nothing more. */
  readonly stopped: () => boolean;
}

export class CardSlots {
  private readonly slots = new Map<string, CardSlot>();
  /** Slots whose card is queued to be read again now that a PSAM is open. */
  private readonly rereading = new WeakSet<CardSlot>();

  public constructor(private readonly o: CardSlotsOptions) {}

  public get size(): number {
    return this.slots.size;
  }

  public all(): CardSlot[] {
    return [...this.slots.values()];
  }

  public get(name: string): CardSlot | undefined {
    return this.slots.get(name);
  }

  /** Names of the slots whose lock is taken. */
  public busy(): string[] {
    return this.all()
      .filter((s) => s.busy !== undefined)
      .map((s) => s.name);
  }

  /** Resolves true once no slot's lock is taken, false when `ms` pass first (no polling). */
  public whenFree(ms: number, slots: readonly CardSlot[] = this.all()): Promise<boolean> {
    return until(
      () => slots.every((s) => s.busy === undefined),
      slots.map((s) => s.changes.watch),
      ms,
    );
  }

  /** The slot with the card a request means. */
  public slotFor(reader: string | undefined): CardSlot {
    const all = this.all();
    if (reader !== undefined) {
      const exact = this.slots.get(reader);
      if (exact) return exact;
      const partial = all.filter((s) => s.name.toLowerCase().includes(reader.toLowerCase()));
      if (partial.length === 1) return partial[0]!;
      const list = all.map((s) => `"${s.name}"`).join(', ') || '(none)';
      throw new SsCardError(ErrorCode.Pcsc_ReaderNotFound, bi(`找不到读卡器“${reader}”（或匹配到多个）；可用的卡槽：${list}`, `reader "${reader}" not found (or not unique); card slots: ${list}`), { reader });
    }
    const slot = all.find((s) => s.present) ?? all[0];
    if (!slot) throw new SsCardError(ErrorCode.Pcsc_ReaderNotFound, bi('没有可用的读卡器：请连接读卡器', 'no card reader: connect one'));
    return slot;
  }

  public attach(name: string): void {
    if (this.slots.has(name)) return;
    let pad = this.o.pinPad;
    if (this.o.touchPadPerSlot && pad.kind === 'touchscreen') {
      const own = new TouchPinPad({ allowTouchscreen: true, name: `touchscreen (${name})` });
      void own.open();
      pad = own;
    }
    const slot = new CardSlot(name, pad, this.o.session);
    // The PSAM opened while this card was being identified without it: the other order of psamOpened.
    slot.actor.on('result', (e) => {
      if (e.result.code === 'psam.unavailable') setImmediate(() => this.rereadForPsam(slot));
    });
    this.slots.set(name, slot);
    this.o.log.info('card slot attached', { reader: name });
  }

  public detach(name: string): void {
    const slot = this.slots.get(name);
    if (!slot) return;
    this.removed(name);
    this.slots.delete(name);
    void slot.presence.then(() => slot.actor.stop());
    this.o.log.warn('card slot detached', { reader: name });
  }

  public inserted(name: string, atr: Buffer): void {
    const slot = this.slots.get(name);
    if (!slot) return;
    this.o.emit({ type: 'mediaInserted', reader: name, atr: toHex(atr) });
    void slot.queue(async () => {
      if (this.o.stopped()) return;
      slot.present = true;
      slot.atr = atr;
      await this.connect(slot);
      // The PSAM may still be coming up (both inserted at start; pcscd may report the card
      // first): identification wants it for internal authentication and 3.0 cards' EF06.
      await this.o.psamReady(PSAM_WAIT_MS);
      slot.actor.send({ type: 'CARD_INSERTED' });
    });
  }

  /**
   * A PSAM was opened: a card still in its slot whose identification failed for want of one
   * (result `psam.unavailable` — pcscd may report the card before the PSAM at start, or the PSAM
   * was re-seated) is read again, as if inserted anew; the holder need not take it out.
   */
  public psamOpened(): void {
    for (const slot of this.all()) this.rereadForPsam(slot);
  }

  /** Read the slot's card again if its identification ended for want of a PSAM and one is open now. */
  private rereadForPsam(slot: CardSlot): void {
    const snap = slot.actor.getSnapshot();
    if (!this.o.psamOpen() || this.rereading.has(slot) || !slot.present || slot.busy !== undefined) return;
    if (!snap.matches('ended') || snap.context.result?.code !== 'psam.unavailable') return;
    this.rereading.add(slot);
    this.o.log.info('PSAM ready: reading the card again', { reader: slot.name });
    void slot.reidentify(async () => {
      this.rereading.delete(slot);
      await this.connect(slot);
    });
  }

  public removed(name: string): void {
    const slot = this.slots.get(name);
    if (!slot) return;
    this.o.emit({ type: 'mediaRemoved', reader: name });
    void slot.queue(async () => {
      slot.present = false;
      slot.atr = undefined;
      slot.dirty = false;
      slot.actor.send({ type: 'CARD_REMOVED' });
      const ch = slot.channel;
      slot.channel = undefined;
      await ch?.close('leave').catch(() => undefined);
    });
  }

  /** (Re)connect the slot's card; a failure leaves no channel, which identification reports. */
  public async connect(slot: CardSlot): Promise<void> {
    const old = slot.channel;
    slot.channel = undefined;
    await old?.close('leave').catch(() => undefined);
    try {
      slot.channel = await this.o.pcsc.connect(slot.name, { share: 'exclusive', ...(this.o.transmitTimeoutMs === undefined ? {} : { timeoutMs: this.o.transmitTimeoutMs }) });
    } catch (e) {
      // The session's identification then fails on the missing channel and says the card is unreadable.
      this.o.log.warn('cannot connect to the card', { reader: slot.name, code: isSsCardError(e) ? e.code : undefined, message: isSsCardError(e) ? e.text.en : String(e) });
    }
  }

  /** Stop: the sessions, the slots' own keypads and the card channels. */
  public async close(): Promise<void> {
    for (const slot of this.all()) {
      await slot.presence;
      slot.actor.stop();
      if (slot.pad !== this.o.pinPad) await slot.pad.close();
      await slot.channel?.close('unpower').catch(() => undefined);
      slot.channel = undefined;
    }
  }
}
