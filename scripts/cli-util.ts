/**
 * Shared plumbing of the technician commands: finding the project root, opening the PC/SC
 * service with a clear failure, choosing readers, and printing errors bilingually.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, SsCardError, isSsCardError } from '../core/errors.js';
import { PcscService, type ReaderInfo } from '../drivers/pcsc/pcsc-service.js';

/** The folder holding package.json (works from scripts/ under tsx and from dist/scripts/). */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
        if (name === 'sscard') return dir;
      } catch {
        // keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** Exit codes: 0 done, 1 the operation failed (card, reader, service), 2 bad input. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Print an error the way a person should see it, and choose the exit code. */
export function reportError(err: unknown, json = false): number {
  const usage = isSsCardError(err) && (err.code as number) >= 100 && (err.code as number) < 200;
  const code = usage ? EXIT_USAGE : EXIT_FAILED;
  if (json) {
    const body = isSsCardError(err)
      ? { error: { code: err.code, zh: err.text.zh, en: err.text.en, context: err.context ?? {} } }
      : { error: { code: ErrorCode.Internal, zh: '内部错误', en: err instanceof Error ? err.message : String(err) } };
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else if (isSsCardError(err)) {
    process.stderr.write(`错误 E${err.code}：${err.text.zh}\nError E${err.code}: ${err.text.en}\n`);
  } else {
    process.stderr.write(`内部错误 / internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  return code;
}

/** Start the PC/SC service and wait until it has a true picture, or fail with the reason. */
export async function openService(timeoutMs = 4000): Promise<PcscService> {
  const service = new PcscService();
  service.start();
  try {
    await service.ready(timeoutMs);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}

/** Name pattern of a PSAM slot: vendor readers say SAM; vpcd's second reader is ours. */
export const DEFAULT_PSAM_READER = /\bSAM\b|Virtual PCD 00 01$/i;

/**
 * The reader holding the holder's card: the named one (exact or unique substring), or else the
 * first reader with a card that is not the PSAM slot.
 */
export function chooseCardReader(service: PcscService, name: string | undefined): ReaderInfo {
  const readers = service.readers();
  if (name !== undefined) return findReader(readers, name);
  const candidates = readers.filter((r) => r.cardPresent && !DEFAULT_PSAM_READER.test(r.name));
  const chosen = candidates[0] ?? readers.find((r) => !DEFAULT_PSAM_READER.test(r.name));
  if (!chosen) {
    throw new SsCardError(ErrorCode.Pcsc_ReaderNotFound, { zh: '没有找到读卡器：请连接读卡器（或运行 sscard sim 启动模拟卡）', en: 'no card reader found: connect a reader (or run sscard sim for the simulated card)' });
  }
  return chosen;
}

/** The PSAM reader: named, or the first matching DEFAULT_PSAM_READER with a card; undefined if none. */
export function choosePsamReader(service: PcscService, name: string | undefined): ReaderInfo | undefined {
  const readers = service.readers();
  if (name !== undefined) return findReader(readers, name);
  return readers.find((r) => r.cardPresent && DEFAULT_PSAM_READER.test(r.name));
}

export function findReader(readers: readonly ReaderInfo[], name: string): ReaderInfo {
  const exact = readers.find((r) => r.name === name);
  if (exact) return exact;
  const partial = readers.filter((r) => r.name.toLowerCase().includes(name.toLowerCase()));
  if (partial.length === 1) return partial[0]!;
  const list = readers.map((r) => `"${r.name}"`).join(', ') || '(none)';
  if (partial.length > 1) {
    throw new SsCardError(
      ErrorCode.Pcsc_ReaderNotFound,
      { zh: `读卡器名称“${name}”匹配到多个读卡器：${list}；请写出完整名称`, en: `reader name "${name}" matches several readers: ${list}; give the full name` },
      { reader: name },
    );
  }
  throw new SsCardError(
    ErrorCode.Pcsc_ReaderNotFound,
    { zh: `找不到读卡器“${name}”；当前读卡器：${list}`, en: `reader "${name}" not found; readers present: ${list}` },
    { reader: name, readers: readers.map((r) => r.name) },
  );
}

/**
 * Wrap a command's action: run it, print any error bilingually (as JSON with --json), and set
 * the exit code. Every `register*` function of a cmd-*.ts file uses it.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const opts = args.find((a): a is { json?: boolean } => typeof a === 'object' && a !== null && !Array.isArray(a) && 'json' in a);
    try {
      process.exitCode = await run(...args);
    } catch (err) {
      process.exitCode = reportError(err, opts?.json === true);
    }
  };
}

/** This installation's version (package.json), for `--version`. */
export function packageVersionOf(): string {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
