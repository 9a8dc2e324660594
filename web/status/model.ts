/**
 * The status report → what the page shows (pure): sections of labelled values, the readers'
 * table, and one overall line. Every value is a bilingual pair (a name or a number is the same in
 * both); a tone marks what is wrong (`fail`) or fine (`ok`) so the page can colour it — with the
 * word next to it, never colour alone (WCAG 1.4.1).
 */
import type { BilingualText } from '../../core/text.js';
import type { DeviceRow, StatusReport } from './report.js';
import { T } from './text.js';

export type Tone = 'ok' | 'fail' | 'plain';

export interface Field {
  readonly key: string;
  readonly label: BilingualText;
  readonly value: BilingualText;
  readonly tone: Tone;
}

export interface Section {
  readonly id: 'terminal' | 'card' | 'devices' | 'journal';
  readonly title: BilingualText;
  readonly fields: readonly Field[];
}

export interface ReaderView {
  readonly name: string;
  readonly role: BilingualText;
  readonly card: BilingualText;
  readonly atr: string;
  readonly busy: BilingualText;
}

export interface StatusView {
  readonly sections: readonly Section[];
  readonly readers: readonly ReaderView[];
}

const same = (s: string): BilingualText => ({ zh: s, en: s });
const yesNo = (b: boolean): BilingualText => (b ? T.yes : T.no);
const orNone = (s: string | null): BilingualText => (s === null || s === '' ? T.none : same(s));
const count = (n: number | null): BilingualText => (n === null ? T.unknown : same(String(n)));

const f = (key: string, label: BilingualText, value: BilingualText, tone: Tone = 'plain'): Field => ({ key, label, value, tone });

/** `YYYY-MM-DD HH:MM:SS` in the terminal's local time (the same in both languages). */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** `2 天 3 小时 4 分` / `2 d 3 h 4 min`; under a minute: seconds. */
export function formatDuration(ms: number): BilingualText {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return { zh: `${s} 秒`, en: `${s} s` };
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const zh = [d > 0 ? `${d} 天` : '', d > 0 || h > 0 ? `${h} 小时` : '', `${m} 分`].filter((x) => x !== '').join(' ');
  const en = [d > 0 ? `${d} d` : '', d > 0 || h > 0 ? `${h} h` : '', `${m} min`].filter((x) => x !== '').join(' ');
  return { zh, en };
}

/** A device: "connected · kind · name", "not connected · kind · problem (or name)", "not configured". */
export function deviceValue(d: DeviceRow): { value: BilingualText; tone: Tone } {
  if (d.kind === 'none') return { value: T.notConfigured, tone: 'plain' };
  const detail = d.connected ? (d.name === null ? null : same(d.name)) : (d.problem ?? (d.name === null ? null : same(d.name)));
  // The kind is left out when the name already says it ("touchscreen (development)").
  const kind = d.name !== null && d.name.toLowerCase().includes(d.kind.toLowerCase()) ? [] : [same(d.kind)];
  const parts = [d.connected ? T.connected : T.notConnected, ...kind, ...(detail === null ? [] : [detail])];
  return { value: { zh: parts.map((p) => p.zh).join(' · '), en: parts.map((p) => p.en).join(' · ') }, tone: d.connected ? 'ok' : 'fail' };
}

function slotRole(slot: 'card' | 'psam' | 'other'): BilingualText {
  return slot === 'card' ? T.slotCard : slot === 'psam' ? T.slotPsam : T.slotOther;
}

