import { describe, expect, it } from 'vitest';
import { maskCardId, maskCardNumber, maskIdNumber, maskName } from './mask.js';

describe('one masking rule per kind of number (core/mask.ts)', () => {
  it.each([
    ['社会保障号码 / 公民身份号码: region and last four', maskIdNumber, '411082198503120038', '411082********0038'],
    ['an ID number ending in X', maskIdNumber, '41040219920708004X', '410402********004X'],
    ['card number: two and three', maskCardNumber, 'X00000019', 'X0****019'],
    ['卡识别码: six and four', maskCardId, '411082D156000005B342125825DF90C3', '411082**********************90C3'],
    ['a Chinese name: the family name', maskName, '王志强', '王**'],
    ['a Latin name: the first letter', maskName, 'Zhang San', 'Z********'],
    ['a one-character name', maskName, '王', '*'],
    ['too short for the rule: all but the first', maskIdNumber, '4110821', '4******'],
    ['two characters: all stars', maskCardNumber, 'X0', '**'],
  ] as const)('%s', (_what, mask, value, masked) => {
    expect(mask(value)).toBe(masked);
  });
});
