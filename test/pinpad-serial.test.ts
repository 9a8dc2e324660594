/**
 * The serial PIN pad end to end over a REAL pseudo-terminal pair (socat): the driver on one end,
 * the ZT598 simulator on the other. Covers probe, plaintext entry with masked events, cancel,
 * timeouts (the driver's and the pad's own EE), split frames, unplug mid-entry and replug.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { SerialPinPad } from '../drivers/pinpad/serial-pinpad.js';
import type { PinKeyEvent, PinPadStatus } from '../drivers/pinpad/pinpad.js';
import { SimKeypad } from '../drivers/sim/pinpad-keypad.js';
import { Zt598Simulator } from '../drivers/sim/pinpad-zt598.js';
import type { Zt598SimOptions } from '../drivers/sim/pinpad-zt598.js';
import { PtyPair } from '../drivers/sim/pty.js';

const PIN = '246810';

interface Rig {
  pty: PtyPair;
  keypad: SimKeypad;
  sim: Zt598Simulator;
  pad: SerialPinPad;
  events: PinKeyEvent[];
  statuses: PinPadStatus[];
}

let rigs: Rig[] = [];

async function rig(simOptions: Partial<Zt598SimOptions> = {}): Promise<Rig> {
  const pty = await PtyPair.open();
  const keypad = new SimKeypad();
  const sim = new Zt598Simulator(keypad, { path: pty.b, ...simOptions });
  await sim.start();
  const pad = new SerialPinPad({ path: pty.a, commandTimeoutMs: 800, reconnectMinMs: 50, reconnectMaxMs: 200 });
  const events: PinKeyEvent[] = [];
  const statuses: PinPadStatus[] = [];
  pad.onStatus((s) => statuses.push(s));
  const r = { pty, keypad, sim, pad, events, statuses };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs) {
    await r.pad.close();
    await r.sim.stop();
    await r.pty.close();
  }
  rigs = [];
});

function noPinIn(...things: unknown[]): void {
  for (const t of things) {
    const s = t instanceof Error ? `${t.message}|${JSON.stringify((t as { context?: unknown }).context ?? {})}|${t.cause instanceof Error ? t.cause.message : ''}` : JSON.stringify(t);
    expect(s).not.toContain(PIN);
  }
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('serial ZT598 PIN pad over a real pty', () => {
  it('opens, probes, takes a PIN with masked key events; the simulator saw input on, then off', async () => {
    const { pad, keypad, sim, events } = await rig();
    await pad.open();
    expect(pad.connected).toBe(true);
    keypad.onPrompt(() => keypad.press(`${PIN}`));
    const r = await pad.enterPin({ onKey: (e) => events.push(e) });
    expect(r.pin.toString('latin1')).toBe(PIN);
    expect(r.length).toBe(6);
    r.pin.fill(0);
    expect(events.map((e) => e.mask)).toEqual(['*', '**', '***', '****', '*****', '******']);
    expect(events.every((e) => e.key === 'digit')).toBe(true);
    await until(() => sim.received.at(-1) === '5032', 'plain input off');
    expect(sim.received).toEqual(['3', '5032', '5033', '5032']);
    noPinIn(events);
  });

  it('frames written byte by byte (split) are reassembled', async () => {
    const { pad, keypad } = await rig({ splitWrites: true });
    await pad.open();
    keypad.onPrompt(() => keypad.press('1234B5E'));
    const r = await pad.enterPin({ minLength: 4, maxLength: 6, autoEnd: false });
    expect(r.pin.toString('latin1')).toBe('1235'); // B took the 4 back
    r.pin.fill(0);
  });

  it('the Cancel key ends the entry with PinPad_Cancelled; the next entry works', async () => {
    const { pad, keypad } = await rig();
    await pad.open();
    const off = keypad.onPrompt(() => keypad.press('12C'));
    const err = await pad.enterPin().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_Cancelled)).toBe(true);
    off();
    keypad.flush();
    keypad.onPrompt(() => keypad.press(PIN));
    const r = await pad.enterPin();
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
    noPinIn(err);
  });

  it("the driver's own entry timeout → PinPad_Timeout, with the count typed but no digit", async () => {
    const { pad, keypad } = await rig();
    await pad.open();
    keypad.onPrompt(() => keypad.press('24'));
    const err = await pad.enterPin({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_Timeout)).toBe(true);
    expect((err as Error).message).toMatch(/超时.*\/.*timed out/);
    noPinIn(err);
  });

  it("the pad's own EE input-timeout frame ends the entry with PinPad_Timeout", async () => {
    const { pad } = await rig({ inputTimeoutMs: 150 });
    await pad.open();
    const err = await pad.enterPin({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_Timeout)).toBe(true);
  });

  it('a mute pad: open fails with PinPad_NotFound saying what to check', async () => {
    const { pad } = await rig({ mute: true });
    const err = await pad.open().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_NotFound)).toBe(true);
    expect((err as Error).message).toMatch(/波特率.*\/.*baud rate/);
  });

  it('a port that does not exist: PinPad_NotFound naming the path', async () => {
    const pad = new SerialPinPad({ path: '/nonexistent/ttyUSB9' });
    const err = await pad.open().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_NotFound)).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/ttyUSB9');
  });

  it('unplugged mid-entry → PinPad_Disconnected and wiped; replugged → reconnects, probes, and takes a PIN again', async () => {
    const { pad, keypad, pty, sim, statuses } = await rig();
    await pad.open();
    const off = keypad.onPrompt(() => keypad.press('246'));
    const pending = pad.enterPin({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    await until(() => keypad.pending === 0 && sim.inputOn, 'keys sent');
    await pty.unplug();
    const err = await pending;
    expect(isSsCardError(err, ErrorCode.PinPad_Disconnected)).toBe(true);
    expect((err as Error).message).toMatch(/断开.*\/.*disconnected/);
    expect(pad.connected).toBe(false);
    off();
    expect(statuses.at(-1)).toMatchObject({ type: 'pinpad.disconnected' });

    await sim.stop();
    await pty.replug();
    const sim2 = new Zt598Simulator(keypad, { path: pty.b });
    await sim2.start();
    try {
      await until(() => pad.connected, 'reconnect', 8000);
      expect(statuses.at(-1)).toMatchObject({ type: 'pinpad.connected' });
      keypad.flush();
      keypad.onPrompt(() => keypad.press(PIN));
      const r = await pad.enterPin();
      expect(r.pin.toString('latin1')).toBe(PIN);
      r.pin.fill(0);
    } finally {
      await sim2.stop();
    }
    noPinIn(err, statuses);
  });

  it('a second entry while one runs is PinPad_Busy; cancel() ends the first', async () => {
    const { pad } = await rig();
    await pad.open();
    const first = pad.enterPin({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    const second = await pad.enterPin().catch((e: unknown) => e);
    expect(isSsCardError(second, ErrorCode.PinPad_Busy)).toBe(true);
    pad.cancel();
    expect(isSsCardError(await first, ErrorCode.PinPad_Cancelled)).toBe(true);
  });

  it('garbage on the line between frames does not break the pad', async () => {
    const { pad, sim, keypad } = await rig();
    await pad.open();
    await sim.sendRaw(Buffer.from([0x02, 0x41, 0x42, 0x43, 0x02, 0x30, 0x30, 0x31, 0x04, 0x03, 0x30, 0x30]));
    await until(() => pad.framingErrors >= 2, 'framing errors counted');
    keypad.onPrompt(() => keypad.press(PIN));
    const r = await pad.enterPin();
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
  });
});
