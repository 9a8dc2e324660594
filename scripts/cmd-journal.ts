/**
 * `sscard journal [list | show ID | export --csv FILE | stats | audit] [--json]`: the transaction
 * journal as a technician sees it. Card identities are masked (core/mask.ts: 410402********0047, 李**) unless
 * `--reveal` is given and the journal's key file is readable (only the daemon's user can read it).
 * `audit` lists the audit trail: privileged calls with the operator id, and operator logins,
 * failures, locks, logouts and expiries (no card identity, PIN, passphrase or token is in it).
 * The journal is opened read-only: these commands never change it.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { Journal } from '../daemon/journal/journal.js';
import type { CardIdentity } from '../daemon/journal/identity.js';
import { ACTOR_ID_PATTERN, OPERATION_STATES, SYNC_STATES } from '../daemon/journal/types.js';
import type { AuditRow, OperationRow, OperationState, SyncState } from '../daemon/journal/types.js';
import { readSyncStatus } from '../daemon/sync/worker.js';
import { action, projectRoot } from './cli-util.js';

export interface JournalFileOptions {
  db?: string;
  key?: string;
  reveal?: boolean;
  json?: boolean;
}

/** Where the daemon keeps its journal: --db, else $SSCARD_JOURNAL, else var/journal.sqlite. */
export function journalPaths(opts: { db?: string; key?: string }): { db: string; key: string } {
  const db = opts.db ?? process.env.SSCARD_JOURNAL ?? path.join(projectRoot(), 'var', 'journal.sqlite');
  const key = opts.key ?? process.env.SSCARD_JOURNAL_KEY ?? path.join(path.dirname(db), 'journal.key');
  return { db, key };
}

function openForReading(opts: JournalFileOptions): Journal {
  const p = journalPaths(opts);
  return Journal.open({ path: p.db, readOnly: true, ...(opts.reveal ? { keyFile: p.key } : {}) });
}

const iso = (t: number | null): string => (t === null ? '' : new Date(t).toISOString());
const swHex = (sw: number | null): string => (sw === null ? '' : sw.toString(16).toUpperCase().padStart(4, '0'));

interface RowView extends Omit<OperationRow, 'startedAt' | 'finishedAt' | 'syncedAt' | 'lastSw'> {
  startedAt: string;
  finishedAt: string | null;
  syncedAt: string | null;
  lastSw: string | null;
  identity?: CardIdentity | null;
}

function view(j: Journal, r: OperationRow, reveal: boolean): RowView {
  return {
    ...r,
    startedAt: iso(r.startedAt),
    finishedAt: r.finishedAt === null ? null : iso(r.finishedAt),
    syncedAt: r.syncedAt === null ? null : iso(r.syncedAt),
    lastSw: r.lastSw === null ? null : swHex(r.lastSw),
    ...(reveal ? { identity: j.reveal(r.id) } : {}),
  };
}

function who(v: RowView): string {
  if (v.identity) return `${v.identity.name ?? ''} ${v.identity.socialSecurityNumber ?? ''} ${v.identity.cardNumber ?? ''}`.trim();
  if (v.card) return `${v.card.name ?? ''} ${v.card.socialSecurityNumber ?? ''} ${v.card.cardNumber ?? ''}`.trim();
  return '-';
}

function parseLimit(value: string | undefined): number {
  const limit = value === undefined ? 50 : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: '--limit 应为 1 到 1000000 的整数', en: '--limit must be an integer from 1 to 1000000' }, { option: 'limit' });
  }
  return limit;
}

export function listCommand(opts: JournalFileOptions & { limit?: string; state?: string; sync?: string }): number {
  const limit = parseLimit(opts.limit);
  if (opts.state !== undefined && !(OPERATION_STATES as readonly string[]).includes(opts.state)) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `--state 应为 ${OPERATION_STATES.join('、')} 之一`, en: `--state must be one of ${OPERATION_STATES.join(', ')}` }, { option: 'state' });
  }
  if (opts.sync !== undefined && !(SYNC_STATES as readonly string[]).includes(opts.sync)) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `--sync 应为 ${SYNC_STATES.join('、')} 之一`, en: `--sync must be one of ${SYNC_STATES.join(', ')}` }, { option: 'sync' });
  }
  const j = openForReading(opts);
  try {
    const rows = j
      .list({ limit, ...(opts.state ? { state: opts.state as OperationState } : {}), ...(opts.sync ? { syncState: opts.sync as SyncState } : {}) })
      .map((r) => view(j, r, opts.reveal === true));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ operations: rows }, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write('日志为空 / the journal is empty\n');
      return 0;
    }
    for (const v of rows) {
      process.stdout.write(
        `${v.startedAt}  ${v.id}  ${v.kind.padEnd(8)} ${(v.outcome ?? v.state).padEnd(9)} ${v.state.padEnd(11)} ${v.syncState.padEnd(8)} ${v.reason ?? ''}  ${who(v)}\n`,
      );
    }
    return 0;
  } finally {
    j.close();
  }
}

