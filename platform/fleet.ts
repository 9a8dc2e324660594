/**
 * The fleet view of the reference platform (docs/sync-protocol.md "Fleet view"): every terminal's
 * last heartbeat with the alarms an operations team acts on — `GET /fleet` (JSON) and
 * `GET /fleet.html` (a page that refreshes itself, no script).
 */
import type { TerminalRecord } from './store/store.js';

export interface FleetOptions {
  /** A terminal not heard from for longer is `silent` (default 10 min: ten missed passes of a one-minute sync). */
  readonly silentAfterMs?: number;
  /** A backlog that grew since the previous heartbeat while its oldest row waits longer than this is `backlogGrowing` (default 30 min). */
  readonly backlogAlarmAgeMs?: number;
  /** A terminal clock off by more than this is `clockSkew` (default 5 min: the operation times it sends are off as much). */
  readonly clockSkewAlarmMs?: number;
}

export const FLEET_ALARMS = ['silent', 'backlogGrowing', 'hotlistRefused', 'clockSkew', 'device'] as const;
export type FleetAlarm = (typeof FLEET_ALARMS)[number];

export interface FleetTerminal {
  readonly terminalId: string;
  readonly lastSeenAt: string;
  readonly silentForMs: number;
  readonly software: string | null;
  readonly role: string | null;
  readonly services: readonly string[];
  readonly health: Record<string, unknown> | null;
  readonly backlog: number;
  readonly previousBacklog: number | null;
  readonly oldestUnsyncedAt: string | null;
  readonly bankRequests: number | null;
  readonly hotlistVersion: string | null;
  readonly hotlistCheck: string | null;
  /** sentAt − receivedAt of the last heartbeat (ms). */
  readonly skewMs: number;
  readonly alarms: readonly FleetAlarm[];
}

export interface FleetView {
  readonly at: string;
  readonly hotlistVersion: string;
  readonly thresholds: Required<FleetOptions>;
  readonly terminals: readonly FleetTerminal[];
  /** Terminals per alarm. */
  readonly alarms: Readonly<Record<FleetAlarm, number>>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function fleetView(records: readonly TerminalRecord[], now: number, hotlistVersion: number, o: FleetOptions = {}): FleetView {
  const thresholds: Required<FleetOptions> = {
    silentAfterMs: o.silentAfterMs ?? 10 * 60_000,
    backlogAlarmAgeMs: o.backlogAlarmAgeMs ?? 30 * 60_000,
    clockSkewAlarmMs: o.clockSkewAlarmMs ?? 5 * 60_000,
  };
  const counts = Object.fromEntries(FLEET_ALARMS.map((a) => [a, 0])) as Record<FleetAlarm, number>;
  const terminals = records.map((r): FleetTerminal => {
    const hb = obj(r.heartbeat) ?? {};
    const health = obj(hb['health']);
    const backlog = obj(hb['backlog']);
    const hotlist = obj(hb['hotlist']);
    const oldest = str(backlog?.['oldestUnsyncedAt']);
    const alarms: FleetAlarm[] = [];
    const silentForMs = Math.max(0, now - r.lastSeenAt);
    if (silentForMs > thresholds.silentAfterMs) alarms.push('silent');
    const oldestAge = oldest === null ? 0 : r.lastSeenAt - Date.parse(oldest);
    if (r.previousBacklog !== null && r.backlog > r.previousBacklog && oldestAge > thresholds.backlogAlarmAgeMs) alarms.push('backlogGrowing');
    if (hotlist?.['check'] === 'refused') alarms.push('hotlistRefused');
    if (Math.abs(r.skewMs) > thresholds.clockSkewAlarmMs) alarms.push('clockSkew');
    if (health !== null && (health['pcsc'] === false || ['psam', 'pinPad', 'idReader'].some((d) => health[d] === 'problem'))) alarms.push('device');
    for (const a of alarms) counts[a]++;
    const services = hb['services'];
    return {
      terminalId: r.terminalId,
      lastSeenAt: new Date(r.lastSeenAt).toISOString(),
      silentForMs,
      software: str(hb['software']),
      role: str(hb['role']),
      services: Array.isArray(services) ? services.filter((s): s is string => typeof s === 'string') : [],
      health,
      backlog: r.backlog,
      previousBacklog: r.previousBacklog,
      oldestUnsyncedAt: oldest,
      bankRequests: typeof backlog?.['bankRequests'] === 'number' ? backlog['bankRequests'] : null,
      hotlistVersion: str(hotlist?.['version']),
      hotlistCheck: str(hotlist?.['check']),
      skewMs: r.skewMs,
      alarms,
    };
  });
  return { at: new Date(now).toISOString(), hotlistVersion: String(hotlistVersion), thresholds, terminals, alarms: counts };
}

const ALARM_TEXT: Record<FleetAlarm, string> = {
  silent: '失联 silent',
  backlogGrowing: '积压增长 backlog growing',
  hotlistRefused: '挂失名单签名不符 hotlist refused',
  clockSkew: '时钟偏差 clock skew',
  device: '设备故障 device',
};

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const duration = (ms: number): string => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

/** The page: every terminal, alarms first; every value escaped; refreshes itself every 30 s. */
export function fleetPage(v: FleetView): string {
  const rows = [...v.terminals]
    .sort((a, b) => b.alarms.length - a.alarms.length || a.terminalId.localeCompare(b.terminalId))
    .map((t) => {
      const health = t.health === null ? '—' : ['psam', 'pinPad', 'idReader'].map((d) => `${d} ${esc(str(t.health?.[d]) ?? '—')}`).join(', ') + (t.health['pcsc'] === false ? ', PC/SC down' : '');
      const cells = [
        esc(t.terminalId),
        `${esc(t.lastSeenAt)} (${duration(t.silentForMs)})`,
        esc(t.software ?? '—'),
        esc(t.role ?? '—'),
        `${t.backlog}${t.previousBacklog === null ? '' : ` (${t.previousBacklog})`}`,
        `${esc(t.hotlistVersion ?? '—')}${t.hotlistCheck === null ? '' : ` ${esc(t.hotlistCheck)}`}`,
        health,
        t.alarms.map((a) => `<strong>${esc(ALARM_TEXT[a])}</strong>`).join('<br>') || '—',
      ];
      return `<tr${t.alarms.length > 0 ? ' class="alarm"' : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
    });
  const summary = Object.entries(v.alarms)
    .map(([a, n]) => `${esc(ALARM_TEXT[a as FleetAlarm])}: ${n}`)
    .join(' · ');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30">
<title>终端一览 Fleet</title>
<style>body{font-family:sans-serif;margin:1rem}table{border-collapse:collapse}td,th{border:1px solid #888;padding:.25rem .5rem;text-align:left}tr.alarm{background:#fde8e8}</style>
</head><body>
<h1>终端一览 Fleet — ${v.terminals.length}</h1>
<p>${esc(v.at)} · 平台挂失名单版本 platform hotlist version ${esc(v.hotlistVersion)} · ${summary}</p>
<table><thead><tr><th>终端 Terminal</th><th>最近心跳 Last seen</th><th>软件 Software</th><th>角色 Role</th><th>积压（上次）Backlog (before)</th><th>挂失名单 Hotlist</th><th>设备 Devices</th><th>告警 Alarms</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}
