import { fstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { LogConfig, Logging } from './logger.js';
import { LABELS, LOG_COMPONENTS, createLogging, underJournald } from './logger.js';
import { redact } from './redact.js';
import { SpyTransport } from '../../testing/spy-transport.js';

const BASE: LogConfig = { level: 'info', levels: {}, file: null, maxSizeBytes: 10_485_760, maxFiles: 5, console: false };

const dirs: string[] = [];
const open: Logging[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'sscard-log-'));
  dirs.push(d);
  return d;
}

function make(cfg: Partial<LogConfig> = {}, spy = new SpyTransport()): { logging: Logging; spy: SpyTransport } {
  const logging = createLogging({ ...BASE, ...cfg }, { transports: [spy] });
  open.push(logging);
  return { logging, spy };
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('component loggers', () => {
  it('label every entry with the component, in a fixed width of 6', () => {
    const { logging, spy } = make({ level: 'debug' });
    for (const c of LOG_COMPONENTS) logging.get(c).info(`hello from ${c}`);
    expect(spy.entries.map((e) => e.component)).toEqual([...LOG_COMPONENTS]);
    for (const label of Object.values(LABELS)) expect(label).toHaveLength(6);
    expect(spy.lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z PCSC {3}info {2}hello from PCSC$/);
    expect(spy.lines[LOG_COMPONENTS.indexOf('JOURNAL')]).toContain(' JRNL   info  hello from JOURNAL');
    expect(spy.lines[LOG_COMPONENTS.indexOf('PINPAD')]).toContain(' PINPAD info  hello from PINPAD');
  });

  it('filter by each component\'s own level: log.levels overrides log.level', () => {
    const { logging, spy } = make({ level: 'warn', levels: { APDU: 'debug', SYNC: 'error' } });
    for (const c of ['PCSC', 'APDU', 'SYNC'] as const) {
      const l = logging.get(c);
      l.debug(`${c} debug`);
      l.info(`${c} info`);
      l.warn(`${c} warn`);
      l.error(`${c} error`);
    }
    expect(spy.entries.map((e) => e.message)).toEqual(['PCSC warn', 'PCSC error', 'APDU debug', 'APDU info', 'APDU warn', 'APDU error', 'SYNC error']);
    expect(logging.get('APDU').isDebug()).toBe(true);
    expect(logging.get('PCSC').isDebug()).toBe(false);
    expect(logging.get('SYNC').isEnabled('warn')).toBe(false);
  });

  it('setLevel changes one component only', () => {
    const { logging, spy } = make();
    logging.setLevel('FLOW', 'debug');
    logging.get('FLOW').debug('flow detail');
    logging.get('API').debug('api detail');
    expect(spy.entries.map((e) => e.message)).toEqual(['flow detail']);
    expect(logging.get('FLOW').level).toBe('debug');
    expect(() => logging.setLevel('FLOW', 'verbose' as never)).toThrow(/error, warn, info, debug/);
    expect(() => logging.get('NOPE' as never)).toThrow(SsCardError);
  });

  it('keeps the metadata under meta, with the level, message and component of the call', () => {
    const { logging, spy } = make();
    logging.get('SYNC').warn('push failed', { level: 'x', message: 'y', attempt: 3 });
    expect(spy.entries[0]).toMatchObject({ level: 'warn', message: 'push failed', component: 'SYNC', meta: { level: 'x', message: 'y', attempt: 3 } });
    expect(spy.lines[0]).toMatch(/SYNC {3}warn {2}push failed \{"level":"x","message":"y","attempt":3\}$/);
  });

  it('drops calls after close', async () => {
    const { logging, spy } = make();
    await logging.close();
    logging.get('API').error('late');
    expect(spy.entries).toHaveLength(0);
  });
});

describe('redaction (defence in depth)', () => {
  it.each(['pin', 'pins', 'oldPin', 'newPin', 'confirmPin', 'pinBlock', 'passphrase', 'password', 'key', 'hash', 'token', 'PIN', 'NewPIN', 'TOKEN'])(
    'replaces the value of %s at any depth',
    (name) => {
      const { logging, spy } = make();
      const secret = '135790';
      logging.get('FLOW').info('entry', { [name]: secret, nested: { deeper: [{ [name]: { digits: secret } }] } });
      const meta = spy.entries[0]!.meta as Record<string, unknown>;
      expect(meta[name]).toBe('[redacted]');
      expect(meta).toEqual({ [name]: '[redacted]', nested: { deeper: [{ [name]: '[redacted]' }] } });
      expect(spy.text()).not.toContain(secret);
    },
  );

  it('never prints a Buffer raw, only its length', () => {
    const { logging, spy } = make();
    const b = Buffer.from('313233343536', 'hex');
    logging.get('APDU').info('data', { data: b, u8: new Uint8Array([1, 2, 3]), ab: new ArrayBuffer(7), inner: { list: [Buffer.alloc(2)] } });
    expect(spy.entries[0]!.meta).toEqual({ data: '[6 bytes]', u8: '[3 bytes]', ab: '[7 bytes]', inner: { list: ['[2 bytes]'] } });
    expect(spy.text()).not.toMatch(/313233|"type":"Buffer"|123456/);
  });

  it('keeps harmless keys, errors (with redacted context) and survives cycles', () => {
    const { logging, spy } = make();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const err = new SsCardError(ErrorCode.Card_WrongPin, { zh: '密码错误', en: 'wrong PIN' }, { triesLeft: 2, pinBlock: 'ABCDEF' });
    logging.get('FLOW').error('failed', { err, cyclic, count: 2, keyboard: 'zt598' });
    const meta = spy.entries[0]!.meta as Record<string, unknown>;
    expect(meta.err).toEqual({ name: 'SsCardError', message: err.message, code: 303, context: { triesLeft: 2, pinBlock: '[redacted]' } });
    expect(meta.cyclic).toEqual({ name: 'loop', self: '[circular]' });
    expect(meta.count).toBe(2);
    expect(meta.keyboard).toBe('zt598');
  });

  it('does not change the caller\'s object', () => {
    const meta = { pin: 'x', data: Buffer.from([1]) };
    const { logging } = make();
    logging.get('FLOW').info('m', meta);
    expect(meta.pin).toBe('x');
    expect(Buffer.isBuffer(meta.data)).toBe(true);
    expect(redact(meta)).toEqual({ pin: '[redacted]', data: '[1 bytes]' });
  });
});

describe('console output', () => {
  it('writes readable lines to the console stream when log.console is true, none when false', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const on = createLogging({ ...BASE, console: true }, { consoleStream: out });
    on.get('DAEMON').info('ready', { api: '127.0.0.1:5846', token: 'secret-token' });
    await on.close();
    await tick();
    const text = chunks.join('');
    expect(text).toMatch(/Z DAEMON info {2}ready \{"api":"127\.0\.0\.1:5846","token":"\[redacted\]"\}\n$/);

    const out2 = new PassThrough();
    const chunks2: string[] = [];
    out2.on('data', (c: Buffer) => chunks2.push(c.toString('utf8')));
    const off = createLogging({ ...BASE, console: false }, { consoleStream: out2 });
    off.get('DAEMON').info('ready');
    await off.close();
    expect(chunks2).toEqual([]);
  });

  it('under journald: each line with its syslog priority (<3> error … <7> debug), no timestamp, secrets redacted as everywhere', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const j = createLogging({ ...BASE, level: 'debug', console: true }, { consoleStream: out, journald: true, journalSocket: null });
    expect(j.console).toBe('journald (stream lines with priorities)');
    j.get('DAEMON').error('journal failed', { pin: '123456' });
    j.get('DAEMON').warn('pcscd down');
    j.get('DAEMON').info('ready');
    j.get('APDU').debug('C 00 A4');
    await j.close();
    await tick();
    const lines = chunks.join('').trim().split('\n');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<3>', '<4>', '<6>', '<7>']);
    expect(lines[0]).toBe('<3>DAEMON error journal failed {"pin":"[redacted]"}');
    expect(chunks.join('')).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('knows journald by JOURNAL_STREAM naming stderr\'s own device and inode, not by the variable alone', () => {
    const st = fstatSync(2, { bigint: true });
    expect(underJournald({ JOURNAL_STREAM: `${st.dev}:${st.ino}` })).toBe(true);
    expect(underJournald({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` })).toBe(false);
    expect(underJournald({ JOURNAL_STREAM: 'x' })).toBe(false);
    expect(underJournald({})).toBe(false);
  });
});

describe('file output', () => {
  it('creates the folder and writes one JSON object per line; close() flushes', async () => {
    const dir = tmp();
    const file = path.join(dir, 'nested', 'log', 'sscard.log');
    const logging = createLogging({ ...BASE, level: 'debug', file });
    logging.get('PCSC').info('reader added', { name: 'Virtual PCD 00 00', pin: '123456' });
    logging.get('APDU').debug('C-APDU', { data: Buffer.from('00A40400', 'hex') });
    for (let i = 0; i < 200; i++) logging.get('JOURNAL').info('row', { i });
    await logging.close();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(202);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ level: 'info', component: 'PCSC', message: 'reader added', meta: { name: 'Virtual PCD 00 00', pin: '[redacted]' } });
    expect(typeof first.timestamp).toBe('string');
    expect(JSON.parse(lines[1]!)).toMatchObject({ component: 'APDU', meta: { data: '[4 bytes]' } });
    expect(JSON.parse(lines[201]!)).toMatchObject({ component: 'JOURNAL', meta: { i: 199 } });
    expect(readFileSync(file, 'utf8')).not.toContain('123456');
  });

  it('rotates by size, keeping maxFiles files, newest in the plain name (tailable)', async () => {
    const dir = tmp();
    const file = path.join(dir, 'sscard.log');
    const maxSizeBytes = 2048;
    const logging = createLogging({ ...BASE, file, maxSizeBytes, maxFiles: 3 });
    const log = logging.get('SYNC');
    log.info('first');
    const N = 120;
    for (let i = 1; i <= N; i++) log.info('entry', { i, pad: 'x'.repeat(60) });
    await logging.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['sscard.log', 'sscard1.log', 'sscard2.log']);
    const read = (f: string): Record<string, unknown>[] =>
      readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const f of files) expect(readFileSync(path.join(dir, f)).length).toBeLessThanOrEqual(maxSizeBytes);
    const seq = (rows: Record<string, unknown>[]): number[] => rows.map((r) => (r.meta as { i: number }).i);
    const [current, older, oldest] = [seq(read('sscard.log')), seq(read('sscard1.log')), seq(read('sscard2.log'))];
    // the newest entry is in the current file; oldest → newest the three hold consecutive entries
    expect(current.at(-1)).toBe(N);
    const all = [...oldest, ...older, ...current];
    expect(all).toEqual(Array.from({ length: all.length }, (_, k) => N - all.length + 1 + k));
    // each old file was filled up to maxsize before it was rotated away
    const lineBytes = Buffer.byteLength(readFileSync(path.join(dir, 'sscard1.log'), 'utf8').split('\n')[0]!) + 1;
    expect(readFileSync(path.join(dir, 'sscard1.log')).length).toBeGreaterThan(maxSizeBytes - lineBytes);
  });

  it('rotates a burst exactly too, and appends to the file of an earlier run', async () => {
    const dir = tmp();
    const file = path.join(dir, 'sscard.log');
    const first = createLogging({ ...BASE, file, maxSizeBytes: 100_000, maxFiles: 2 });
    first.get('DAEMON').info('run 1');
    await first.close();
    const second = createLogging({ ...BASE, file, maxSizeBytes: 100_000, maxFiles: 2 });
    second.get('DAEMON').info('run 2');
    for (let i = 0; i < 1000; i++) second.get('APDU').warn('burst', { i }); // no await: all in one go (~110 kB)
    await second.close();
    const lines = (f: string): string[] => readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l !== '');
    expect(readdirSync(dir).sort()).toEqual(['sscard.log', 'sscard1.log']);
    const oldLines = lines('sscard1.log');
    expect(JSON.parse(oldLines[0]!)).toMatchObject({ message: 'run 1' });
    expect(JSON.parse(oldLines[1]!)).toMatchObject({ message: 'run 2' });
    const last = JSON.parse(lines('sscard.log').at(-1)!) as { meta: { i: number } };
    expect(last.meta.i).toBe(999);
    for (const f of ['sscard.log', 'sscard1.log']) expect(readFileSync(path.join(dir, f)).length).toBeLessThanOrEqual(100_000);
  });

  it('a log folder that cannot be created is a clear error', () => {
    const dir = tmp();
    const blocker = path.join(dir, 'file');
    writeFileSync(blocker, 'x'); // a regular file where a folder should be
    let err: unknown;
    try {
      createLogging({ ...BASE, file: path.join(blocker, 'sub', 'x.log') });
    } catch (e) {
      err = e;
    }
    expect(isSsCardError(err, ErrorCode.Config_Invalid)).toBe(true);
    expect((err as SsCardError).text.en).toContain('log.file');
  });
});
