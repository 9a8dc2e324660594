import { afterEach, describe, expect, it } from 'vitest';
import type { LogConfig, Logging } from './logger.js';
import { createLogging } from './logger.js';
import { LogRing, MAX_MESSAGE_CHARS, MAX_META_CHARS, RING_CAPACITY } from './ring.js';
import type { RingRecord } from './ring.js';

const BASE: LogConfig = { level: 'info', levels: {}, file: null, maxSizeBytes: 10_485_760, maxFiles: 5, console: false };
const open: Logging[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

function logging(cfg: Partial<LogConfig> = {}): Logging {
  const l = createLogging({ ...BASE, ...cfg });
  open.push(l);
  return l;
}

const line = (message: string, level: RingRecord['level'] = 'info', meta?: unknown) => ({ level, component: 'API' as const, message, at: 1_700_000_000_000, meta });

describe('LogRing', () => {
  it('keeps at most its capacity, oldest first, with rising seq numbers', () => {
    const r = new LogRing(5);
    for (let i = 1; i <= 12; i++) r.push(line(`m${i}`));
    expect(r.size).toBe(5);
    expect(r.read().map((x) => x.message)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect(r.read().map((x) => x.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(r.lastSeq).toBe(12);
    expect(new LogRing().capacity).toBe(RING_CAPACITY);
  });

  it('reads the newest `limit` at `minLevel` or above', () => {
    const r = new LogRing(10);
    r.push(line('a', 'debug'));
    r.push(line('b', 'warn'));
    r.push(line('c', 'info'));
    r.push(line('d', 'error'));
    r.push(line('e', 'warn'));
    expect(r.read({ minLevel: 'warn' }).map((x) => x.message)).toEqual(['b', 'd', 'e']);
    expect(r.read({ minLevel: 'warn', limit: 2 }).map((x) => x.message)).toEqual(['d', 'e']);
    expect(r.read({ minLevel: 'error' }).map((x) => x.message)).toEqual(['d']);
    expect(r.read({ limit: 1 }).map((x) => x.message)).toEqual(['e']);
    expect(r.read().map((x) => x.message)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('bounds each record: a long message is cut, a long metadata replaced by a note', () => {
    const r = new LogRing(3);
    const a = r.push(line('x'.repeat(MAX_MESSAGE_CHARS + 50), 'info', { big: 'y'.repeat(MAX_META_CHARS) }));
    expect(a.message).toHaveLength(MAX_MESSAGE_CHARS + 1);
    expect(a.meta).toEqual({ note: expect.stringMatching(/^\[\d+ characters left out\]$/) as string });
    const b = r.push(line('small', 'info', { reader: 'Virtual PCD 00 00', n: 3 }));
    expect(b.meta).toEqual({ reader: 'Virtual PCD 00 00', n: 3 });
    expect(r.push(line('no meta', 'info', {})).meta).toBeUndefined();
  });

  it('copies the metadata (a caller changing its object later does not change the record)', () => {
    const r = new LogRing(2);
    const meta = { n: 1 };
    r.push(line('m', 'info', meta));
    meta.n = 2;
    expect(r.read()[0]!.meta).toEqual({ n: 1 });
  });

  it('tells listeners of warn and error records only; a throwing listener breaks nothing', () => {
    const r = new LogRing(10);
    const heard: string[] = [];
    r.onWarning(() => {
      throw new Error('boom');
    });
    const off = r.onWarning((x) => heard.push(`${x.level}:${x.message}`));
    r.push(line('i', 'info'));
    r.push(line('d', 'debug'));
    r.push(line('w', 'warn'));
    r.push(line('e', 'error'));
    off();
    r.push(line('w2', 'warn'));
    expect(heard).toEqual(['warn:w', 'error:e']);
    expect(r.size).toBe(5);
  });

  it('refuses a capacity out of range', () => {
    expect(() => new LogRing(0)).toThrow(RangeError);
    expect(() => new LogRing(1.5)).toThrow(RangeError);
  });
});

describe('the ring in the daemon\'s logging', () => {
  it('gets what the file log gets: after the level filter, with the time, component and redacted metadata', () => {
    const l = logging({ level: 'info', levels: { APDU: 'debug' } });
    l.get('PCSC').debug('filtered out');
    l.get('PCSC').info('reader added', { name: 'Virtual PCD 00 00' });
    l.get('APDU').debug('trace', { apdu: '00200000 06 [data redacted]' });
    l.get('FLOW').warn('entry', { pin: '135790', pinBlock: Buffer.from('135790'), nested: { token: 'sscc_x' } });
    const recs = l.recent.read();
    expect(recs.map((r) => `${r.component} ${r.level} ${r.message}`)).toEqual(['PCSC info reader added', 'APDU debug trace', 'FLOW warn entry']);
    expect(recs[0]!.meta).toEqual({ name: 'Virtual PCD 00 00' });
    expect(recs[2]!.meta).toEqual({ pin: '[redacted]', pinBlock: '[redacted]', nested: { token: '[redacted]' } });
    expect(Math.abs(recs[0]!.at - Date.now())).toBeLessThan(60_000);
    expect(JSON.stringify(recs)).not.toContain('135790');
  });

  it('keeps the last 200 lines, not more, however many are logged', () => {
    const l = logging();
    for (let i = 0; i < 1000; i++) l.get('API').info(`line ${i}`);
    const recs = l.recent.read();
    expect(recs).toHaveLength(RING_CAPACITY);
    expect(recs[0]!.message).toBe('line 800');
    expect(recs.at(-1)!.message).toBe('line 999');
  });

  it('keeps nothing after close', async () => {
    const l = logging();
    await l.close();
    l.get('API').error('late');
    expect(l.recent.size).toBe(0);
  });
});
