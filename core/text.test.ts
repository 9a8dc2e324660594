import { describe, expect, it } from 'vitest';
import { bi, listEn, listZh, oneLine } from './text.js';

describe('core/text', () => {
  it('builds frozen pairs and joins them Chinese first', () => {
    const t = bi('卡已锁定', 'the card is locked');
    expect(Object.isFrozen(t)).toBe(true);
    expect(oneLine(t)).toBe('卡已锁定 / the card is locked');
  });
  it('enumerates in each language', () => {
    expect(listZh(['甲', '乙', '丙'])).toBe('甲、乙、丙');
    expect(listEn([])).toBe('');
    expect(listEn(['a'])).toBe('a');
    expect(listEn(['a', 'b'])).toBe('a and b');
    expect(listEn(['a', 'b', 'c'])).toBe('a, b and c');
  });
});
