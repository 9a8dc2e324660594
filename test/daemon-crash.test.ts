/**
 * The daemon itself killed with SIGKILL at random moments while flows run on several readers
 * (docs/benchmarks.md "The journal off the event loop"; the journal's own crash test is
 * journal-crash.test.ts). `sscardd` from the sources, in a kiosk configuration, on a private pcscd
 * with four vpcd card slots and the PSAM (scripts/bench/pcsc-stack.ts: its own ports, so the
 * system pcscd's readers stay free for the other suites), the virtual cards in a child process
 * that outlives every daemon. One WebSocket client per reader runs ReadBasic + VerifyPin (the PIN
 * typed on the on-screen keypad) over and over; after a random while the daemon is killed and
 * started again in the same folder. After each kill:
 * - the journal passes integrity_check;
 * - every flow whose completion the client received is in the journal, completed, outcome ok.
 * At the end, once a last daemon has seen every card again and stopped:
 * - no row is pending; every row left pending by a kill became `interrupted` at the next start and
 *   was reconciled exactly once when its card was identified again;
 * - every flow the clients saw complete is there exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../daemon/journal/journal.js';
import { Cards } from '../scripts/bench/cards.js';
import { privateStack, requireVpcd } from '../scripts/bench/pcsc-stack.js';
import type { Stack } from '../scripts/bench/pcsc-stack.js';
import { XfsClient, failure } from '../scripts/bench/xfs-client.js';
import type { Msg } from '../scripts/bench/xfs-client.js';
import { DaemonProcess } from './helpers/daemon.js';
import { ROOT } from './helpers/stack.js';

const KILLS = Number(process.env.SSCARD_DAEMON_KILLS ?? 100);
const READERS = 4;
/** fixtures/cards/card-2.0.json's PIN. */
const PIN = '123456';

let dir: string;
let stack: Stack;
let cards: Cards;

let rngState = 0xc0ffee;
function random(): number {
  rngState = (rngState * 1103515245 + 12345) >>> 0;
  return rngState / 2 ** 32;
}

function daemonConfig(): Record<string, unknown> {
  return {
    terminalId: 'CRASH-1',
    role: 'kiosk',
    simulate: 'off',
    readers: { card: `/^Bench PCD [01] 00 0[01]$/`, psam: stack.psamReader },
    pinPad: { kind: 'touchscreen', allowTouchscreen: true },
    idReader: { kind: 'none' },
    journal: { path: 'journal.db', keyFile: 'journal.key' },
    api: { port: 0, maxClients: 16, maxConnectionsPerClient: 16 },
    log: { level: 'info', file: 'log/sscard.log', console: false },
    session: { inactivityMs: 3_600_000 },
  };
}

beforeAll(async () => {
  requireVpcd();
  dir = mkdtempSync(path.join(tmpdir(), 'sscard-daemon-crash-'));
  stack = await privateStack(dir);
  cards = Cards.start({ ...process.env, PCSCLITE_CSOCK_NAME: stack.socket }, ['--import', 'tsx']);
  await cards.insert({
    host: '127.0.0.1',
    cardPorts: stack.cardPorts.slice(0, READERS),
    psamPort: stack.psamPort,
    card: path.join(ROOT, 'fixtures/cards/card-2.0.json'),
    psam: path.join(ROOT, 'fixtures/psam/psam-test.json'),
  });
}, 60_000);

