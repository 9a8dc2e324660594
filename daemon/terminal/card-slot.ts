/**
 * One card slot (a card reader) of the terminal: its long-lived card session actor
 * (state/session.ts), the card's channel while a card is in, its lock, and its presence work.
 *
 * One card operation at a time per slot: services, ReadBasic, ChipIO and ChipPower take the lock,
 * and a second one is refused at once (Flow_Busy) instead of queuing behind a holder who is still
 * typing. Presence changes (insertion, removal, re-identification) run one after the other.
 *
 * The waits here sleep on events (wait.ts): the lock released, presence work done, the session's
 * snapshots, an abort — never on a tick.
 */
import type { Actor, SnapshotFrom } from 'xstate';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import type { PcscChannel } from '../../drivers/pcsc/channel.js';
import type { PinPad } from '../../drivers/pinpad/pinpad.js';
import type { SessionMachine } from '../../state/session.js';
import { Changes, Deadline, abortOf, nextChange, snapshotsOf } from './wait.js';

export type SessionActor = Actor<SessionMachine>;
export type SessionSnapshot = SnapshotFrom<SessionMachine>;

/**
 * A present card whose session is still `idle` this long after the wait's own limit is taken as
 * not there: the connection or the PSAM wait before CARD_INSERTED failed to end (ms).
 */
export const IDLE_GRACE_MS = 2000;

/** The session has an answer for a request: identified, or its flow done, or ended (the card stays in). */
function identifiedOrOver(s: SessionSnapshot): boolean {
  return s.matches('identified') || s.matches('done') || s.matches('ended');
}

export function cancelled(): SsCardError {
  return new SsCardError(ErrorCode.Flow_Timeout, bi('请求已取消', 'the request was cancelled'));
}

export class CardSlot {
  public readonly actor: SessionActor;
  public channel: PcscChannel | undefined;
  public atr: Buffer | undefined;
  public present = false;
  /** The lock: what runs on this slot now. */
  public busy: string | undefined;
  /** The operator of the running request (counter services). */
  public operatorId: string | undefined;
  /** Raw APDUs or power changes went to the card: re-identify before the next service. */
  public dirty = false;
  /** Told when the lock is released and when presence work is done. */
  public readonly changes = new Changes();
  private tail: Promise<void> = Promise.resolve();

  /**
   * @param pad the slot's own on-screen keypad (touchPadPerSlot), else the terminal's pad
   * @param session builds the slot's session actor (slot-session.ts), started by the caller
   */
  public constructor(
    public readonly name: string,
    public readonly pad: PinPad,
    session: (slot: CardSlot) => SessionActor,
  ) {
    this.actor = session(this);
  }

  /** Resolves when the presence work queued so far is done. */
  public get presence(): Promise<void> {
    return this.tail;
  }

  /** Queue presence work after the work already queued; listeners are told when it is done. */
  public queue(work: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(work).finally(() => this.changes.notify());
    return this.tail;
  }

  /** Take the slot's lock for `what`, or throw Flow_Busy. Returns the release. */
  public lock(what: string): () => void {
    if (this.busy !== undefined) {
      throw new SsCardError(
        ErrorCode.Flow_Busy,
        bi(`读卡器“${this.name}”正在办理其他业务（${this.busy}），请稍后再试`, `the reader "${this.name}" is busy (${this.busy}); try again when it is done`),
        { reader: this.name, busy: this.busy },
      );
    }
    this.busy = what;
    return () => {
      this.busy = undefined;
      this.changes.notify();
    };
  }

  public noCard(): SsCardError {
    return new SsCardError(ErrorCode.Flow_NoCard, bi(`读卡器“${this.name}”中没有卡：请插入社保卡`, `no card in the reader "${this.name}": insert the social security card`), { reader: this.name });
  }

  /**
   * Wait until the slot's session leaves `identifying` with a card present: resolves with its
   * snapshot. Without a card after `waitMs`: Flow_NoCard; a present card whose session never left
   * `idle` ({@link IDLE_GRACE_MS} more): Flow_NoCard; `signal` aborted: cancelled.
   */
  public async identified(waitMs: number, signal: AbortSignal): Promise<SessionSnapshot> {
    const time = new Deadline();
    const watches = [this.changes.watch, snapshotsOf(this.actor), abortOf(signal)];
    for (;;) {
      await this.presence;
      const snap = this.actor.getSnapshot();
      if (this.present && identifiedOrOver(snap)) return snap;
      if (signal.aborted) throw cancelled();
      const late = time.passed(waitMs);
      if (!this.present && late) throw this.noCard();
      const idle = snap.matches('idle');
      if (this.present && !snap.matches('identifying') && !idle && late) return snap;
      if (this.present && idle && time.passed(waitMs + IDLE_GRACE_MS)) throw this.noCard();
      // The next time limit that can change the answer; while identifying, only events can.
      const limit = !late ? waitMs : this.present && idle ? waitMs + IDLE_GRACE_MS : undefined;
      if (limit === undefined) await nextChange(watches);
      else if ((await nextChange(watches, time.left(limit))) === 'timeout') time.timedOut(limit);
    }
  }

  /** After raw APDUs or power changes: identify the card afresh (its selection and security state are gone). */
  public async reidentify(connect: () => Promise<void>): Promise<void> {
    this.dirty = false;
    await this.queue(async () => {
      this.actor.send({ type: 'CARD_REMOVED' });
      await connect();
      this.actor.send({ type: 'CARD_INSERTED' });
    });
  }
}
