import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { JournaldTransport, MAX_DATAGRAM_BYTES, encodeField, entryFields, fieldName, nativeJournald, openDatagramSocket } from './journald.js';
import type { LogConfig, Logging } from './logger.js';
import { createLogging } from './logger.js';

const BASE: LogConfig = { level: 'debug', levels: {}, file: null, maxSizeBytes: 10_485_760, maxFiles: 5, console: true };

interface Receiver {
  bind(path: string): void;
  on(event: 'message', cb: (buf: Buffer) => void): void;
  close(): void;
}
const dgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): Receiver };

/** Fields of one native-protocol datagram (systemd.io "Native Journal Protocol"), both encodings. */
function decode(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(0x0a, at);
    const line = buf.subarray(at, nl).toString('utf8');
    const eq = line.indexOf('=');
    if (eq >= 0) {
      out.set(line.slice(0, eq), line.slice(eq + 1));
      at = nl + 1;
    } else {
      const len = Number(buf.readBigUInt64LE(nl + 1));
      out.set(line, buf.subarray(nl + 9, nl + 9 + len).toString('utf8'));
      expect(buf[nl + 9 + len]).toBe(0x0a);
      at = nl + 10 + len;
    }
  }
  return out;
}

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A stand-in for journald: a real AF_UNIX datagram socket bound in a temporary folder. */
function journal(): { socketPath: string; entries: Map<string, string>[]; raw: Buffer[]; close(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sscard-journald-'));
  dirs.push(dir);
  const socketPath = path.join(dir, 'socket');
  const raw: Buffer[] = [];
  const rx = dgram.createSocket('unix_dgram');
  rx.on('message', (b) => raw.push(Buffer.from(b)));
  rx.bind(socketPath);
  let open = true;
  const close = (): void => {
    if (open) rx.close();
    open = false;
  };
  closers.push(close);
  return {
    socketPath,
    raw,
    get entries() {
      return raw.map(decode);
    },
    close,
  };
}

/** Wait with timers (the receiver's callback comes from libuv, outside any promise). */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

function logging(socketPath: string, fallback = new PassThrough()): Logging {
  const l = createLogging(BASE, { journald: true, journalSocket: socketPath, consoleStream: fallback });
  closers.push(() => l.close());
  return l;
}

describe('journald native protocol', () => {
  it('field names: SSCARD_ and upper snake case, nothing but A–Z, 0–9 and _, at most 64 characters', () => {
    expect(fieldName('readerName')).toBe('SSCARD_READER_NAME');
    expect(fieldName('operationId')).toBe('SSCARD_OPERATION_ID');
    expect(fieldName('sw1sw2')).toBe('SSCARD_SW1SW2');
    expect(fieldName('a-b.c d')).toBe('SSCARD_A_B_C_D');
    expect(fieldName('x'.repeat(100))).toHaveLength(64);
  });

  it('a value with a newline is sent with its length (64-bit little endian), others as NAME=value', () => {
    expect(encodeField('MESSAGE', 'one line').toString()).toBe('MESSAGE=one line\n');
    const b = encodeField('MESSAGE', 'two\nlines');
    expect(b.subarray(0, 8).toString()).toBe('MESSAGE\n');
    expect(b.readBigUInt64LE(8)).toBe(9n);
    expect(b.subarray(16).toString()).toBe('two\nlines\n');
  });

  it('each entry arrives with its priority, component and metadata as fields; secrets redacted as everywhere', async () => {
    const j = journal();
    const l = logging(j.socketPath);
    expect(l.console).toBe('journald (native protocol, with fields)');
    l.get('PCSC').warn('reader removed', { readerName: 'Virtual PCD 00 00', attempts: 3, pin: '123456', apdu: Buffer.from('0020000003123456', 'hex'), nested: { a: 1 } });
    l.get('DAEMON').error('journal failed');
    l.get('APDU').debug('C 00 A4');
    l.get('FLOW').info('multi\nline');
    await until(() => j.raw.length === 4);
    const [warn, err, debug, multi] = j.entries;
    expect(Object.fromEntries(warn!)).toEqual({
      MESSAGE: 'PCSC   reader removed {"readerName":"Virtual PCD 00 00","attempts":3,"pin":"[redacted]","apdu":"[8 bytes]","nested":{"a":1}}',
      PRIORITY: '4',
      SYSLOG_IDENTIFIER: 'sscardd',
      SSCARD_COMPONENT: 'PCSC',
      SSCARD_READER_NAME: 'Virtual PCD 00 00',
      SSCARD_ATTEMPTS: '3',
      SSCARD_PIN: '[redacted]',
      SSCARD_APDU: '[8 bytes]',
      SSCARD_NESTED: '{"a":1}',
    });
    expect([err, debug, multi].map((e) => e!.get('PRIORITY'))).toEqual(['3', '7', '6']);
    expect(multi!.get('MESSAGE')).toBe('FLOW   multi\nline');
    expect(Buffer.concat(j.raw).toString('latin1')).not.toContain('123456');
  });

  it('the component levels still filter: an APDU line below its level is not sent', async () => {
    const j = journal();
    const l = createLogging({ ...BASE, level: 'info' }, { journald: true, journalSocket: j.socketPath, consoleStream: new PassThrough() });
    closers.push(() => l.close());
    l.get('APDU').debug('C 00 A4');
    l.get('APDU').info('seen');
    await until(() => j.raw.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(j.entries.map((e) => e.get('MESSAGE'))).toEqual(['APDU   seen']);
  });

  it('journald gone: the entry is written to the fallback as a stream line with its priority, and that is said once', async () => {
    const j = journal();
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const l = logging(j.socketPath, out);
    l.get('DAEMON').info('first');
    await until(() => j.raw.length === 1);
    j.close();
    l.get('DAEMON').warn('second', { pin: '123456' });
    l.get('DAEMON').error('third');
    await until(() => chunks.join('').split('\n').length >= 4);
    const lines = chunks.join('').trim().split('\n');
    expect(lines[0]).toMatch(/^<4>sscard: journald did not take a log entry \(.+\); this and later ones it refuses are written here$/);
    expect(lines.slice(1)).toEqual(['<4>DAEMON second {"pin":"[redacted]"}', '<3>DAEMON third']);
  });

  it(`an entry over ${MAX_DATAGRAM_BYTES} bytes goes to the fallback whole, not cut`, async () => {
    const j = journal();
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const l = logging(j.socketPath, out);
    l.get('API').info('big', { text: 'x'.repeat(MAX_DATAGRAM_BYTES) });
    l.get('API').info('small');
    await until(() => j.raw.length === 1 && chunks.length >= 2);
    expect(j.entries[0]!.get('MESSAGE')).toBe('API    small');
    expect(chunks.join('')).toContain(`<6>API    big {"text":"${'x'.repeat(MAX_DATAGRAM_BYTES)}"}\n`);
  });

  it('no socket there: stream lines with priorities, and why', () => {
    const out = new PassThrough();
    const l = createLogging(BASE, { journald: true, journalSocket: '/nonexistent/journal/socket', consoleStream: out });
    closers.push(() => l.close());
    expect(l.console).toBe('journald (stream lines with priorities: no journald socket at /nonexistent/journal/socket)');
    expect(nativeJournald({ socketPath: '/nonexistent/x' })).toBe('no journald socket at /nonexistent/x');
  });

  it('metadata fields are bounded per entry (the rest stays in MESSAGE); a key that would shadow a field is left to MESSAGE', () => {
    const meta = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const fields = entryFields({ level: 'info', message: 'm', component: 'API', label: 'API   ', meta: { ...meta, component: 'x' } }, 'sscardd');
    expect(fields.filter(([n]) => n.startsWith('SSCARD_K'))).toHaveLength(32);
    expect(fields.filter(([n]) => n === 'SSCARD_COMPONENT')).toEqual([['SSCARD_COMPONENT', 'API']]);
    expect(fields[0]![1]).toContain('"k49":49');
    // The same bound without a component.
    expect(entryFields({ level: 'info', message: 'm', meta }, 'sscardd').filter(([n]) => n.startsWith('SSCARD_K'))).toHaveLength(32);
  });

  it('the transport closes its socket when the logging closes', async () => {
    const j = journal();
    const socket = openDatagramSocket();
    if (socket instanceof Error) throw socket;
    let closed = 0;
    const t = new JournaldTransport({ send: socket.send.bind(socket), close: () => { closed++; socket.close(); } }, { socketPath: j.socketPath });
    const l = createLogging({ ...BASE, console: false }, { transports: [t] });
    l.get('DAEMON').info('x');
    await until(() => j.raw.length === 1);
    await l.close();
    expect(closed).toBe(1);
    expect(t.sent).toBe(1);
  });
});
