/**
 * Shared by the journal's unit tests (daemon/journal/*.test.ts): two test cards (fictional
 * holders), a journal in a temporary folder with a settable clock, and the error assertion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { ErrorCode } from '../core/errors.js';
import { shippedServiceItemCode } from '../daemon/flows/catalog.js';
import type { CardIdentity } from '../daemon/journal/identity.js';
import { Journal } from '../daemon/journal/journal.js';
import type { JournalOptions } from '../daemon/journal/journal.js';
import type { BeginInput } from '../daemon/journal/types.js';
import { assertSsCardError } from './util.js';

/** fixtures/cards/card-3.0.json's holder (fictional). */
export const CARD: CardIdentity = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };
export const OTHER: CardIdentity = { cardId: '410402D156000005AAAAAAAAAAAAAAAA', cardNumber: 'Y00000999', socialSecurityNumber: '41040219900101001X', name: '张三' };

/** The 业务办理项编码 of the two items, from the shipped catalog (fixtures/catalog/service-items.json). */
export const ACTIVATION_ITEM = shippedServiceItemCode('activate');
export const PIN_ITEM = shippedServiceItemCode('change');

/** A PIN change at a kiosk, the card and the material presented. */
export const BEGIN: BeginInput = { serviceItem: PIN_ITEM, kind: 'change', role: 'kiosk', card: CARD, materials: ['socialSecurityCard'] };

/** The clock the tests start at (Unix ms). */
export const T0 = 1_700_000_000_000;

export function tempJournalDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'sscard-journal-'));
}

/** `journal.sqlite` + `journal.key` in `dir`, terminal T-0001, the clock `now`. */
export function openTestJournal(dir: string, now: () => number, extra: Partial<JournalOptions> = {}): Journal {
  return Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'T-0001', now, ...extra });
}

export function expectCode(fn: () => unknown, code: ErrorCode): void {
  assertSsCardError(fn, code);
}

export interface JournalHarness {
  /** This test's temporary folder. */
  readonly dir: string;
  /** The journal's clock (Unix ms): a test moves it with `h.t += …`. */
  t: number;
  /** Open `journal.sqlite` in `dir` at the clock `t` (openTestJournal). */
  readonly open: (extra?: Partial<JournalOptions>) => Journal;
}

/** A fresh temporary folder and the clock at T0 before each test of the file; the folder removed after it. */
export function journalHarness(): JournalHarness {
  let dir = '';
  const h: JournalHarness = {
    get dir() {
      return dir;
    },
    t: T0,
    open: (extra = {}) => openTestJournal(dir, () => h.t, extra),
  };
  beforeEach(() => {
    dir = tempJournalDir();
    h.t = T0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return h;
}
