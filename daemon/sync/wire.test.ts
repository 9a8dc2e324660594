import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { maskAgent, maskIdentity } from '../journal/identity.js';
import type { CardIdentity } from '../journal/identity.js';
import type { OperationRow } from '../journal/types.js';
import { MATERIALS } from '../../state/materials.js';
import { ROLES } from '../../state/roles.js';
import { CARD_STATES, OPERATION_KINDS, OUTCOMES } from '../journal/types.js';
import { MATERIAL_TO_WIRE, ROLE_TO_WIRE, bankRequestToWire, toWire } from './to-wire.js';
import { WIRE_CARD_STATES, WIRE_KINDS, WIRE_MATERIALS, WIRE_OUTCOMES, WIRE_ROLES, checkWireBankRequest, checkWireOperation, parseHotlistResponse, parsePushResponse, unstorableText } from './wire.js';

const CARD: CardIdentity = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };
const ROW: OperationRow = {
  seq: 1, id: '01932d8e-3c1a-7b2e-9f00-5d3c1a2b4e6f', terminalId: 'T-1', operatorId: null, serviceItem: '11410402785096902M500201401000601',
  kind: 'change', role: 'kiosk', state: 'interrupted', outcome: 'unknown', reason: 'interrupted', lastSw: 0x63c2, triesLeft: 2,
  cardState: null, materials: ['socialSecurityCard'], missing: [], startedAt: Date.UTC(2025, 0, 6, 2, 3, 4, 5), finishedAt: null,
  syncState: 'unsynced', syncedAt: null, reconciles: null, cardHash: 'ab', card: maskIdentity(CARD), agent: null,
};

describe('toWire', () => {
  it('carries the identity in clear, masked, or not at all, as configured', () => {
    expect(toWire({ row: ROW, identity: CARD }, 'full').card).toEqual({ ...CARD, masked: false });
    expect(toWire({ row: ROW, identity: CARD }, 'masked').card).toEqual({ cardId: '410402**********************B5A0', cardNumber: 'Y0****327', socialSecurityNumber: '410402********0047', name: '李**', masked: true });
    expect(toWire({ row: ROW, identity: CARD }, 'none').card).toBeNull();
  });

  it('an agent (state/agents.ts) goes with the same identity mode as the card; the basis always; null when the holder applied', () => {
    const agent = { basis: 'guardianship' as const, idNumber: '410402199001010013', name: '王监护' };
    const row = { ...ROW, agent: maskAgent(agent) };
    expect(toWire({ row, identity: CARD, agent }, 'full').agent).toEqual({ basis: 'guardianship', idNumber: agent.idNumber, name: '王监护', masked: false });
    expect(toWire({ row, identity: CARD, agent }, 'masked').agent).toEqual({ basis: 'guardianship', idNumber: '410402********0013', name: '王**', masked: true });
    expect(toWire({ row, identity: null }, 'none').agent).toEqual({ basis: 'guardianship', idNumber: null, name: null, masked: true });
    expect(toWire({ row: ROW, identity: CARD }, 'full').agent).toBeNull();
    expect(checkWireOperation(toWire({ row, identity: CARD, agent }, 'full'))).toBeUndefined();
    expect(checkWireOperation({ ...toWire({ row, identity: CARD, agent }, 'full'), agent: { basis: 'friend' } })).toBe('agent.basis invalid');
    expect(checkWireOperation({ ...toWire({ row: ROW, identity: CARD }, 'full'), materials: ['passport'] })).toBe('materials holds an unknown material');
  });

  it('formats the status word and times; an interrupted row keeps its state', () => {
    const w = toWire({ row: ROW, identity: null }, 'full');
    expect(w).toMatchObject({ lastSw: '63C2', state: 'interrupted', outcome: 'unknown', startedAt: '2025-01-06T02:03:04.005Z', finishedAt: '2025-01-06T02:03:04.005Z', card: null });
  });
});

describe('bankRequestToWire (docs/sync-protocol.md "Push bank requests")', () => {
  // Seed 000 (docs/service-items/000_1700379f35991b5f.txt) lines 64–66: a financial window's bank-account
  // activation goes to the bank; the bank needs the card and holder in full.
  const REQ = {
    row: {
      seq: 3, id: '01932d8e-3c1a-7b2e-9f00-5d3c1a2b4e70', operationId: ROW.id, terminalId: 'T-1', operatorId: 'op-7', status: 'pending' as const,
      createdAt: Date.UTC(2025, 0, 6, 2, 3, 5, 0), sentAt: null, cardHash: 'ab', card: maskIdentity(CARD),
    },
    identity: CARD,
  };

  it('carries the card and holder in full, the activation it belongs to, and nothing else', () => {
    const w = bankRequestToWire(REQ);
    expect(w).toEqual({ id: REQ.row.id, operationId: ROW.id, terminalId: 'T-1', operatorId: 'op-7', requestedAt: '2025-01-06T02:03:05.000Z', card: { ...CARD, masked: false } });
    expect(checkWireBankRequest(w)).toBeUndefined();
  });

  it.each([
    ['a masked card', (w: Record<string, unknown>) => ({ ...w, card: { ...(w.card as object), masked: true } }), /masked/],
    ['no name', (w: Record<string, unknown>) => ({ ...w, card: { ...(w.card as object), name: null } }), /card.name/],
    ['a bad id', (w: Record<string, unknown>) => ({ ...w, id: 'x' }), /UUIDv7/],
    ['a bad activation id', (w: Record<string, unknown>) => ({ ...w, operationId: 'x' }), /operationId/],
    ['no time', (w: Record<string, unknown>) => ({ ...w, requestedAt: 'yesterday' }), /requestedAt/],
  ] as const)('the platform refuses a request with %s', (_name, spoil, problem) => {
    expect(checkWireBankRequest(spoil({ ...bankRequestToWire(REQ) }))).toMatch(problem);
  });

  it('a purged activation goes as a null operationId, which the platform takes', () => {
    const w = bankRequestToWire({ ...REQ, row: { ...REQ.row, operationId: null } });
    expect(w.operationId).toBeNull();
    expect(checkWireBankRequest(w)).toBeUndefined();
  });
});

