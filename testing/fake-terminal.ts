/**
 * A fake terminal and operator directory behind the ports of daemon/terminal/port.ts, for the API's
 * unit tests and for end-to-end tests that want the API without devices. It behaves like the
 * terminal the port describes, in memory:
 *
 * - one card slot ("Fake Reader 00", slot card) with a card whose PIN, tries and state are kept
 *   (verify spends a try on a wrong PIN, 0 tries = locked, unblock / reset restore the tries);
 * - the holder types PINs either automatically ({@link FakeTerminal.holderTypes}) or key by key
 *   through {@link FakeTerminal.touchKey} (the touchscreen pad); keys are reported as counts and
 *   masks, and the digits are wiped when an entry ends;
 * - one card operation at a time (Flow_Busy), no card → Flow_NoCard, AbortSignal honoured (unless
 *   {@link FakeTerminal.ignoreAbort}), {@link FakeTerminal.hold} parks card operations until released;
 * - every call is recorded in {@link FakeTerminal.calls} with its signal, so tests can see aborts;
 * - session events go to `onEvent` and, like the real terminal, to every subscriber.
 *
 * What a terminal of a role may run, with or without an operator, is asked of state/roles.ts
 * (`capability`), the PIN entries of a service of state/session-context.ts, the PIN's state rules
 * of state/session-outcome.ts, and the card's answers are the status words of apdu/sw.ts: the fake
 * keeps only the card's PIN and tries. The operator directory is testing/fake-operator-auth.ts.
 *
 * - a resident ID card reader with {@link FakeTerminal.idCard} on it (null: none on the reader),
 *   compared with the card by drivers/idcard/info.ts `matchesSocialSecurityNumber` like the session;
 * - a journal of its own: each service result is a row (completed, its outcome, the item code of
 *   the shipped catalog, the card number masked), listed newest first by `operations`.
 *
 * It never puts a PIN digit anywhere but the entry buffer it wipes.
 */
import { PIN_BEARING_INS } from '../apdu/apdu.js';
import { encodeField } from '../apdu/records.js';
import { shippedCatalog, shippedServiceItemCode } from '../daemon/flows/catalog.js';
import type { ServiceItem } from '../state/catalog.js';
import { SW_PIN_BLOCKED, swWrongPin } from '../apdu/sw.js';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { maskCardNumber, maskName } from '../core/mask.js';
import { UuidV7Generator } from '../core/uuid.js';
import type { CardState } from '../state/card-state.js';
import { PIN_LENGTH } from '../state/pin-policy.js';
import { results } from '../state/results.js';
import type { ServiceResult } from '../state/results.js';
import { capability, defaultServices } from '../state/roles.js';
import { checkMaterials } from '../state/materials.js';
import type { Role, ServiceKind } from '../state/roles.js';
import type { SessionEmitted } from '../state/session.js';
import { DEFAULT_TRIES_FLOOR } from '../state/session.js';
import { FakePinEntry } from './fake-pin-entry.js';
import { fakeIdCardReport } from './fake-id-card.js';
import type { FakeIdCard } from './fake-id-card.js';
import { PIN_ENTRY_PLANS } from '../state/session-context.js';
import { cardStateAfter, pinStateRefusal } from '../state/session-outcome.js';
import { FAKE_ATR, FAKE_CARD, FAKE_ID_CARD, FAKE_READER } from './fake-terminal-data.js';
import type { FakeCall, FakeCallOf, FakeTerminalOptions } from './fake-terminal-data.js';
import type {
  Capabilities,
  CardBasicInfo,
  HsmChallenge,
  HsmRecordsRead,
  RecordsRead,
  RecordsWrite,
  WriteOutcome,
  ChipPowerAction,
  Health,
  IdCardReadRequest,
  IdCardReport,
  OperationReport,
  OperationsQuery,
  PinEntryRequest,
  PinKeyReport,
  ServiceRequest,
  TerminalEvent,
  TerminalPort,
  TerminalStatusReport,
} from '../daemon/terminal/port.js';

export { FAKE_ATR, FAKE_CARD, FAKE_ID_CARD, FAKE_READER } from './fake-terminal-data.js';
export type { FakeCall, FakeCallOf, FakeTerminalOptions } from './fake-terminal-data.js';

const err = (code: ErrorCode, zh: string, en: string): SsCardError => new SsCardError(code, { zh, en });

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError');
}

