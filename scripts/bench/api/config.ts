/**
 * bench:api's card and daemon setup (docs/benchmarks.md, "bench:api"): the virtual card's PIN, the
 * daemon's configuration (a kiosk with every card slot of the stack) and its client token.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { entryScript } from '../daemon.js';
import type { Stack } from '../pcsc-stack.js';

/** The PIN of the virtual card (fixtures/cards/card-2.0.json). */
export const PIN = '123456';

/** Writes the daemon's configuration into `dir` (paths relative to it); its file and its log file. */
export function writeDaemonConfig(dir: string, stack: Stack): { configFile: string; logFile: string } {
  const configFile = path.join(dir, 'bench.json');
  const logFile = path.join(dir, 'log', 'sscard.log');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        terminalId: 'BENCH-API-1',
        role: 'kiosk',
        simulate: 'off',
        readers: { card: stack.cardPattern, psam: stack.psamReader },
        pinPad: { kind: 'touchscreen', allowTouchscreen: true },
        idReader: { kind: 'none' },
        journal: { path: 'journal.db', keyFile: 'journal.key' },
        // One client token for all the bench's connections (one per reader): the secure default, as a native kiosk client.
        api: { port: 0, maxClients: 32, maxConnectionsPerClient: 16, clientsFile: 'api-clients.json' },
        // warn everywhere, but the DAEMON's "ready" line (with startupMs) is info.
        log: { level: 'warn', levels: { DAEMON: 'info' }, file: 'log/sscard.log', console: false },
        session: { inactivityMs: 3_600_000 },
      },
      null,
      2,
    ),
  );
  return { configFile, logFile };
}

/** `sscard client add bench`: a client token for the bench's WebSocket clients. */
export function addClient(configFile: string): string {
  const r = spawnSync(process.execPath, [...process.execArgv, entryScript('sscard'), 'client', 'add', 'bench', '--config', configFile], { encoding: 'utf8' });
  const token = r.stdout.trim();
  if (r.status !== 0 || !token.startsWith('sscc_')) throw new Error(`sscard client add bench failed (${String(r.status ?? r.signal)}): ${r.stderr.trim()}`);
  return token;
}