export function viewOf(r: StatusReport): StatusView {
  const pcsc = r.pcsc.up ? { value: T.up, tone: 'ok' as const } : { value: r.pcsc.problem ?? T.down, tone: 'fail' as const };
  const terminal: Section = {
    id: 'terminal',
    title: T.terminal,
    fields: [
      f('terminalId', T.terminalId, orNone(r.terminalId)),
      f('deviceId', T.deviceId, orNone(r.deviceId)),
      f('role', T.role, orNone(r.role)),
      f('services', T.services, r.services.length === 0 ? T.none : same(r.services.join(', '))),
      f('version', T.version, orNone(r.version)),
      f('uptime', T.uptime, r.uptimeMs === null ? T.unknown : formatDuration(r.uptimeMs)),
      f('simulated', T.simulated, yesNo(r.simulated)),
      f('pcsc', T.pcsc, pcsc.value, pcsc.tone),
    ],
  };
  const c = r.card;
  const card: Section = {
    id: 'card',
    title: T.card,
    fields: [
      f('present', T.cardPresent, yesNo(c.present), c.present ? 'ok' : 'plain'),
      f('identified', T.identified, yesNo(c.identified), c.identified ? 'ok' : 'plain'),
      f('cardNumber', T.cardNumber, orNone(c.identified ? c.cardNumberMasked : null)),
      f('holder', T.holder, orNone(c.identified ? c.nameMasked : null)),
      f('specVersion', T.specVersion, orNone(c.specVersion)),
      f('triesLeft', T.triesLeft, c.triesLeft === null ? T.unknown : same(String(c.triesLeft)), c.triesLeft !== null && c.triesLeft <= 2 ? 'fail' : 'plain'),
      f('cardState', T.cardState, orNone(c.cardState)),
      f('session', T.session, orNone(c.session)),
    ],
  };
  const psam = deviceValue(r.psam);
  const pad = deviceValue(r.pinPad);
  const id = deviceValue(r.idReader);
  const devices: Section = {
    id: 'devices',
    title: T.devices,
    fields: [
      f('psam', T.psam, psam.value, psam.tone),
      f('psamNumber', T.psamNumber, orNone(r.psam.terminalNumber)),
      f('pinPad', T.pinPad, pad.value, pad.tone),
      f('secureEntry', T.secureEntry, yesNo(r.pinPad.secureEntry)),
      f('idReader', T.idReader, id.value, id.tone),
    ],
  };
  const j = r.journal;
  const s = r.sync;
  const h = r.hotlist;
  const b = r.bankRequests;
  const journal: Section = {
    id: 'journal',
    title: T.journal,
    fields: [
      f('journal', T.journalOpen, j.open ? T.open : T.closed, j.open ? 'ok' : 'fail'),
      f('rows', T.rows, count(j.rows)),
      f('pending', T.pending, count(j.pending)),
      f('unsynced', T.unsynced, count(j.unsynced)),
      f('sync', T.sync, s.enabled ? T.enabled : T.disabled),
      f('backlog', T.backlog, count(s.backlog)),
      f('lastSuccess', T.lastSuccess, s.lastSuccessAt === null ? T.never : same(formatTime(s.lastSuccessAt))),
      f('lastError', T.lastError, s.lastError === null ? T.none : s.lastError, s.lastError === null ? 'plain' : 'fail'),
      f('hotlistVersion', T.hotlistVersion, h === null ? T.unknown : orNone(h.version)),
      f('hotlistUpdated', T.hotlistUpdated, h === null ? T.unknown : h.updatedAt === null ? T.never : same(formatTime(h.updatedAt))),
      f('hotlistEntries', T.hotlistEntries, h === null ? T.unknown : count(h.entries)),
      // A refused list means the platform's answer did not verify: the list in force was kept (docs/sync-protocol.md).
      f('hotlistCheck', T.hotlistCheck, s.hotlistCheck === null ? T.unknown : T.hotlistChecks[s.hotlistCheck], s.hotlistCheck === 'refused' ? 'fail' : s.hotlistCheck === 'verified' ? 'ok' : 'plain'),
      // A financial window's bank-account requests (docs/sync-protocol.md "Push bank requests"): pending until the platform acknowledged them.
      f('bankPending', T.bankPending, b === null ? T.unknown : count(b.pending)),
      f('bankSent', T.bankSent, b === null ? T.unknown : count(b.sent)),
      f('bankOldest', T.bankOldest, b === null ? T.unknown : b.oldestPendingAgeMs === null ? T.none : formatDuration(b.oldestPendingAgeMs)),
    ],
  };
  return {
    sections: [terminal, card, devices, journal],
    readers: r.readers.map((x) => ({
      name: x.name,
      role: slotRole(x.slot),
      card: x.cardPresent ? T.cardIn : T.cardOut,
      atr: x.atr ?? '—',
      busy: yesNo(x.busy),
    })),
  };
}
