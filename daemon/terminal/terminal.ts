/**
 * The terminal: the daemon's one owner of the card slots, the PSAM, the PIN pad and the ID reader.
 * It implements {@link TerminalPort} for the local API, over these rooms:
 *
 * - card-slots.ts, card-slot.ts: the card slots, their cards' presence, their locks and waits;
 * - slot-session.ts: each slot's card session (state/session.ts), wired by daemon/flows;
 * - psam-slot.ts: the PSAM in its reader;
 * - services.ts: the services through a slot's session, ending a session;
 * - read-basic.ts: ReadBasic (the card driver's identification);
 * - pin-keys.ts: plain PIN entry and the on-screen keypad's keys;
 * - chip-io.ts: the technicians' raw APDUs and power changes;
 * - status.ts: capabilities, status and health;
 * - counter-reads.ts: the counter's ID card read and journal rows.
 *
 * Nothing here polls (wait.ts): an idle terminal has no timer running.
 */
import type { CardMakeProfile } from '../../drivers/card/card-profiles.js';
import type { Logger } from '../../core/logger.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import type { SsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import type { PinPad } from '../../drivers/pinpad/pinpad.js';
import type { Journal } from '../journal/journal.js';
import { shippedCatalog } from '../flows/catalog.js';
import type { SyncStatus } from '../sync/worker.js';
import type { ServiceItem } from '../../state/catalog.js';
import { catalogProvince } from '../../state/hall.js';
import type { ServiceResult } from '../../state/results.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import { defaultServices } from '../../state/roles.js';
import type { SessionConfig, SessionEmitted } from '../../state/session.js';
import { DEFAULT_TRIES_FLOOR } from '../../state/session.js';
import { CardSlots } from './card-slots.js';
import { chipIo, chipPower } from './chip-io.js';
import { CounterReads, operationsOf } from './counter-reads.js';
import { PinKeys } from './pin-keys.js';
import type {
  CardBasicInfo,
  HsmChallenge,
  HsmRecordsRead,
  RecordsWrite,
  WriteOutcome,
  RecordsRead,
  Capabilities,
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
} from './port.js';
import { PsamSlot } from './psam-slot.js';
import { readBasic, type ReadBasicOptions } from './read-basic.js';
import { HsmReads, readRecords } from './vendor-reads.js';
import { writeRecords } from './vendor-writes.js';
import { endSession, runService } from './services.js';
import { startSlotSession } from './slot-session.js';
import type { StatusSources } from './status.js';
import { capabilities, health, status } from './status.js';
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
  /** The service catalog (state/catalog.ts); default the shipped fixtures/catalog/service-items.json. */
  readonly catalog?: readonly ServiceItem[];
  /** The catalog is the shipped demo (docs/config.md `catalog` absent); default: true when `catalog` is not given. */
  readonly demoCatalog?: boolean;
  /** GB/T 2260 province code whose cards are served (docs/config.md `province`); default: the catalog's (state/hall.ts). */
  readonly province?: string;
  /** Card-make profiles, chosen per card by its ATR (docs/config.md `cardProfiles`); default none: every card with the defaults. */
  readonly cardProfiles?: readonly CardMakeProfile[];
  readonly sync?: { status(): SyncStatus; wake?(): void };
  readonly loggers?: Partial<TerminalLoggers>;
  /** Transmit timeout of the card channels (ms). */
  readonly transmitTimeoutMs?: number;
  /** Called after every service result (the simulator saves the virtual card's state). */
  readonly onResult?: (reader: string, result: ServiceResult) => void;
  /** The clock of the status's uptime. */
  readonly now?: () => number;
}

type PcscEvent = 'reader-attached' | 'reader-detached' | 'card-inserted' | 'card-removed' | 'service-up' | 'service-down';

export class Terminal implements TerminalPort {
  private readonly cardProfiles: readonly CardMakeProfile[];
  public readonly terminalId: string;
  public readonly deviceId: string;
  public readonly role: Role;
  private readonly listeners = new Set<(e: TerminalEvent) => void>();
  private readonly log: TerminalLoggers;
  private readonly pinPad: PinPad;
  private readonly isCardReader: ReaderTest;
  private readonly slots: CardSlots;
  private readonly psam: PsamSlot;
  private readonly pinKeys: PinKeys;
  private readonly hsm: HsmReads;
  private readonly statusSources: StatusSources;
  private readonly counterReads: CounterReads;
  private readonly serviceCatalog: readonly ServiceItem[];
  private stopped = false;
  private readonly unsubscribers: (() => void)[] = [];

