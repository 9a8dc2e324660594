/**
 * The terminal: the daemon's one owner of the card slots, the PSAM, the PIN pad and the ID reader.
 * It implements {@link TerminalPort} for the local API.
 *
 * Each card reader (a "slot") has one long-lived card session actor (state/session.ts) wired by
 * daemon/flows/session-actors.ts. PC/SC presence events drive it: a card in the slot is connected
 * (exclusively: no other program can ride on a verified PIN) and CARD_INSERTED is sent; removal
 * sends CARD_REMOVED and drops the channel. An API request for a service sends SELECT_SERVICE and
 * waits for the session's `result` event; aborting the request sends CANCEL, which the machine
 * ignores once the state-changing command is on its way (it then runs to its end).
 *
 * One card operation at a time per slot: services, ReadBasic, ChipIO and ChipPower take the
 * slot's lock, and a second one is refused at once (Flow_Busy) instead of queuing behind a
 * holder who is still typing.
 */
import type { Logger } from '../../core/logger.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { randomBytes } from 'node:crypto';
import type { Actor, SnapshotFrom } from 'xstate';
import { createActor } from 'xstate';
import { PIN_BEARING_INS } from '../../apdu/apdu.js';
import { parseAtr } from '../../apdu/atr.js';
import type { BilingualText } from '../../core/text.js';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { toHex } from '../../apdu/hex.js';
import { wipe } from '../../apdu/pin.js';
import { SsseCard } from '../../drivers/card/ssse-card.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { PcscChannel } from '../../drivers/pcsc/channel.js';
import type { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import type { PinPad } from '../../drivers/pinpad/pinpad.js';
import { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import { Psam } from '../../drivers/psam/psam.js';
import type { SessionDeps } from '../flows/session-actors.js';
import { pinEntryOf, sessionImplementations } from '../flows/session-actors.js';
import { maskCardNumber } from '../../core/mask.js';
import type { Journal } from '../journal/journal.js';


import type { SyncStatus } from '../sync/worker.js';
import type { ServiceResult } from '../../state/results.js';
import { results } from '../../state/results.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import { capability, defaultServices } from '../../state/roles.js';
import type { SessionConfig, SessionEmitted, SessionMachine } from '../../state/session.js';
import { sessionMachine } from '../../state/session.js';
import type {
  CardBasicInfo,
  Capabilities,
  ChipPowerAction,
  DeviceStatus,
  Health,
  PinEntryRequest,
  PinKeyReport,
  ReaderStatus,
  ServiceRequest,
  TerminalEvent,
  TerminalPort,
  TerminalStatusReport,
} from './port.js';
import { UnavailablePinPad } from './unavailable-pinpad.js';

type ReaderTest = (name: string) => boolean;

export interface TerminalLoggers {
  readonly flow: Logger;
  readonly pcsc: Logger;
  readonly pinPad: Logger;
  readonly idCard: Logger;
}

export interface TerminalOptions {
  readonly terminalId: string;
  readonly deviceId: string;
  readonly role: Role;
  /** Services this terminal offers (default: what the role allows). */
  readonly services?: readonly ServiceKind[];
  readonly session?: Omit<SessionConfig, 'role' | 'offered'>;
  readonly version: string;
  readonly simulated: boolean;
  readonly pcsc: PcscService;
  /** Which readers are card slots (default: every reader that is not the PSAM's). */
  readonly isCardReader?: ReaderTest;
  /** Which reader holds the PSAM (none: no PSAM). */
  readonly isPsamReader?: ReaderTest;
  readonly pinPad?: PinPad;
  /**
   * With a touchscreen pad: give every card slot its own on-screen keypad (a counter with several
   * readers, or the API benchmark), so flows on different slots never wait for one another's PIN.
   */
  readonly touchPadPerSlot?: boolean;
  readonly idReader?: IdCardReader;
  readonly journal?: Journal;
  readonly sync?: { status(): SyncStatus };
  readonly loggers?: Partial<TerminalLoggers>;
  /** Transmit timeout of the card channels (ms). */
  readonly transmitTimeoutMs?: number;
  /** Called after every service result (the simulator saves the virtual card's state). */
  readonly onResult?: (reader: string, result: ServiceResult) => void;
  readonly now?: () => number;
}

type SessionActor = Actor<SessionMachine>;
type SessionSnapshot = SnapshotFrom<SessionMachine>;

interface Slot {
  readonly name: string;
  readonly actor: SessionActor;
  channel: PcscChannel | undefined;
  atr: Buffer | undefined;
  present: boolean;
  /** The lock: what runs on this slot now. */
  busy: string | undefined;
  /** The operator of the running request (counter services). */
  operatorId: string | undefined;
  /** Raw APDUs or power changes went to the card: re-identify before the next service. */
  dirty: boolean;
  /** Presence changes are handled one after the other. */
  presence: Promise<void>;
  /** The slot's own on-screen keypad (touchPadPerSlot), else the terminal's pad. */
  readonly pad: PinPad;
}

const bi = (zh: string, en: string): BilingualText => ({ zh, en });

function err(code: ErrorCode, zh: string, en: string, context?: Record<string, unknown>): SsCardError {
  return new SsCardError(code, bi(zh, en), context);
}

function stateName(value: SessionSnapshot['value']): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => `${k}.${stateName(v as SessionSnapshot['value'])}`)
    .join(',');
}