afterAll(async () => {
  await cards?.stop();
  await stack?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const startDaemon = (): Promise<DaemonProcess> =>
  DaemonProcess.start({ config: daemonConfig(), entry: 'sscardd', env: { PCSCLITE_CSOCK_NAME: stack.socket! } }, dir);

/** ReadBasic until the daemon has identified the card in `reader`. */
async function identified(c: XfsClient, reader: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await c.command('SSCard.ReadBasic', { reader });
    if (r.header.completionCode === 'success') return;
    if (Date.now() > end) throw new Error(`the daemon did not identify the card in ${reader}: ${failure('ReadBasic', r)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** One flow: ReadBasic, VerifyPin typed key by key; the journal row of a completed flow, or undefined. */
async function verifyFlow(c: XfsClient, reader: string): Promise<string | undefined> {
  const rb = await c.command('SSCard.ReadBasic', { reader });
  if (rb.header.completionCode !== 'success') return undefined;
  let typing: Promise<void> | undefined;
  const vp: Msg = await c.command('SSCard.VerifyPin', { reader }, (m) => {
    if (m.header.name !== 'SSCard.PinEntryStartedEvent' || typing !== undefined) return;
    typing = (async () => {
      for (const key of PIN) await c.command('Keyboard.TouchKey', { key, reader });
    })();
  });
  await typing;
  if (vp.header.completionCode !== 'success') return undefined;
  const result = vp.payload?.['result'] as { code?: string; operationId?: string } | undefined;
  if (result?.code !== 'verify.ok') throw new Error(`VerifyPin completed ${String(result?.code)}, not verify.ok: ${JSON.stringify(vp.payload)}`);
  if (result.operationId === undefined) throw new Error('VerifyPin completed without its journal row');
  return result.operationId;
}

function journalFile(): string {
  return path.join(dir, 'journal.db');
}

/** The journal as the kill left it (WAL recovered by a reader): integrity and the rows. */
function readAfterKill(): { integrity: string; rows: Map<string, { state: string; outcome: string | null; kind: string }> } {
  const db = new Database(journalFile(), { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    const rows = new Map<string, { state: string; outcome: string | null; kind: string }>();
    for (const r of db.prepare('SELECT id, state, outcome, kind FROM operations').all() as { id: string; state: string; outcome: string | null; kind: string }[]) rows.set(r.id, r);
    return { integrity, rows };
  } finally {
    db.close();
  }
}

describe('the daemon killed mid-flow', () => {
  it(`keeps every completed flow and reconciles every interrupted one over ${KILLS} SIGKILLs on ${READERS} readers`, { timeout: 1_200_000 }, async () => {
    const readers = Array.from({ length: READERS }, (_, i) => stack.cardReaders[i]!);
    const seen = new Set<string>();
    let killedWithPending = 0;
    for (let k = 0; k < KILLS; k++) {
      const d = await startDaemon();
      const clients = await Promise.all(readers.map(() => XfsClient.connect(d.port, d.token!)));
      let killed = false;
      try {
        await Promise.all(readers.map((r, i) => identified(clients[i]!, r)));
        const done: string[] = [];
        const loops = readers.map(async (r, i) => {
          while (!killed) {
            const id = await verifyFlow(clients[i]!, r).catch((e: unknown) => {
              if (killed) return undefined;
              throw e;
            });
            // A completion received before the kill is one the client saw.
            if (id !== undefined && !killed) done.push(id);
          }
        });
        // Mostly mid-flow; sometimes at once (the flows just started), sometimes after several flows.
        const wait = random() < 0.1 ? random() * 20 : random() * 1500;
        await new Promise((res) => setTimeout(res, wait));
        killed = true;
        d.signal('SIGKILL');
        await d.waitExit();
        await Promise.all(loops);
        expect(d.exitSignal, d.logTail()).toBe('SIGKILL');
        const after = readAfterKill();
        expect(after.integrity, `kill ${k}`).toBe('ok');
        for (const id of done) {
          seen.add(id);
          expect(after.rows.get(id), `kill ${k}: flow ${id} completed for the client`).toMatchObject({ state: 'completed', outcome: 'ok', kind: 'verify' });
        }
        if ([...after.rows.values()].some((r) => r.state === 'pending')) killedWithPending++;
      } finally {
        killed = true;
        for (const c of clients) c.close();
        if (d.exitCode === undefined) d.signal('SIGKILL');
        await d.waitExit();
      }
    }

    // A last daemon sees every card again (and so reconciles what the last kill cut off), then stops.
    const last = await startDaemon();
    const clients = await Promise.all(readers.map(() => XfsClient.connect(last.port, last.token!)));
    await Promise.all(readers.map((r, i) => identified(clients[i]!, r)));
    for (const c of clients) c.close();
    await last.stop();

    const j = Journal.open({ path: journalFile(), keyFile: path.join(dir, 'journal.key'), terminalId: 'CRASH-1', check: 'full' });
    try {
      expect(j.integrityCheck()).toEqual(['ok']);
      const rows = [...j.iterate()];
      const byId = new Map<string, number>();
      for (const r of rows) byId.set(r.id, (byId.get(r.id) ?? 0) + 1);
      for (const id of seen) {
        expect(byId.get(id), id).toBe(1);
        expect(j.get(id)).toMatchObject({ state: 'completed', outcome: 'ok' });
      }
      expect(rows.filter((r) => r.state === 'pending')).toEqual([]);
      const interrupted = rows.filter((r) => r.state === 'interrupted');
      const reconciling = new Map<string, number>();
      for (const r of rows) if (r.reconciles !== null) reconciling.set(r.reconciles, (reconciling.get(r.reconciles) ?? 0) + 1);
      for (const r of interrupted) expect(reconciling.get(r.id), `interrupted ${r.id} reconciled once`).toBe(1);
      // The kills did land mid-flow, and flows did complete between them.
      expect(killedWithPending, 'kills that left a pending row').toBeGreaterThan(KILLS / 10);
      expect(interrupted.length).toBeGreaterThanOrEqual(killedWithPending);
      expect(seen.size).toBeGreaterThan(KILLS);
      console.log(`daemon crash test: ${KILLS} kills, ${seen.size} completed flows seen, ${interrupted.length} interrupted rows reconciled, ${killedWithPending} kills with a pending row`);
    } finally {
      j.close();
    }
  });
});