  public constructor(private readonly o: TerminalOptions) {
    this.terminalId = o.terminalId;
    this.deviceId = o.deviceId;
    this.role = o.role;
    const services = o.services ?? defaultServices(o.role);
    this.serviceCatalog = o.catalog ?? shippedCatalog();
    const province = o.province ?? catalogProvince(this.serviceCatalog);
    this.log = {
      flow: o.loggers?.flow ?? SILENT_LOGGER,
      pcsc: o.loggers?.pcsc ?? SILENT_LOGGER,
      pinPad: o.loggers?.pinPad ?? SILENT_LOGGER,
      idCard: o.loggers?.idCard ?? SILENT_LOGGER,
    };
    this.pinPad = o.pinPad ?? new UnavailablePinPad();
    const emit = (e: TerminalEvent): void => this.emit(e);
    const stopped = (): boolean => this.stopped;
    this.psam = new PsamSlot({ pcsc: o.pcsc, isPsamReader: o.isPsamReader, log: this.log.pcsc, emit, stopped, opened: () => this.slots.psamOpened() });
    this.cardProfiles = o.cardProfiles ?? [];
    this.isCardReader = o.isCardReader ?? ((name) => !this.psam.isReader(name));
    this.slots = new CardSlots({
      pcsc: o.pcsc,
      transmitTimeoutMs: o.transmitTimeoutMs,
      pinPad: this.pinPad,
      touchPadPerSlot: o.touchPadPerSlot === true,
      psamReady: (ms) => this.psam.ready(ms),
      psamOpen: () => this.psam.psam !== undefined,
      session: (slot) =>
        startSlotSession(slot, {
          role: o.role,
          services,
          session: { ...o.session, catalog: this.serviceCatalog, ...(province === undefined ? {} : { province }) },
          idReader: o.idReader,
          journal: o.journal,
          catalog: this.serviceCatalog,
          cardProfiles: o.cardProfiles ?? [],
          psam: () => this.psam.psam,
          log: this.log.flow,
          emit,
          onResult: o.onResult,
          ...(o.now === undefined ? {} : { now: o.now }),
        }),
      log: this.log.pcsc,
      emit,
      stopped,
    });
    this.pinKeys = new PinKeys(this.pinPad, this.slots);
    this.hsm = new HsmReads(() => this.readOptions());
    this.counterReads = new CounterReads({ idReader: o.idReader, slots: this.slots });
    const now = o.now ?? Date.now;
    this.statusSources = {
      terminalId: o.terminalId,
      deviceId: o.deviceId,
      role: o.role,
      services,
      triesFloor: o.session?.triesFloor ?? DEFAULT_TRIES_FLOOR,
      version: o.version,
      simulated: o.simulated,
      startedAt: now(),
      now,
      pcsc: o.pcsc,
      slots: this.slots,
      psam: this.psam,
      pinPad: this.pinPad,
      configuredPinPad: o.pinPad,
      idReader: o.idReader,
      journal: o.journal,
      sync: o.sync,
      catalog: { demo: o.demoCatalog ?? o.catalog === undefined, province: province ?? null, implementers: [...new Set(this.serviceCatalog.map((it) => it.implementer))] },
    };
  }

  // ---- life cycle ----

