/** npm audit's answers → the supply-chain check's verdict (supply-chain.ts). */
import { describe, expect, it } from 'vitest';
import { auditVerdict } from './supply-chain.js';

describe('supply-chain audit verdict', () => {
  it('high or critical advisories fail, naming the packages; lower ones are reported only', () => {
    const vulnerable = JSON.stringify({ vulnerabilities: { ws: { severity: 'high', isDirect: true }, debug: { severity: 'low' } }, metadata: { vulnerabilities: { info: 0, low: 1, moderate: 0, high: 1, critical: 0, total: 2 } } });
    expect(auditVerdict(vulnerable)).toEqual({ kind: 'vulnerable', counts: { info: 0, low: 1, moderate: 0, high: 1, critical: 0, total: 2 }, packages: ['ws (high)'] });
    const low = JSON.stringify({ vulnerabilities: { debug: { severity: 'moderate' } }, metadata: { vulnerabilities: { low: 0, moderate: 1, high: 0, critical: 0 } } });
    expect(auditVerdict(low).kind).toBe('clean');
  });

  it('an audit endpoint that does not answer is "not checked", never "clean"', () => {
    const mirror = JSON.stringify({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405, error: { summary: '' } });
    expect(auditVerdict(mirror)).toEqual({ kind: 'unavailable', why: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk' });
    expect(auditVerdict('')).toMatchObject({ kind: 'unavailable' });
    expect(auditVerdict('{"statusCode":503}')).toEqual({ kind: 'unavailable', why: 'the registry answered 503' });
  });
});
