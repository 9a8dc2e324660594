import { describe, expect, it } from 'vitest';
import { errorsOf, judge, verdictText } from './verdict.js';

describe('targets', () => {
  it('a figure within its target is met only without errors', () => {
    expect(judge(true, 0).met).toBe(true);
    expect(judge(true, 1).met).toBe(false);
    expect(judge(false, 0).met).toBe(false);
    expect(judge(null, 0).met).toBeNull();
    expect(judge(null, 4).met).toBe(false);
  });

  it('says why a target within the figure is not met', () => {
    expect(verdictText(judge(true, 0))).toBe('met');
    expect(verdictText(judge(true, 3))).toBe('NOT met: 3 errors in the run (the figure alone is within)');
    expect(verdictText(judge(false, 0))).toBe('NOT met');
    expect(verdictText(judge(false, 2))).toBe('NOT met (and 2 errors in the run)');
    expect(verdictText(judge(false, 1))).toBe('NOT met (and 1 error in the run)');
    expect(verdictText(judge(null, 0))).toBe('n/a');
    expect(verdictText(judge(null, 7))).toBe('NOT met: 7 errors in the run');
  });

  it('the card process’s errors stand against a figure like failed flows do', () => {
    expect(errorsOf([{ errors: 0, cardProcessErrors: 0 }, { errors: 0, cardProcessErrors: 0 }])).toBe(0);
    expect(errorsOf([{ errors: 0, cardProcessErrors: 2 }, { errors: 0 }])).toBe(2);
    expect(errorsOf([{ errors: 1, cardProcessErrors: 2 }, null])).toBe(3);
    expect(judge(true, errorsOf([{ errors: 0, cardProcessErrors: 1 }])).met).toBe(false);
  });
});
