/**
 * The serial line both serial devices use, over a REAL pseudo-terminal pair (socat): the drivers'
 * end (drivers/serial/link.ts, shared by the serial PIN pad and the ID card reader) and the
 * simulators' end (DevicePort in drivers/sim/pty.ts, shared by the ZT598 and ID reader
 * simulators). The devices' own protocols over it are test/pinpad-serial.test.ts and
 * test/idcard-reader.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { SerialLink } from '../drivers/serial/link.js';
import type { SerialLinkOptions } from '../drivers/serial/link.js';
import { DevicePort, PtyPair } from '../drivers/sim/pty.js';
import type { DevicePortOptions } from '../drivers/sim/pty.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WHAT = { zh: '密码键盘', en: 'PIN pad' };

function link(path: string, o: Partial<SerialLinkOptions> = {}): { link: SerialLink; got: Buffer[]; events: string[] } {
  const got: Buffer[] = [];
  const events: string[] = [];
  const l = new SerialLink({
    path,
    baudRate: 9600,
    what: WHAT,
    notFoundCode: ErrorCode.PinPad_NotFound,
    disconnectedCode: ErrorCode.PinPad_Disconnected,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    onData: (c) => got.push(c),
    onConnected: (reopened) => events.push(reopened ? 'reopened' : 'opened'),
    onDisconnected: () => events.push('lost'),
    ...o,
  });
  cleanups.push(() => l.close());
  return { link: l, got, events };
}

function device(path: string, o: Partial<DevicePortOptions> = {}): { port: DevicePort; got: Buffer[]; closed: number[] } {
  const got: Buffer[] = [];
  const closed: number[] = [];
  const port = new DevicePort({ path, baudRate: 9600, what: { zh: '模拟密码键盘', en: 'the simulated PIN pad' }, onData: (c) => got.push(c), onClose: () => closed.push(1), ...o });
  cleanups.push(() => port.close());
  return { port, got, closed };
}

async function pair(): Promise<PtyPair> {
  const pty = await PtyPair.open();
  cleanups.push(() => pty.close());
  return pty;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the serial line between a driver and a simulator', () => {
  it.each([undefined, 1, 7])('bytes go both ways whole and in order (device writes in pieces of %s)', async (pieceSize) => {
    const pty = await pair();
    const d = device(pty.b, pieceSize === undefined ? {} : { pieceSize });
    await d.port.open();
    const l = link(pty.a);
    await l.link.open();
    expect(l.events).toEqual(['opened']);
    const down = randomBytes(300);
    await d.port.write(down);
    await until(() => Buffer.concat(l.got).length >= down.length, 'the bytes at the driver');
    expect(Buffer.concat(l.got).equals(down)).toBe(true);
    const up = randomBytes(200);
    await l.link.write(up);
    await until(() => Buffer.concat(d.got).length >= up.length, 'the bytes at the device');
    expect(Buffer.concat(d.got).equals(up)).toBe(true);
  });

  it('unplugged: the link reports it lost and reopens when the line is back', async () => {
    const pty = await pair();
    const d = device(pty.b);
    await d.port.open();
    const l = link(pty.a);
    await l.link.open();
    // Bytes both ways first, as each driver's probe on open does: a link unplugged before it
    // ever read may not notice on a pty (seen here, not met by the drivers, which always probe).
    await l.link.write(Buffer.from('probe'));
    await until(() => Buffer.concat(d.got).toString() === 'probe', 'the probe at the device');
    await d.port.write(Buffer.from('ok'));
    await until(() => Buffer.concat(l.got).toString() === 'ok', 'the answer at the driver');
    await pty.unplug();
    await until(() => l.events.includes('lost'), 'the link to report the line lost');
    expect(l.link.isOpen).toBe(false);
    const lost = await l.link.write(Buffer.from([1])).catch((e: unknown) => e);
    expect(isSsCardError(lost, ErrorCode.PinPad_Disconnected)).toBe(true);
    await d.port.close();
    await pty.replug();
    await d.port.open();
    await until(() => l.events.includes('reopened'), 'the link reopened');
    expect(l.events).toEqual(['opened', 'lost', 'reopened']);
    await d.port.write(Buffer.from('again'));
    await until(() => Buffer.concat(l.got).toString().endsWith('again'), 'bytes after the replug');
  });

  it('unplugged 40 times over: each time the link reports the line lost, never spinning on the hung-up line', async () => {
    // Roughly one unplug in ten, the driver's read after the hangup returns 0 bytes (end of file)
    // instead of failing; serialport's stock binding read again at once for ever and the loss was
    // never reported (drivers/serial/hangup.ts).
    for (let i = 0; i < 40; i++) {
      const pty = await PtyPair.open();
      const d = new DevicePort({ path: pty.b, baudRate: 9600, what: { zh: '模拟密码键盘', en: 'the simulated PIN pad' }, onData: () => {} });
      await d.open();
      const l = link(pty.a);
      await l.link.open();
      await l.link.write(Buffer.from('probe'));
      await d.write(Buffer.from('ok'));
      await until(() => Buffer.concat(l.got).toString() === 'ok', `the answer at the driver (unplug ${i})`);
      await pty.unplug();
      await until(() => l.events.includes('lost'), `the link to report the line lost (unplug ${i})`);
      await l.link.close();
      await d.close();
      await pty.close();
    }
  }, 120_000);

  it('the device port tells the simulator when it closes, and can be opened again', async () => {
    const pty = await pair();
    const d = device(pty.b);
    await d.port.open();
    expect(d.port.isOpen).toBe(true);
    await d.port.close();
    await until(() => d.closed.length === 1, 'onClose');
    expect(d.port.isOpen).toBe(false);
    await d.port.close();
    expect(d.closed).toHaveLength(1);
    await d.port.open();
    expect(d.port.isOpen).toBe(true);
  });

  it('a device port that cannot open is Sim_Bridge naming the device and the path', async () => {
    const d = device('/nonexistent/sscard-device');
    const e = await d.port.open().catch((x: unknown) => x);
    expect(isSsCardError(e, ErrorCode.Sim_Bridge)).toBe(true);
    expect((e as Error).message).toContain('模拟密码键盘无法打开 /nonexistent/sscard-device');
    expect((e as Error).message).toContain('the simulated PIN pad cannot open /nonexistent/sscard-device');
    // writing to a port that is not open does nothing (a simulator answering after stop)
    await expect(d.port.write(Buffer.from([1]))).resolves.toBeUndefined();
  });

  it('a link that cannot open is the not-found code naming the path and what to check; writing before open is the disconnected code', async () => {
    const l = link('/nonexistent/sscard-link');
    const before = await l.link.write(Buffer.from([1])).catch((x: unknown) => x);
    expect(isSsCardError(before, ErrorCode.PinPad_Disconnected)).toBe(true);
    const e = await l.link.open().catch((x: unknown) => x);
    expect(isSsCardError(e, ErrorCode.PinPad_NotFound)).toBe(true);
    expect((e as Error).message).toMatch(/cannot open the PIN pad serial port \/nonexistent\/sscard-link: check .*dialout/);
    expect((e as Error).message).toContain('无法打开密码键盘串口 /nonexistent/sscard-link');
  });

  it.each([
    [{ path: '' }, 'path'],
    [{ baudRate: 100 }, 'baudRate'],
    [{ baudRate: 9600.5 }, 'baudRate'],
  ])('link option %j → Input_BadOption naming %s', (o, option) => {
    let e: unknown;
    try {
      link('/dev/null', o);
    } catch (x) {
      e = x;
    }
    expect(isSsCardError(e, ErrorCode.Input_BadOption)).toBe(true);
    expect((e as { context: { option: string } }).context.option).toBe(option);
  });

  it.each([0, -1, 1.5])('device pieceSize %s → Input_BadOption naming pieceSize', (pieceSize) => {
    expect(() => device('/dev/null', { pieceSize })).toThrow(expect.objectContaining({ code: ErrorCode.Input_BadOption, context: { option: 'pieceSize' } }));
  });
});
