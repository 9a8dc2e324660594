/**
 * `sscard sync [--json]`: push the journal's backlog to the platform now and pull the hotlist,
 * with a progress bar on a terminal. Exits 1 when the platform refuses records or cannot be
 * reached (the records stay on this terminal either way). `--status` only shows the status.
 */
import { oneLine } from '../core/text.js';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ErrorCode, SsCardError, isSsCardError } from '../core/errors.js';
import { Journal } from '../daemon/journal/journal.js';
import type { IdentityMode } from '../daemon/sync/wire.js';
import { SyncWorker, readSyncStatus } from '../daemon/sync/worker.js';
import type { HotlistReport, SyncProgress, SyncReport } from '../daemon/sync/worker.js';
import type { TlsOptions } from '../daemon/sync/http.js';
import { EXIT_FAILED, action } from './cli-util.js';
import { journalPaths } from './cmd-journal.js';

export interface SyncCommandOptions {
  db?: string;
  key?: string;
  endpoint?: string;
  terminal?: string;
  batchSize?: string;
  timeoutMs?: string;
  cert?: string;
  tlsKey?: string;
  ca?: string;
  identity?: string;
  hotlist?: boolean;
  status?: boolean;
  json?: boolean;
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new SsCardError(ErrorCode.Sync_Config, { zh: `无法读取 ${option} 文件 ${file}：请检查路径与权限`, en: `cannot read the ${option} file ${file}: check the path and permissions` }, { option }, { cause: err });
  }
}

/** A text progress bar on stderr, redrawn in place; nothing when stderr is not a terminal. */
export function progressBar(stream: NodeJS.WriteStream): { update(p: SyncProgress): void; end(): void } {
  if (!stream.isTTY) return { update: () => {}, end: () => {} };
  let last = 0;
  let drawn = false;
  const draw = (p: SyncProgress): void => {
    const width = Math.max(10, Math.min(40, (stream.columns || 80) - 40));
    const frac = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
    const fill = Math.round(frac * width);
    stream.write(`\r同步 sync [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${p.done}/${p.total} ${(frac * 100).toFixed(0)}%`);
    drawn = true;
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.done < p.total) return;
      last = now;
      draw(p);
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}

