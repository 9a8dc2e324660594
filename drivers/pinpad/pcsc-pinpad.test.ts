import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { selectAid } from '../../apdu/ssse.js';
import { Part10SimReader } from '../sim/part10-reader.js';
import { SimKeypad } from '../sim/pinpad-keypad.js';
import { cardFixture } from '../sim/profile.js';
import { SimTransport } from '../sim/sim-transport.js';
import { VirtualSsCard } from '../sim/virtual-card.js';
import { Feature } from './part10.js';
import { PcscPinPad } from './pcsc-pinpad.js';
import type { PinPadStatus } from './pinpad.js';

const PIN = '123456'; // card-2.0.json's test PIN

async function rig(options: ConstructorParameters<typeof Part10SimReader>[2] = {}) {
  const card = await VirtualSsCard.fromFile(cardFixture('card-2.0'));
  const inner = new SimTransport(card, { protocol: 'T0' });
  const keypad = new SimKeypad();
  const reader = new Part10SimReader(inner, keypad, { msPerSecond: 20, ...options });
  const sw = await reader.transmit(selectAid());
  expect(sw.subarray(-2).toString('hex')).toMatch(/^(9000|61..)$/);
  const pad = new PcscPinPad(reader, { marginMs: 2000 });
  const statuses: PinPadStatus[] = [];
  pad.onStatus((s) => statuses.push(s));
  return { card, inner, keypad, reader, pad, statuses };
}

/** Every string the test can observe must be free of the PIN digits. */
function assertNoPin(...things: unknown[]): void {
  for (const t of things) {
    const text = t instanceof Error ? `${t.message} ${JSON.stringify((t as { context?: unknown }).context ?? {})}` : JSON.stringify(t);
    expect(text).not.toContain(PIN);
    expect(text).not.toContain('654321');
  }
}

describe('PcscPinPad over the simulated Part 10 reader', () => {
  let closeAll: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await closeAll?.();
    closeAll = undefined;
  });

  it('discovers the features and properties once', async () => {
    const { pad, reader, statuses } = await rig();
    closeAll = () => pad.close();
    await pad.open();
    expect(pad.capabilities).toEqual({ plainEntry: false, secureVerify: true, secureChange: true });
    expect(pad.featureCodes.get(Feature.VERIFY_PIN_DIRECT)).toBe(0x42330006);
    expect(pad.tlvProperties).toMatchObject({ minPinSize: 4, maxPinSize: 12, vendorId: 0x046a });
    expect(pad.pinProperties).toEqual({ lcdLayout: 0, entryValidationCondition: 7, timeOut2: 0 });
    expect(reader.calls.get(Feature.GET_TLV_PROPERTIES)).toBe(1);
    expect(statuses).toEqual([{ type: 'pinpad.connected', name: reader.readerName }]);
  });

  it('secure VERIFY: the reader sends the PIN, the card answers 9000; a wrong PIN answers 63C5', async () => {
    const { pad, keypad, card } = await rig();
    keypad.press(`${PIN}E`);
    const ok = await pad.secureVerify();
    expect(ok.sw).toBe(0x9000);
    keypad.press('111111E');
    const bad = await pad.secureVerify();
    expect(bad.sw).toBe(0x63c5);
    expect(card.pinTriesLeft).toBe(5);
    assertNoPin(ok, bad);
  });

  it('secure CHANGE PIN: old, new, confirm; the new PIN then verifies', async () => {
    const { pad, keypad } = await rig();
    keypad.press(`${PIN}E654321E654321E`);
    expect((await pad.secureChange()).sw).toBe(0x9000);
    keypad.press('654321E');
    expect((await pad.secureVerify()).sw).toBe(0x9000);
  });

  it.each([
    ['Cancel key → 6401 → PinPad_Cancelled', '12C', ErrorCode.PinPad_Cancelled],
    ['too short → 6403 → PinPad_BadLength', '123E', ErrorCode.PinPad_BadLength],
    ['no key → 6400 → PinPad_Timeout', '', ErrorCode.PinPad_Timeout],
  ])('%s, and no try is spent', async (_n, keys, code) => {
    const { pad, keypad, card } = await rig();
    keypad.press(keys);
    const err = await pad.secureVerify({ timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(isSsCardError(err, code)).toBe(true);
    expect(card.pinTriesLeft).toBe(6);
    assertNoPin(err);
  });

  it('the two new PINs differ → 6402 → PinPad_Mismatch, the PIN is unchanged', async () => {
    const { pad, keypad } = await rig();
    keypad.press(`${PIN}E654321E654320E`);
    const err = await pad.secureChange().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_Mismatch)).toBe(true);
    keypad.press(`${PIN}E`);
    expect((await pad.secureVerify()).sw).toBe(0x9000);
    assertNoPin(err);
  });

  it('unplugged mid-entry → PinPad_Disconnected and a disconnected status; replugged → works again', async () => {
    const { pad, keypad, reader, statuses } = await rig();
    keypad.press('12');
    const pending = pad.secureVerify().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    reader.unplug();
    const err = await pending;
    expect(isSsCardError(err, ErrorCode.PinPad_Disconnected)).toBe(true);
    expect((err as Error).message).toMatch(/断开.*\/.*disconnected/);
    expect(statuses.at(-1)?.type).toBe('pinpad.disconnected');
    reader.replug();
    keypad.flush();
    keypad.press(`${PIN}E`);
    expect((await pad.secureVerify()).sw).toBe(0x9000);
    assertNoPin(err, statuses);
  });

  it('an AbortSignal ends the wait with PinPad_Cancelled', async () => {
    const { pad, reader } = await rig({ msPerSecond: 1000 });
    closeAll = () => reader.close();
    const ac = new AbortController();
    const pending = pad.secureVerify({ timeoutMs: 30_000 }, ac.signal).catch((e: unknown) => e);
    ac.abort();
    expect(isSsCardError(await pending, ErrorCode.PinPad_Cancelled)).toBe(true);
  });

  it('a reader without a keypad is PinPad_NotFound, saying what to do', async () => {
    const card = await VirtualSsCard.fromFile(cardFixture('card-2.0'));
    const pad = new PcscPinPad(new SimTransport(card));
    const err = await pad.open().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_NotFound)).toBe(true);
    expect((err as Error).message).toMatch(/读卡器.*键盘.*\/.*PIN pad/);
  });

  it('plain entry is refused: the digits never leave a keypad reader', async () => {
    const { pad } = await rig();
    const err = await pad.enterPin().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_Unsupported)).toBe(true);
  });

  it('a reader offering VERIFY only refuses CHANGE with PinPad_Unsupported', async () => {
    const { pad } = await rig({ features: [Feature.VERIFY_PIN_DIRECT] });
    await pad.open();
    expect(pad.capabilities.secureChange).toBe(false);
    const err = await pad.secureChange().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.PinPad_Unsupported)).toBe(true);
  });

  it('min ≠ max is refused for secure entry (the BCD block is fixed)', async () => {
    const { pad } = await rig();
    const err = await pad.secureVerify({ minLength: 4, maxLength: 6 }).catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.Input_BadOption)).toBe(true);
  });
});
