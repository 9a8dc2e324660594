/**
 * `Common.Status` as the technician page reads it (docs/api.md "Common": `sscard` is the
 * terminal's status report, daemon/terminal/status.ts): the fields the page shows, read
 * defensively — a field missing or of the wrong type becomes null, never an exception, so a daemon
 * one version apart still gives a page. Masked identity only: the report carries the card number
 * and the holder's name masked, and nothing here unmasks or keeps anything else.
 */
import type { BilingualText } from '../../core/text.js';
import type { Payload } from '../client/messages.js';

export interface ReaderRow {
  readonly name: string;
  readonly slot: 'card' | 'psam' | 'other';
  readonly cardPresent: boolean;
  readonly atr: string | null;
  readonly busy: boolean;
}

export interface DeviceRow {
  readonly kind: string;
  readonly name: string | null;
  readonly connected: boolean;
  readonly problem: BilingualText | null;
}

export interface StatusReport {
  readonly terminalId: string | null;
  readonly deviceId: string | null;
  readonly role: string | null;
  readonly services: readonly string[];
  readonly version: string | null;
  readonly uptimeMs: number | null;
  readonly simulated: boolean;
  readonly pcsc: { readonly up: boolean; readonly problem: BilingualText | null };
  readonly readers: readonly ReaderRow[];
  readonly card: {
    readonly present: boolean;
    readonly identified: boolean;
    readonly cardNumberMasked: string | null;
    readonly nameMasked: string | null;
    readonly specVersion: string | null;
    readonly triesLeft: number | null;
    readonly cardState: string | null;
    readonly session: string | null;
  };
  readonly psam: DeviceRow & { readonly terminalNumber: string | null };
  readonly pinPad: DeviceRow & { readonly secureEntry: boolean };
  readonly idReader: DeviceRow;
  readonly journal: { readonly open: boolean; readonly rows: number | null; readonly pending: number | null; readonly unsynced: number | null };
  readonly sync: {
    readonly enabled: boolean;
    readonly backlog: number | null;
    readonly lastSuccessAt: number | null;
    readonly lastError: (BilingualText & { readonly code: number | null }) | null;
    /** What the last hotlist's signature said (docs/sync-protocol.md): null when not reported or none pulled yet. */
    readonly hotlistCheck: 'verified' | 'unchecked' | 'refused' | null;
  };
  readonly hotlist: { readonly version: string | null; readonly updatedAt: number | null; readonly entries: number | null } | null;
  /** A financial window's bank-account requests (docs/api.md `GET /status`); null from a daemon that does not report them. */
  readonly bankRequests: { readonly pending: number | null; readonly sent: number | null; readonly oldestPendingAgeMs: number | null } | null;
}

type Obj = Readonly<Record<string, unknown>>;

const HOTLIST_CHECKS = ['verified', 'unchecked', 'refused'] as const;

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean => v === true;

export function bilingual(v: unknown): BilingualText | null {
  const o = obj(v);
  const zh = str(o['zh']);
  const en = str(o['en']);
  return zh === null && en === null ? null : { zh: zh ?? en ?? '', en: en ?? zh ?? '' };
}

function device(v: unknown): DeviceRow {
  const o = obj(v);
  return { kind: str(o['kind']) ?? 'none', name: str(o['name']), connected: bool(o['connected']), problem: bilingual(o['problem']) };
}

/** The report inside a `Common.Status` completion or a `Common.StatusChangedEvent`'s `status`; null when there is none. */
export function reportOf(payload: Payload): StatusReport | null {
  const s = payload['sscard'];
  if (s === null || typeof s !== 'object') return null;
  const r = obj(s);
  const card = obj(r['card']);
  const psam = obj(r['psam']);
  const pad = obj(r['pinPad']);
  const journal = obj(r['journal']);
  const sync = obj(r['sync']);
  const hot = r['hotlist'] === undefined ? null : obj(r['hotlist']);
  const bank = r['bankRequests'] === undefined ? null : obj(r['bankRequests']);
  const lastError = r['sync'] === undefined ? null : bilingual(sync['lastError']);
  const readers = Array.isArray(r['readers']) ? (r['readers'] as unknown[]) : [];
  return {
    terminalId: str(r['terminalId']),
    deviceId: str(r['deviceId']),
    role: str(r['role']),
    services: Array.isArray(r['services']) ? (r['services'] as unknown[]).filter((x): x is string => typeof x === 'string') : [],
    version: str(r['version']),
    uptimeMs: num(r['uptimeMs']),
    simulated: bool(r['simulated']),
    pcsc: { up: bool(obj(r['pcsc'])['up']), problem: bilingual(obj(r['pcsc'])['problem']) },
    readers: readers.slice(0, 64).map((x) => {
      const o = obj(x);
      const slot = o['slot'] === 'card' || o['slot'] === 'psam' ? o['slot'] : 'other';
      return { name: str(o['name']) ?? '?', slot, cardPresent: bool(o['cardPresent']), atr: str(o['atr']), busy: bool(o['busy']) };
    }),
    card: {
      present: bool(card['present']),
      identified: bool(card['identified']),
      cardNumberMasked: str(card['cardNumberMasked']),
      nameMasked: str(card['nameMasked']),
      specVersion: str(card['specVersion']),
      triesLeft: num(card['triesLeft']),
      cardState: str(card['cardState']),
      session: str(card['session']),
    },
    psam: { ...device(psam), terminalNumber: str(psam['terminalNumber']) },
    pinPad: { ...device(pad), secureEntry: bool(pad['secureEntry']) },
    idReader: device(r['idReader']),
    journal: { open: bool(journal['open']), rows: num(journal['rows']), pending: num(journal['pending']), unsynced: num(journal['unsynced']) },
    sync: {
      enabled: bool(sync['enabled']),
      backlog: num(sync['backlog']),
      lastSuccessAt: num(sync['lastSuccessAt']),
      lastError: lastError === null ? null : { ...lastError, code: num(obj(sync['lastError'])['code']) },
      hotlistCheck: HOTLIST_CHECKS.find((c) => c === obj(sync['hotlistCheck'])['state']) ?? null,
    },
    hotlist: hot === null ? null : { version: str(hot['version']), updatedAt: num(hot['updatedAt']), entries: num(hot['entries']) },
    bankRequests: bank === null ? null : { pending: num(bank['pending']), sent: num(bank['sent']), oldestPendingAgeMs: num(bank['oldestPendingAgeMs']) },
  };
}

/** `Common.Capabilities`' PIN pad: whether the page may show the on-screen keypad (`touchKeys`). */
export interface PadCapabilities {
  readonly kind: string;
  readonly touchKeys: boolean;
}

export function padCapabilitiesOf(payload: Payload): PadCapabilities | null {
  const pad = obj(obj(payload['sscard'])['pinPad']);
  if (Object.keys(pad).length === 0) return null;
  return { kind: str(pad['kind']) ?? 'none', touchKeys: bool(pad['touchKeys']) };
}