export function showCommand(id: string, opts: JournalFileOptions): number {
  const j = openForReading(opts);
  try {
    const v = view(j, j.get(id), opts.reveal === true);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ operation: v }, null, 2)}\n`);
      return 0;
    }
    const lines: [string, string][] = [
      ['编号 id', v.id],
      ['终端 terminal', v.terminalId],
      ['操作员 operator', v.operatorId ?? '-'],
      ['事项编码 service item', v.serviceItem],
      ['业务 kind', v.kind],
      ['终端角色 role', v.role],
      ['状态 state', v.state],
      ['结果 outcome', `${v.outcome ?? '-'}${v.reason ? ` (${v.reason})` : ''}`],
      ['最后状态字 last SW', v.lastSw ?? '-'],
      ['剩余次数 tries left', v.triesLeft === null ? '-' : String(v.triesLeft)],
      ['卡状态 card state', v.cardState ?? '-'],
      ['已收材料 materials', v.materials.join(', ') || '-'],
      ['缺少材料 missing', v.missing.join(', ') || '-'],
      ['开始 started', v.startedAt],
      ['结束 finished', v.finishedAt ?? '-'],
      ['同步 sync', `${v.syncState}${v.syncedAt ? ` ${v.syncedAt}` : ''}`],
      ['核对 reconciles', v.reconciles ?? '-'],
      ['持卡人 holder', who(v)],
      ['卡识别码 card id', v.identity?.cardId ?? v.card?.cardId ?? '-'],
    ];
    for (const [k, val] of lines) process.stdout.write(`${k.padEnd(24)} ${val}\n`);
    return 0;
  } finally {
    j.close();
  }
}

interface AuditView extends Omit<AuditRow, 'at'> {
  at: string;
}

/**
 * `sscard journal audit [--operator ID] [--limit N] [--json]`: the audit trail, newest first.
 * `--operator ''` lists the privileged calls refused with no operator.
 */
export function auditCommand(opts: JournalFileOptions & { operator?: string; limit?: string }): number {
  const limit = parseLimit(opts.limit);
  if (opts.operator !== undefined && opts.operator !== '' && !ACTOR_ID_PATTERN.test(opts.operator)) {
    throw new SsCardError(
      ErrorCode.Input_BadOption,
      { zh: `--operator 应为操作员编号（字母、数字、. _ -，最长 64 个字符），或 '' 表示无操作员的调用`, en: `--operator must be an operator id (letters, digits, . _ -, at most 64 characters), or '' for calls with no operator` },
      { option: 'operator' },
    );
  }
  const j = openForReading(opts);
  try {
    const rows: AuditView[] = j.audit({ limit, ...(opts.operator === undefined ? {} : { operatorId: opts.operator }) }).map((r) => ({ ...r, at: iso(r.at) }));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ audit: rows }, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write('没有审计记录 / no audit entries\n');
      return 0;
    }
    for (const v of rows) {
      const req = v.requestId === null ? '' : `#${v.requestId}`;
      process.stdout.write(`${v.at}  ${v.kind.padEnd(21)} ${(v.operatorId || '-').padEnd(16)} ${(v.command ?? '').padEnd(26)} ${req.padEnd(6)} ${v.outcome ?? ''}`.trimEnd() + '\n');
    }
    return 0;
  } finally {
    j.close();
  }
}

const CSV_COLUMNS = [
  'id', 'terminalId', 'operatorId', 'serviceItem', 'kind', 'role', 'state', 'outcome', 'reason', 'lastSw', 'triesLeft', 'cardState',
  'materials', 'missing', 'startedAt', 'finishedAt', 'syncState', 'syncedAt', 'reconciles', 'cardId', 'cardNumber', 'socialSecurityNumber', 'name',
] as const;

export function csvField(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote when needed; neutralise spreadsheet formulas (=, +, -, @ at the start).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function exportCommand(opts: JournalFileOptions & { csv?: string }): number {
  if (opts.csv === undefined) throw new SsCardError(ErrorCode.Input_BadOption, { zh: '请用 --csv FILE 指定导出文件', en: 'give the output file with --csv FILE' }, { option: 'csv' });
  const j = openForReading(opts);
  let fd: number | undefined;
  try {
    try {
      fd = openSync(opts.csv, 'w', 0o600);
    } catch (err) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `无法写入 ${opts.csv}：请检查路径与权限`, en: `cannot write ${opts.csv}: check the path and permissions` }, { option: 'csv' }, { cause: err });
    }
    writeSync(fd, `\ufeff${CSV_COLUMNS.join(',')}\n`); // BOM: spreadsheets open UTF-8 Chinese text correctly
    let n = 0;
    for (const r of j.iterate()) {
      const v = view(j, r, opts.reveal === true);
      const id = v.identity ?? null;
      const c = v.card;
      const cells = [
        v.id, v.terminalId, v.operatorId, v.serviceItem, v.kind, v.role, v.state, v.outcome, v.reason, v.lastSw, v.triesLeft, v.cardState,
        v.materials.join(' '), v.missing.join(' '), v.startedAt, v.finishedAt, v.syncState, v.syncedAt, v.reconciles,
        id?.cardId ?? c?.cardId, id ? id.cardNumber : c?.cardNumber, id ? id.socialSecurityNumber : c?.socialSecurityNumber, id ? id.name : c?.name,
      ];
      writeSync(fd, `${cells.map(csvField).join(',')}\n`);
      n++;
    }
    if (opts.json) process.stdout.write(`${JSON.stringify({ exported: n, file: opts.csv, revealed: opts.reveal === true }, null, 2)}\n`);
    else process.stdout.write(`已导出 ${n} 条记录到 ${opts.csv}${opts.reveal ? '（含完整身份，请妥善保管）' : '（身份已遮蔽）'} / exported ${n} records to ${opts.csv}${opts.reveal ? ' (identities in clear: keep it safe)' : ' (identities masked)'}\n`);
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
    j.close();
  }
}

