/**
 * The ID card fixtures' validity (fixtures/README.md "ID cards' validity"): the expired one a
 * service must refuse (受理标准 材料真实有效: seed 001_bf9ce8a90a3e7ce5.txt line 59).
 */
import { describe, expect, it } from 'vitest';
import { encodeBaseInfo, parseBaseInfo } from '../idcard/info.js';
import { idCardValidity, terminalDate } from '../../state/id-card-validity.js';
import { loadIdCardFixture } from './idcard-fixtures.js';

describe('ID card fixtures and their validity', () => {
  it('id-expired-card-2.0: the 2.0 holder’s earlier ID card, past its 有效期截止 (seed 001 line 59: a service refuses it)', () => {
    const old = loadIdCardFixture('id-expired-card-2.0');
    const current = loadIdCardFixture('id-card-2.0');
    expect(old.idNumber).toBe(current.idNumber);
    expect(old.matchesCard).toBe('card-2.0');
    expect(old.validTo).toBe('2016-05-01');
    expect(idCardValidity(old.validTo, terminalDate(new Date()))).toBe('expired');
    // Its READ BASE INFO carries the date as the reader gives it.
    expect(parseBaseInfo(encodeBaseInfo(old, old.photo)).validTo).toBe('2016-05-01');
  });
});
