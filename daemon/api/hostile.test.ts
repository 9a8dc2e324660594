/**
 * A hostile client costs nothing (docs/security.md): through real sockets on loopback against the
 * real server and the fake terminal — log floods are summarised, a client that does not read is
 * dropped, slow and idle connections are closed by the timeouts, connections are bounded per
 * client and in total, a client hanging up is not an error, duplicate names are malformed.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogging } from '../log/logger.js';
import type { Logging } from '../log/logger.js';
import { SpyTransport } from '../../testing/spy-transport.js';
import { startTestApi } from '../../testing/api-test-client.js';
import type { TestApi } from '../../testing/api-test-client.js';

let t: TestApi | undefined;
let logging: Logging | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await t?.close();
  t = undefined;
  await logging?.close();
  logging = undefined;
});
async function start(...args: Parameters<typeof startTestApi>): Promise<TestApi> {
  t = (await startTestApi(...args)) as TestApi;
  return t;
}

const until = async (f: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A masked client text frame (RFC 6455 §5.2, §5.3). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

/** A raw TCP socket that has done the WebSocket handshake (and reads nothing more unless told). */
async function rawWebSocket(port: number, headers = ''): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  sockets.push(s);
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.pause();
      if (text.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(text.split('\r\n')[0]));
    };
    s.on('data', onData);
    s.write(`GET /xfs4iot/v1.0/sscard HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`);
  });
  return s;
}

function opened(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    sockets.push(s);
    s.on('error', reject);
  });
}

describe('log flooding', () => {
  it('20 000 refused messages write a few lines and one summary, not one warning each (counted with the SpyTransport)', async () => {
    const spy = new SpyTransport();
    logging = createLogging({ level: 'info', levels: {}, file: null, maxSizeBytes: 1 << 20, maxFiles: 1, console: false }, { transports: [spy] });
    // One window for the whole run: sending and answering 20 000 frames can take longer than the
    // default 10 s window on a loaded machine, and a second window rightly logs 5 more lines.
    const api = await start({ logTo: logging.get('API'), logThrottle: { windowMs: 120_000 } });
    const c = await api.connect();
    const N = 20_000;
    for (let i = 0; i < N; i++) c.sendRaw(i % 2 === 0 ? '{not json' : '{"header":{"type":"command","name":"Common.Status","requestId":0}}');
    await until(() => c.messages.length >= N, 30_000);
    expect(c.messages.every((m) => m.header.status === 'invalidMessage')).toBe(true);
    c.close();
    // Not at the client's close (a client that reconnects after every few bad frames must not get a
    // fresh budget each time): the summary comes when its window ends, or when the API closes.
    await c.closed;
    expect(spy.entries.some((e) => /refused messages.* from client \S+/.test(e.message))).toBe(false);
    await api.close();
    t = undefined;
    await until(() => spy.entries.some((e) => /refused messages.* from client \S+/.test(e.message)), 20_000);
    const bytes = spy.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    expect(bytes).toBeLessThan(8 * 1024);
    const written = spy.entries.filter((e) => e.message === 'API message refused').length;
    expect(written).toBe(5);
    const summary = spy.entries.find((e) => /refused messages.* from client \S+/.test(e.message))!;
    expect(summary.level).toBe('warn');
    expect(summary.meta).toMatchObject({ suppressed: N - 5, reasons: { 'not JSON': N / 2 - 3, 'bad envelope': N / 2 - 2 } });
  }, 60_000);

  it('reconnecting does not reset the budget: 100 connections × 5 bad frames still log 5 refusals and one summary', async () => {
    const api = await start({ logThrottle: { windowMs: 60_000 } });
    for (let i = 0; i < 100; i++) {
      const c = await api.connect();
      for (let k = 0; k < 5; k++) c.sendRaw('{not json');
      await until(() => c.messages.length >= 5);
      c.close();
      await c.closed;
    }
    expect(api.logger.entries.filter((e) => e.message === 'API message refused')).toHaveLength(5);
    await api.close(); // pending summaries are written on close
    t = undefined;
    const summaries = api.logger.entries.filter((e) => /refused messages from client \S+/.test(e.message));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.meta).toMatchObject({ suppressed: 495 });
  });

  it('refused HTTP requests and upgrades are summarised per address too', async () => {
    const api = await start({ allowUnauthenticatedLoopback: false });
    for (let i = 0; i < 150; i++) await api.http('GET', '/status', undefined, i % 3 === 0 ? { host: 'evil.example' } : i % 3 === 1 ? { origin: 'null' } : {});
    for (let i = 0; i < 50; i++) await expect(api.connect()).rejects.toThrow('HTTP 401');
    await api.close(); // pending summaries are written on close
    t = undefined;
    const summary = api.logger.entries.find((e) => /^\d+ refused requests and refused upgrades from client 127\.0\.0\.1 in the last \d+ s/.test(e.message));
    expect(summary?.meta).toMatchObject({ suppressed: 195, reasons: { 'foreign Host': 48, 'Origin null': 48, 'no credential': 99 } });
    expect(api.logger.entries.filter((e) => /refused/.test(e.message)).length).toBeLessThanOrEqual(6);
  });
});

