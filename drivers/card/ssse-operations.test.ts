import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { Psam } from '../psam/psam.js';
import { cardFixture, psamFixture } from '../sim/profile.js';
import type { SimCommandEvent } from '../sim/sim-transport.js';
import { SimTransport } from '../sim/sim-transport.js';
import { VirtualSsCard } from '../sim/virtual-card.js';
import { VirtualPsam } from '../sim/virtual-psam.js';
import type { CardTransport } from '../transport.js';
import { SsseCard } from './ssse-card.js';
import type { OperationOutcome } from './ssse-operations.js';
import { activate, changePin, changePinAfterVerify, reloadPin, removedBeforeSending, unblockPin, verifyPin } from './ssse-operations.js';

const pin = (s: string): Buffer => Buffer.from(s, 'ascii');
/** INS bytes of the state-changing commands. */
const STATE_CHANGING = new Set([0x20, 0x5e, 0x24, 0x18]);
/** VERIFY with the PIN (the presence probe `00 20 00 00` carries none). */
const isPinVerify = (c: Buffer): boolean => c[1] === 0x20 && c.length > 4;
/** The presence probe before VERIFY / CHANGE PIN: VERIFY without data. */
const isProbe = (c: Buffer): boolean => c[1] === 0x20 && c.length === 4;

async function rig(profile: string, hook?: (e: SimCommandEvent, t: SimTransport) => void) {
  const vcard = await VirtualSsCard.fromFile(cardFixture(profile));
  const sent: Buffer[] = [];
  const holder: { t?: SimTransport } = {};
  const transport = new SimTransport(vcard, {
    onCommand: (e) => {
      if (e.phase === 'before') sent.push(Buffer.from(e.command));
      hook?.(e, holder.t!);
    },
  });
  holder.t = transport;
  const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
  await psam.open();
  const card = new SsseCard(transport);
  await card.readBasics(psam, () => Buffer.alloc(card.selectedAlgorithm === 'SM4' ? 16 : 8, 0x11));
  sent.length = 0;
  return { vcard, transport, psam, card, sent };
}

function sw(o: OperationOutcome): number | undefined {
  return o.status === 'answered' ? o.sw : undefined;
}