  /** Take the readers pcscd lists now and follow their changes. Call after `pcsc.ready()`. */
  public start(): void {
    const pcsc = this.o.pcsc;
    const on = <E extends PcscEvent>(event: E, fn: (...args: never[]) => void): void => {
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
    await this.psam.settled();
    await Promise.all(this.slots.all().map((s) => s.presence));
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
    for (const slot of this.slots.all()) {
      if (slot.busy !== undefined) slot.actor.send({ type: 'CANCEL' });
    }
    await this.slots.whenFree(graceMs);
    this.hsm.end();
    await this.slots.close();
    await this.psam.close();
  }

  /** A running flow's state-changing command is in flight on some slot (shutdown waits for it). */
  public get busySlots(): string[] {
    return this.slots.busy();
  }

  // ---- readers: the PSAM's, or card slots ----

  private attach(name: string): void {
    if (this.psam.isReader(name)) this.psam.attached(name);
    else if (this.isCardReader(name)) this.slots.attach(name);
  }

  private detach(name: string): void {
    if (name === this.psam.readerName) this.psam.gone();
    this.slots.detach(name);
  }

  private inserted(name: string, atr: Buffer): void {
    if (this.stopped) return;
    if (this.psam.isReader(name)) this.psam.inserted(name);
    else this.slots.inserted(name, atr);
  }

  private removed(name: string): void {
    if (name === this.psam.readerName) this.psam.gone();
    else this.slots.removed(name);
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

  // ---- TerminalPort ----

  public runService(request: ServiceRequest, onEvent: (event: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult> {
    return runService(this.slots, this.log.flow, request, onEvent, signal);
  }

  public endSession(reader?: string): Promise<void> {
    return endSession(this.slots, reader);
  }

  public readBasic(signal: AbortSignal, reader?: string): Promise<CardBasicInfo> {
    return readBasic(this.readOptions(), signal, reader);
  }

  private readOptions(): ReadBasicOptions {
    return { slots: this.slots, psam: () => this.psam.psam, terminalId: this.terminalId, deviceId: this.deviceId, now: this.statusSources.now, cardProfiles: this.cardProfiles };
  }

  public readRecords(files: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[], signal: AbortSignal, reader?: string): Promise<RecordsRead> {
    return readRecords(this.readOptions(), files, signal, reader);
  }

  public hsmReadBegin(signal: AbortSignal, reader?: string, files?: readonly { readonly ef: 0xef05 | 0xef06; readonly tags: readonly number[] }[]): Promise<HsmChallenge> {
    return this.hsm.begin(signal, reader, files === undefined ? { kind: 'basic' } : { kind: 'records', files });
  }

  public writeRecords(w: RecordsWrite, signal: AbortSignal, reader?: string): Promise<WriteOutcome> {
    return writeRecords({ ...this.readOptions(), role: this.role, journal: this.o.journal, onResult: () => this.o.sync?.wake?.() }, w, signal, reader);
  }

  public hsmReadEnd(): void {
    this.hsm.end();
  }

  public hsmReadRecordsFinish(key: { readonly internal: Buffer; readonly external: Buffer }, signal: AbortSignal): Promise<HsmRecordsRead> {
    return this.hsm.finishRecords(key, signal);
  }

  public hsmReadFinish(key: { readonly internal: Buffer; readonly external: Buffer }, signal: AbortSignal): Promise<CardBasicInfo> {
    return this.hsm.finish(key, signal);
  }

  public pinEntry(request: PinEntryRequest, onKey: (key: PinKeyReport) => void, signal: AbortSignal): Promise<{ digits: number; completion: 'enter' | 'auto' }> {
    return this.pinKeys.pinEntry(request, onKey, signal);
  }

  public touchKey(key: string, reader?: string): void {
    this.pinKeys.touchKey(key, reader);
  }

  public chipIo(apdu: Buffer, reader: string | undefined, signal: AbortSignal): Promise<Buffer> {
    return chipIo(this.slots, apdu, reader, signal);
  }

  public chipPower(action: ChipPowerAction, reader: string | undefined, signal: AbortSignal): Promise<{ atr: Buffer | null }> {
    return chipPower(this.slots, action, reader, signal);
  }

  public catalog(): readonly ServiceItem[] {
    return this.serviceCatalog;
  }

  public capabilities(): Capabilities {
    return capabilities(this.statusSources);
  }

  public status(): TerminalStatusReport {
    return status(this.statusSources);
  }

  public health(): Health {
    return health(this.statusSources);
  }

  public readIdCard(request: IdCardReadRequest, signal: AbortSignal): Promise<IdCardReport> {
    return this.counterReads.readIdCard(request, signal);
  }

  public operations(query: OperationsQuery): OperationReport[] {
    return operationsOf(this.o.journal, query);
  }
}