export async function syncCommand(opts: SyncCommandOptions): Promise<number> {
  const paths = journalPaths(opts);
  if (opts.status) {
    const j = Journal.open({ path: paths.db, readOnly: true });
    try {
      const s = readSyncStatus(j);
      if (opts.json) process.stdout.write(`${JSON.stringify({ status: s }, null, 2)}\n`);
      else printStatus(s);
      return 0;
    } finally {
      j.close();
    }
  }
  const endpoint = opts.endpoint ?? process.env.SSCARD_PLATFORM_URL;
  if (endpoint === undefined) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: '请用 --endpoint URL（或环境变量 SSCARD_PLATFORM_URL）指定省级平台地址', en: 'give the platform address with --endpoint URL (or $SSCARD_PLATFORM_URL)' }, { option: 'endpoint' });
  }
  const identity = (opts.identity ?? 'full') as IdentityMode;
  const tls: TlsOptions | undefined =
    opts.cert !== undefined || opts.tlsKey !== undefined || opts.ca !== undefined
      ? {
          ...(opts.cert !== undefined ? { cert: readPem(opts.cert, '--cert') } : {}),
          ...(opts.tlsKey !== undefined ? { key: readPem(opts.tlsKey, '--tls-key') } : {}),
          ...(opts.ca !== undefined ? { ca: readPem(opts.ca, '--ca') } : {}),
        }
      : undefined;
  const j = Journal.open({ path: paths.db, keyFile: paths.key, ...(opts.terminal !== undefined ? { terminalId: opts.terminal } : {}) });
  const terminalId = j.terminalId;
  if (terminalId === undefined) {
    j.close();
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: '此日志还没有终端编号：请用 --terminal ID 指定', en: 'this journal has no terminal id yet: give one with --terminal ID' }, { option: 'terminal' });
  }
  let worker: SyncWorker;
  try {
    worker = new SyncWorker(j, {
      endpoint,
      terminalId,
      identity,
      ...(opts.batchSize !== undefined ? { batchSize: Number(opts.batchSize) } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: Number(opts.timeoutMs) } : {}),
      ...(tls ? { tls } : {}),
    });
  } catch (err) {
    j.close();
    throw err;
  }
  const bar = opts.json ? { update: () => {}, end: () => {} } : progressBar(process.stderr);
  let report: SyncReport | undefined;
  let hotlist: HotlistReport | undefined;
  try {
    try {
      report = await worker.syncNow((p) => bar.update(p));
    } finally {
      bar.end();
    }
    if (opts.hotlist !== false) hotlist = await worker.pullHotlist();
    const status = worker.status();
    // Bank requests the platform refused (kept pending) or could not take fail the run too.
    const refused = report.rejected.length > 0 || report.bankRequests.rejected.length > 0 || !report.bankRequests.supported;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ report, hotlist: hotlist ?? null, status }, null, 2)}\n`);
    } else {
      process.stdout.write(
        `已上传 ${report.accepted + report.duplicates} 条（新 ${report.accepted}，平台已有 ${report.duplicates}），${report.requests} 次请求；待上传 ${report.remaining}\n` +
          `uploaded ${report.accepted + report.duplicates} (${report.accepted} new, ${report.duplicates} already held) in ${report.requests} requests; ${report.remaining} waiting\n`,
      );
      const b = report.bankRequests;
      if (b.sent > 0 || b.remaining > 0) {
        process.stdout.write(
          `银行账户激活申请：已送达平台 ${b.acknowledged}，待发送 ${b.remaining}${b.supported ? '' : '（平台不接收）'}\n` +
            `bank requests: ${b.acknowledged} acknowledged by the platform, ${b.remaining} pending${b.supported ? '' : ' (the platform does not take them)'}\n`,
        );
      }
      if (hotlist) process.stdout.write(`挂失名单 hotlist: version ${hotlist.version}${hotlist.full ? '（全量 full）' : ''}, +${hotlist.added} -${hotlist.removed}\n`);
      if (report.rejected.length > 0) {
        process.stderr.write(`错误 E${ErrorCode.Sync_Refused}：平台拒收 ${report.rejected.length} 条记录（标记为 rejected，不会删除）；请用 sscard journal list --sync rejected 查看并联系平台\n`);
        process.stderr.write(`Error E${ErrorCode.Sync_Refused}: the platform refused ${report.rejected.length} records (kept as rejected, never purged); see sscard journal list --sync rejected and contact the platform\n`);
        for (const r of report.rejected.slice(0, 10)) process.stderr.write(`  ${r.id}  ${r.code}  ${r.message}\n`);
      }
      if (b.rejected.length > 0 || !b.supported) {
        const e = status.lastError;
        if (e !== null) process.stderr.write(`错误 E${e.code}：${e.zh}\nError E${e.code}: ${e.en}\n`);
        for (const r of b.rejected.slice(0, 10)) process.stderr.write(`  ${r.id}  ${r.code}  ${r.message}\n`);
      }
    }
    return refused ? EXIT_FAILED : 0;
  } catch (err) {
    if (opts.json && isSsCardError(err)) {
      process.stdout.write(`${JSON.stringify({ error: { code: err.code, zh: err.text.zh, en: err.text.en }, report: report ?? null, status: worker.status() }, null, 2)}\n`);
      return EXIT_FAILED;
    }
    throw err;
  } finally {
    worker.close();
    j.close();
  }
}

function printStatus(s: ReturnType<typeof readSyncStatus>): void {
  const iso = (t: number | null): string => (t === null ? '-' : new Date(t).toISOString());
  process.stdout.write(
    [
      `待上传 backlog           ${s.backlog}${s.oldestUnsyncedAt === null ? '' : `，最早 oldest ${iso(s.oldestUnsyncedAt)}`}`,
      `平台拒收 rejected        ${s.rejected}`,
      `银行申请 bank requests   待发送 pending ${s.bankRequests.pending}${s.bankRequests.oldestPendingAt === null ? '' : `，最早 oldest ${iso(s.bankRequests.oldestPendingAt)}`}，已发送 sent ${s.bankRequests.sent}`,
      `上次成功 last success    ${iso(s.lastSuccessAt)}`,
      `上次错误 last error      ${s.lastError === null ? '-' : `${iso(s.lastError.at)} E${s.lastError.code} ${oneLine(s.lastError)}`}`,
      `挂失名单 hotlist version ${s.hotlistVersion ?? '-'} (${iso(s.lastHotlistAt)})`,
    ].join('\n') + '\n',
  );
}

export function register(program: Command): void {
  program
    .command('sync')
    .description('立即与省级平台同步（上传记录、下载挂失名单）/ sync with the platform now (push records, pull the hotlist)')
    .option('--endpoint <url>', '平台地址 / platform URL (default $SSCARD_PLATFORM_URL)')
    .option('--db <file>', '日志文件 / journal file (default $SSCARD_JOURNAL or var/journal.sqlite)')
    .option('--key <file>', '密钥文件 / key file (default journal.key beside the journal)')
    .option('--terminal <id>', '终端编号 / terminal id (default: the one the daemon uses)')
    .option('--batch-size <n>', '每批条数 / operations per request', '200')
    .option('--timeout-ms <ms>', '每次请求超时 / per-request timeout', '15000')
    .option('--cert <file>', 'mTLS 终端证书 / client certificate (PEM)')
    .option('--tls-key <file>', 'mTLS 私钥 / client key (PEM)')
    .option('--ca <file>', '平台 CA / platform CA (PEM)')
    .option('--identity <mode>', '上传的身份信息 / identity sent: full | masked | none', 'full')
    .option('--no-hotlist', '不下载挂失名单 / do not pull the hotlist')
    .option('--status', '只显示同步状态 / only show the sync status')
    .option('--json', 'JSON output')
    .action(action((opts: SyncCommandOptions) => syncCommand(opts)));
}
