import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { parseConfig } from './config.js';
import { SIM_PSAM_READER, resolveSimulation } from './simulation.js';

describe('simulation-dependent defaults', () => {
  it('simulate "on" fills the simulator devices, "off" the real ones, "auto" leaves them to resolveSimulation', () => {
    const on = parseConfig({ simulate: 'on' }, 'x');
    expect(on.readers.psam).toBe(SIM_PSAM_READER);
    expect(on.pinPad.kind).toBe('touchscreen');
    expect(on.idReader.kind).toBe('simulated');
    const off = parseConfig({ simulate: 'off' }, 'x');
    expect(off.readers.psam).toBeNull();
    expect(off.pinPad.kind).toBe('none');
    expect(off.idReader.kind).toBe('none');
    const auto = parseConfig({}, 'x');
    expect(auto.pinPad.kind).toBeUndefined();
    expect(auto.readers.psam).toBeUndefined();
    expect(resolveSimulation(auto, true)).toMatchObject({ simulate: 'on', readers: { psam: SIM_PSAM_READER }, pinPad: { kind: 'touchscreen' }, idReader: { kind: 'simulated' } });
    expect(resolveSimulation(auto, false)).toMatchObject({ simulate: 'off', readers: { psam: null }, pinPad: { kind: 'none' }, idReader: { kind: 'none' } });
  });

  it('configured values win over the simulation defaults', () => {
    const c = resolveSimulation(parseConfig({ readers: { psam: null }, pinPad: { kind: 'hid', vendorId: 0x1234, productId: 0x5678 } }, 'x'), true);
    expect(c.readers.psam).toBeNull();
    expect(c.pinPad.kind).toBe('hid');
  });

  it('a touchscreen pad on a real terminal needs allowTouchscreen', () => {
    expect(() => parseConfig({ simulate: 'off', pinPad: { kind: 'touchscreen' } }, 'x')).toThrow(/^ {2}pinPad\.allowTouchscreen = \(missing\): .*set pinPad\.allowTouchscreen = true/m);
    expect(parseConfig({ simulate: 'off', pinPad: { kind: 'touchscreen', allowTouchscreen: true } }, 'x').pinPad.kind).toBe('touchscreen');
    expect(parseConfig({ simulate: 'on', pinPad: { kind: 'touchscreen' } }, 'x').pinPad.kind).toBe('touchscreen');
    // "auto": decided at start
    const auto = parseConfig({ pinPad: { kind: 'touchscreen' } }, 'x');
    expect(() => resolveSimulation(auto, true)).not.toThrow();
    let err: unknown;
    try {
      resolveSimulation(auto, false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SsCardError);
    expect((err as SsCardError).code).toBe(ErrorCode.Config_Invalid);
    expect((err as SsCardError).text.en).toMatch(/pinPad\.allowTouchscreen.*encrypting PIN pad/);
  });
});