describe('ssse-operations against the virtual card', () => {
  it('VERIFY: right PIN 9000, wrong PIN 63C5, both buffers wiped, one VERIFY each', async () => {
    const { card, vcard, sent } = await rig('card-2.0');
    const good = pin('123456');
    expect(sw(await verifyPin(card, good))).toBe(0x9000);
    expect(good.every((b) => b === 0)).toBe(true);
    const bad = pin('111111');
    const o = await verifyPin(card, bad);
    expect(o).toMatchObject({ status: 'answered', sw: 0x63c5, triesLeft: 5, blocked: false });
    expect(bad.every((b) => b === 0)).toBe(true);
    expect(vcard.pinTriesLeft).toBe(5);
    expect(sent.filter(isPinVerify)).toHaveLength(2);
    // each VERIFY right after its presence probe
    expect(sent.map((c) => (isProbe(c) ? 'probe' : isPinVerify(c) ? 'verify' : 'other'))).toEqual(['probe', 'verify', 'probe', 'verify']);
  });

  it('CHANGE PIN then VERIFY with the new one', async () => {
    const { card } = await rig('card-3.0');
    expect(sw(await changePin(card, pin('246810'), pin('802461')))).toBe(0x9000);
    expect(sw(await verifyPin(card, pin('802461')))).toBe(0x9000);
  });

  it.each([
    ['card-2.0', 'pboc', 0x5e],
    ['card-3.0', 'ssse3', 0x24],
  ])('RELOAD PIN on %s (%s form) sets the PIN and restores the tries', async (profile, _form, ins) => {
    const { card, psam, vcard, sent } = await rig(profile);
    await verifyPin(card, pin('000000'));
    expect(vcard.pinTriesLeft).toBe(5);
    expect(sw(await reloadPin(card, psam, pin('802461')))).toBe(0x9000);
    expect(vcard.pinTriesLeft).toBe(6);
    expect(sent.filter((c) => c[1] === ins && c[0] !== 0x00)).toHaveLength(1);
    expect(sw(await verifyPin(card, pin('802461')))).toBe(0x9000);
  });

  it('PIN UNBLOCK on the locked card', async () => {
    const { card, psam, vcard } = await rig('card-locked');
    expect(vcard.pinTriesLeft).toBe(0);
    expect(sw(await verifyPin(card, pin('135790')))).toBe(0x6983);
    expect(sw(await unblockPin(card, psam, pin('802461')))).toBe(0x9000);
    expect(vcard.pinTriesLeft).toBe(6);
    expect(sw(await verifyPin(card, pin('802461')))).toBe(0x9000);
  });

  it('activation: APP UNBLOCK then the holder PIN; the card is active with that PIN', async () => {
    const { card, psam, vcard } = await rig('card-not-activated');
    expect(vcard.cardState).toBe('notActivated');
    const p = pin('802461');
    const o = await activate(card, psam, p);
    expect(sw(o.appUnblock)).toBe(0x9000);
    expect(o.pin && sw(o.pin)).toBe(0x9000);
    expect(p.every((b) => b === 0)).toBe(true);
    expect(vcard.cardState).toBe('active');
    expect(sw(await verifyPin(card, pin('802461')))).toBe(0x9000);
  });

  it('removal as the state-changing APDU goes (the transport does not say it was not sent): unknown, no try spent', async () => {
    const { card, vcard } = await rig('card-2.0', (e, t) => {
      if (e.phase === 'before' && isPinVerify(e.command)) t.remove();
    });
    const o = await verifyPin(card, pin('111111'));
    expect(o.status).toBe('unknown');
    expect(o.status !== 'answered' && o.error.code).toBe(ErrorCode.Flow_OutcomeUnknown);
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('removal after the state-changing APDU: unknown, and the card did change', async () => {
    const { card, vcard } = await rig('card-2.0', (e, t) => {
      if (e.phase === 'after' && isPinVerify(e.command)) t.remove();
    });
    const o = await verifyPin(card, pin('111111'));
    expect(o.status).toBe('unknown');
    expect(vcard.pinTriesLeft).toBe(5);
  });

  it('removal during the preparation (GET CHALLENGE): notSent, no state-changing APDU reached the card', async () => {
    const seen: number[] = [];
    const { card, psam, vcard } = await rig('card-2.0', (e, t) => {
      if (e.phase === 'before') seen.push(e.command[1]!);
      if (e.phase === 'before' && e.command[1] === 0x84) t.remove();
    });
    const o = await reloadPin(card, psam, pin('802461'));
    expect(o.status).toBe('notSent');
    expect(o.status !== 'answered' && o.error.code).toBe(ErrorCode.Flow_NotSent);
    expect(seen.some((ins) => STATE_CHANGING.has(ins))).toBe(false);
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('never retries: a failing transport sees the state-changing APDU once', async () => {
    let count = 0;
    const { card } = await rig('card-2.0', (e, t) => {
      if (e.phase === 'before' && e.command[1] === 0x5e) {
        count++;
        t.remove();
      }
    });
    expect((await changePin(card, pin('123456'), pin('802461'))).status).toBe('unknown');
    expect(count).toBe(1);
  });
});

describe('changePinAfterVerify: VERIFY, read what the verified PIN opens, then CHANGE PIN (each once)', () => {
  /** A check that reads the phone and refuses a new PIN found in it. */
  const phoneCheck = async (c: SsseCard, newPin: Uint8Array): Promise<string | undefined> => {
    const phone = await c.readPhone();
    return phone !== undefined && phone.includes(Buffer.from(newPin).toString('latin1')) ? 'phone' : undefined;
  };
  const ins = (sent: Buffer[]) => sent.filter((c) => !isProbe(c)).map((c) => c[1]).filter((i) => i === 0x20 || i === 0x5e || i === 0xb2);

  it('a PIN not in the phone: VERIFY, READ RECORD, CHANGE PIN; the card holds the new PIN; buffers wiped', async () => {
    const { card, vcard, sent } = await rig('card-2.0');
    const [o, n] = [pin('123456'), pin('802461')];
    expect(await changePinAfterVerify(card, o, n, phoneCheck)).toMatchObject({ status: 'answered', sw: 0x9000 });
    expect(ins(sent)).toEqual([0x20, 0xb2, 0x5e]);
    expect(vcard.toProfile().pin.toString()).toBe('802461');
    expect([o, n].every((b) => b.every((x) => x === 0))).toBe(true);
  });

  it('a PIN from the phone: refused after the VERIFY, no CHANGE PIN, the PIN unchanged', async () => {
    const { card, vcard, sent } = await rig('card-2.0');
    const r = await changePinAfterVerify(card, pin('123456'), pin('000019'), phoneCheck);
    expect(r).toEqual({ status: 'refused', sw: 0x9000, reason: 'phone' });
    expect(ins(sent)).toEqual([0x20, 0xb2]);
    expect(vcard.toProfile().pin.toString()).toBe('123456');
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('a wrong old PIN: the VERIFY’s 63C5 is the outcome, one try spent, nothing read or changed', async () => {
    const { card, vcard, sent } = await rig('card-2.0');
    expect(await changePinAfterVerify(card, pin('111111'), pin('802461'), phoneCheck)).toMatchObject({ status: 'answered', sw: 0x63c5, triesLeft: 5 });
    expect(ins(sent)).toEqual([0x20]);
    expect(vcard.pinTriesLeft).toBe(5);
  });

  it('the card pulled during the read: notSent (CHANGE PIN never went), the PIN unchanged', async () => {
    let armed = false;
    const { card, vcard, sent } = await rig('card-2.0', (e, t) => {
      if (armed && e.phase === 'before' && e.command[1] === 0xb2) t.remove();
    });
    armed = true;
    const r = await changePinAfterVerify(card, pin('123456'), pin('802461'), phoneCheck);
    expect(r.status).toBe('notSent');
    expect(r.status === 'notSent' && r.error.code).toBe(ErrorCode.Flow_NotSent);
    expect(sent.some((c) => c[1] === 0x5e)).toBe(false);
    expect(vcard.toProfile().pin.toString()).toBe('123456');
  });

  it('the VERIFY’s answer lost: unknown, nothing more sent', async () => {
    const { card, sent } = await rig('card-2.0', (e, t) => {
      if (e.phase === 'after' && isPinVerify(e.command)) t.remove();
    });
    expect((await changePinAfterVerify(card, pin('123456'), pin('802461'), phoneCheck)).status).toBe('unknown');
    expect(ins(sent)).toEqual([0x20]);
  });
});

describe('a card taken out before the state-changing command: notSent, never unknown', () => {
  /** The rig's card over a transport that fails the PIN-bearing VERIFY with `error` instead of sending it. */
  async function failingVerify(error: SsCardError) {
    const r = await rig('card-2.0');
    const inner = r.transport;
    const transport: CardTransport = {
      readerName: inner.readerName,
      protocol: inner.protocol,
      get atr() {
        return inner.atr;
      },
      get isOpen() {
        return inner.isOpen;
      },
      transmit: (c, o) => (isPinVerify(Buffer.from(c)) ? Promise.reject(error) : inner.transmit(c, o)),
      control: (code, data, max) => inner.control(code, data, max),
      reset: () => inner.reset(),
      close: (d) => inner.close(d),
    };
    const card = new SsseCard(transport);
    await card.select();
    r.sent.length = 0;
    return { ...r, card };
  }

  it('pulled before the probe: notSent with the removal as cause, the VERIFY never reached the card', async () => {
    const { card, vcard, sent, transport } = await rig('card-2.0');
    transport.remove();
    const o = await verifyPin(card, pin('111111'));
    expect(o.status).toBe('notSent');
    expect(o.status === 'notSent' && o.error.code).toBe(ErrorCode.Flow_NotSent);
    expect(o.status === 'notSent' && o.error.context).toMatchObject({ cause: ErrorCode.Pcsc_CardRemoved });
    expect(o.status === 'notSent' && o.error.message).toMatch(/发出前已被取出.*taken out before VERIFY was sent/);
    expect(removedBeforeSending(o)).toBe(true);
    expect(sent.filter(isPinVerify)).toHaveLength(0);
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('the probe fails for another reason (a reader error): notSent, but not a removal', async () => {
    const { card, sent } = await rig('card-2.0', (e) => {
      if (e.phase === 'before' && isProbe(e.command)) throw new SsCardError(ErrorCode.Pcsc_TransmitFailed, { zh: '读卡器故障', en: 'reader failed' });
    });
    const o = await changePin(card, pin('123456'), pin('802461'));
    expect(o.status).toBe('notSent');
    expect(removedBeforeSending(o)).toBe(false);
    expect(sent.some((c) => c[1] === 0x5e)).toBe(false);
  });

  it('the transport marks the failed VERIFY notSent (pcscd refused it before the driver): notSent', async () => {
    const removed = new SsCardError(ErrorCode.Pcsc_CardRemoved, { zh: '卡片已被取出', en: 'the card was removed' }, { op: 'transmit', pcscCode: '0x80100069', notSent: true });
    const { card, vcard } = await failingVerify(removed);
    const o = await verifyPin(card, pin('111111'));
    expect(o.status).toBe('notSent');
    expect(removedBeforeSending(o)).toBe(true);
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('the same removal without the mark (it may have reached the card): unknown', async () => {
    const removed = new SsCardError(ErrorCode.Pcsc_CardRemoved, { zh: '卡片已被取出', en: 'the card was removed' }, { op: 'transmit', presence: 'absent' });
    const { card } = await failingVerify(removed);
    const o = await verifyPin(card, pin('111111'));
    expect(o.status).toBe('unknown');
    expect(o.status === 'unknown' && o.error.code).toBe(ErrorCode.Flow_OutcomeUnknown);
    expect(removedBeforeSending(o)).toBe(false);
  });
});
