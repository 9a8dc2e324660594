/**
 * What the terminal reports about itself (TerminalPort.capabilities / status / health): its role
 * and services, the readers and the card in the user slot (identification without the holder's
 * personal data: the card number masked), the PSAM, PIN pad, ID reader, journal and sync worker,
 * the bank-account activation requests on their way to the bank (counts and the oldest's age),
 * and whether it is ready to serve — each problem in zh-CN and en.
 */
import type { BilingualText } from '../../core/text.js';
import { bi } from '../../core/text.js';
import { maskCardNumber, maskName } from '../../core/mask.js';
import { toHex } from '../../apdu/hex.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { PcscService } from '../../drivers/pcsc/pcsc-service.js';
import type { PinPad } from '../../drivers/pinpad/pinpad.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import { capability } from '../../state/roles.js';
import type { Journal } from '../journal/journal.js';
import type { SyncStatus } from '../sync/worker.js';
import type { SessionSnapshot } from './card-slot.js';
import type { CardSlots } from './card-slots.js';
import type { Capabilities, DeviceStatus, Health, ReaderStatus, TerminalStatusReport } from './port.js';
import type { PsamSlot } from './psam-slot.js';

export interface StatusSources {
  readonly terminalId: string;
  readonly deviceId: string;
  readonly role: Role;
  readonly services: readonly ServiceKind[];
  readonly triesFloor: number;
  readonly version: string;
  readonly simulated: boolean;
  readonly startedAt: number;
  readonly now: () => number;
  readonly pcsc: PcscService;
  readonly slots: CardSlots;
  readonly psam: PsamSlot;
  /** The pad in use (an unavailable pad when none is configured). */
  readonly pinPad: PinPad;
  /** The configured pad, if any. */
  readonly configuredPinPad: PinPad | undefined;
  readonly idReader: IdCardReader | undefined;
  readonly journal: Journal | undefined;
  readonly sync: { status(): SyncStatus } | undefined;
  readonly catalog: TerminalStatusReport['catalog'];
}

/** The session machine's state as one string ("identified", "service.pinEntry"). */
export function stateName(value: SessionSnapshot['value']): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => `${k}.${stateName(v as SessionSnapshot['value'])}`)
    .join(',');
}

const PCSC_NOT_UP = bi('PC/SC 服务尚未就绪', 'the PC/SC service is not up yet');

export function capabilities(s: StatusSources): Capabilities {
  const caps = s.pinPad.capabilities;
  return {
    role: s.role,
    services: s.services,
    operatorRequired: s.services.filter((k) => capability(s.role, k, s.services).operatorRequired),
    pinPad: { kind: s.pinPad.kind, secureVerify: caps.secureVerify, secureChange: caps.secureChange, plainEntry: caps.plainEntry, touchKeys: s.pinPad.kind === 'touchscreen' },
    idReader: s.idReader !== undefined,
    psam: s.psam.psam !== undefined,
    simulated: s.simulated,
    triesFloor: s.triesFloor,
  };
}

function deviceStatus(kind: string, dev: { name: string; connected: boolean } | undefined, missing: BilingualText): DeviceStatus {
  if (dev === undefined) return { kind: 'none', name: null, connected: false, problem: null };
  return { kind, name: dev.name, connected: dev.connected, problem: dev.connected ? null : missing };
}

const NO_HOTLIST: TerminalStatusReport['hotlist'] = { version: null, updatedAt: null, entries: 0 };
const NO_BANK: TerminalStatusReport['bankRequests'] = { pending: 0, sent: 0, oldestPendingAt: null, oldestPendingAgeMs: null };

type JournalPart = TerminalStatusReport['journal'] & { hotlist: TerminalStatusReport['hotlist']; bankRequests: TerminalStatusReport['bankRequests'] };

function journalStatus(journal: Journal | undefined, now: number): JournalPart {
  const closed: JournalPart = { open: false, pending: 0, unsynced: 0, rows: 0, hotlist: NO_HOTLIST, bankRequests: NO_BANK };
  if (journal === undefined) return closed;
  try {
    // summary(), not stats(): this runs on every Status, status change and metrics scrape.
    const s = journal.summary();
    const oldest = s.oldestPendingBankRequestAt;
    return {
      open: true,
      pending: s.pending,
      unsynced: s.backlog,
      rows: s.total,
      hotlist: { version: s.hotlistVersion, updatedAt: s.hotlistUpdatedAt, entries: s.hotlistSize },
      bankRequests: { pending: s.bankRequests.pending, sent: s.bankRequests.sent, oldestPendingAt: oldest, oldestPendingAgeMs: oldest === null ? null : Math.max(0, now - oldest) },
    };
  } catch {
    return closed;
  }
}

