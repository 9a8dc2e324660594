/**
 * libSSCardDriver.so as the end-to-end suites call it (test/sscard-driver*.test.ts): built into a
 * test folder with its AddressSanitizer + UBSan build and the C caller (test/sscard-driver/call.c)
 * linked against each, and called from C, C under ASan, or Python's ctypes (call.py), one process
 * per call, its outputs decoded from the encoding the call used.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import { ROOT } from './stack.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SRC = path.join(ROOT, 'native', 'sscard-driver');

/** The three ways a program calls the library. */
export const CALLERS = ['c', 'c-asan', 'python'] as const;
export type Caller = (typeof CALLERS)[number];

export interface Answer {
  readonly code: number;
  /** Each output buffer, decoded from the encoding the call used. */
  readonly out: readonly string[];
  /** The raw bytes of each output buffer. */
  readonly raw: readonly Buffer[];
}

/** Build the library, its ASan build and the two C callers into `lib` (make and cc, as setup.sh has them). */
export async function buildDriver(lib: string): Promise<void> {
  await run('make', ['-s', '-C', SRC, `OUT=${lib}`, 'all', 'asan']);
  const callC = path.join(ROOT, 'test', 'sscard-driver', 'call.c');
  await run('cc', ['-std=c99', '-Wall', '-Wextra', '-Werror', '-I', SRC, '-o', path.join(lib, 'call'), callC, `-L${lib}`, '-lSSCardDriver', `-Wl,-rpath,${lib}`]);
  const asan = path.join(lib, 'asan');
  await run('cc', ['-std=c99', '-g', '-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-I', SRC, '-o', path.join(lib, 'call-asan'), callC, `-L${asan}`, '-lSSCardDriver', `-Wl,-rpath,${asan}`]);
}

/** One call of the library built in `lib` (buildDriver), through `caller`, with `env` added. */
export async function callDriver(lib: string, caller: Caller, args: readonly string[], env: Record<string, string>, encoding = 'GBK'): Promise<Answer> {
  const e = { ...process.env, ...env, ...(caller === 'c-asan' ? { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:exitcode=23', UBSAN_OPTIONS: 'halt_on_error=1:exitcode=24' } : {}) };
  const [file, argv] = caller === 'python' ? [PYTHON, [path.join(ROOT, 'test', 'sscard-driver', 'call.py'), path.join(lib, 'libSSCardDriver.so'), ...args]] : [path.join(lib, caller === 'c' ? 'call' : 'call-asan'), [...args]];
  const r = await run(file, argv, { env: e, timeout: 60_000, encoding: 'utf8' }).catch((err: { code?: number; stderr?: string }) => {
    throw new Error(`${caller} ${args.join(' ')} exited ${String(err.code)}: ${err.stderr ?? ''}`);
  });
  const lines = r.stdout.split('\n');
  const raw = lines.slice(1, -1).map((h) => Buffer.from(h, 'hex'));
  return { code: Number(lines[0]), raw, out: raw.map((b) => (encoding === 'UTF-8' ? b.toString('utf8') : iconv.decode(b, encoding))) };
}