function yyyymmdd(date: string): string {
  return date.replace(/-/g, '');
}

export class Terminal implements TerminalPort {
  public readonly terminalId: string;
  public readonly deviceId: string;
  public readonly role: Role;
  private readonly services: readonly ServiceKind[];
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(e: TerminalEvent) => void>();
  private readonly log: TerminalLoggers;
  private readonly pinPad: PinPad;
  private readonly now: () => number;
  private readonly startedAt: number;
  private psam: Psam | undefined;
  private psamReaderName: string | undefined;
  private psamChannel: PcscChannel | undefined;
  private psamProblem: BilingualText | null = null;
  private psamWork: Promise<void> = Promise.resolve();
  private padEntry = false;
  private stopped = false;
  private readonly unsubscribers: (() => void)[] = [];
  private readonly isCardReader: ReaderTest;
  private readonly isPsamReader: ReaderTest;

  public constructor(private readonly o: TerminalOptions) {
    this.terminalId = o.terminalId;
    this.deviceId = o.deviceId;
    this.role = o.role;
    this.services = o.services ?? defaultServices(o.role);
    this.log = {
      flow: o.loggers?.flow ?? SILENT_LOGGER,
      pcsc: o.loggers?.pcsc ?? SILENT_LOGGER,
      pinPad: o.loggers?.pinPad ?? SILENT_LOGGER,
      idCard: o.loggers?.idCard ?? SILENT_LOGGER,
    };
    this.pinPad = o.pinPad ?? new UnavailablePinPad();
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
    this.isPsamReader = o.isPsamReader ?? (() => false);
    this.isCardReader = o.isCardReader ?? ((name) => !this.isPsamReader(name));
  }

  // ---- life cycle ----

  /** Take the readers pcscd lists now and follow their changes. Call after `pcsc.ready()`. */
  public start(): void {
    const pcsc = this.o.pcsc;
    const on = <E extends 'reader-attached' | 'reader-detached' | 'card-inserted' | 'card-removed' | 'service-up' | 'service-down'>(
      event: E,
      fn: (...args: never[]) => void,
    ): void => {
      pcsc.on(event, fn as never);
      this.unsubscribers.push(() => pcsc.off(event, fn as never));
    };
    on('reader-attached', (name: string) => this.attach(name));
    on('reader-detached', (name: string) => this.detach(name));
    on('card-inserted', (name: string, atr: Buffer) => this.inserted(name, atr));
    on('card-removed', (name: string) => this.removed(name));
    on('service-up', () => this.emit({ type: 'device', component: 'pcsc', connected: true, problem: null }));
    on('service-down', (e: SsCardError) => this.emit({ type: 'device', component: 'pcsc', connected: false, problem: e.text }));
    this.unsubscribers.push(
      this.pinPad.onStatus((s) => {
        const problem = s.type === 'pinpad.disconnected' ? (s.error?.text ?? bi('密码键盘已断开', 'the PIN pad is disconnected')) : null;
        this.log.pinPad[problem ? 'warn' : 'info'](problem ? 'PIN pad disconnected' : 'PIN pad connected', { pad: s.name });
        this.emit({ type: 'device', component: 'pinPad', connected: s.type === 'pinpad.connected', problem });
      }),
    );
    if (this.o.idReader) {
      this.unsubscribers.push(
        this.o.idReader.onStatus((s) => {
          const problem = s.type === 'idcard.disconnected' ? (s.error?.text ?? bi('身份证读卡器已断开', 'the ID card reader is disconnected')) : null;
          this.log.idCard[problem ? 'warn' : 'info'](problem ? 'ID reader disconnected' : 'ID reader connected', { reader: s.name });
          this.emit({ type: 'device', component: 'idReader', connected: s.type === 'idcard.connected', problem });
        }),
      );
    }
    for (const r of pcsc.readers()) {
      this.attach(r.name);
      if (r.cardPresent && r.atr) this.inserted(r.name, r.atr);
    }
  }

