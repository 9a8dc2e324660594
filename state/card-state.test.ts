/**
 * The card's validity (EF05 tag 06 卡有效期, docs/domain.md §1) as the terminal judges it: valid
 * through its expiry date by the terminal's local date; docs/config.md `session.expiredCard`.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXPIRED_CARD_RULE, isCardExpired, localDate } from './card-state.js';

describe('isCardExpired', () => {
  it.each([
    ['2024-04-09', '2024-04-08', false],
    ['2024-04-09', '2024-04-09', false],
    ['2024-04-09', '2024-04-10', true],
    ['2024-04-09', '2025-01-01', true],
    ['2031-05-19', '2026-12-02', false],
  ])('expiry %s, today %s → %s', (expiry, today, expired) => {
    expect(isCardExpired(expiry, today)).toBe(expired);
  });

  it.each([[''], ['20240409'], ['2024-4-9']])('no usable expiry date (%j): not known to be expired', (expiry) => {
    expect(isCardExpired(expiry, '2099-01-01')).toBe(false);
  });
});

describe('localDate', () => {
  it('is the local calendar day, zero-padded', () => {
    expect(localDate(new Date(2024, 3, 9, 23, 59).getTime())).toBe('2024-04-09');
    expect(localDate(new Date(2024, 3, 10, 0, 0).getTime())).toBe('2024-04-10');
  });
});

describe('the default rule', () => {
  // Seed 001 line 60 (001_bf9ce8a90a3e7ce5.txt): 社会保障卡 原件, 受理标准 材料真实有效 — an expired card is refused unless configured otherwise.
  it('is refuse', () => {
    expect(DEFAULT_EXPIRED_CARD_RULE).toBe('refuse');
  });
});
