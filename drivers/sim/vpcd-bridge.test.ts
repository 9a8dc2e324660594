import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import type { VirtualCardDevice } from './device.js';
import { VpcdBridge } from './vpcd-bridge.js';

/** A stand-in for pcscd's vpcd driver: a TCP server speaking the vpcd framing (docs/domain.md §8). */
class FakeVpcd {
  server = net.createServer();
  socket: net.Socket | undefined;
  received = Buffer.alloc(0);
  async listen(): Promise<number> {
    this.server.on('connection', (s) => {
      this.socket = s;
      s.on('data', (d: Buffer) => (this.received = Buffer.concat([this.received, d])));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }
  /** Send frames; `split` writes them byte by byte, as TCP may deliver them. */
  send(payloads: Buffer[], split = false): void {
    const wire = Buffer.concat(payloads.map((p) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p])));
    if (!split) this.socket!.write(wire);
    else for (const b of wire) this.socket!.write(Buffer.from([b]));
  }
  async frames(n: number): Promise<Buffer[]> {
    for (let i = 0; i < 200; i++) {
      const out: Buffer[] = [];
      let off = 0;
      while (off + 2 <= this.received.length) {
        const len = this.received.readUInt16BE(off);
        if (off + 2 + len > this.received.length) break;
        out.push(this.received.subarray(off + 2, off + 2 + len));
        off += 2 + len;
      }
      if (out.length >= n) return out;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`expected ${n} frames, got ${this.received.toString('hex')}`);
  }
  close(): Promise<void> {
    this.socket?.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function device(): VirtualCardDevice & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    label: 'test',
    atr: Buffer.from('3B0112', 'hex'),
    powerOn: () => log.push('on'),
    powerOff: () => log.push('off'),
    reset: () => log.push('reset'),
    process: (c) => Buffer.concat([c.subarray(1, 2), Buffer.from('9000', 'hex')]),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const vpcd = new FakeVpcd();
  const port = await vpcd.listen();
  const dev = device();
  const bridge = new VpcdBridge(dev, { port });
  cleanups.push(async () => {
    await bridge.remove();
    await vpcd.close();
  });
  await bridge.insert();
  for (let i = 0; i < 100 && !vpcd.socket; i++) await new Promise((r) => setTimeout(r, 5));
  return { vpcd, dev, bridge };
}

describe('VpcdBridge', () => {
  it('answers the controls: power on/off/reset change state, get ATR returns the ATR', async () => {
    const { vpcd, dev } = await setup();
    vpcd.send([Buffer.from([1]), Buffer.from([4]), Buffer.from([2]), Buffer.from([0])]);
    const [atr] = await vpcd.frames(1);
    expect(atr!.toString('hex')).toBe('3b0112');
    await new Promise((r) => setTimeout(r, 20));
    expect(dev.log).toEqual(['on', 'reset', 'off']);
  });

  it('answers APDUs that arrive split into single bytes or merged in one segment', async () => {
    const { vpcd } = await setup();
    vpcd.send([Buffer.from('00A4040000', 'hex'), Buffer.from('00B2010400', 'hex')], true);
    vpcd.send([Buffer.from('0084000008', 'hex'), Buffer.from('00C0000008', 'hex')]);
    const frames = await vpcd.frames(4);
    expect(frames.map((f) => f.toString('hex'))).toEqual(['a49000', 'b29000', '849000', 'c09000']);
  });

  it('remove() closes the connection (the card leaves the reader) and powers the card off', async () => {
    const { bridge, dev } = await setup();
    const removed: string[] = [];
    bridge.on('removed', (why) => removed.push(why));
    await bridge.remove();
    expect(bridge.inserted).toBe(false);
    expect(removed).toEqual(['requested']);
    expect(dev.log.at(-1)).toBe('off');
  });

  it('onCommand can pull the card out mid-command: no answer, connection closed', async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    const bridge = new VpcdBridge(device(), { port, onCommand: (_c, i) => (i === 1 ? 'drop' : undefined) });
    cleanups.push(async () => {
      await bridge.remove();
      await vpcd.close();
    });
    await bridge.insert();
    for (let i = 0; i < 100 && !vpcd.socket; i++) await new Promise((r) => setTimeout(r, 5));
    const closed = new Promise<void>((r) => vpcd.socket!.once('close', () => r()));
    vpcd.send([Buffer.from('00A4040000', 'hex'), Buffer.from('00B2010400', 'hex')]);
    await closed;
    expect((await vpcd.frames(1)).map((f) => f.toString('hex'))).toEqual(['a49000']);
    expect(bridge.inserted).toBe(false);
  });

  it('says how to fix it when vpcd is not listening', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const err = await new VpcdBridge(device(), { port }).insert().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Sim_Bridge)).toBe(true);
    expect((err as Error).message).toMatch(/pcscd.*setup\.sh/);
  });
});
