/**
 * No PIN in any APDU trace, on the card's reader or the PSAM's (README "PIN secrecy"): every
 * PIN-bearing flow (verify, change, PBOC and 3.0 reload, unblock, activation) on the 2.0 and the
 * 3.0 virtual card with the test PSAM, each behind a real PcscChannel (the one that writes the
 * trace) over the fake pcsclite addon. The trace is scanned for the PINs in every form
 * (testing/pin-scan.ts) and for the clear and encrypted PIN blocks the flows produced.
 *
 * The secret is marked where it is built (core/secret.ts), so this holds for commands that are
 * not PIN-bearing by their INS, such as the PSAM's COMPUTE MAC over a RELOAD PIN's data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findLeaks, needlesFor, pinBlockNeedles } from '../../testing/pin-scan.js';
import type { Needle } from '../../testing/pin-scan.js';
import type { TraceEntry } from '../pcsc/channel.js';
import { FAKE_PSAM_READER, fakeReaders } from '../../testing/fake-pcsc-readers.js';
import { Psam } from '../psam/psam.js';
import { cardFixture, psamFixture } from '../sim/profile.js';
import { VirtualSsCard } from '../sim/virtual-card.js';
import { VirtualPsam } from '../sim/virtual-psam.js';
import { SsseCard } from './ssse-card.js';
import { activate, changePin, changePinAfterVerify, reloadPin, unblockPin, verifyPin } from './ssse-operations.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const pin = (s: string): Buffer => Buffer.from(s, 'ascii');

async function rig(profile: string) {
  const vcard = await VirtualSsCard.fromFile(cardFixture(profile));
  const readers = await fakeReaders(vcard, await VirtualPsam.fromFile(psamFixture('psam-test')));
  stops.push(() => readers.stop());
  const psam = new Psam(readers.psam);
  await psam.open();
  const card = new SsseCard(readers.card);
  await card.readBasics(psam);
  const blocks = (pins: readonly string[]): Needle[] => pinBlockNeedles(cardFixture(profile), pins);
  return { card, psam, trace: readers.trace, blocks };
}

function expectNoLeak(trace: readonly TraceEntry[], needles: readonly Needle[]): void {
  const text = trace.map((t) => `${t.reader} ${t.direction} ${t.hex}`).join('\n');
  expect(trace.length).toBeGreaterThan(10);
  expect(findLeaks(text, needles)).toEqual([]);
}

describe('APDU traces hold no PIN, PIN block or key on either reader', () => {
  it.each([
    ['card-2.0', '123456', 'pboc'],
    ['card-3.0', '246810', 'ssse3'],
  ] as const)('%s: verify (wrong and right), change, change after verify, reload, unblock', async (profile, current, form) => {
    const { card, psam, trace, blocks } = await rig(profile);
    const pins = [current, '864209', '975312', '531864', '208642'];
    expect((await verifyPin(card, pin('864209'))).status).toBe('answered');
    expect(await verifyPin(card, pin(current))).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(await changePin(card, pin(current), pin('975312'))).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(await changePinAfterVerify(card, pin('975312'), pin('531864'), () => Promise.resolve(undefined))).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(await reloadPin(card, psam, pin('208642'), { form })).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(await unblockPin(card, psam, pin('864209'))).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(await verifyPin(card, pin('864209'))).toMatchObject({ status: 'answered', sw: 0x9000 });
    // The PSAM did compute MACs over PIN-bearing data and encrypt PIN blocks on its own reader.
    expect(trace.some((t) => t.reader === FAKE_PSAM_READER && t.direction === 'C' && t.hex.startsWith('80 FA 05 00'))).toBe(true);
    expect(trace.some((t) => t.reader === FAKE_PSAM_READER && t.direction === 'C' && t.hex.startsWith('80 FA 00 00') && t.hex.includes('redacted'))).toBe(true);
    expectNoLeak(trace, [...needlesFor(pins), ...blocks(pins)]);
  });

  it('the PBOC reload on a 3.0 card and the 3.0 reload on a 2.0 card (profile settings) leak nothing either', async () => {
    for (const [profile, form] of [['card-3.0', 'pboc'], ['card-2.0', 'ssse3']] as const) {
      const { card, psam, trace, blocks } = await rig(profile);
      await reloadPin(card, psam, pin('208642'), { form });
      expectNoLeak(trace, [...needlesFor(['208642']), ...blocks(['208642'])]);
    }
  });

  it('activation of a not-activated card (APPLICATION UNBLOCK, then the holder’s PIN)', async () => {
    const { card, psam, trace, blocks } = await rig('card-not-activated');
    const o = await activate(card, psam, pin('864209'));
    expect(o.appUnblock).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(o.pin).toMatchObject({ status: 'answered', sw: 0x9000 });
    expectNoLeak(trace, [...needlesFor(['864209']), ...blocks(['864209'])]);
  });

  it('the scanner sees a PIN in the form the unmarked trace printed it (the PSAM COMPUTE MAC of a PBOC reload)', async () => {
    const { card, psam, trace } = await rig('card-2.0');
    await reloadPin(card, psam, pin('208642'), { form: 'pboc' });
    const mac = trace.find((t) => t.reader === FAKE_PSAM_READER && t.direction === 'C' && t.hex.startsWith('80 FA 05 00'))!;
    expect(mac.hex).toBe('80 FA 05 00 10 [16 bytes redacted]');
    const unmarked = '80 FA 05 00 10 1F 2E 3D 4C 5B 6A 79 88 80 5E 00 00 07 20 86 42';
    expect(findLeaks(unmarked, needlesFor(['208642'])).some((f) => f.startsWith('PIN 208642 BCD as hex text "20 86 42" at byte '))).toBe(true);
  });
});