describe('a client that does not read', () => {
  it('is dropped once its unsent answers pass maxSendBufferBytes; the buffer never grows past it', async () => {
    const cap = 256 * 1024;
    const api = await start({ maxSendBufferBytes: cap });
    const s = await rawWebSocket(api.server.port);
    const rss0 = process.memoryUsage().rss;
    const cmd = (id: number) => frame(JSON.stringify({ header: { type: 'command', name: 'Common.Capabilities', requestId: id, version: '2.0' } }));
    let id = 1;
    const dropped = () => api.logger.entries.some((e) => e.message === 'API client does not read its messages; dropping it');
    while (!dropped() && id < 200_000) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 200; i++) batch.push(cmd(id++));
      s.write(Buffer.concat(batch));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(dropped()).toBe(true);
    const e = api.logger.entries.find((x) => x.message === 'API client does not read its messages; dropping it')!;
    expect(e.meta!['buffered'] as number).toBeLessThanOrEqual(cap);
    await until(() => api.server.clients() === 0);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
    // the others go on
    const c = await api.connect();
    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
  }, 60_000);
});

describe('slow and idle connections', () => {
  it('slowloris: connections trickling headers (plain and upgrade) and idle ones are closed by the header timeout', async () => {
    const api = await start({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const port = api.server.port;
    const trickle: net.Socket[] = [];
    for (let i = 0; i < 40; i++) {
      const s = await opened(port);
      s.write(i % 2 === 0 ? `GET /status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` : `GET /xfs4iot/v1.0/sscard HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n`);
      trickle.push(s);
    }
    const idle: net.Socket[] = [];
    for (let i = 0; i < 10; i++) idle.push(await opened(port));
    const closed = new Set<net.Socket>();
    for (const s of [...trickle, ...idle]) {
      s.on('close', () => closed.add(s));
      s.on('data', () => {});
    }
    const drip = setInterval(() => {
      for (const s of trickle) if (!s.destroyed) s.write(`X-Drip: ${Date.now()}\r\n`);
    }, 50);
    try {
      await until(() => closed.size === 50, 4000);
    } finally {
      clearInterval(drip);
    }
    expect((await api.http('GET', '/health')).status).toBe(200);
  });

  it('a body trickled slower than requestTimeoutMs is cut off; nothing reaches the terminal', async () => {
    const api = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const s = await opened(api.server.port);
    let closed = false;
    s.on('close', () => (closed = true));
    s.on('data', () => {});
    s.write(`POST /sscard/iVerifyPIN HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
    const drip = setInterval(() => !s.destroyed && s.write(' '), 50);
    try {
      await until(() => closed, 3000);
    } finally {
      clearInterval(drip);
    }
    expect(api.terminal.calls).toEqual([]);
  });

  it('TCP connections past maxConnections are closed at once (logged once per window)', async () => {
    const api = await start({ maxConnections: 4 });
    const keep: net.Socket[] = [];
    for (let i = 0; i < 4; i++) keep.push(await opened(api.server.port));
    const extra = await opened(api.server.port);
    await new Promise<void>((resolve) => extra.on('close', () => resolve()));
    expect(api.logger.entries.some((e) => e.message === 'API connection dropped: too many connections')).toBe(true);
    for (const s of keep) s.destroy();
    await until(() => api.logger.entries.length > 0);
  });
});

describe('connection limits', () => {
  it('bounded per client (token, origin, loopback) and in total: 503 on the upgrade', async () => {
    const api = await start({ maxConnectionsPerClient: 2, maxClients: 4, allowedOrigins: ['http://127.0.0.1:8080'] });
    const tokened = [await api.connect(undefined, { token: api.clientToken }), await api.connect(undefined, { token: api.clientToken })];
    await expect(api.connect(undefined, { token: api.clientToken })).rejects.toThrow('HTTP 503');
    const browser = await api.connect(undefined, { origin: 'http://127.0.0.1:8080' });
    const local = await api.connect();
    await expect(api.connect(undefined, { origin: 'http://127.0.0.1:8080' })).rejects.toThrow('HTTP 503'); // 4 in total
    tokened[0]!.close();
    await tokened[0]!.closed;
    await until(() => api.server.clients() === 3);
    const again = await api.connect(undefined, { token: api.clientToken });
    expect((await again.command('Common.Status')).completion.header.completionCode).toBe('success');
    browser.close();
    local.close();
  });
});

describe('clients that go away, and malformed names', () => {
  it('a client hanging up mid-request is logged at debug, without a stack; no error', async () => {
    const api = await start();
    const s = await opened(api.server.port);
    s.write(`POST /sscard/iVerifyPIN HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"iType"`);
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await until(() => api.logger.entries.some((e) => e.message === 'API HTTP client went away mid-request'));
    const e = api.logger.entries.find((x) => x.message === 'API HTTP client went away mid-request')!;
    expect(e.level).toBe('debug');
    expect(e.meta!['stack']).toBeUndefined();
    expect(api.logger.entries.filter((x) => x.level === 'error')).toEqual([]);
    expect(api.terminal.calls).toEqual([]);
  });

  it('a request target URL parsing chokes on (GET //[) is 400, on the upgrade 404 — nothing throws, nothing is logged as an error', async () => {
    const api = await start();
    const ask = (request: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(api.server.port, '127.0.0.1', () => s.write(request));
        sockets.push(s);
        let text = '';
        s.on('data', (d: Buffer) => (text += d.toString('latin1')));
        s.on('close', () => resolve(text));
      });
    expect(await ask(`GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400/);
    expect(await ask(`GET http://[x/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404/);
    expect(api.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    expect((await api.http('GET', '/health')).status).toBe(200);
  });

  it('a WebSocket message naming a field twice is invalidMessage (whichever would win), the name given back only when it looks like one', async () => {
    const api = await start();
    const c = await api.connect();
    c.sendRaw('{"header":{"type":"command","name":"SSCard.ReadBasic","requestId":5,"requestId":6}}');
    const m = await c.waitFor((x) => x.header.type === 'acknowledge');
    expect(m.header).toMatchObject({ status: 'invalidMessage', requestId: null });
    expect(m.header.errorDescription).toContain('field requestId appears more than once');
    c.sendRaw('{"header":{"type":"command","name":"SSCard.ReadBasic","requestId":7},"payload":{"123456":1,"123456":2}}');
    await until(() => c.messages.length === 2);
    expect(c.messages[1]!.header.errorDescription).toContain('a field appears more than once');
    expect(c.frames.join('')).not.toContain('123456');
    expect(api.terminal.calls).toEqual([]);
  });
});