export class FakeTerminal implements TerminalPort {
  public readonly terminalId = 'T0001';
  public readonly deviceId = 'D0001';
  public readonly role: Role;
  public services: readonly ServiceKind[];
  private readonly operationIds = new UuidV7Generator();
  public touchKeys: boolean;
  /** Every call, in order, with its signal. */
  public readonly calls: FakeCall[] = [];
  /** Health as reported; tests set it. */
  public ready = true;
  public reasons: Health['reasons'] = [];
  /** Keep running after an abort (like a state-changing command already on its way). */
  public ignoreAbort = false;
  /** Answer of chipIo (default: 9000). */
  public chipResponder: (apdu: Buffer) => Buffer = () => Buffer.from([0x90, 0x00]);
  /** Make the next call of `method` (any TerminalPort method name) throw this, once. */
  public failNext: { method: keyof TerminalPort; error: unknown } | null = null;
  /** The ID card on the fake ID reader (null: none). */
  public idCard: FakeIdCard | null;
  public readonly idReader: boolean;

  private card: CardBasicInfo | null;
  private cardPin: string;
  private triesLeft: number;
  private readonly maxTries: number;
  private readonly listeners = new Set<(e: TerminalEvent) => void>();
  private busy = false;
  private entry: FakePinEntry | null = null;
  private readonly holderQueue: string[] = [];
  private held: { promise: Promise<void>; release: () => void } | null = null;
  private flowAbort: AbortController | null = null;
  private readonly startedAt = Date.now();
  private readonly version: string;
  /** The fake journal, oldest first. */
  private readonly journalRows: OperationReport[] = [];

  public constructor(opts: FakeTerminalOptions = {}) {
    this.role = opts.role ?? 'kiosk';
    this.services = opts.services ?? defaultServices(this.role);
    this.touchKeys = opts.touchKeys ?? true;
    this.cardPin = opts.cardPin ?? '147258';
    this.maxTries = opts.maxTries ?? 6;
    this.triesLeft = opts.triesLeft ?? this.maxTries;
    this.card = opts.card === null ? null : { ...FAKE_CARD, ...(opts.card ?? {}) };
    this.version = opts.version ?? '0.0.0-fake';
    this.idReader = opts.idReader ?? true;
    this.idCard = opts.idCard === undefined ? FAKE_ID_CARD : opts.idCard;
  }

  // ---- test controls ----

  /** The holder will type these PINs, one per PIN entry, each ended with enter. */
  public holderTypes(...pins: string[]): void {
    this.holderQueue.push(...pins);
  }

  /** Park every card operation at its start until {@link release}. */
  public hold(): void {
    if (this.held !== null) return;
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.held = { promise, release };
  }

  public release(): void {
    const h = this.held;
    this.held = null;
    h?.release();
  }

  public insertCard(card: Partial<CardBasicInfo> = {}): void {
    this.card = { ...FAKE_CARD, ...card };
    this.emit({ type: 'mediaInserted', reader: FAKE_READER, atr: FAKE_ATR });
    this.emit({ type: 'session', reader: FAKE_READER, event: { type: 'card.inserted' } });
    const c = this.card;
    this.emit({
      type: 'session',
      reader: FAKE_READER,
      event: { type: 'card.identified', cardNumber: c.cardNumber, name: c.name, specVersion: c.specVersion, triesLeft: this.triesLeft, cardState: this.cardState(), authentic: true, expiryDate: `${c.expiryDate.slice(0, 4)}-${c.expiryDate.slice(4, 6)}-${c.expiryDate.slice(6, 8)}`, expired: c.expired === true, profile: 'default' },
    });
  }

  public removeCard(): void {
    this.card = null;
    this.flowAbort?.abort(new DOMException('card removed', 'AbortError'));
    this.emit({ type: 'mediaRemoved', reader: FAKE_READER });
    this.emit({ type: 'session', reader: FAKE_READER, event: { type: 'card.removed' } });
  }

