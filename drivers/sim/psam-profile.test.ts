import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Algorithm } from '../../apdu/crypto.js';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { psamFixture } from './profile-files.js';
import { loadPsamProfile, parsePsamProfile, psamProfileToJson } from './psam-profile.js';
import type { MasterKeyName } from './psam-profile.js';

async function json(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

describe('PSAM fixture', () => {
  it('loads and round-trips to the identical JSON', async () => {
    const raw = await json(psamFixture('psam-test'));
    expect(psamProfileToJson(parsePsamProfile(raw))).toEqual(raw);
  });

  it('holds 3DES and SM4 masters for every usage the cards need', async () => {
    const p = await loadPsamProfile(psamFixture('psam-test'));
    for (const alg of ['3DES', 'SM4'] as Algorithm[]) {
      for (const k of ['88:01', '82:0A', '82:04', '82:84', '82:86', '82:06', '18:01', '24:01', '5E:01']) {
        expect(p.masterKeys.has(`${alg}:${k}` as MasterKeyName), `${alg}:${k}`).toBe(true);
      }
    }
    expect(p.applications).toEqual({ '3DES': 0x1001, SM4: 0x1002 });
    expect(p.terminalNumber).toBe('410100000001');
  });
});

describe('PSAM profile validation', () => {
  it.each([
    ['terminalNumber', (j: Record<string, unknown>) => (j['terminalNumber'] = '41010000000A'), 'terminalNumber'],
    ['master key name', (j: Record<string, unknown>) => ((j['masterKeys'] as Record<string, string>)['DES:88:01'] = '00'.repeat(16)), 'masterKeys."DES:88:01"'],
    ['master key length', (j: Record<string, unknown>) => ((j['masterKeys'] as Record<string, string>)['SM4:88:01'] = '00'), 'masterKeys."SM4:88:01"'],
    ['application DF', (j: Record<string, unknown>) => (j['applications'] = { SM4: '10' }), 'applications.SM4'],
    ['key without application', (j: Record<string, unknown>) => (j['applications'] = { '3DES': '1001' }), 'masterKeys."SM4:88:01"'],
  ])('%s', async (_what, mutate, keyPath) => {
    const raw = await json(psamFixture('psam-test'));
    mutate(raw);
    let err: unknown;
    try {
      parsePsamProfile(raw, 'psam-test.json');
    } catch (e) {
      err = e;
    }
    expect(isSsCardError(err, ErrorCode.Sim_BadProfile)).toBe(true);
    expect((err as Error).message).toContain(keyPath);
    expect((err as Error).message).toContain('psam-test.json');
    for (const k of Object.values(raw["masterKeys"] as Record<string, string>).filter((v) => v.length === 32)) expect((err as Error).message).not.toContain(k);
  });
});
