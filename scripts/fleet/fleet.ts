/**
 * A fleet of virtual terminals on one machine (`npm run fleet`, test/fleet.test.ts): each has a
 * real SQLite journal of its own and the real sync worker (daemon/sync/worker.ts) pushing to the
 * platform's nodes, with heartbeats and the signed hotlist; no card I/O — operations are journaled
 * as the session journals them (pending, then completed) at a set rate. `verify` says whether the
 * platform holds every finished operation of every terminal exactly once.
 */
import { mkdirSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { Journal } from '../../daemon/journal/journal.js';
import { SyncWorker } from '../../daemon/sync/worker.js';

const ITEM = '11410402785096902M500201401000601';

export interface FleetOptions {
  readonly dir: string;
  readonly terminals: number;
  /** The platform's nodes: the first is each terminal's own, the others its alternates (spread by terminal). */
  readonly endpoints: readonly string[];
  /** Operations per terminal per minute. */
  readonly ratePerMinute: number;
  /** The sync loop's pause between passes (ms). */
  readonly syncIntervalMs: number;
  readonly hotlistIntervalMs: number;
  readonly hotlistPublicKey?: KeyObject;
  readonly batchSize?: number;
}

interface VirtualTerminal {
  readonly id: string;
  readonly journal: Journal;
  readonly worker: SyncWorker;
  made: number;
}

export interface FleetCheck {
  /** Finished operations in all the journals. */
  readonly journaled: number;
  /** Of them, not held by the platform. */
  readonly missing: number;
  /** Held by the platform but in no journal. */
  readonly unknown: number;
  /** Terminals whose count on the platform differs from their journal's. */
  readonly countMismatches: readonly string[];
  /** Rows still waiting on the terminals. */
  readonly backlog: number;
}

export class Fleet {
  private readonly terminals: VirtualTerminal[] = [];
  private timer: NodeJS.Timeout | undefined;
  private carry = 0;

  private constructor(private readonly o: FleetOptions) {}

  public static create(o: FleetOptions): Fleet {
    const f = new Fleet(o);
    for (let i = 0; i < o.terminals; i++) {
      const id = `FLEET-${String(i + 1).padStart(5, '0')}`;
      const dir = path.join(o.dir, id);
      mkdirSync(dir, { recursive: true });
      const journal = Journal.open({ path: path.join(dir, 'journal.db'), keyFile: path.join(dir, 'journal.key'), terminalId: id, check: 'none' });
      // Spread the terminals over the nodes: terminal i uses node i mod n first, the others as alternates.
      const k = i % o.endpoints.length;
      const endpoints = [...o.endpoints.slice(k), ...o.endpoints.slice(0, k)];
      const worker = new SyncWorker(journal, {
        endpoint: endpoints[0]!,
        alternateEndpoints: endpoints.slice(1),
        terminalId: id,
        identity: 'masked',
        intervalMs: o.syncIntervalMs,
        hotlistIntervalMs: o.hotlistIntervalMs,
        timeoutMs: 10_000,
        backoff: { baseMs: 200, maxMs: 2_000 },
        ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
        ...(o.hotlistPublicKey === undefined ? {} : { hotlistPublicKey: o.hotlistPublicKey }),
        heartbeat: () => ({ software: 'fleet-sim', role: 'kiosk', services: ['verify', 'change', 'reset'], health: { pcsc: true, cardReaders: 1, psam: 'ok', pinPad: 'ok', idReader: 'none' } }),
      });
      f.terminals.push({ id, journal, worker, made: 0 });
    }
    return f;
  }

  public get ids(): readonly string[] {
    return this.terminals.map((t) => t.id);
  }

  /** Journal `n` operations on one terminal as a session does: pending, then completed. */
  private operate(t: VirtualTerminal, n: number): void {
    for (let i = 0; i < n; i++) {
      const id = t.journal.beginOperation({ serviceItem: ITEM, kind: 'change', role: 'kiosk', card: { cardId: '410402D15600000593F973FB1A6CB5A0' }, materials: ['socialSecurityCard'] });
      t.journal.completeOperation(id, { outcome: 'ok', lastSw: 0x9000 });
      t.made++;
    }
    t.worker.wake();
  }

  /** Journal `n` operations on every terminal at once (the backlog an outage of the platform leaves). */
  public operateEach(n: number): void {
    for (const t of this.terminals) this.operate(t, n);
  }

  /** Start the sync loops and the operations at the configured rate (spread evenly over time and terminals). */
  public start(): void {
    for (const t of this.terminals) t.worker.start();
    const tickMs = 100;
    const perTick = (this.o.ratePerMinute * this.terminals.length * tickMs) / 60_000;
    let next = 0;
    this.timer = setInterval(() => {
      this.carry += perTick;
      while (this.carry >= 1) {
        this.carry -= 1;
        this.operate(this.terminals[next]!, 1);
        next = (next + 1) % this.terminals.length;
      }
    }, tickMs);
  }

  /** Stop making operations (the sync loops go on). */
  public pause(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  public backlog(): number {
    return this.terminals.reduce((n, t) => n + t.journal.backlog().count, 0);
  }

  /** Wake every sync loop (after an outage, instead of waiting out its backoff). */
  public wakeAll(): void {
    for (const t of this.terminals) t.worker.wake();
  }

  /** Hotlist versions the terminals hold. */
  public hotlistVersions(): Map<string, number> {
    const m = new Map<string, number>();
    for (const t of this.terminals) {
      const v = t.journal.hotlistVersion() ?? 'none';
      m.set(v, (m.get(v) ?? 0) + 1);
    }
    return m;
  }

  /** What the terminals' last hotlist pulls' signatures said (docs/sync-protocol.md), counted. */
  public hotlistChecks(): Map<string, number> {
    const m = new Map<string, number>();
    for (const t of this.terminals) {
      const s = t.worker.status().hotlistCheck?.state ?? 'none';
      m.set(s, (m.get(s) ?? 0) + 1);
    }
    return m;
  }

  /** Compare every journal with what the platform holds (ids, and counts per terminal). */
  public verify(held: ReadonlyMap<string, number>, perTerminal: ReadonlyMap<string, number>): FleetCheck {
    let journaled = 0;
    let missing = 0;
    const mine = new Set<string>();
    const countMismatches: string[] = [];
    for (const t of this.terminals) {
      let n = 0;
      for (const row of t.journal.iterate()) {
        if (row.state !== 'completed') continue;
        n++;
        mine.add(row.id);
        if (!held.has(row.id)) missing++;
      }
      journaled += n;
      if ((perTerminal.get(t.id) ?? 0) !== n) countMismatches.push(`${t.id}: journal ${n}, platform ${perTerminal.get(t.id) ?? 0}`);
    }
    let unknown = 0;
    for (const id of held.keys()) if (!mine.has(id)) unknown++;
    return { journaled, missing, unknown, countMismatches, backlog: this.backlog() };
  }

  public async stop(): Promise<void> {
    this.pause();
    await Promise.all(this.terminals.map((t) => t.worker.stop()));
    for (const t of this.terminals) t.journal.close();
  }
}
