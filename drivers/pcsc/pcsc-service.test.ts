import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { FakePcsc } from '../../testing/fake-pcsc-addon.js';
import { PcscService } from './pcsc-service.js';
import type { TraceEntry } from './channel.js';

const ATR = Buffer.from('3B8880010000000000000000', 'hex');
const services: PcscService[] = [];

function make(pcsc: FakePcsc, extra: ConstructorParameters<typeof PcscService>[0] = {}): PcscService {
  const s = new PcscService({ addon: pcsc.factory, backoffInitialMs: 10, backoffMaxMs: 80, ...extra });
  services.push(s);
  return s;
}

afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  vi.useRealTimers();
});

describe('PcscService', () => {
  it('becomes ready with the readers the addon lists, and reports card insertion and removal', async () => {
    const pcsc = new FakePcsc();
    pcsc.readerNames = ['Reader A', 'Reader B'];
    const s = make(pcsc);
    const events: string[] = [];
    s.on('card-inserted', (r, atr) => events.push(`in ${r} ${atr.toString('hex')}`));
    s.on('card-removed', (r) => events.push(`out ${r}`));
    s.start();
    await s.ready(1000);
    expect(s.isUp).toBe(true);
    expect(s.readers().map((r) => [r.name, r.cardPresent])).toEqual([
      ['Reader A', false],
      ['Reader B', false],
    ]);
    pcsc.reader('Reader B').setCard(ATR);
    expect(await s.waitForCard('Reader B', 1000)).toEqual(ATR);
    pcsc.reader('Reader B').setCard(undefined);
    await s.waitForRemoval('Reader B', 1000);
    expect(events).toEqual([`in Reader B ${ATR.toString('hex')}`, 'out Reader B']);
  });

  it('fails fast with a clear bilingual error when pcscd is not running, and keeps retrying', async () => {
    const pcsc = new FakePcsc();
    pcsc.down = true;
    const s = make(pcsc);
    const downs: number[] = [];
    s.on('service-down', (_e, retry) => downs.push(retry));
    s.start();
    const err = await s.ready(1000).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Pcsc_ServiceUnavailable)).toBe(true);
    expect((err as Error).message).toMatch(/pcscd 未运行.*pcscd is not running/);
    await vi.waitFor(() => expect(pcsc.attempts).toBeGreaterThanOrEqual(3), { timeout: 2000 });
    // exponential backoff, capped, with jitter within [base/2, base]
    expect(downs[0]).toBeGreaterThanOrEqual(5);
    expect(downs[0]).toBeLessThanOrEqual(10);
    expect(Math.max(...downs)).toBeLessThanOrEqual(80);
    pcsc.down = false;
    await vi.waitFor(() => expect(s.isUp).toBe(true), { timeout: 2000 });
    await s.ready(1000);
  });

  it('survives pcscd dying: announces removal, re-creates the context, re-discovers readers and cards', async () => {
    const pcsc = new FakePcsc();
    const s = make(pcsc);
    const events: string[] = [];
    for (const e of ['service-up', 'reader-attached', 'reader-detached', 'card-inserted', 'card-removed'] as const) {
      s.on(e, () => events.push(e));
    }
    s.start();
    await s.ready(1000);
    pcsc.reader().setCard(ATR);
    await s.waitForCard('Fake Reader 00', 1000);
    const first = pcsc.current;
    pcsc.down = true;
    first.die();
    expect(s.isUp).toBe(false);
    expect(first.closed).toBe(true);
    expect(s.readers()).toEqual([]);
    await vi.waitFor(() => expect(pcsc.attempts).toBeGreaterThanOrEqual(3), { timeout: 2000 });
    pcsc.down = false;
    await vi.waitFor(() => expect(s.isUp).toBe(true), { timeout: 2000 });
    await s.ready(1000);
    pcsc.reader().setCard(ATR);
    await s.waitForCard('Fake Reader 00', 1000);
    expect(events).toEqual(['reader-attached', 'service-up', 'card-inserted', 'card-removed', 'reader-detached', 'reader-attached', 'service-up', 'card-inserted']);
  });

  it('names the readers present when asked for an unknown one', async () => {
    const pcsc = new FakePcsc();
    const s = make(pcsc);
    s.start();
    await s.ready(1000);
    const err = await s.connect('Nope').catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Pcsc_ReaderNotFound)).toBe(true);
    expect((err as Error).message).toContain('"Fake Reader 00"');
  });
});

