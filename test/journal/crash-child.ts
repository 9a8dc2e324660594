/**
 * The process the crash test kills: it behaves like the daemon around one card reader, as fast as
 * it can. Start-up: open the journal, mark pending rows interrupted, reconcile this card's
 * interrupted operations (re-reading its tries left). Then, forever: PIN changes on the virtual
 * card with write-ahead intent (begin → CHANGE PIN APDU → complete), refusals, and a background
 * sync worker pushing to the platform. After each durable completion it writes `done <id>` on
 * stdout — the parent checks that every such id is in the journal exactly once.
 *
 *   node --import tsx test/journal/crash-child.ts DIR PLATFORM_URL SEED
 */
import { writeSync } from 'node:fs';
import path from 'node:path';
import { changePin, selectAid, verifyQuery } from '../../apdu/ssse.js';
import { Journal } from '../../daemon/journal/journal.js';
import { shippedServiceItemCode } from '../../daemon/flows/catalog.js';
import { SyncWorker } from '../../daemon/sync/worker.js';
import { cardFixture } from '../../drivers/sim/profile.js';
import { SimTransport } from '../../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { CARD_30, TEST_PINS } from './fixtures.js';

const [dir, platform, seedArg] = process.argv.slice(2);
if (dir === undefined || platform === undefined) throw new Error('usage: crash-child DIR PLATFORM_URL SEED');

let seed = Number(seedArg ?? 1) >>> 0;
const random = (): number => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const say = (line: string): void => {
  writeSync(1, `${line}\n`);
};

/** 社会保障卡密码修改与重置, from the shipped catalog. */
const PIN_ITEM = shippedServiceItemCode('change');

const journal = Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'T-CRASH' });
journal.markInterrupted();

const card = await VirtualSsCard.fromFile(cardFixture('card-3.0.json'));
const reader = new SimTransport(card);
const sw = (r: Buffer): number => r.readUInt16BE(r.length - 2);
sw(await reader.transmit(selectAid()));

// The card is seen again: reconcile its interrupted operations from what it shows now.
for (const row of journal.findUnreconciled(CARD_30)) {
  const r = sw(await reader.transmit(verifyQuery()));
  const triesLeft = (r & 0xfff0) === 0x63c0 ? r & 0x0f : undefined;
  const id = journal.reconcile(row.id, { outcome: 'unknown', reason: 'outcome-not-observable', lastSw: r, cardState: 'active', ...(triesLeft === undefined ? {} : { triesLeft }) });
  say(`done ${id}`);
}

const worker = new SyncWorker(journal, {
  endpoint: platform,
  terminalId: 'T-CRASH',
  batchSize: 50,
  timeoutMs: 2000,
  intervalMs: 5,
  hotlistIntervalMs: 200,
  backoff: { baseMs: 5, maxMs: 50 },
});
worker.start();
say('ready');

let pin = 0; // index into TEST_PINS of the card's current PIN (the fixture starts at TEST_PINS[0])
for (;;) {
  const roll = random();
  if (roll < 0.8) {
    const id = journal.beginOperation({ serviceItem: PIN_ITEM, kind: 'change', role: 'kiosk', card: CARD_30, materials: ['socialSecurityCard'] });
    const oldPin = Buffer.from(TEST_PINS[pin]!, 'ascii');
    const newPin = Buffer.from(TEST_PINS[1 - pin]!, 'ascii');
    const apdu = changePin(oldPin, newPin);
    const r = sw(await reader.transmit(apdu));
    apdu.fill(0);
    oldPin.fill(0);
    newPin.fill(0);
    if (r === 0x9000) pin = 1 - pin;
    journal.completeOperation(id, { outcome: r === 0x9000 ? 'ok' : 'failed', lastSw: r, triesLeft: r === 0x9000 ? 6 : r & 0x0f });
    say(`done ${id}`);
  } else if (roll < 0.9) {
    const id = journal.recordRefusal({
      serviceItem: PIN_ITEM,
      kind: 'reset',
      role: 'counter',
      operatorId: 'op-crash',
      materials: ['socialSecurityCard'],
      missing: ['residentIdCard'],
      reason: 'materials-missing',
    });
    say(`done ${id}`);
  } else {
    // Begun, then the holder walks away before the first APDU: cancelled.
    const id = journal.beginOperation({ serviceItem: PIN_ITEM, kind: 'change', role: 'kiosk', card: CARD_30 });
    await new Promise((r) => setImmediate(r));
    journal.completeOperation(id, { outcome: 'cancelled', reason: 'holder-cancelled' });
    say(`done ${id}`);
  }
  if (random() < 0.2) worker.wake();
  // Let the sync worker's I/O interleave with the operations.
  await new Promise((r) => setImmediate(r));
}