describe('the wire’s words (docs/sync-protocol.md "Push operations"): translated once, in to-wire.ts', () => {
  it.each([
    ['kiosk', 'self-service'],
    ['counter', 'window'],
    ['financial-counter', 'financial-window'],
  ] as const)('role %s goes on the wire as %s', (house, wire) => {
    expect(ROLE_TO_WIRE[house]).toBe(wire);
    expect(toWire({ row: { ...ROW, role: house }, identity: null }, 'none').role).toBe(wire);
  });

  it.each([
    ['socialSecurityCard', 'social-security-card'],
    ['residentIdCard', 'resident-id-card'],
  ] as const)('material %s goes on the wire as %s', (house, wire) => {
    expect(MATERIAL_TO_WIRE[house]).toBe(wire);
    expect(toWire({ row: { ...ROW, materials: [house], missing: [house] }, identity: null }, 'none')).toMatchObject({ materials: [wire], missing: [wire] });
  });

  it('every house role and material has exactly one wire word, each wire word exactly one house word (the way back is unambiguous)', () => {
    const roundTrip = <H extends string, W extends string>(house: readonly H[], wire: readonly W[], table: Readonly<Record<H, W>>): void => {
      expect(Object.keys(table).sort()).toEqual([...house].sort());
      const back = new Map(house.map((h) => [table[h], h] as const));
      expect([...back.keys()].sort()).toEqual([...wire].sort());
      for (const h of house) expect(back.get(table[h])).toBe(h);
    };
    roundTrip(ROLES, WIRE_ROLES, ROLE_TO_WIRE);
    roundTrip(MATERIALS, WIRE_MATERIALS, MATERIAL_TO_WIRE);
  });

  it('kinds, outcomes and card states are the same words on both sides', () => {
    expect([...WIRE_KINDS]).toEqual([...OPERATION_KINDS]);
    expect([...WIRE_OUTCOMES]).toEqual([...OUTCOMES]);
    expect([...WIRE_CARD_STATES]).toEqual([...CARD_STATES]);
  });

  it('a row goes out in the wire’s words only', () => {
    const w = toWire({ row: { ...ROW, role: 'financial-counter', materials: ['socialSecurityCard', 'residentIdCard'], missing: [] }, identity: CARD }, 'full');
    expect(w).toMatchObject({ role: 'financial-window', materials: ['social-security-card', 'resident-id-card'], missing: [], kind: 'change' });
    const text = JSON.stringify(w);
    for (const house of [...ROLES, ...MATERIALS]) expect(text).not.toContain(`"${house}"`);
  });
});

describe('answers from the platform', () => {
  it.each([
    ['not an object', []],
    ['accepted missing', { duplicates: [] }],
    ['accepted of numbers', { accepted: [1, 2] }],
    ['rejected without id', { accepted: [], rejected: [{ code: 'x' }] }],
  ])('a push answer with %s is Sync_BadResponse', (_what, body) => {
    expect(() => parsePushResponse(body)).toThrow(expect.objectContaining({ code: ErrorCode.Sync_BadResponse }) as Error);
  });

  it('a hotlist answer with a bad card id is refused as a whole', () => {
    try {
      parseHotlistResponse({ version: '3', full: false, add: ['410402D15600000593F973FB1A6CB5A0', '1234'], remove: [] });
      expect.fail('accepted');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Sync_BadResponse)).toBe(true);
    }
    expect(parseHotlistResponse({ version: '3', full: true, add: [] })).toEqual({ version: '3', full: true, add: [], remove: [] });
  });
});

describe('unstorableText: what PostgreSQL text and jsonb refuse (wire.ts)', () => {
  it('passes ordinary text: Chinese, a surrogate pair, control characters other than NUL, numbers, nesting', () => {
    expect(unstorableText({ name: '李晓红', emoji: '😀', tab: 'a\tb', n: 1, nested: [{ k: ['x', null, true] }] })).toBeUndefined();
  });

  it.each([
    ['NUL in a value', { a: { b: ['ok', 'x\u0000y'] } }, 'U+0000'],
    ['NUL in a key', { 'k\u0000': 1 }, 'U+0000'],
    ['a lone high surrogate', ['\ud800'], 'lone UTF-16 surrogate'],
    ['a lone low surrogate', { a: 'x\udc00' }, 'lone UTF-16 surrogate'],
    ['a pair in the wrong order', { a: '\ude00\ud83d' }, 'lone UTF-16 surrogate'],
  ])('finds %s', (_what, v, words) => {
    expect(unstorableText(v)).toContain(words);
  });

  it('walks a large array without exhausting the stack', () => {
    const big = Array.from({ length: 300_000 }, () => 'x');
    big.push('\u0000');
    expect(unstorableText(big)).toContain('U+0000');
  });
});