describe('PcscChannel', () => {
  async function channel(pcsc = new FakePcsc(), extra: ConstructorParameters<typeof PcscService>[0] = {}) {
    const s = make(pcsc, extra);
    s.start();
    await s.ready(1000);
    pcsc.reader().setCard(ATR);
    await s.waitForCard('Fake Reader 00', 1000);
    const ch = await s.connect('Fake Reader 00');
    return { s, ch, reader: pcsc.reader() };
  }

  it('follows 61xx with GET RESPONSE and joins the data', async () => {
    const { ch, reader } = await channel();
    reader.respond = (apdu) => (apdu[1] === 0xc0 ? Buffer.from('AABB9000', 'hex') : Buffer.from('6102', 'hex'));
    expect((await ch.transmit(Buffer.from('00B2010400', 'hex'))).toString('hex')).toBe('aabb9000');
    expect(reader.sent.map((b) => b.toString('hex'))).toEqual(['00b2010400', '00c0000002']);
  });

  it('re-sends with the right Le on 6Cxx', async () => {
    const { ch, reader } = await channel();
    reader.respond = (apdu) => (apdu[4] === 0x05 ? Buffer.from('01020304059000', 'hex') : Buffer.from('6C05', 'hex'));
    expect((await ch.transmit(Buffer.from('00B2010400', 'hex'))).toString('hex')).toBe('01020304059000');
    expect(reader.sent.map((b) => b.toString('hex'))).toEqual(['00b2010400', '00b2010405']);
  });

  it('answers concurrent callers in order, one command in flight at a time', async () => {
    const { ch, reader } = await channel();
    let inFlight = 0;
    let maxInFlight = 0;
    reader.respond = (apdu) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setImmediate(() => inFlight--);
      return Buffer.from([apdu[2]!, 0x90, 0x00]);
    };
    const out = await Promise.all([1, 2, 3, 4, 5].map((i) => ch.transmit(Buffer.from([0, 0xb0, i, 0, 1]))));
    expect(out.map((b) => b[0])).toEqual([1, 2, 3, 4, 5]);
    expect(maxInFlight).toBe(1);
  });

  it('maps a removed card to Pcsc_CardRemoved and refuses further commands on the channel', async () => {
    const { ch, reader } = await channel();
    reader.respond = () => new Error('SCardTransmit error: Card was removed.(0x80100069)');
    const e1 = await ch.transmit(Buffer.from('00A4040000', 'hex')).catch((e: unknown) => e);
    expect(isSsCardError(e1, ErrorCode.Pcsc_CardRemoved)).toBe(true);
    expect((e1 as Error).message).toMatch(/已被取出.*removed/);
    reader.respond = () => Buffer.from('9000', 'hex');
    const e2 = await ch.transmit(Buffer.from('00A4040000', 'hex')).catch((e: unknown) => e);
    expect(isSsCardError(e2, ErrorCode.Pcsc_CardRemoved)).toBe(true);
    expect(reader.sent).toHaveLength(1);
  });

  it('times out a command that never returns, and marks the channel unusable (outcome unknown)', async () => {
    const { ch, reader } = await channel(new FakePcsc(), { removalSettleMs: 50 });
    reader.respond = () => 'hang';
    const err = await ch.transmit(Buffer.from('0020000003123456', 'hex'), { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Pcsc_Timeout)).toBe(true);
    expect(ch.isOpen).toBe(false);
    // nothing is re-sent: the VERIFY went out exactly once
    expect(reader.sent).toHaveLength(1);
  });

  it('control() takes a per-call timeout (a PIN entry outlasts an APDU) and answers when the reader does', async () => {
    const { ch, reader } = await channel(new FakePcsc(), { transmitTimeoutMs: 20 });
    expect((await ch.control(0x42000d48, Buffer.from('01', 'hex'), 16, { timeoutMs: 1000 })).toString('hex')).toBe('01');
    reader.controlHangs = true;
    const err = await ch.control(0x42000d48, Buffer.alloc(0), 16, { timeoutMs: 40 }).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Pcsc_Timeout)).toBe(true);
    expect((err as { context: { timeoutMs: number } }).context.timeoutMs).toBe(40);
  });

  it('rejects APDUs shorter than a header without sending them', async () => {
    const { ch, reader } = await channel();
    const err = await ch.transmit(Buffer.from('00A4', 'hex')).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Input_BadApdu)).toBe(true);
    expect(reader.sent).toHaveLength(0);
  });

  it('traces APDUs with PIN data redacted, and hides everything of a command marked sensitive', async () => {
    const trace: TraceEntry[] = [];
    const { ch, reader } = await channel(new FakePcsc(), { trace: (e) => trace.push(e) });
    reader.respond = (apdu) => (apdu[1] === 0xfa ? Buffer.from('11223344556677889000', 'hex') : Buffer.from('63C5', 'hex'));
    await ch.transmit(Buffer.from('0020000003654321', 'hex'));
    await ch.transmit(Buffer.from('80FA000008061234FFFFFFFFFF', 'hex'), { sensitive: true });
    const text = trace.map((t) => t.hex).join('\n');
    expect(text).toContain('00 20 00 00 03 [3 bytes redacted]');
    expect(text).toContain('80 FA 00 00 08 [8 bytes redacted]');
    expect(text).toContain('[8 bytes redacted] 90 00');
    expect(text).not.toMatch(/65 ?43 ?21|12 ?34|11 ?22 ?33/);
  });

  it('formats no trace while the sink does not want one (the APDU log not at debug), and times every APDU for the metrics', async () => {
    const trace: TraceEntry[] = [];
    let wanted = false;
    const times: [string, number][] = [];
    const { ch } = await channel(new FakePcsc(), { trace: (e) => trace.push(e), traceEnabled: () => wanted, timing: (r, ms) => times.push([r, ms]) });
    await ch.transmit(Buffer.from('00A4040000', 'hex'));
    expect(trace).toEqual([]);
    wanted = true;
    await ch.transmit(Buffer.from('00A4040000', 'hex'));
    expect(trace.map((t) => t.direction)).toEqual(['C', 'R']);
    expect(times).toHaveLength(2);
    expect(times.every(([r, ms]) => r === ch.readerName && ms >= 0)).toBe(true);
  });

  it('a channel from before a pcscd restart is refused, not silently reused', async () => {
    const pcsc = new FakePcsc();
    const { s, ch } = await channel(pcsc);
    pcsc.current.die();
    await vi.waitFor(() => expect(s.isUp).toBe(true), { timeout: 2000 });
    const err = await ch.transmit(Buffer.from('00A4040000', 'hex')).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Pcsc_ReaderRemoved)).toBe(true);
  });
});