export function statsCommand(opts: JournalFileOptions): number {
  const j = openForReading(opts);
  try {
    const s = j.stats();
    const sync = readSyncStatus(j);
    const body = { path: j.path, fileBytes: j.fileBytes(), ...s, sync };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      return 0;
    }
    const out = [
      `日志文件 file            ${j.path} (${(body.fileBytes / 1048576).toFixed(1)} MiB, schema ${s.schemaVersion})`,
      `记录 records             ${s.total}  (pending ${s.byState.pending}, completed ${s.byState.completed}, interrupted ${s.byState.interrupted}, 未核对 unreconciled ${s.interruptedUnreconciled})`,
      `结果 outcomes            ${Object.entries(s.byOutcome).map(([k, n]) => `${k} ${n}`).join(', ')}`,
      `同步 sync                synced ${s.bySync.synced}, unsynced ${s.bySync.unsynced}, rejected ${s.bySync.rejected}`,
      `待上传 backlog           ${s.backlog}${s.oldestUnsyncedAt === null ? '' : `，最早 oldest ${iso(s.oldestUnsyncedAt)}`}`,
      `上次成功 last success    ${sync.lastSuccessAt === null ? '-' : iso(sync.lastSuccessAt)}`,
      `上次错误 last error      ${sync.lastError === null ? '-' : `${iso(sync.lastError.at)} E${sync.lastError.code} ${sync.lastError.zh}`}`,
      `银行申请 bank requests   待发送 pending ${s.bankRequests.pending}${s.oldestPendingBankRequestAt === null ? '' : `，最早 oldest ${iso(s.oldestPendingBankRequestAt)}`}，已发送 sent ${s.bankRequests.sent}`,
      `挂失名单 hotlist         ${s.hotlistSize} 张 cards, version ${s.hotlistVersion ?? '-'}`,
      `审计记录 audit           ${s.auditCount}（仅本机，不上传 local only, not synced）`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  } finally {
    j.close();
  }
}

function fileOptions(c: Command): Command {
  return c
    .option('--db <file>', '日志文件 / journal file (default $SSCARD_JOURNAL or var/journal.sqlite)')
    .option('--key <file>', '密钥文件 / key file (default journal.key beside the journal)')
    .option('--json', 'JSON output');
}

export function register(program: Command): void {
  const journal = program.command('journal').description('交易日志：列表、详情、导出、统计、审计 / the transaction journal: list, show, export, stats, audit');
  fileOptions(journal.command('list', { isDefault: true }).description('最近的记录（新的在前）/ latest records, newest first'))
    .option('--limit <n>', '条数 / how many', '50')
    .option('--state <state>', 'pending | completed | interrupted')
    .option('--sync <state>', 'unsynced | synced | rejected')
    .option('--reveal', '显示完整身份（需要密钥文件）/ show identities in clear (needs the key file)')
    .action(action(async (opts: JournalFileOptions & { limit?: string; state?: string; sync?: string }) => Promise.resolve(listCommand(opts))));
  fileOptions(journal.command('show <id>').description('一条记录的详情 / one record in full'))
    .option('--reveal', '显示完整身份（需要密钥文件）/ show identities in clear (needs the key file)')
    .action(action(async (id: string, opts: JournalFileOptions) => Promise.resolve(showCommand(id, opts))));
  fileOptions(journal.command('export').description('导出为 CSV / export as CSV'))
    .requiredOption('--csv <file>', '输出文件 / output file')
    .option('--reveal', '导出完整身份（需要密钥文件）/ export identities in clear (needs the key file)')
    .action(action(async (opts: JournalFileOptions & { csv?: string }) => Promise.resolve(exportCommand(opts))));
  fileOptions(journal.command('stats').description('统计与同步状态 / counts and sync status')).action(
    action(async (opts: JournalFileOptions) => Promise.resolve(statsCommand(opts))),
  );
  fileOptions(journal.command('audit').description('审计记录：特权调用与操作员登录（新的在前）/ the audit trail: privileged calls and operator sign-ins, newest first'))
    .option('--operator <id>', "只看该操作员；'' 为无操作员的调用 / only this operator's; '' for calls with no operator")
    .option('--limit <n>', '条数 / how many', '50')
    .action(action(async (opts: JournalFileOptions & { operator?: string; limit?: string }) => Promise.resolve(auditCommand(opts))));
}
