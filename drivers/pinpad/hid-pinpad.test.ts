import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { SimHidBinding } from '../sim/pinpad-hid.js';
import { SimKeypad } from '../sim/pinpad-keypad.js';
import { fixturesDir } from '../sim/profile.js';
import type { HidPinPadConfig } from './hid-pinpad.js';
import { HidKeyDecoder, HidPinPad, parseHidPinPadConfig } from './hid-pinpad.js';
import type { PinKeyEvent, PinPadStatus } from './pinpad.js';

const model = (name: string): HidPinPadConfig => parseHidPinPadConfig(JSON.parse(readFileSync(`${fixturesDir()}/pinpads/${name}.json`, 'utf8')), name);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');
const PIN = '135790';

describe('HID key decoding', () => {
  it('boot keyboard reports (golden): press, hold, release, two keys at once', () => {
    const d = new HidKeyDecoder(model('hid-numpad').keyMap);
    // 00 | 00 | 59 00 00 00 00 00   modifiers 0, reserved, key1 = 0x59 Keypad 1 → "1" pressed
    expect(d.decode(hex('00 00 59 00 00 00 00 00'))).toEqual([{ type: 'digit', digit: 1 }]);
    // the same report again: still held, no new press
    expect(d.decode(hex('00 00 59 00 00 00 00 00'))).toEqual([]);
    // 0x59 still held, 0x62 Keypad 0 added → "0" pressed
    expect(d.decode(hex('00 00 59 62 00 00 00 00'))).toEqual([{ type: 'digit', digit: 0 }]);
    // all released
    expect(d.decode(hex('00 00 00 00 00 00 00 00'))).toEqual([]);
    // 0x58 Keypad Enter
    expect(d.decode(hex('00 00 58 00 00 00 00 00'))).toEqual([{ type: 'enter' }]);
    // 0x01 ErrorRollOver in every slot: ignored, the state kept
    expect(d.decode(hex('00 00 01 01 01 01 01 01'))).toEqual([]);
    // an unmapped usage (0x04 "a") is ignored
    expect(d.decode(hex('00 00 04 00 00 00 00 00'))).toEqual([]);
  });

  it('vendor byte reports with a report id (golden)', () => {
    const d = new HidKeyDecoder(model('hid-vendor-byte').keyMap);
    // 02 | 37   report id 2, key code 0x37 → "7"
    expect(d.decode(hex('02 37'))).toEqual([{ type: 'digit', digit: 7 }]);
    // 02 | 00   released
    expect(d.decode(hex('02 00'))).toEqual([]);
    // 02 | 1B   Escape → cancel
    expect(d.decode(hex('02 1b'))).toEqual([{ type: 'cancel' }]);
  });

  it('property: any report yields a (possibly empty) list of keys, never throws', () => {
    for (const m of ['hid-numpad', 'hid-vendor-byte']) {
      const d = new HidKeyDecoder(model(m).keyMap);
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 10 }), (reports) => {
          for (const r of reports) {
            const keys = d.decode(r);
            expect(Array.isArray(keys)).toBe(true);
            for (const k of keys) expect(['digit', 'enter', 'cancel', 'backspace', 'clear']).toContain(k.type);
          }
        }),
      );
    }
  });

  it.each([
    ['vendorId', { vendorId: 'abc' }, 'vendorId'],
    ['decoder', { keyMap: { decoder: 'mouse', keys: {} } }, 'keyMap.decoder'],
    ['key name', { keyMap: { decoder: 'byte', keys: { '0x30': 'zero' } } }, 'keyMap.keys["0x30"]'],
    ['key code', { keyMap: { decoder: 'byte', keys: { '999': '0' } } }, 'keyMap.keys["999"]'],
  ])('a bad %s in a model config is Config_Invalid naming the field', (_n, patch, field) => {
    const base = { model: 'x', vendorId: 1, productId: 2, keyMap: { decoder: 'byte', keys: {} } };
    try {
      parseHidPinPadConfig({ ...base, ...patch }, 'test.json');
      expect.unreachable();
    } catch (e) {
      expect(isSsCardError(e, ErrorCode.Config_Invalid)).toBe(true);
      expect((e as Error).message).toContain(field);
    }
  });
});

describe('HidPinPad through an injected device object', () => {
  let pad: HidPinPad | undefined;
  afterEach(async () => {
    await pad?.close();
    pad = undefined;
  });

  function rig(name = 'hid-numpad') {
    const config = model(name);
    const keypad = new SimKeypad();
    const binding = new SimHidBinding(config, keypad);
    pad = new HidPinPad({ config, binding, pollMs: 20 });
    const statuses: PinPadStatus[] = [];
    pad.onStatus((s) => statuses.push(s));
    return { pad, keypad, binding, statuses };
  }

  it.each([['hid-numpad'], ['hid-vendor-byte']])('takes a PIN on %s, events masked', async (name) => {
    const { pad, keypad } = rig(name);
    await pad.open();
    const events: PinKeyEvent[] = [];
    keypad.press(`${PIN}`);
    const r = await pad.enterPin({ onKey: (e) => events.push(e) });
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
    expect(events.map((e) => e.count)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(JSON.stringify(events)).not.toMatch(/[0-9]"/);
  });

  it('not plugged in: PinPad_NotFound names the vendor:product id and the udev hint', async () => {
    const { pad, binding } = rig();
    binding.unplug();
    const err = await pad.open().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_NotFound)).toBe(true);
    expect((err as Error).message).toMatch(/1234:5678.*hidraw.*\/.*1234:5678.*hidraw/);
  });

  it('unplugged mid-entry → PinPad_Disconnected; plugged back → found by polling, entry works', async () => {
    const { pad, keypad, binding, statuses } = rig();
    await pad.open();
    keypad.press('13');
    const pending = pad.enterPin({ timeoutMs: 5000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    binding.unplug();
    const err = await pending;
    expect(isSsCardError(err, ErrorCode.PinPad_Disconnected)).toBe(true);
    expect(statuses.map((s) => s.type)).toEqual(['pinpad.connected', 'pinpad.disconnected']);
    binding.plug();
    for (let i = 0; i < 100 && !pad.connected; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pad.connected).toBe(true);
    expect(binding.opens).toBe(2);
    keypad.flush();
    keypad.press(PIN);
    const r = await pad.enterPin();
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
  });

  it('garbage reports do not disturb an entry', async () => {
    const { pad, keypad, binding } = rig();
    await pad.open();
    const pending = pad.enterPin();
    binding.sendReport(hex('ff ff ff'));
    binding.sendReport(hex(''));
    binding.sendReport(hex('00 00 04 05 06 07 08 09 0a 0b'));
    binding.sendReport(hex('00 00 00 00 00 00 00 00'));
    keypad.press(PIN);
    const r = await pending;
    expect(r.pin.toString('latin1')).toBe(PIN);
    r.pin.fill(0);
  });
});
