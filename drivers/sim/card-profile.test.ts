import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diversify } from '../../apdu/crypto.js';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { parseCardId } from '../../apdu/records.js';
import { cardProfileToJson, loadCardProfile, parseCardProfile, saveCardProfile } from './card-profile.js';
import { cardFactor } from './card-records.js';
import { cardFixture, psamFixture } from './profile-files.js';
import { loadPsamProfile } from './psam-profile.js';

const CARDS = ['card-2.0', 'card-3.0', 'card-not-activated', 'card-locked', 'card-app-locked', 'card-rare-name', 'card-expired'] as const;

async function json(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

/** ISO 7064 MOD 11-2 check character of the first 17 digits (GB 11643). */
function checkChar(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * w[i]!;
  return '10X98765432'[s % 11]!;
}

function badProfileError(f: () => unknown): { message: string; path: unknown } {
  try {
    f();
  } catch (e) {
    if (isSsCardError(e, ErrorCode.Sim_BadProfile)) return { message: e.message, path: e.context?.['path'] };
    throw e;
  }
  throw new Error('expected Sim_BadProfile');
}

describe('card fixtures', () => {
  it.each(CARDS)('%s loads and round-trips to the identical JSON', async (name) => {
    const raw = await json(cardFixture(name));
    const p = parseCardProfile(raw, name);
    expect(cardProfileToJson(p)).toEqual(raw);
  });

  it.each(CARDS)("%s: every card key is the test PSAM's master key diversified with the card's factor", async (name) => {
    const card = await loadCardProfile(cardFixture(name));
    const psam = await loadPsamProfile(psamFixture('psam-test'));
    const factor = cardFactor(card);
    expect(factor.length).toBe(8);
    expect(card.keys.size).toBeGreaterThanOrEqual(8);
    for (const [keyName, key] of card.keys) {
      const master = psam.masterKeys.get(`${card.algorithm}:${keyName}`);
      expect(master, `PSAM master ${card.algorithm}:${keyName}`).toBeDefined();
      expect(diversify(card.algorithm, master!, factor).toString('hex'), keyName).toBe(key.toString('hex'));
    }
  });

  it.each(CARDS)('%s: a fictional Henan holder with a valid-looking 社会保障号码', async (name) => {
    const p = await loadCardProfile(cardFixture(name));
    const ssn = p.holder.socialSecurityNumber;
    expect(ssn).toMatch(/^41\d{15}[\dX]$/);
    expect(ssn[17]).toBe(checkChar(ssn.slice(0, 17)));
    expect(`${ssn.slice(6, 10)}-${ssn.slice(10, 12)}-${ssn.slice(12, 14)}`).toBe(p.holder.birthDate);
    expect(Number(ssn[16]) % 2 === 1 ? '1' : '2').toBe(p.holder.gender);
    expect(p.holder.birthPlace).toBe(ssn.slice(0, 6));
    const id = parseCardId(Buffer.from(p.issuer.cardId, 'hex'));
    expect(id.hasMarker).toBe(true);
    expect(id.regionCode).toMatch(/^41\d{4}$/);
    expect(p.issuer.expiryDate > p.issuer.issueDate).toBe(true);
    expect(p.issuer.specVersion).toBe(p.specVersion);
    expect(p.pinTryLimit).toBe(6);
  });

  it('the four profiles cover the life cycle and both generations', async () => {
    const [c2, c3, na, locked] = await Promise.all(CARDS.map((c) => loadCardProfile(cardFixture(c))));
    expect([c2!.algorithm, c2!.protocol, c2!.state, c2!.pinReload, c2!.ef06NeedsExternalAuth]).toEqual(['3DES', 'T0', 'active', 'pboc', false]);
    expect([c3!.algorithm, c3!.protocol, c3!.state, c3!.pinReload, c3!.ef06NeedsExternalAuth]).toEqual(['SM4', 'T1', 'active', 'ssse3', true]);
    expect(na!.state).toBe('notActivated');
    expect([locked!.state, locked!.pinTriesLeft]).toEqual(['active', 0]);
  });
});

describe('card profile validation', () => {
  type Mutate = (j: Record<string, unknown>) => void;
  const cases: [string, Mutate, string][] = [
    ['unknown top-level key', (j) => (j['pinn'] = '1'), 'pinn'],
    ['algorithm', (j) => (j['algorithm'] = 'AES'), 'algorithm'],
    ['protocol vs ATR', (j) => (j['protocol'] = 'T1'), 'atr'],
    ['bad ATR', (j) => (j['atr'] = '3B'), 'atr'],
    ['PIN not 6 digits', (j) => (j['pin'] = '12345'), 'pin'],
    ['tries above the limit', (j) => (j['pinTriesLeft'] = 7), 'pinTriesLeft'],
    ['state', (j) => (j['state'] = 'dead'), 'state'],
    ['issuer field', (j) => ((j['issuer'] as Record<string, string>)['发卡日期'] = '2016-02-30'), 'issuer.发卡日期'],
    ['issuer unknown field', (j) => ((j['issuer'] as Record<string, string>)['地址'] = 'x'), 'issuer.地址'],
    ['spec version mismatch', (j) => ((j['issuer'] as Record<string, string>)['规范版本'] = '3.00'), 'issuer.规范版本'],
    ['holder name too long', (j) => ((j['holder'] as Record<string, string>)['姓名'] = '长'.repeat(30)), 'holder.姓名'],
    ['holder missing field', (j) => delete (j['holder'] as Record<string, string>)['出生日期'], 'holder.出生日期'],
    ['key length', (j) => ((j['keys'] as Record<string, string>)['88:01'] = '00'), 'keys."88:01"'],
    ['key name', (j) => ((j['keys'] as Record<string, string>)['internal'] = '00'.repeat(16)), 'keys.internal'],
    ['missing key', (j) => delete (j['keys'] as Record<string, string>)['18:01'], 'keys."18:01"'],
    ['missing write key', (j) => ((j['writeKeys'] as Record<string, string>)['EF06'] = '99'), 'keys."82:99"'],
    ['diversification', (j) => (j['diversification'] = { offset: 12, length: 8 }), 'diversification.offset'],
    ['photo', (j) => (j['photo'] = 'xyz'), 'photo'],
    ['records tag', (j) => (j['records'] = { EF05: { '08': '00' } }), 'records.EF05."08"'],
  ];

  it.each(cases)('%s → Sim_BadProfile naming %s', async (_what, mutate, keyPath) => {
    const raw = await json(cardFixture('card-2.0'));
    mutate(raw);
    const err = badProfileError(() => parseCardProfile(raw, 'card-2.0.json'));
    expect(err.message).toContain(keyPath);
    expect(err.message).toContain('card-2.0.json');
    expect(err.message).toMatch(/无效.*\/.*invalid/);
    // Never a secret in the message.
    expect(err.message).not.toContain(raw['pin'] as string);
    for (const k of Object.values(raw["keys"] as Record<string, string>).filter((v) => v.length === 32)) expect(err.message).not.toContain(k);
  });

  it('rejects a document that is not an object', () => {
    expect(badProfileError(() => parseCardProfile([], 'x.json')).path).toBe('(root)');
  });

  it('loadCardProfile reports unreadable and non-JSON files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sscard-profile-'));
    try {
      await expect(loadCardProfile(path.join(dir, 'missing.json'))).rejects.toSatisfy((e: unknown) => isSsCardError(e, ErrorCode.Sim_BadProfile));
      await writeFile(path.join(dir, 'bad.json'), '{ nope');
      await expect(loadCardProfile(path.join(dir, 'bad.json'))).rejects.toThrow(/JSON/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('saving', () => {
  it('saveCardProfile writes a file loadCardProfile reads back', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sscard-profile-'));
    try {
      const p = await loadCardProfile(cardFixture('card-3.0'));
      const file = path.join(dir, 'c.json');
      await saveCardProfile(file, { ...p, pinTriesLeft: 2 });
      const q = await loadCardProfile(file);
      expect(q.pinTriesLeft).toBe(2);
      expect(cardProfileToJson({ ...q, pinTriesLeft: 6 })).toEqual(cardProfileToJson({ ...p, label: q.label }));
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