export function status(s: StatusSources): TerminalStatusReport {
  const { pcsc, slots, psam } = s;
  const readers: ReaderStatus[] = pcsc.readers().map((r) => ({
    name: r.name,
    slot: slots.get(r.name) !== undefined ? 'card' : r.name === psam.readerName || psam.isReader(r.name) ? 'psam' : 'other',
    cardPresent: r.cardPresent,
    atr: r.atr ? toHex(r.atr) : null,
    busy: slots.get(r.name)?.busy !== undefined,
  }));
  const all = slots.all();
  const slot = all.find((x) => x.present) ?? all[0];
  const snap = slot?.actor.getSnapshot();
  const ctx = snap?.context;
  const identified = ctx?.card !== undefined && slot?.present === true;
  const { hotlist, bankRequests, ...journal } = journalStatus(s.journal, s.now());
  const sync = s.sync?.status();
  return {
    terminalId: s.terminalId,
    deviceId: s.deviceId,
    role: s.role,
    services: s.services,
    version: s.version,
    uptimeMs: s.now() - s.startedAt,
    simulated: s.simulated,
    pcsc: { up: pcsc.isUp, problem: pcsc.isUp ? null : (pcsc.downReason?.text ?? PCSC_NOT_UP) },
    readers,
    card: {
      present: slot?.present === true,
      identified,
      cardNumberMasked: identified ? maskCardNumber(ctx.card.cardNumber) : null,
      nameMasked: identified ? maskName(ctx.card.name) : null,
      specVersion: identified ? ctx.card.specVersion : null,
      triesLeft: identified ? (ctx.triesLeft ?? null) : null,
      cardState: identified ? (ctx.cardState ?? null) : null,
      expired: identified ? ctx.card.expired : null,
      session: snap ? stateName(snap.value) : 'none',
    },
    psam: {
      kind: psam.configured ? 'pcsc' : 'none',
      name: psam.readerName ?? null,
      connected: psam.psam !== undefined,
      problem: psam.psam !== undefined ? null : psam.configured ? (psam.problem ?? bi('没有找到 PSAM 卡', 'no PSAM found')) : null,
      terminalNumber: psam.psam?.terminalNumber ?? null,
    },
    pinPad: {
      ...deviceStatus(s.pinPad.kind, s.configuredPinPad, bi('密码键盘未连接', 'the PIN pad is not connected')),
      secureEntry: s.pinPad.capabilities.secureVerify,
    },
    idReader: deviceStatus('serial', s.idReader, bi('身份证读卡器未连接', 'the ID card reader is not connected')),
    catalog: s.catalog,
    journal,
    sync: {
      enabled: sync !== undefined,
      lastSuccessAt: sync?.lastSuccessAt ?? null,
      lastError: sync?.lastError ? { code: sync.lastError.code, zh: sync.lastError.zh, en: sync.lastError.en } : null,
      backlog: sync?.backlog ?? journal.unsynced,
      hotlistCheck: sync?.hotlistCheck ?? null,
      clockOffsetMs: sync?.clockOffsetMs ?? null,
      lastHeartbeatAt: sync?.lastHeartbeatAt ?? null,
    },
    hotlist,
    bankRequests,
  };
}

export function health(s: StatusSources): Health {
  const reasons: { component: string; zh: string; en: string }[] = [];
  const add = (component: string, t: BilingualText): void => {
    reasons.push({ component, zh: t.zh, en: t.en });
  };
  const pcsc = s.pcsc;
  if (!pcsc.isUp) add('pcsc', pcsc.downReason?.text ?? PCSC_NOT_UP);
  else if (s.slots.size === 0) add('reader', bi('没有可用的读卡器', 'no card reader is attached'));
  if (s.configuredPinPad === undefined) add('pinPad', bi('没有配置密码键盘', 'no PIN pad is configured'));
  else if (!s.configuredPinPad.connected) add('pinPad', bi('密码键盘未连接', 'the PIN pad is not connected'));
  const needsMaterials = s.services.some((k) => k === 'reset' || k === 'unblock' || k === 'activate');
  if (needsMaterials && s.psam.psam === undefined) add('psam', s.psam.problem ?? bi('没有可用的 PSAM 卡：重置、解锁和启用无法办理', 'no PSAM: reset, unblock and activation cannot run'));
  if (needsMaterials && (s.idReader === undefined || !s.idReader.connected)) add('idReader', bi('身份证读卡器不可用：重置、解锁和启用无法办理', 'the ID card reader is not available: reset, unblock and activation cannot run'));
  if (s.journal === undefined || !journalStatus(s.journal, s.now()).open) add('journal', bi('业务日志不可用', 'the journal is not available'));
  return { live: true, ready: reasons.length === 0, reasons };
}
