/**
 * SSCard.RecentLog and SSCard.LogChangedEvent over the API (log-commands.ts, log-events.ts; docs/api.md
 * "SSCard.RecentLog"), with the daemon's real logging (daemon/log) feeding the ring.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogging } from '../log/logger.js';
import type { Logging } from '../log/logger.js';
import { LogRing } from '../log/ring.js';
import { apiPerTest, login, until } from '../../testing/api-test-client.js';
import { logEventFanOut } from './log-events.js';
import type { Connection } from './connection.js';

const PIN = '582946';
const start = apiPerTest();
const open: Logging[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

function debugLogging(): Logging {
  const l = createLogging({ level: 'debug', levels: {}, file: null, maxSizeBytes: 1 << 20, maxFiles: 1, console: false });
  open.push(l);
  return l;
}

interface Line {
  seq: number;
  at: number;
  level: string;
  component: string;
  message: string;
  meta?: Record<string, unknown>;
}

describe('SSCard.RecentLog', () => {
  it('needs a live operator: without one authorisationRequired, with one the lines, oldest first, field by field', async () => {
    const logging = debugLogging();
    const api = await start({ recentLog: logging.recent, logTo: logging.get('API') });
    logging.get('PCSC').info('reader added', { name: 'Virtual PCD 00 00' });
    logging.get('SYNC').warn('push failed', { attempt: 2 });
    const c = await api.connect();
    const refused = await c.command('SSCard.RecentLog');
    expect(refused.completion.header.completionCode).toBe('authorisationRequired');
    expect(refused.completion.payload).toEqual({ sscardErrorCode: 'auth.required' });
    expect(JSON.stringify(refused.completion)).not.toContain('reader added');
    await login(c);
    const r = await c.command('SSCard.RecentLog', { limit: 200 });
    expect(r.completion.header.completionCode).toBe('success');
    const lines = r.completion.payload!['lines'] as Line[];
    const mine = lines.filter((l) => l.component !== 'API');
    expect(mine.map((l) => `${l.component} ${l.level} ${l.message}`)).toEqual(['PCSC info reader added', 'SYNC warn push failed']);
    expect(mine[0]).toEqual({ seq: expect.any(Number) as number, at: expect.any(Number) as number, level: 'info', component: 'PCSC', message: 'reader added', meta: { name: 'Virtual PCD 00 00' } });
    expect(r.completion.payload).toMatchObject({ capacity: 200, lastSeq: lines.at(-1)!.seq });
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
    // Every privileged call is journaled (docs/api.md "Operators").
    expect(api.journal.map((j) => `${j.command} ${j.outcome}`)).toEqual(['SSCard.RecentLog authorisationRequired:auth.required', 'SSCard.RecentLog success']);
  });

  it('limit and minLevel; bad values are invalidData naming the field, in zh-CN and en', async () => {
    const logging = debugLogging();
    const api = await start({ recentLog: logging.recent });
    for (let i = 0; i < 5; i++) logging.get('FLOW').info(`info ${i}`);
    logging.get('FLOW').error('broke');
    logging.get('FLOW').warn('careful');
    const c = await api.connect();
    const token = await login(c);
    const warn = await c.command('SSCard.RecentLog', { minLevel: 'warn' });
    expect((warn.completion.payload!['lines'] as Line[]).map((l) => l.message)).toEqual(['broke', 'careful']);
    const two = await c.command('SSCard.RecentLog', { limit: 2, minLevel: 'info' });
    expect((two.completion.payload!['lines'] as Line[]).map((l) => l.message)).toEqual(['broke', 'careful']);
    // Another connection with the token in the payload.
    const d = await api.connect();
    const viaToken = await d.command('SSCard.RecentLog', { limit: 1, token });
    expect(viaToken.completion.header.completionCode).toBe('success');
    for (const [payload, field] of [
      [{ limit: 0 }, 'limit'],
      [{ limit: 201 }, 'limit'],
      [{ limit: 1.5 }, 'limit'],
      [{ minLevel: 'verbose' }, 'minLevel'],
      [{ lines: 3 }, 'lines'],
    ] as const) {
      const bad = await c.command('SSCard.RecentLog', payload);
      expect(bad.completion.header.completionCode, JSON.stringify(payload)).toBe('invalidData');
      const text = bad.completion.header.errorDescription!;
      expect(text).toContain(field);
      expect(text).toMatch(/[\u4e00-\u9fff].* \/ [A-Za-z]/);
    }
  });

  it('without a ring: unsupportedCommand log.unavailable, said in both languages', async () => {
    const api = await start();
    const c = await api.connect();
    await login(c);
    const r = await c.command('SSCard.RecentLog');
    expect(r.completion.header.completionCode).toBe('unsupportedCommand');
    expect(r.completion.payload).toEqual({ sscardErrorCode: 'log.unavailable' });
    expect(r.completion.header.errorDescription).toBe('此守护进程没有保留最近的日志 / this daemon keeps no recent log lines');
  });

  it('a PIN typed on the touch keypad during a PIN entry never reaches the ring (API logger at debug)', async () => {
    const logging = debugLogging();
    const api = await start({ recentLog: logging.recent, logTo: logging.get('API') });
    const c = await api.connect();
    const id = c.send('Keyboard.PinEntry', { minLen: 6, maxLen: 6, autoEnd: true }, { timeout: 5000 });
    await until(() => api.terminal.calls.some((x) => x.method === 'pinEntry'));
    for (const k of PIN) expect((await c.command('Keyboard.TouchKey', { key: k })).completion.header.completionCode).toBe('success');
    expect((await c.result(id)).completion.payload).toMatchObject({ digits: 6 });
    // The same PIN as a card service's (VerifyPin typed by the holder).
    api.terminal.holderTypes(PIN);
    expect((await c.command('SSCard.VerifyPin')).completion.header.completionCode).toBeDefined();
    await login(c);
    const r = await c.command('SSCard.RecentLog');
    const lines = r.completion.payload!['lines'] as Line[];
    // The check can fail: the API did log these commands (names and request ids, at debug).
    expect(lines.some((l) => l.component === 'API' && JSON.stringify(l).includes('Keyboard.TouchKey'))).toBe(true);
    expect(JSON.stringify(lines.map((l) => ({ ...l, at: 0, seq: 0 })))).not.toMatch(new RegExp(PIN.split('').join('\\D{0,3}')));
  });
});

describe('SSCard.LogChangedEvent', () => {
  it('goes to the clients that read the log, on a warn or error line, without the line itself; not on info, not to others', async () => {
    const logging = debugLogging();
    const api = await start({ recentLog: logging.recent, logEventIntervalMs: 50 });
    const c = await api.connect();
    const other = await api.connect();
    const token = await login(c);
    // Refused (no operator on `other`): it does not become a watcher either.
    expect((await other.command('SSCard.RecentLog')).completion.header.completionCode).toBe('authorisationRequired');
    expect((await c.command('SSCard.RecentLog', { token })).completion.header.completionCode).toBe('success');
    logging.get('PCSC').info('quiet');
    logging.get('PCSC').error('the reader vanished', { reader: 'Virtual PCD 00 00' });
    const ev = await c.waitFor((m) => m.header.name === 'SSCard.LogChangedEvent');
    expect(ev.header.type).toBe('unsolicited');
    expect(ev.payload).toEqual({ lastSeq: logging.recent.lastSeq, level: 'error' });
    expect(JSON.stringify(c.messages)).not.toContain('vanished');
    expect(c.unsolicited('SSCard.LogChangedEvent')).toHaveLength(1);
    // A round trip on `other` after the event was sent: anything sent to it before is in by now.
    await other.command('Common.Status');
    expect(other.unsolicited('SSCard.LogChangedEvent')).toEqual([]);
    const caps = await c.command('Common.Capabilities');
    expect(JSON.stringify(caps.completion.payload)).toContain('SSCard.LogChangedEvent');
  });

  it('a burst is coalesced: the first at once, the rest in one event at the end of the window, with the worst level', () => {
    vi.useFakeTimers();
    try {
      const ring = new LogRing(50);
      const sent: unknown[] = [];
      const conn = { endpoint: 'service', send: (m: unknown) => sent.push(m) } as unknown as Connection;
      const bystander = { endpoint: 'service', send: () => expect.fail('sent to a client that never read the log') } as unknown as Connection;
      const stop = logEventFanOut({ connections: new Set([conn, bystander]), watchers: new WeakSet([conn]), ring, intervalMs: 40 });
      const push = (level: 'warn' | 'error' | 'info') => ring.push({ level, component: 'API', message: level, at: 0 });
      push('warn');
      for (let i = 0; i < 100; i++) push(i === 50 ? 'error' : 'warn');
      push('info');
      expect(sent).toHaveLength(1);
      expect((sent[0] as { payload: unknown }).payload).toEqual({ lastSeq: 1, level: 'warn' });
      vi.advanceTimersByTime(40);
      expect(sent).toHaveLength(2);
      expect((sent[1] as { payload: unknown }).payload).toEqual({ lastSeq: 101, level: 'error' });
      // Quiet after that: no timer keeps sending.
      vi.advanceTimersByTime(10_000);
      expect(sent).toHaveLength(2);
      expect(vi.getTimerCount()).toBe(0);
      stop();
      push('error');
      expect(sent).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
