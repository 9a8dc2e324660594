/**
 * SsseCard's phone read (DF01 EF06 tag 28) against the virtual card: a read that needs a verified
 * PIN is `denied`, never thrown; after VERIFY, or on a card whose phone is open, the number comes
 * back; the application is selected again afterwards.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { assertSsCardError } from '../../testing/util.js';
import type { CardProfile } from '../sim/profile.js';
import { cardFixture, loadCardProfile } from '../sim/profile.js';
import { SimTransport } from '../sim/sim-transport.js';
import type { PhoneAccess } from '../sim/virtual-card.js';
import { VirtualSsCard } from '../sim/virtual-card.js';
import type { CardTransport } from '../transport.js';
import type { CardReadOptions } from './ssse-card.js';
import { decodePhoneRecord, SsseCard } from './ssse-card.js';
import { verifyPin } from './ssse-operations.js';

async function rig(profile: string, o: { change?: Partial<CardProfile>; access?: PhoneAccess; read?: CardReadOptions } = {}) {
  const vcard = new VirtualSsCard({ ...(await loadCardProfile(cardFixture(profile))), ...o.change }, o.access === undefined ? {} : { phoneAccess: o.access });
  const sent: string[] = [];
  const transport = new SimTransport(vcard, { onCommand: (e) => (e.phase === 'before' ? sent.push(Buffer.from(e.command).toString('hex').toUpperCase()) : undefined) });
  const card = new SsseCard(transport, o.read);
  await card.select();
  return { vcard, card, sent, transport };
}

describe('decodePhoneRecord', () => {
  it.each([
    ['AN, 00-padded', Buffer.concat([Buffer.from('13000000019'), Buffer.alloc(4)]), 'an', '13000000019'],
    ['AN, space- and FF-padded, with +86', Buffer.concat([Buffer.from('+86 130000019 '), Buffer.from([0xff])]), 'an', '+86 130000019'],
    ['AN, all padding', Buffer.alloc(15), 'an', undefined],
    ['AN, not a phone', Buffer.from('PHONE'), 'an', undefined],
    ['CN, F-padded', Buffer.from('13000000019FFFFF', 'hex'), 'cn', '13000000019'],
    ['CN, a digit after the padding', Buffer.from('130F19', 'hex'), 'cn', undefined],
    ['CN, a nibble above 9', Buffer.from('13A0', 'hex'), 'cn', undefined],
    ['CN, all padding', Buffer.from('FFFF', 'hex'), 'cn', undefined],
  ] as const)('%s', (_name, value, encoding, expected) => {
    expect(decodePhoneRecord(value, encoding)).toBe(expected);
  });
});

describe('SsseCard.readPhoneRecord', () => {
  it('needs a verified PIN (the conventions): denied with 6982, no throw, no try spent', async () => {
    const { card, vcard } = await rig('card-2.0');
    await expect(card.readPhoneRecord()).resolves.toEqual({ status: 'denied', sw: 0x6982 });
    await expect(card.readPhone()).resolves.toBeUndefined();
    expect(vcard.pinTriesLeft).toBe(6);
  });

  it('after VERIFY: the number; then the application is selected again (EF05 reads, the verified state is gone)', async () => {
    const { card, sent } = await rig('card-2.0');
    expect(await verifyPin(card, Buffer.from('123456'))).toMatchObject({ status: 'answered', sw: 0x9000 });
    sent.length = 0;
    await expect(card.readPhoneRecord()).resolves.toEqual({ status: 'read', phone: '13000000019' });
    // SELECT DF01, SELECT EF06, READ RECORD by tag 28 (Le 2 + 15), SELECT the application.
    expect(sent.slice(0, 3)).toEqual(['00A4000002DF01', '00A4020002EF06', '00B2280011']);
    expect(sent[3]).toMatch(/^00A404000F7378312E73682EC9E7BBE1B1A3D5CF/);
    expect((await card.readIssuer()).cardNumber).toBe('X00000019');
    await expect(card.readPhoneRecord()).resolves.toEqual({ status: 'denied', sw: 0x6982 });
  });

  it('a card whose phone is open: read without a PIN; by record number when the card is read that way', async () => {
    const { card, sent } = await rig('card-3.0', { access: 'open', read: { addressing: 'record' } });
    await expect(card.readPhone()).resolves.toBe('13000000327');
    expect(sent).toContain('00B2010411');
  });

  it('no phone on the card (empty record): absent', async () => {
    const { card } = await rig('card-not-activated', { access: 'open' });
    await expect(card.readPhoneRecord()).resolves.toEqual({ status: 'absent' });
  });

  it('another tag than the card holds: absent with 6A83', async () => {
    const { card } = await rig('card-2.0', { access: 'open', read: { phone: { tag: 0x29 } } });
    await expect(card.readPhoneRecord()).resolves.toEqual({ status: 'absent', sw: 0x6a83 });
  });

  it('a removed card throws (a transport failure is not "absent")', async () => {
    const { card, transport } = await rig('card-2.0', { access: 'open' });
    transport.remove();
    await expect(card.readPhoneRecord()).rejects.toMatchObject({ code: ErrorCode.Pcsc_CardRemoved });
  });

  it.each(['tag', 'record', 'length', 'encoding'] as const)('a bad phone.%s is refused by name', (which) => {
    const bad = { tag: 0x100, record: 0, length: 0, encoding: 'bcd' }[which];
    const e = assertSsCardError(() => new SsseCard({} as CardTransport, { phone: { [which]: bad } }), ErrorCode.Input_BadOption);
    expect(e.context).toMatchObject({ option: `phone.${which}` });
  });
});
