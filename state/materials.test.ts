/**
 * The 收件 materials check. Seed 001 (docs/service-items/001_bf9ce8a90a3e7ce5.txt) line 75, 受理:
 * 「申请材料不齐全或者不符合法定形式的，应当一次性告知申请人需要补正的全部内容」.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { assertSsCardError } from '../testing/util.js';
import { MATERIALS, MATERIAL_NAMES, checkMaterials, type Material } from './materials.js';

const BOTH: Material[] = ['socialSecurityCard', 'residentIdCard'];

describe('seed 001 line 75 一次性告知: every missing item at once', () => {
  it.each<[string, Material[], Material[], Material[]]>([
    ['seed 000 lines 244–264 / seed 001 lines 59–60: nothing presented → both missing', BOTH, [], BOTH],
    ['only the card presented → the ID card', BOTH, ['socialSecurityCard'], ['residentIdCard']],
    ['only the ID card presented → the card', BOTH, ['residentIdCard'], ['socialSecurityCard']],
    ['seed 001 order (ID card first) is kept', ['residentIdCard', 'socialSecurityCard'], [], ['residentIdCard', 'socialSecurityCard']],
    ['all presented → complete', BOTH, ['residentIdCard', 'socialSecurityCard'], []],
    ['card-only service, card presented', ['socialSecurityCard'], ['socialSecurityCard'], []],
    ['extra materials are ignored', ['socialSecurityCard'], BOTH, []],
    ['a material required twice is reported once', ['residentIdCard', 'residentIdCard'], [], ['residentIdCard']],
  ])('%s', (_what, required, presented, missing) => {
    const r = checkMaterials(required, presented);
    expect(r.complete).toBe(missing.length === 0);
    expect(r.missing.map((m) => m.material)).toEqual(missing);
  });

  it('one sentence names all missing items, zh-CN and en', () => {
    const r = checkMaterials(BOTH, []);
    expect(r.zh).toBe('申请材料不齐全，请一并补正以下全部材料：中华人民共和国社会保障卡（原件）、中华人民共和国居民身份证或其他有效身份证件（港澳台居民居住证、外国人永久居留身份证）（原件）');
    expect(r.en).toBe(
      'The materials are incomplete; please bring all of the following: the social security card of the PRC (original) and the resident identity card of the PRC or another valid identity document (residence permit for Hong Kong, Macao and Taiwan residents, foreign permanent resident ID card) (original)',
    );
    expect(r.missing[1]).toEqual({ material: 'residentIdCard', ...MATERIAL_NAMES.residentIdCard });
  });

  it('complete materials: accepted (seed 001 line 75 材料齐全的及时受理)', () => {
    const r = checkMaterials(BOTH, BOTH);
    expect(r).toEqual({ complete: true, missing: [], zh: '申请材料齐全，予以受理', en: 'All required materials are present; the application is accepted' });
  });

  it('property: missing is exactly required minus presented, and every missing name is in the one sentence', () => {
    const list = fc.array(fc.constantFrom(...MATERIALS), { maxLength: 4 });
    fc.assert(
      fc.property(list, list, (required, presented) => {
        const r = checkMaterials(required, presented);
        const expected = [...new Set(required)].filter((m) => !presented.includes(m));
        expect(r.missing.map((m) => m.material)).toEqual(expected);
        expect(r.complete).toBe(expected.length === 0);
        for (const m of r.missing) {
          expect(r.zh).toContain(m.zh);
          expect(r.en).toContain(m.en);
        }
      }),
    );
  });

  it('an unknown material name is a programming error naming the argument', () => {
    const e = assertSsCardError(() => checkMaterials(['socialSecurityCard', 'passport' as Material], []), ErrorCode.Input_BadOption);
    expect(e.message).toContain('required[1]');
    assertSsCardError(() => checkMaterials(BOTH, 'residentIdCard' as unknown as Material[]), ErrorCode.Input_BadOption);
  });
});
