/** Shared test data for the journal and sync suites: test cards (fictional holders) and test PINs. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Journal } from '../../daemon/journal/journal.js';
import type { CardIdentity } from '../../daemon/journal/identity.js';
import { shippedServiceItemCode } from '../../daemon/flows/catalog.js';
import type { BeginInput } from '../../daemon/journal/types.js';
import { SyncWorker } from '../../daemon/sync/worker.js';
import type { SyncOptions } from '../../daemon/sync/worker.js';

/** fixtures/cards/card-3.0.json's holder (fictional). */
export const CARD_30: CardIdentity = { cardId: '410402D15600000593F973FB1A6CB5A0', cardNumber: 'Y00000327', socialSecurityNumber: '410402199207080047', name: '李晓红' };

/** The test PINs used by the suites: the fixture card's PIN and the one the crash child changes it to. */
export const TEST_PINS = ['246810', '975318'] as const;

/**
 * How many times the platform *received* each operation id: every push body it was delivered
 * (captured before it stored anything — retries, and pushes answered 500, included), parsed the
 * way the platform parses it (docs/sync-protocol.md "Push operations"). Exactly-once is proved on
 * this, not on what the platform's primary key lets it hold.
 */
export function deliveries(bodies: readonly Buffer[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const b of bodies) {
    const push = JSON.parse(b.toString('utf8')) as { operations: { id: string }[] };
    for (const op of push.operations) n.set(op.id, (n.get(op.id) ?? 0) + 1);
  }
  return n;
}

/** A card identity numbered `i` (distinct card ids). */
export function card(i: number): CardIdentity {
  return {
    cardId: `410402D156000005${i.toString(16).toUpperCase().padStart(16, '0')}`,
    cardNumber: `Y${String(i).padStart(8, '0')}`,
    socialSecurityNumber: `41040219900101${String(i % 10000).padStart(4, '0')}`.slice(0, 17) + 'X',
    name: '测试',
  };
}

export function begin(i: number): BeginInput {
  return { serviceItem: shippedServiceItemCode('change'), kind: 'change', role: 'kiosk', card: card(i), materials: ['socialSecurityCard'] };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function openJournal(dir: string, terminalId = 'T-TEST'): Journal {
  return Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId });
}

/** `n` completed operations in one transaction; returns their ids. */
export function fill(j: Journal, n: number, from = 0): string[] {
  const ids: string[] = [];
  j.transaction(() => {
    for (let i = from; i < from + n; i++) {
      const id = j.beginOperation(begin(i));
      j.completeOperation(id, { outcome: i % 7 === 0 ? 'failed' : 'ok', lastSw: i % 7 === 0 ? 0x63c5 : 0x9000, triesLeft: i % 7 === 0 ? 5 : 6, ...(i % 7 === 0 ? { reason: 'wrong-pin' } : {}) });
      ids.push(id);
    }
  });
  return ids;
}

/**
 * A sync worker on `journal` against the platform at `endpoint`, quick for tests: short timeouts and
 * backoff, a fixed jitter, no hotlist polling in the way. `extra` overrides any of it.
 */
export function quickSyncWorker(journal: Journal, endpoint: string, extra: Partial<SyncOptions> = {}): SyncWorker {
  return new SyncWorker(journal, {
    endpoint,
    terminalId: 'T-TEST',
    batchSize: 50,
    timeoutMs: 400,
    backoff: { baseMs: 5, maxMs: 80 },
    intervalMs: 20,
    hotlistIntervalMs: 60_000,
    random: () => 0.999,
    ...extra,
  });
}

