import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { BEGIN, CARD, OTHER, journalHarness } from '../../testing/journal.js';

const h = journalHarness();
const open = h.open;

describe('Hotlist', () => {
  it('a hotlisted card is refused at begin, and the refusal is journaled', () => {
    const j = open();
    j.applyHotlist({ version: '7', full: true, add: [CARD.cardId], remove: [] });
    expect(j.isHotlisted(CARD)).toBe(true);
    expect(j.isHotlisted(OTHER)).toBe(false);
    try {
      j.beginOperation(BEGIN);
      expect.fail('hotlisted card accepted');
    } catch (err) {
      expect(isSsCardError(err, ErrorCode.Journal_CardHotlisted)).toBe(true);
      const refusalId = (err as { context: { refusalId: string } }).context.refusalId;
      expect(j.get(refusalId)).toMatchObject({ outcome: 'refused', reason: 'hotlisted', state: 'completed' });
      expect((err as Error).message).toMatch(/挂失.*窗口/);
    }
    expect(j.stats().byState.pending).toBe(0);
    j.applyHotlist({ version: '8', full: false, add: [], remove: [CARD.cardId] });
    expect(j.isHotlisted(CARD)).toBe(false);
    expect(j.hotlistVersion()).toBe('8');
    j.close();
  });

  it('stats name the version, when it was applied and how many cards it lists (the status report shows them)', () => {
    const j = open();
    expect(j.stats()).toMatchObject({ hotlistVersion: null, hotlistUpdatedAt: null, hotlistSize: 0 });
    h.t = 1_700_000_123_000;
    j.applyHotlist({ version: 'v3', full: true, add: [CARD.cardId, OTHER.cardId], remove: [] });
    const s = j.stats();
    expect(s.hotlistVersion).toBe('v3');
    expect(s.hotlistSize).toBe(2);
    expect(s.hotlistUpdatedAt).toBe(1_700_000_123_000);
    j.close();
  });
});