  /** Send any terminal event to the subscribers. */
  public emit(e: TerminalEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  public subscribers(): number {
    return this.listeners.size;
  }

  /** The last call of `method` (throws when there was none). */
  public last<M extends FakeCall['method']>(method: M): FakeCallOf<M> {
    for (let i = this.calls.length - 1; i >= 0; i--) if (this.calls[i]!.method === method) return this.calls[i] as FakeCallOf<M>;
    throw new Error(`no ${method} call`);
  }

  public get pinTriesLeft(): number {
    return this.triesLeft;
  }

  // ---- TerminalPort ----

  public health(): Health {
    this.maybeFail('health');
    return { live: true, ready: this.ready, reasons: this.ready ? [] : this.reasons };
  }

  public status(): TerminalStatusReport {
    this.maybeFail('status');
    const c = this.card;
    const problem = null;
    return {
      terminalId: this.terminalId,
      deviceId: this.deviceId,
      role: this.role,
      services: this.services,
      version: this.version,
      uptimeMs: Date.now() - this.startedAt,
      simulated: true,
      pcsc: { up: true, problem },
      readers: [{ name: FAKE_READER, slot: 'card', cardPresent: c !== null, atr: c === null ? null : FAKE_ATR, busy: this.busy }],
      card: {
        present: c !== null,
        identified: c !== null,
        cardNumberMasked: c === null ? null : maskCardNumber(c.cardNumber),
        nameMasked: c === null ? null : maskName(c.name),
        specVersion: c?.specVersion ?? null,
        triesLeft: c === null ? null : this.triesLeft,
        cardState: c === null ? null : this.cardState(),
        expired: c === null ? null : c.expired,
        session: c === null ? 'idle' : this.busy ? 'service' : 'identified',
      },
      psam: { kind: 'sim', name: 'Fake PSAM', connected: true, problem, terminalNumber: '000000000001' },
      pinPad: { kind: this.touchKeys ? 'touch' : 'none', name: this.touchKeys ? 'touchscreen' : null, connected: this.touchKeys, problem, secureEntry: false },
      idReader: { kind: 'sim', name: 'Fake ID reader', connected: true, problem },
      catalog: { demo: true, province: '41', implementers: [...new Set(shippedCatalog().map((it) => it.implementer))] },
      journal: { open: true, pending: 0, unsynced: 0, rows: 0 },
      sync: { enabled: false, lastSuccessAt: null, lastError: null, backlog: 0, hotlistCheck: null, clockOffsetMs: null, lastHeartbeatAt: null },
      hotlist: { version: null, updatedAt: null, entries: 0 },
      bankRequests: { pending: 0, sent: 0, oldestPendingAt: null, oldestPendingAgeMs: null },
    };
  }

  public catalog(): readonly ServiceItem[] {
    return shippedCatalog();
  }

  public capabilities(): Capabilities {
    this.maybeFail('capabilities');
    return {
      role: this.role,
      services: this.services,
      operatorRequired: this.services.filter((k) => capability(this.role, k, this.services).operatorRequired),
      pinPad: { kind: this.touchKeys ? 'touch' : 'none', secureVerify: false, secureChange: false, plainEntry: this.touchKeys, touchKeys: this.touchKeys },
      idReader: this.idReader,
      psam: true,
      simulated: true,
      triesFloor: DEFAULT_TRIES_FLOOR,
    };
  }

  public subscribe(listener: (event: TerminalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  public async readBasic(signal: AbortSignal, reader?: string): Promise<CardBasicInfo> {
    this.calls.push({ method: 'readBasic', signal, reader });
    return this.cardOp('readBasic', signal, () => Promise.resolve({ ...this.requireCard(), triesLeft: this.triesLeft }));
  }

  /** The card's EF05 01/07 and EF06 08/09 records as the card would hold them; other tags absent. */
  public async readRecords(files: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[], signal: AbortSignal): Promise<RecordsRead> {
    this.calls.push({ method: 'readRecords', signal });
    return this.cardOp('readRecords', signal, () => {
      const c = this.requireCard();
      const values: Readonly<Record<number, string>> = { 0x01: c.cardId, 0x07: c.cardNumber, 0x08: c.socialSecurityNumber, 0x09: c.name };
      return Promise.resolve({ cardId: c.cardId, cardNumber: c.cardNumber, files: files.map((f) => f.tags.map((t) => (values[t] === undefined ? undefined : encodeField(t, values[t])))) });
    });
  }

  /** The fake has no card cryptography: the encryption-machine read is tested against the simulator (test/sscard-driver.test.ts). */
  public hsmReadBegin(): Promise<HsmChallenge> {
    return Promise.reject(err(ErrorCode.Api_UnsupportedCommand, '模拟终端不支持加密机读卡', 'the fake terminal has no encryption-machine read'));
  }

  public hsmReadFinish(): Promise<CardBasicInfo> {
    return Promise.reject(err(ErrorCode.Api_SequenceError, '模拟终端不支持加密机读卡', 'the fake terminal has no encryption-machine read'));
  }

  public hsmReadEnd(): void {}

  /** The writes asked for (iWriteCard), in order. */
  public readonly writes: RecordsWrite[] = [];

  /** Records the write (nothing of the fake card changes): written, or mismatch for another card. */
  public async writeRecords(w: RecordsWrite, signal: AbortSignal): Promise<WriteOutcome> {
    this.calls.push({ method: 'writeRecords', signal });
    return this.cardOp<WriteOutcome>('writeRecords', signal, () => {
      const c = this.requireCard();
      if (c.cardId.toUpperCase() !== w.cardId.toUpperCase() || c.cardNumber !== w.cardNumber) return Promise.resolve({ status: 'mismatch' as const });
      this.writes.push(w);
      return Promise.resolve({ status: 'written' as const, records: w.writes.length });
    });
  }

  public hsmReadRecordsFinish(): Promise<HsmRecordsRead> {
    return Promise.reject(err(ErrorCode.Api_SequenceError, '模拟终端不支持加密机读卡', 'the fake terminal has no encryption-machine read'));
  }

  public async runService(request: ServiceRequest, onEvent: (event: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult> {
    this.calls.push({ method: 'runService', request, signal });
    const kind = request.kind;
    if (this.card === null && (request.waitForCardMs ?? 0) > 0) await this.waitForCard(request.waitForCardMs!, signal);
    return this.cardOp('runService', signal, async () => {
      this.requireCard();
      const flow = new AbortController();
      this.flowAbort = flow;
      const onAbort = () => flow.abort(abortError(signal));
      if (!this.ignoreAbort) signal.addEventListener('abort', onAbort, { once: true });
      const send = (e: SessionEmitted) => {
        onEvent(e);
        this.emit({ type: 'session', reader: FAKE_READER, event: e });
      };
      try {
        send({ type: 'service.started', kind });
        const startedAt = Date.now();
        const result = await this.serviceResult(request, send, flow.signal);
        this.journalRow(request, result, startedAt);
        send({ type: 'result', result });
        return result;
      } finally {
        signal.removeEventListener('abort', onAbort);
        this.flowAbort = null;
      }
    });
  }

  public endSession(): Promise<void> {
    this.calls.push({ method: 'endSession' });
    this.maybeFail('endSession');
    this.flowAbort?.abort(new DOMException('session ended', 'AbortError'));
    this.emit({ type: 'session', reader: FAKE_READER, event: { type: 'session.ended' } });
    return Promise.resolve();
  }

  public async pinEntry(request: PinEntryRequest, onKey: (key: PinKeyReport) => void, signal: AbortSignal): Promise<{ readonly digits: number; readonly completion: 'enter' | 'auto' }> {
    this.calls.push({ method: 'pinEntry', request, signal });
    if (!this.touchKeys) throw err(ErrorCode.PinPad_NotFound, '没有配置密码键盘', 'no PIN pad is configured');
    return this.cardOp('pinEntry', signal, async () => {
      const r = await this.enter(request.minLength ?? 4, request.maxLength ?? 12, request.autoEnd ?? false, onKey, signal);
      return { digits: r.pin.length, completion: r.completion };
    });
  }

  public touchKey(key: string): void {
    this.calls.push({ method: 'touchKey' });
    this.maybeFail('touchKey');
    if (!this.touchKeys) throw err(ErrorCode.PinPad_Unsupported, '本终端的密码键盘不是触摸屏键盘，不接受屏幕按键', 'this terminal’s PIN pad is not a touchscreen pad; on-screen keys are not accepted');
    if (!/^([0-9]|enter|backspace|clear|cancel)$/.test(key)) throw err(ErrorCode.Input_BadOption, '未知的按键', 'unknown key');
    this.entry?.key(key);
  }

  public async chipIo(apdu: Buffer, _reader: string | undefined, signal: AbortSignal): Promise<Buffer> {
    this.calls.push({ method: 'chipIo', signal });
    return this.cardOp('chipIo', signal, () => {
      this.requireCard();
      if (PIN_BEARING_INS.has(apdu[1]!)) {
        return Promise.reject(err(ErrorCode.Input_BadApdu, '不允许经 ChipIO 发送带密码的命令', 'PIN-bearing commands are not allowed through ChipIO'));
      }
      return Promise.resolve(this.chipResponder(apdu));
    });
  }

  public async chipPower(action: ChipPowerAction, _reader: string | undefined, signal: AbortSignal): Promise<{ readonly atr: Buffer | null }> {
    this.calls.push({ method: 'chipPower', signal });
    return this.cardOp('chipPower', signal, () => {
      this.requireCard();
      return Promise.resolve({ atr: action === 'off' ? null : Buffer.from(FAKE_ATR, 'hex') });
    });
  }

  public async readIdCard(request: IdCardReadRequest, signal: AbortSignal): Promise<IdCardReport> {
    this.calls.push({ method: 'readIdCard', request, signal });
    this.maybeFail('readIdCard');
    if (!this.idReader) throw err(ErrorCode.IdCard_ReaderNotFound, '本终端没有配置身份证读卡器', 'this terminal has no resident ID card reader configured');
    if (signal.aborted) throw abortError(signal);
    if (this.held !== null) await this.gate(signal);
    return fakeIdCardReport(this.idCard, this.card);
  }

  public operations(query: OperationsQuery): OperationReport[] {
    this.maybeFail('operations');
    return this.journalRows
      .filter((r) => query.since === undefined || r.startedAt >= query.since)
      .reverse()
      .slice(0, query.limit);
  }

  // ---- inside ----

  /** A service's result as the journal would keep it: masked card number, outcome, no identity. */
  private journalRow(request: ServiceRequest, result: ServiceResult, startedAt: number): void {
    this.journalRows.push({
      // The row the result names (a receipt's operation id), as the daemon's journal has it.
      id: result.operationId ?? this.operationIds.next(),
      kind: request.kind,
      itemCode: shippedServiceItemCode(request.kind),
      state: 'completed',
      outcome: result.outcome,
      reason: null,
      startedAt,
      endedAt: Date.now(),
      cardNumberMasked: this.card === null ? null : maskCardNumber(this.card.cardNumber),
      syncState: 'unsynced',
      operatorId: request.operatorId ?? null,
      bankRequest: null,
      agent: null,
    });
  }

  private maybeFail(method: keyof TerminalPort): void {
    const f = this.failNext;
    if (f !== null && f.method === method) {
      this.failNext = null;
      throw f.error;
    }
  }

  /** The card's state from its tries left (the fake card is always activated). */
  private cardState(): CardState {
    return cardStateAfter(this.triesLeft, 'active') ?? 'active';
  }

  private requireCard(): CardBasicInfo {
    if (this.card === null) throw err(ErrorCode.Flow_NoCard, '读卡器中没有卡：请插入社保卡', 'no card in the reader: insert the social security card');
    return this.card;
  }

  private async cardOp<T>(method: keyof TerminalPort, signal: AbortSignal, body: () => Promise<T>): Promise<T> {
    this.maybeFail(method);
    if (this.busy) throw err(ErrorCode.Flow_Busy, '读卡器正忙：另一项卡操作正在进行', 'the reader is busy: another card operation is running');
    if (signal.aborted) throw abortError(signal);
    this.busy = true;
    try {
      if (this.held !== null) await this.gate(signal);
      return await body();
    } finally {
      this.busy = false;
    }
  }

  private gate(signal: AbortSignal): Promise<void> {
    const held = this.held!.promise;
    if (this.ignoreAbort) return held;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      void held.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private waitForCard(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(err(ErrorCode.Flow_NoCard, '等待插卡超时：请插入社保卡后重试', 'no card was inserted in time: insert the card and try again'));
      }, ms);
      const unsub = this.subscribe((e) => {
        if (e.type === 'mediaInserted') {
          off();
          resolve();
        }
      });
      const onAbort = () => {
        off();
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const off = () => {
        clearTimeout(timer);
        unsub();
        signal.removeEventListener('abort', onAbort);
      };
    });
  }

  /** One PIN entry: typed by the holder queue, or by touch keys. */
  private enter(min: number, max: number, autoEnd: boolean, onKey: (k: PinKeyReport) => void, signal: AbortSignal): Promise<{ pin: string; completion: 'enter' | 'auto' }> {
    return new Promise((resolve, reject) => {
      const onAbort = () => this.entry?.abort(abortError(signal));
      const entry = new FakePinEntry(min, max, autoEnd, onKey, (r) => {
        signal.removeEventListener('abort', onAbort);
        if (this.entry === entry) this.entry = null;
        if (r instanceof Error) reject(r);
        else resolve(r);
      });
      this.entry = entry;
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const typed = this.holderQueue.shift();
      if (typed !== undefined) {
        const keys = [...typed, 'enter'];
        const next = () => {
          const k = keys.shift();
          if (k === undefined || this.entry !== entry) return;
          entry.key(k);
          setImmediate(next);
        };
        setImmediate(next);
      }
    });
  }

  private async serviceResult(request: ServiceRequest, send: (e: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult> {
    const kind = request.kind;
    const may = capability(this.role, kind, this.services);
    if (!may.allowed) return results.roleNotAllowed(kind, may.reason);
    if (may.operatorRequired && request.operatorId === undefined) return results.operatorRequired(kind);
    const refused = pinStateRefusal(kind, this.cardState(), this.triesLeft);
    if (refused !== undefined) return refused;
    // state/session.ts floorCheck: a kiosk never spends the last tries on a check or a change.
    if (this.role === 'kiosk' && (kind === 'verify' || kind === 'change') && this.triesLeft <= DEFAULT_TRIES_FLOOR) return results.belowFloor(kind, this.triesLeft);
    if (may.materials.includes('residentIdCard')) {
      // state/session.ts `materials`: the ID card on the fake reader, compared by number as the session does.
      send({ type: 'idCard.requested', whose: 'holder' });
      const report = fakeIdCardReport(this.idCard, this.requireCard());
      const matches = report.matchesCard;
      send({ type: 'idCard.read', whose: 'holder', read: report.read, matches, expired: matches === true ? report.expiredOn !== undefined : null });
      if (matches === false) return results.identityMismatch(kind);
      // state/session.ts `materialsCheck`: the holder's ID card must be valid today (state/id-card-validity.ts).
      if (matches === true && report.expiredOn !== undefined) return results.identityExpired(kind, report.expiredOn);
      if (matches === null) {
        const m = checkMaterials(may.materials, ['socialSecurityCard']);
        return results.materialsMissing(kind, m.missing.map((x) => x.material), { zh: m.zh, en: m.en });
      }
    }
    const pins: string[] = [];
    // As the daemon's journal would: a row per flow that reached the card, named in its result.
    const journaled = (r: ServiceResult): ServiceResult => ({ ...r, operationId: this.operationIds.next() });
    try {
      for (const { prompt } of PIN_ENTRY_PLANS[kind]) {
        send({ type: 'pin.entryStarted', prompt });
        try {
          const r = await this.enter(PIN_LENGTH, PIN_LENGTH, false, (k) => (k.key === 'enter' || k.key === 'cancel' ? undefined : send({ type: 'pin.digits', count: k.count })), signal);
          pins.push(r.pin);
        } catch (e) {
          if (this.card === null) return results.cardRemoved(kind);
          if (e instanceof SsCardError && e.code === ErrorCode.PinPad_Cancelled) return results.cancelled(kind);
          if (signal.aborted) return results.cancelled(kind);
          return results.pinEntryFailed(kind);
        }
      }
      const first = pins[0]!;
      if (kind === 'verify' || kind === 'change') {
        if (kind === 'change' && pins[1] !== pins[2]) return results.pinMismatch(kind);
        if (first !== this.cardPin) {
          this.triesLeft = Math.max(0, this.triesLeft - 1);
          if (this.triesLeft === 0) return journaled(results.locked(kind, SW_PIN_BLOCKED));
          const sw = swWrongPin(this.triesLeft);
          return journaled(kind === 'verify' ? results.verifyWrong(this.triesLeft, sw) : results.changeWrong(this.triesLeft, sw));
        }
        this.triesLeft = this.maxTries;
        if (kind === 'verify') return journaled(results.verifyOk(this.triesLeft));
        this.cardPin = pins[1]!;
        return journaled(results.changeOk(this.triesLeft));
      }
      if (pins[0] !== pins[1]) return results.pinMismatch(kind);
      this.cardPin = first;
      this.triesLeft = this.maxTries;
      if (kind === 'reset') return journaled(results.resetOk(this.triesLeft));
      if (kind === 'unblock') return journaled(results.unblockOk(this.triesLeft));
      return journaled(results.activateOk(this.triesLeft, { attempted: false, zh: '请到金融窗口激活银行账户。', en: 'Activate the bank account at a financial window.' }));
    } finally {
      pins.fill('');
    }
  }
}