  /** Resolves when the work started by presence events so far is done (tests, start-up). */
  public async settled(): Promise<void> {
    await this.psamWork;
    await Promise.all([...this.slots.values()].map((s) => s.presence));
  }

  /**
   * Stop: cancel running flows (a state-changing command in flight runs to its end first, up to
   * `graceMs`), stop the session actors and release the card channels.
   */
  public async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const u of this.unsubscribers.splice(0)) u();
    this.pinPad.cancel();
    const deadline = this.now() + graceMs;
    for (const slot of this.slots.values()) {
      if (slot.busy !== undefined) slot.actor.send({ type: 'CANCEL' });
    }
    while ([...this.slots.values()].some((s) => s.busy !== undefined) && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const slot of this.slots.values()) {
      await slot.presence;
      slot.actor.stop();
      if (slot.pad !== this.pinPad) await slot.pad.close();
      await slot.channel?.close('unpower').catch(() => undefined);
      slot.channel = undefined;
    }
    await this.psamWork;
    await this.psamChannel?.close('leave').catch(() => undefined);
    this.psamChannel = undefined;
    this.psam = undefined;
  }

  /** A running flow's state-changing command is in flight on some slot (shutdown waits for it). */
  public get busySlots(): string[] {
    return [...this.slots.values()].filter((s) => s.busy !== undefined).map((s) => s.name);
  }

  // ---- readers and presence ----

  private attach(name: string): void {
    if (this.isPsamReader(name)) {
      this.psamReaderName = name;
      return;
    }
    if (!this.isCardReader(name) || this.slots.has(name)) return;
    const slot = this.createSlot(name);
    this.slots.set(name, slot);
    this.log.pcsc.info('card slot attached', { reader: name });
  }

  private detach(name: string): void {
    if (name === this.psamReaderName) this.psamGone();
    const slot = this.slots.get(name);
    if (!slot) return;
    this.removed(name);
    this.slots.delete(name);
    void slot.presence.then(() => slot.actor.stop());
    this.log.pcsc.warn('card slot detached', { reader: name });
  }

  private inserted(name: string, atr: Buffer): void {
    if (this.stopped) return;
    if (this.isPsamReader(name)) {
      this.psamReaderName = name;
      this.psamWork = this.psamWork.then(() => this.openPsam(name));
      return;
    }
    const slot = this.slots.get(name);
    if (!slot) return;
    this.emit({ type: 'mediaInserted', reader: name, atr: toHex(atr) });
    slot.presence = slot.presence.then(async () => {
      if (this.stopped) return;
      slot.present = true;
      slot.atr = atr;
      await this.connectSlot(slot);
      // The PSAM may still be coming up (both inserted at start; pcscd may report the card
      // first): identification wants it for internal authentication and 3.0 cards' EF06.
      await this.psamSettled(1500);
      slot.actor.send({ type: 'CARD_INSERTED' });
    });
  }

  private removed(name: string): void {
    if (name === this.psamReaderName) {
      this.psamGone();
      return;
    }
    const slot = this.slots.get(name);
    if (!slot) return;
    this.emit({ type: 'mediaRemoved', reader: name });
    slot.presence = slot.presence.then(async () => {
      slot.present = false;
      slot.atr = undefined;
      slot.dirty = false;
      slot.actor.send({ type: 'CARD_REMOVED' });
      const ch = slot.channel;
      slot.channel = undefined;
      await ch?.close('leave').catch(() => undefined);
    });
  }

  private async connectSlot(slot: Slot): Promise<void> {
    const old = slot.channel;
    slot.channel = undefined;
    await old?.close('leave').catch(() => undefined);
    try {
      slot.channel = await this.o.pcsc.connect(slot.name, { share: 'exclusive', ...(this.o.transmitTimeoutMs === undefined ? {} : { timeoutMs: this.o.transmitTimeoutMs }) });
    } catch (e) {
      // The session's identification then fails on the missing channel and says the card is unreadable.
      this.log.pcsc.warn('cannot connect to the card', { reader: slot.name, code: isSsCardError(e) ? e.code : undefined, message: isSsCardError(e) ? e.text.en : String(e) });
    }
  }

  private createSlot(name: string): Slot {
    let pad = this.pinPad;
    if (this.o.touchPadPerSlot === true && this.pinPad.kind === 'touchscreen') {
      const own = new TouchPinPad({ allowTouchscreen: true, name: `touchscreen (${name})` });
      void own.open();
      pad = own;
    }
    const slot: Slot = { name, actor: undefined as unknown as SessionActor, channel: undefined, atr: undefined, present: false, busy: undefined, operatorId: undefined, dirty: false, presence: Promise.resolve(), pad };
    const deps: SessionDeps = {
      card: () => {
        if (slot.channel === undefined) throw err(ErrorCode.Pcsc_NotConnected, '读卡器未连接到卡片', 'the reader is not connected to the card', { reader: name });
        return new SsseCard(slot.channel);
      },
      pinPad: pad,
      ...(this.o.idReader === undefined ? {} : { idReader: this.o.idReader }),
      authenticateOperator: () =>
        slot.operatorId === undefined
          ? Promise.reject(err(ErrorCode.Auth_Required, '此业务需要经办人员登录', 'this service needs an operator to log in'))
          : Promise.resolve(slot.operatorId),
      ...(this.o.journal === undefined ? {} : { journal: this.o.journal }),
      logger: this.log.flow,
    };
    // Read when used: the PSAM may come and go while the slot lives.
    Object.defineProperty(deps, 'secureModule', { get: () => this.psam, enumerable: true });
    const session: SessionConfig = { ...this.o.session, role: this.role, offered: this.services, pinEntry: pinEntryOf(pad) };
    const actor = createActor(sessionMachine.provide(sessionImplementations(deps)), { input: session });
    actor.on('*', (event) => {
      this.emit({ type: 'session', reader: name, event });
      if (event.type === 'result') {
        this.log.flow.info('service result', { reader: name, kind: event.result.kind, code: event.result.code, outcome: event.result.outcome, triesLeft: event.result.triesLeft });
        try {
          this.o.onResult?.(name, event.result);
        } catch (e) {
          this.log.flow.error('result hook failed', { message: e instanceof Error ? e.message : String(e) });
        }
      } else if (event.type === 'card.identified') {
        this.log.flow.info('card identified', { reader: name, card: maskCardNumber(event.cardNumber), spec: event.specVersion, triesLeft: event.triesLeft, state: event.cardState, authentic: event.authentic });
      }
    });
    actor.subscribe({ error: (e) => this.log.flow.error('card session failed', { reader: name, message: e instanceof Error ? e.message : String(e) }) });
    (slot as { actor: SessionActor }).actor = actor;
    actor.start();
    return slot;
  }

  // ---- the PSAM ----

  private async openPsam(name: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.psamChannel?.close('leave').catch(() => undefined);
      this.psamChannel = await this.o.pcsc.connect(name, { share: 'exclusive' });
      const psam = new Psam(this.psamChannel);
      const { terminalNumber } = await psam.open();
      this.psam = psam;
      this.psamProblem = null;
      this.log.pcsc.info('PSAM ready', { reader: name, terminalNumber });
      this.emit({ type: 'device', component: 'psam', connected: true, problem: null });
    } catch (e) {
      this.psam = undefined;
      this.psamProblem = isSsCardError(e) ? e.text : bi('PSAM 无法使用', 'the PSAM cannot be used');
      this.log.pcsc.error('PSAM not usable', { reader: name, code: isSsCardError(e) ? e.code : undefined, message: this.psamProblem.en });
      this.emit({ type: 'device', component: 'psam', connected: false, problem: this.psamProblem });
    }
  }

  /**
   * Wait (at most `ms`) until a configured PSAM reader's PSAM is open or known to be unusable.
   * Without a PSAM reader configured, or with an empty one, nothing to wait for.
   */
  private async psamSettled(ms: number): Promise<void> {
    const end = this.now() + ms;
    for (;;) {
      await this.psamWork;
      if (this.psam !== undefined || this.psamProblem !== null || this.o.isPsamReader === undefined) return;
      const reader = this.o.pcsc.readers().find((r) => this.isPsamReader(r.name));
      if (reader === undefined || !reader.cardPresent) return;
      if (this.now() >= end) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private psamGone(): void {
    const ch = this.psamChannel;
    this.psamChannel = undefined;
    this.psam = undefined;
    this.psamProblem = bi('PSAM 卡已取出', 'the PSAM was removed');
    this.psamWork = this.psamWork.then(() => ch?.close('leave').catch(() => undefined));
    this.emit({ type: 'device', component: 'psam', connected: false, problem: this.psamProblem });
  }

  // ---- events ----

  public subscribe(listener: (event: TerminalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: TerminalEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (x) {
        this.log.flow.error('event listener failed', { message: x instanceof Error ? x.message : String(x) });
      }
    }
  }

  // ---- slots for requests ----

  private slotFor(reader: string | undefined): Slot {
    const all = [...this.slots.values()];
    if (reader !== undefined) {
      const exact = this.slots.get(reader);
      if (exact) return exact;
      const partial = all.filter((s) => s.name.toLowerCase().includes(reader.toLowerCase()));
      if (partial.length === 1) return partial[0]!;
      const list = all.map((s) => `"${s.name}"`).join(', ') || '(none)';
      throw err(ErrorCode.Pcsc_ReaderNotFound, `找不到读卡器“${reader}”（或匹配到多个）；可用的卡槽：${list}`, `reader "${reader}" not found (or not unique); card slots: ${list}`, { reader });
    }
    const slot = all.find((s) => s.present) ?? all[0];
    if (!slot) throw err(ErrorCode.Pcsc_ReaderNotFound, '没有可用的读卡器：请连接读卡器', 'no card reader: connect one');
    return slot;
  }

  private lock(slot: Slot, what: string): () => void {
    if (slot.busy !== undefined) {
      throw err(ErrorCode.Flow_Busy, `读卡器“${slot.name}”正在办理其他业务（${slot.busy}），请稍后再试`, `the reader "${slot.name}" is busy (${slot.busy}); try again when it is done`, { reader: slot.name, busy: slot.busy });
    }
    slot.busy = what;
    return () => {
      slot.busy = undefined;
    };
  }

  private noCard(slot: Slot): SsCardError {
    return err(ErrorCode.Flow_NoCard, `读卡器“${slot.name}”中没有卡：请插入社保卡`, `no card in the reader "${slot.name}": insert the social security card`, { reader: slot.name });
  }

  /** Wait until the slot's session leaves `identifying` (or the card goes, or the time runs out). */
  private async identified(slot: Slot, waitMs: number, signal: AbortSignal): Promise<SessionSnapshot> {
    const deadline = this.now() + waitMs;
    const ready = (s: SessionSnapshot): boolean => s.matches('identified') || s.matches('done') || s.matches('ended');
    for (;;) {
      await slot.presence;
      const snap = slot.actor.getSnapshot();
      if (slot.present && ready(snap)) return snap;
      if (signal.aborted) throw err(ErrorCode.Flow_Timeout, '请求已取消', 'the request was cancelled');
      if (!slot.present && this.now() >= deadline) throw this.noCard(slot);
      if (slot.present && !snap.matches('identifying') && !snap.matches('idle') && this.now() >= deadline) return snap;
      if (slot.present && snap.matches('idle') && this.now() >= deadline + 2000) throw this.noCard(slot);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 25);
        const sub = slot.actor.subscribe(done);
        signal.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(t);
          sub.unsubscribe();
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  }

  /** After raw APDUs or power changes: identify the card afresh (its selection and security state are gone). */
  private async reidentify(slot: Slot): Promise<void> {
    slot.dirty = false;
    slot.presence = slot.presence.then(async () => {
      slot.actor.send({ type: 'CARD_REMOVED' });
      await this.connectSlot(slot);
      slot.actor.send({ type: 'CARD_INSERTED' });
    });
    await slot.presence;
  }

  // ---- TerminalPort: services ----

  public async runService(request: ServiceRequest, onEvent: (event: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult> {
    const slot = this.slotFor(request.reader);
    const unlock = this.lock(slot, request.kind);
    try {
      if (slot.dirty && slot.present) await this.reidentify(slot);
      let snap = await this.identified(slot, request.waitForCardMs ?? 0, signal);
      if (snap.matches('ended')) {
        // A session that ended (timeout, unreadable card) keeps the card until it is taken out.
        const r = snap.context.result;
        if (r?.code === 'card.unreadable') throw err(ErrorCode.Card_NotSsse, '无法读取此卡：请确认插入的是社会保障卡，并正确插卡', 'the card cannot be read: check that it is a social security card, inserted the right way', { reader: slot.name });
        throw err(ErrorCode.Flow_Refused, '本次办理已结束：请取出社保卡后重新插入', 'this session has ended: take the card out and insert it again', { reader: slot.name });
      }
      slot.operatorId = request.operatorId;
      const result = await new Promise<ServiceResult>((resolve) => {
        let started = false;
        const sub = slot.actor.on('*', (e) => {
          if (e.type === 'service.started') started = true;
          if (!started) return;
          try {
            onEvent(e);
          } catch (x) {
            this.log.flow.error('event callback failed', { message: x instanceof Error ? x.message : String(x) });
          }
          if (e.type === 'result') finish(e.result);
        });
        const onAbort = (): void => slot.actor.send({ type: 'CANCEL' });
        signal.addEventListener('abort', onAbort, { once: true });
        const finish = (r: ServiceResult): void => {
          sub.unsubscribe();
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        };
        this.log.flow.info('service requested', { reader: slot.name, kind: request.kind, operator: request.operatorId });
        slot.actor.send({ type: 'SELECT_SERVICE', kind: request.kind, ...(request.phones === undefined ? {} : { phones: request.phones }) });
        snap = slot.actor.getSnapshot();
        if (!started && !snap.matches('service') && !snap.matches('removed')) {
          // The machine did not take the request (e.g. its card went in the meantime).
          finish(snap.context.result ?? results.cardRemoved(request.kind));
        }
        if (signal.aborted) onAbort();
      });
      return result;
    } finally {
      slot.operatorId = undefined;
      unlock();
    }
  }

  public async endSession(reader?: string): Promise<void> {
    const slot = this.slotFor(reader);
    if (slot.busy !== undefined) slot.actor.send({ type: 'CANCEL' });
    const deadline = this.now() + 15_000;
    while (slot.busy !== undefined && this.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  public async readBasic(signal: AbortSignal, reader?: string): Promise<CardBasicInfo> {
    const slot = this.slotFor(reader);
    const unlock = this.lock(slot, 'readBasic');
    try {
      if (!slot.present) throw this.noCard(slot);
      await this.identified(slot, 0, signal);
      const ch = slot.channel;
      if (ch === undefined) throw this.noCard(slot);
      const card = new SsseCard(ch);
      const psam = this.psam;
      const b = await card.readBasics(psam, psam ? () => randomBytes(card.selectedAlgorithm === 'SM4' ? 16 : 8) : undefined);
      let triesLeft: number | null = null;
      let cardState = b.activated ? 'active' : 'notActivated';
      if (b.activated) {
        try {
          const st = await card.pinStatus();
          triesLeft = st.triesLeft ?? null;
          if (st.blocked) cardState = 'pinBlocked';
        } catch (e) {
          if (isSsCardError(e) && e.context?.['sw'] === '9303') cardState = 'appLocked';
          else throw e;
        }
      }
      let historical = '';
      try {
        historical = toHex(parseAtr(slot.atr ?? ch.atr).historical);
      } catch {
        historical = '';
      }
      return {
        region: b.issuer.regionCode,
        socialSecurityNumber: b.holder.socialSecurityNumber,
        cardNumber: b.issuer.cardNumber,
        cardId: b.issuer.cardId,
        name: b.holder.name,
        sex: b.holder.gender,
        nation: b.holder.nation,
        birthDate: yyyymmdd(b.holder.birthDate),
        atrHistorical: historical,
        specVersion: b.issuer.specVersion,
        issueDate: yyyymmdd(b.issuer.issueDate),
        expiryDate: yyyymmdd(b.issuer.expiryDate),
        terminalId: this.psam?.terminalNumber ?? this.terminalId,
        deviceId: this.deviceId,
        triesLeft,
        cardState,
        authentic: b.authentic ?? null,
      };
    } finally {
      unlock();
    }
  }

  // ---- TerminalPort: the PIN pad ----

  public async pinEntry(request: PinEntryRequest, onKey: (key: PinKeyReport) => void, signal: AbortSignal): Promise<{ digits: number; completion: 'enter' | 'auto' }> {
    if (this.padEntry || [...this.slots.values()].some((s) => s.busy !== undefined)) {
      throw err(ErrorCode.PinPad_Busy, '密码键盘正在使用中，请稍后再试', 'the PIN pad is in use; try again when it is free');
    }
    this.padEntry = true;
    try {
      const maxLength = request.maxLength ?? 6;
      const autoEnd = request.autoEnd ?? true;
      const r = await this.pinPad.enterPin(
        {
          minLength: request.minLength ?? 6,
          maxLength,
          autoEnd,
          ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
          onKey: (k) => onKey({ key: k.key, count: k.count, mask: k.mask }),
        },
        signal,
      );
      const digits = r.length;
      wipe(r.pin);
      return { digits, completion: autoEnd && digits === maxLength ? 'auto' : 'enter' };
    } finally {
      this.padEntry = false;
    }
  }

  public touchKey(key: string, reader?: string): void {
    if (this.pinPad.kind !== 'touchscreen') {
      throw err(ErrorCode.PinPad_Unsupported, '本终端的密码键盘不是触摸屏键盘：请在密码键盘上输入', 'this terminal\'s PIN pad is not the touchscreen keypad: type on the PIN pad');
    }
    // The keypad of the named slot; else the one waiting for keys (the terminal's own when none is).
    const pads = reader !== undefined ? [this.slotFor(reader).pad] : [this.pinPad, ...[...this.slots.values()].map((x) => x.pad)];
    const pad = (pads.find((p) => (p as TouchPinPad).entering) ?? pads[0]) as TouchPinPad;
    const taken = pad.input(key);
    if (taken === 'unknown') {
      throw err(ErrorCode.Input_BadOption, '无法识别的按键：只能是 0–9、enter、backspace、clear 或 cancel', 'unknown key: use 0-9, enter, backspace, clear or cancel', { option: 'key' });
    }
    if (taken === 'idle') {
      throw err(ErrorCode.Api_SequenceError, '现在没有正在进行的密码输入，按键未被接收：请等待输入密码的提示', 'no PIN entry is running, so the key was not taken: wait for the PIN prompt');
    }
  }

  // ---- TerminalPort: technicians ----

  public async chipIo(apdu: Buffer, reader: string | undefined, signal: AbortSignal): Promise<Buffer> {
    if (apdu.length < 4) throw err(ErrorCode.Input_BadApdu, `APDU 至少 4 字节，实际 ${apdu.length} 字节`, `an APDU has at least 4 bytes, got ${apdu.length}`);
    if (PIN_BEARING_INS.has(apdu[1]!)) {
      throw err(
        ErrorCode.Input_BadApdu,
        `不允许通过 ChipIO 发送携带密码的命令（INS ${apdu[1]!.toString(16).toUpperCase().padStart(2, '0')}）：请使用 SSCard 业务命令`,
        `PIN-bearing commands (INS ${apdu[1]!.toString(16).toUpperCase().padStart(2, '0')}) are not allowed through ChipIO: use the SSCard service commands`,
      );
    }
    const slot = this.slotFor(reader);
    const unlock = this.lock(slot, 'chipIo');
    try {
      if (!slot.present || slot.channel === undefined) throw this.noCard(slot);
      if (signal.aborted) throw err(ErrorCode.Flow_Timeout, '请求已取消', 'the request was cancelled');
      slot.dirty = true;
      return await slot.channel.transmit(apdu);
    } finally {
      unlock();
    }
  }

  public async chipPower(action: ChipPowerAction, reader: string | undefined, signal: AbortSignal): Promise<{ atr: Buffer | null }> {
    const slot = this.slotFor(reader);
    const unlock = this.lock(slot, 'chipPower');
    try {
      if (!slot.present) throw this.noCard(slot);
      if (signal.aborted) throw err(ErrorCode.Flow_Timeout, '请求已取消', 'the request was cancelled');
      if (action === 'off') {
        await slot.presence;
        slot.actor.send({ type: 'CARD_REMOVED' });
        const ch = slot.channel;
        slot.channel = undefined;
        await ch?.close('unpower');
        slot.dirty = true;
        return { atr: null };
      }
      if (action === 'warm' && slot.channel !== undefined) {
        const atr = await slot.channel.reset();
        slot.dirty = true;
        return { atr };
      }
      const ch = slot.channel;
      slot.channel = undefined;
      await ch?.close('unpower').catch(() => undefined);
      await this.connectSlot(slot);
      slot.dirty = true;
      if (slot.channel === undefined) throw this.noCard(slot);
      return { atr: (slot.channel as PcscChannel).atr };
    } finally {
      unlock();
    }
  }

  // ---- TerminalPort: status ----

  private servicesNeeding(pred: (kind: ServiceKind) => boolean): ServiceKind[] {
    return this.services.filter(pred);
  }

  public capabilities(): Capabilities {
    const caps = this.pinPad.capabilities;
    return {
      role: this.role,
      services: this.services,
      operatorRequired: this.servicesNeeding((k) => capability(this.role, k, this.services).operatorRequired),
      pinPad: { kind: this.pinPad.kind, secureVerify: caps.secureVerify, secureChange: caps.secureChange, plainEntry: caps.plainEntry, touchKeys: this.pinPad.kind === 'touchscreen' },
      idReader: this.o.idReader !== undefined,
      psam: this.psam !== undefined,
      simulated: this.o.simulated,
    };
  }

  private deviceStatus(kind: string, dev: { name: string; connected: boolean } | undefined, missing: BilingualText): DeviceStatus {
    if (dev === undefined) return { kind: 'none', name: null, connected: false, problem: null };
    return { kind, name: dev.name, connected: dev.connected, problem: dev.connected ? null : missing };
  }

  public status(): TerminalStatusReport {
    const pcsc = this.o.pcsc;
    const readers: ReaderStatus[] = pcsc.readers().map((r) => ({
      name: r.name,
      slot: this.slots.has(r.name) ? 'card' : r.name === this.psamReaderName || this.isPsamReader(r.name) ? 'psam' : 'other',
      cardPresent: r.cardPresent,
      atr: r.atr ? toHex(r.atr) : null,
      busy: this.slots.get(r.name)?.busy !== undefined,
    }));
    const slot = [...this.slots.values()].find((s) => s.present) ?? [...this.slots.values()][0];
    const snap = slot?.actor.getSnapshot();
    const ctx = snap?.context;
    const identified = ctx?.card !== undefined && slot?.present === true;
    const journal = this.journalStatus();
    const sync = this.o.sync?.status();
    return {
      terminalId: this.terminalId,
      deviceId: this.deviceId,
      role: this.role,
      services: this.services,
      version: this.o.version,
      uptimeMs: this.now() - this.startedAt,
      simulated: this.o.simulated,
      pcsc: { up: pcsc.isUp, problem: pcsc.isUp ? null : (pcsc.downReason?.text ?? bi('PC/SC 服务尚未就绪', 'the PC/SC service is not up yet')) },
      readers,
      card: {
        present: slot?.present === true,
        identified,
        cardNumberMasked: identified ? maskCardNumber(ctx.card.cardNumber) : null,
        specVersion: identified ? ctx.card.specVersion : null,
        triesLeft: identified ? (ctx.triesLeft ?? null) : null,
        cardState: identified ? (ctx.cardState ?? null) : null,
        session: snap ? stateName(snap.value) : 'none',
      },
      psam: {
        kind: this.o.isPsamReader ? 'pcsc' : 'none',
        name: this.psamReaderName ?? null,
        connected: this.psam !== undefined,
        problem: this.psam !== undefined ? null : this.o.isPsamReader ? (this.psamProblem ?? bi('没有找到 PSAM 卡', 'no PSAM found')) : null,
        terminalNumber: this.psam?.terminalNumber ?? null,
      },
      pinPad: {
        ...this.deviceStatus(this.pinPad.kind, this.o.pinPad, bi('密码键盘未连接', 'the PIN pad is not connected')),
        secureEntry: this.pinPad.capabilities.secureVerify,
      },
      idReader: this.deviceStatus('serial', this.o.idReader, bi('身份证读卡器未连接', 'the ID card reader is not connected')),
      journal,
      sync: {
        enabled: sync !== undefined,
        lastSuccessAt: sync?.lastSuccessAt ?? null,
        lastError: sync?.lastError ? { code: sync.lastError.code, zh: sync.lastError.zh, en: sync.lastError.en } : null,
        backlog: sync?.backlog ?? journal.unsynced,
      },
    };
  }

  private journalStatus(): TerminalStatusReport['journal'] {
    const j = this.o.journal;
    if (j === undefined) return { open: false, pending: 0, unsynced: 0, rows: 0 };
    try {
      const s = j.stats();
      return { open: true, pending: s.byState.pending, unsynced: s.backlog, rows: s.total };
    } catch {
      return { open: false, pending: 0, unsynced: 0, rows: 0 };
    }
  }

  public health(): Health {
    const reasons: { component: string; zh: string; en: string }[] = [];
    const add = (component: string, t: BilingualText): void => {
      reasons.push({ component, zh: t.zh, en: t.en });
    };
    const pcsc = this.o.pcsc;
    if (!pcsc.isUp) add('pcsc', pcsc.downReason?.text ?? bi('PC/SC 服务尚未就绪', 'the PC/SC service is not up yet'));
    else if (this.slots.size === 0) add('reader', bi('没有可用的读卡器', 'no card reader is attached'));
    if (this.o.pinPad === undefined) add('pinPad', bi('没有配置密码键盘', 'no PIN pad is configured'));
    else if (!this.o.pinPad.connected) add('pinPad', bi('密码键盘未连接', 'the PIN pad is not connected'));
    const needsMaterials = this.services.some((k) => k === 'reset' || k === 'unblock' || k === 'activate');
    if (needsMaterials && this.psam === undefined) add('psam', this.psamProblem ?? bi('没有可用的 PSAM 卡：重置、解锁和启用无法办理', 'no PSAM: reset, unblock and activation cannot run'));
    if (needsMaterials && (this.o.idReader === undefined || !this.o.idReader.connected)) add('idReader', bi('身份证读卡器不可用：重置、解锁和启用无法办理', 'the ID card reader is not available: reset, unblock and activation cannot run'));
    if (this.o.journal === undefined || !this.journalStatus().open) add('journal', bi('业务日志不可用', 'the journal is not available'));
    return { live: true, ready: reasons.length === 0, reasons };
  }
}
