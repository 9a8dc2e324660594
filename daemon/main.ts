/**
 * The daemon: load the configuration, then start the parts in dependency
 * order — logging, the journal (rows left `pending` by a stop turn `interrupted`; purge schedule),
 * the PC/SC service, the simulator when there is no physical reader, the PIN pad, the ID reader,
 * the terminal (card slots and PSAM), the sync worker and the local API — and report readiness
 * (a log line; `systemd-notify --ready` under systemd). `stop()` runs the same list backwards:
 * the API stops taking requests, a card operation in flight runs to its end, the journal is
 * flushed and closed, the devices are released.
 */
import { defaultPagesRoot, openStaticSite, type StaticSite } from './api/static-files.js';
import { UndoStack } from '../core/undo.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SsCardError, isSsCardError } from '../core/errors.js';
import type { IdCardReader } from '../drivers/idcard/reader.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { PcscPinPad } from '../drivers/pinpad/pcsc-pinpad.js';
import type { PinPad } from '../drivers/pinpad/pinpad.js';
import { TouchPinPad } from '../drivers/pinpad/touch-pinpad.js';
import { startApi } from './api/server.js';
import type { ApiServer } from './api/server.js';
import { ClientRegistry } from './auth/clients.js';
import { OperatorAuth } from './auth/operators.js';
import type { DaemonConfig } from './config/config.js';
import { loadHallCatalog } from './config/catalog.js';
import { readerMatcher } from './config/cross-checks.js';
import { resolveSimulation } from './config/simulation.js';
import { projectRoot } from './config/root.js';
import { Journal } from './journal/journal.js';
import { DaemonMetrics } from './metrics.js';
import { startWatchdog } from './watchdog.js';
import type { AuditInput } from './journal/types.js';
import { AUDIT_KIND_OF_OPERATOR_EVENT } from './journal/types.js';
import type { Logging } from './log/logger.js';
import { createLogging } from './log/logger.js';
import { loadHotlistKey } from './sync/hotlist-signature.js';
import { SyncWorker } from './sync/worker.js';
import type { HeartbeatSource } from './sync/worker.js';
import type { DeviceHealth } from './sync/wire.js';
import type { DeviceStatus, TerminalStatusReport } from './terminal/port.js';
import type { Simulator } from './terminal/simulator.js';
import { Terminal } from './terminal/terminal.js';

export interface Daemon {
  readonly config: DaemonConfig;
  readonly terminal: Terminal;
  readonly api: ApiServer;
  readonly simulated: boolean;
  /** Milliseconds from the call to start to ready. */
  readonly startupMs: number;
  stop(reason?: string): Promise<void>;
}

/** The package version, from the project's package.json. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Readers vpcd provides: "Virtual PCD 00 00" etc. Any other reader is a physical one. */
const VIRTUAL_READER = /^Virtual PCD\b/;

function notifySystemd(log: { warn(m: string, meta?: Record<string, unknown>): void }): void {
  if (!process.env['NOTIFY_SOCKET']) return;
  execFile('systemd-notify', ['--ready', `--status=ready`], (e) => {
    if (e) log.warn('systemd-notify failed', { message: e.message });
  });
}

async function openPinPad(cfg: DaemonConfig, pcsc: PcscService, simulated: boolean): Promise<PinPad | undefined> {
  const p = cfg.pinPad;
  switch (p.kind) {
    case 'none':
      return undefined;
    case 'touchscreen':
      return new TouchPinPad({ allowTouchscreen: p.allowTouchscreen || simulated });
    // Device drivers are loaded when configured: serialport and node-hid cost memory a terminal
    // without such a device should not pay (idle RSS target, docs/benchmarks.md, bench:api).
    case 'serial': {
      const { SerialPinPad } = await import('../drivers/pinpad/serial-pinpad.js');
      return new SerialPinPad({ path: p.path ?? '', baudRate: p.baudRate });
    }
    case 'hid': {
      const { HidPinPad, parseHidPinPadConfig } = await import('../drivers/pinpad/hid-pinpad.js');
      // The pad model (key map, report layout) from its profile; the config may override the USB ids.
      const file = p.profile ?? path.join(projectRoot(), 'fixtures', 'pinpads', 'hid-numpad.json');
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new SsCardError(ErrorCode.Config_Invalid, { zh: `无法读取密码键盘型号文件 ${file}（pinPad.profile）`, en: `cannot read the PIN pad model file ${file} (pinPad.profile)` }, { path: ['pinPad', 'profile'] }, { cause: e });
      }
      const model = parseHidPinPadConfig(json, path.basename(file));
      return new HidPinPad({ config: { ...model, ...(p.vendorId === undefined ? {} : { vendorId: p.vendorId }), ...(p.productId === undefined ? {} : { productId: p.productId }) } });
    }
    case 'pcsc': {
      const reader = p.reader ?? pcsc.readers().find((r) => !VIRTUAL_READER.test(r.name))?.name;
      if (reader === undefined) return undefined;
      return new PcscPinPad(await pcsc.connect(reader, { share: 'shared' }));
    }
  }
}

/** A device's health for the platform's fleet view (docs/sync-protocol.md "Heartbeat"). */
function deviceHealth(d: DeviceStatus): DeviceHealth {
  if (d.kind === 'none') return 'none';
  return d.connected && d.problem === null ? 'ok' : 'problem';
}

/** What the terminal's status says of it, as its heartbeat carries it (no card, no holder). */
function heartbeatOf(r: TerminalStatusReport): HeartbeatSource {
  return {
    software: r.version,
    role: r.role,
    services: r.services,
    health: { pcsc: r.pcsc.up, cardReaders: r.readers.filter((x) => x.slot === 'card').length, psam: deviceHealth(r.psam), pinPad: deviceHealth(r.pinPad), idReader: deviceHealth(r.idReader) },
  };
}

export interface StartOptions {
  readonly config: DaemonConfig;
  /** Logging built by the caller (tests); default from config.log. */
  readonly logging?: Logging;
}

export async function startDaemon(opts: StartOptions): Promise<Daemon> {
  const t0 = performance.now();
  let cfg = opts.config;
  const logging = opts.logging ?? createLogging(cfg.log);
  const log = logging.get('DAEMON');
  const version = packageVersion();
  log.info('starting', { version, terminalId: cfg.terminalId, role: cfg.role, node: process.version, console: logging.console });
  // Best effort while failing to start: every step runs even if one throws.
  const undo = new UndoStack();

  try {
    // This hall's service catalog (docs/config.md `catalog`): a bad file stops the daemon here,
    // naming the key; the shipped demo is said out loud (its two offices are the seeds', not this hall's).
    const hall = loadHallCatalog(cfg);
    if (hall.demo) {
      log.warn('using the demo service catalog: its offices, codes and phones are the seeds\', not this hall\'s; set catalog in the configuration', { catalog: hall.file, province: hall.province });
    } else {
      log.info('service catalog', { catalog: hall.file, province: hall.province, implementers: [...new Set(hall.items.map((it) => it.implementer))] });
    }

    // The journal first: nothing card-changing may run without it.
    // Its fsyncs off the event loop (daemon/journal/durability.ts): a slow disk holds a flow, not every reader.
    const journal = Journal.open({ path: cfg.journal.path, keyFile: cfg.journal.keyFile, terminalId: cfg.terminalId, fsync: 'off-loop' });
    undo.push(() => journal.close());
    const interrupted = journal.markInterrupted();
    if (interrupted.length > 0) log.warn('operations interrupted by the last stop: they are reconciled when their cards are seen again', { count: interrupted.length });
    const jlog = logging.get('JOURNAL');
    const purge = (): void => {
      if (cfg.journal.retentionDays <= 0) return;
      try {
        const n = journal.purge(cfg.journal.retentionDays * 86_400_000);
        if (n > 0) jlog.info('purged old synced rows', { rows: n });
      } catch (e) {
        jlog.error('purge failed', { message: isSsCardError(e) ? e.text.en : String(e) });
      }
    };
    purge();
    const purgeTimer = setInterval(purge, cfg.journal.purgeIntervalHours * 3_600_000);
    purgeTimer.unref();
    undo.push(() => clearInterval(purgeTimer));

    // PC/SC: pcscd may be missing; the service keeps retrying and health says why.
    const apduLog = logging.get('APDU');
    const pcscLog = logging.get('PCSC');
    // Prometheus metrics (docs/api.md "Metrics"), served at GET /metrics.
    const metrics = new DaemonMetrics();
    undo.push(() => metrics.stop());
    const pcsc = new PcscService({
      transmitTimeoutMs: cfg.readers.transmitTimeoutMs,
      timing: (reader, ms) => metrics.apduTiming(reader, ms),
      trace: (e) => apduLog.debug(`${e.direction} ${e.hex}`, { reader: e.reader, ...(e.ms === undefined ? {} : { ms: Math.round(e.ms * 100) / 100 }) }),
      traceEnabled: () => apduLog.isDebug(),
    });
    pcsc.on('service-down', (e, retryInMs) => pcscLog.warn('PC/SC service down; retrying', { code: e.code, message: e.text.en, retryInMs }));
    pcsc.on('service-up', () => pcscLog.info('PC/SC service up', { readers: pcsc.readers().map((r) => r.name) }));
    pcsc.start();
    undo.push(() => pcsc.stop());
    try {
      await pcsc.ready(3000, false);
    } catch (e) {
      pcscLog.error('PC/SC is not available yet; the daemon starts and keeps trying', { message: isSsCardError(e) ? e.text.en : String(e) });
    }

    const physical = pcsc.readers().some((r) => !VIRTUAL_READER.test(r.name));
    const simulated = cfg.simulate === 'on' || (cfg.simulate === 'auto' && !physical);
    // The PSAM reader, PIN pad and ID reader defaults depend on it (a bad combination throws here).
    cfg = resolveSimulation(cfg, simulated);
    let sim: Simulator | undefined;
    if (simulated) {
      const { Simulator } = await import('./terminal/simulator.js');
      sim = await Simulator.start({
        card: cfg.simulator.card,
        psam: cfg.simulator.psam,
        stateDir: cfg.simulator.stateDir,
        idCard: cfg.idReader.kind === 'simulated' ? cfg.simulator.idCard : null,
        logger: log,
      });
      undo.push(() => sim!.stop());
    }

    const pinPad = await openPinPad(cfg, pcsc, simulated);
    const padLog = logging.get('PINPAD');
    if (pinPad) {
      try {
        await pinPad.open();
        padLog.info('PIN pad ready', { kind: pinPad.kind, name: pinPad.name, capabilities: pinPad.capabilities });
      } catch (e) {
        // Serial and HID pads reconnect when plugged in; health reports the missing pad.
        padLog.error('PIN pad not available', { kind: pinPad.kind, message: isSsCardError(e) ? e.text.en : String(e) });
      }
      undo.push(() => pinPad.close());
    }

    let idReader: IdCardReader | undefined = sim?.idReader;
    const idLog = logging.get('IDCARD');
    if (idReader === undefined && cfg.idReader.kind === 'serial') {
      const { SerialIdCardReader } = await import('../drivers/idcard/reader.js');
      const r = new SerialIdCardReader({ path: cfg.idReader.path ?? '', baudRate: cfg.idReader.baudRate });
      idReader = r;
      try {
        await r.open();
        idLog.info('ID card reader ready', { path: cfg.idReader.path });
      } catch (e) {
        idLog.error('ID card reader not available', { path: cfg.idReader.path, message: isSsCardError(e) ? e.text.en : String(e) });
      }
      undo.push(() => r.close());
    }

    const psamPattern = cfg.readers.psam;
    const isPsamReader = psamPattern === null || psamPattern === undefined ? undefined : readerMatcher(psamPattern);
    const cardTest = cfg.readers.card === undefined ? undefined : readerMatcher(cfg.readers.card);
    const syncLog = logging.get('SYNC');
    let sync: SyncWorker | undefined;
    if (cfg.sync.endpoint !== undefined) {
      const read = (f: string | undefined): Buffer | undefined => (f === undefined ? undefined : readFileSync(f));
      const tls = cfg.sync.tls;
      const ca = read(tls?.ca);
      const cert = read(tls?.cert);
      const key = read(tls?.key);
      const hotlistKey = loadHotlistKey(cfg.sync.hotlistPublicKey);
      if (hotlistKey === undefined) syncLog.warn('sync.hotlistPublicKey is not set: lost-card hotlists from the platform are applied without checking their signature');
      sync = new SyncWorker(journal, {
        endpoint: cfg.sync.endpoint,
        alternateEndpoints: cfg.sync.alternateEndpoints,
        terminalId: cfg.terminalId,
        intervalMs: cfg.sync.intervalMs,
        hotlistIntervalMs: cfg.sync.hotlistIntervalMs,
        logger: syncLog,
        ...(ca || cert || key ? { tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}),
        ...(hotlistKey === undefined ? {} : { hotlistPublicKey: hotlistKey }),
        // Called by the worker's loop, which starts after the terminal exists.
        heartbeat: () => heartbeatOf(terminal.status()),
      });
    }

    const terminal = new Terminal({
      terminalId: cfg.terminalId,
      deviceId: cfg.deviceId,
      role: cfg.role,
      services: cfg.services,
      session: {
        inactivityMs: cfg.session.inactivityMs,
        pinEntryMs: cfg.session.pinEntryMs,
        triesFloor: cfg.session.triesFloor,
        denyList: cfg.session.denyList,
        requirePinPolicy: cfg.session.requirePinPolicy,
        expiredCard: cfg.session.expiredCard,
      },
      version,
      simulated,
      pcsc,
      ...(cardTest === undefined ? {} : { isCardReader: (n: string) => cardTest(n) && !(isPsamReader?.(n) ?? false) }),
      ...(isPsamReader === undefined ? {} : { isPsamReader }),
      ...(pinPad === undefined ? {} : { pinPad }),
      // A touchscreen keypad per card slot: flows on several readers never wait for one another.
      touchPadPerSlot: true,
      ...(idReader === undefined ? {} : { idReader }),
      journal,
      catalog: hall.items,
      demoCatalog: hall.demo,
      cardProfiles: cfg.cardProfiles,
      province: hall.province,
      ...(sync === undefined ? {} : { sync }),
      loggers: { flow: logging.get('FLOW'), pcsc: pcscLog, pinPad: padLog, idCard: idLog },
      transmitTimeoutMs: cfg.readers.transmitTimeoutMs,
      onResult: () => {
        // New journal rows: push them now rather than at the next interval; keep the virtual card's state.
        sync?.wake();
        if (sim !== undefined) void sim.save();
      },
    });
    terminal.start();
    undo.push(() => terminal.stop());
    metrics.watch(terminal);
    await terminal.settled();
    if (sync) {
      sync.start();
      undo.push(() => sync.stop());
    }

    const apiLog = logging.get('API');
    // Privileged calls and operator sessions are journaled with the operator id (docs/api.md "Operators").
    // An id that is not a configured account is recorded as '' (it may be a passphrase typed
    // into the wrong field).
    const accounts = new Set(cfg.operators.accounts.map((a) => a.id));
    const audit = (input: AuditInput): void => {
      try {
        journal.recordAudit(input);
      } catch (e) {
        jlog.error('could not journal an audit entry', { kind: input.kind, code: isSsCardError(e) ? e.code : undefined, message: isSsCardError(e) ? e.text.en : String(e) });
      }
    };
    const auth = new OperatorAuth(cfg.operators, {
      onEvent: (e) => {
        const operatorId = accounts.has(e.operatorId) ? e.operatorId : '';
        apiLog.info(`operator ${e.type}`, { operator: operatorId === '' ? '(not an account)' : operatorId });
        audit({ kind: AUDIT_KIND_OF_OPERATOR_EVENT[e.type], operatorId });
      },
    });
    // Who may talk to the API (docs/security.md): the clients file is reread when it changes.
    const clients = ClientRegistry.open(cfg.api.clientsFile, { onError: (e) => apiLog.error('API clients file not valid: no client token is accepted until it is fixed', { message: e.text.en }) });
    const pem = (key: 'cert' | 'key' | 'ca', file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (e) {
        throw new SsCardError(ErrorCode.Config_Invalid, { zh: `无法读取 api.tls.${key} 指定的文件 ${file}`, en: `cannot read the file ${file} named by api.tls.${key}` }, { path: ['api', 'tls', key] }, { cause: e });
      }
    };
    const t = cfg.api.tls;
    const apiTls = t.cert !== undefined && t.key !== undefined ? { cert: pem('cert', t.cert), key: pem('key', t.key), ...(t.ca === undefined ? {} : { ca: pem('ca', t.ca) }) } : undefined;
    // The screens (web/, built into dist/web by npm run build); without them the API runs alone.
    let site: StaticSite | undefined;
    try {
      site = await openStaticSite({ root: defaultPagesRoot(), socketOrigins: [] });
    } catch (e) {
      apiLog.warn('pages not served', { why: isSsCardError(e) ? e.text.en : e instanceof Error ? e.message : String(e) });
    }
    const api = await startApi({
      terminal,
      auth,
      host: cfg.api.host,
      port: cfg.api.port,
      ...(cfg.api.socket === undefined ? {} : { socket: cfg.api.socket }),
      ...(cfg.api.driverSocket === undefined ? {} : { driverSocket: cfg.api.driverSocket }),
      maxFrameBytes: cfg.api.maxFrameBytes,
      maxClients: cfg.api.maxClients,
      maxConnectionsPerClient: cfg.api.maxConnectionsPerClient,
      hostNames: cfg.api.hostNames,
      allowedOrigins: cfg.api.allowedOrigins,
      chipClients: cfg.api.chipClients,
      clients,
      allowUnauthenticatedLoopback: cfg.api.allowUnauthenticatedLoopback,
      ...(apiTls === undefined ? {} : { tls: apiTls }),
      ...(site === undefined ? {} : { site }),
      logger: apiLog,
      recentLog: logging.recent,
      metrics: () => metrics.scrape(),
      version,
      journalPrivileged: (e) => {
        const operatorId = accounts.has(e.operatorId) ? e.operatorId : '';
        apiLog.info('privileged call', { operator: operatorId, command: e.command, requestId: e.requestId, outcome: e.outcome });
        audit({ kind: 'privileged-call', operatorId, command: e.command, requestId: e.requestId, outcome: e.outcome });
      },
    });
    undo.push(() => api.close());

    const startupMs = performance.now() - t0;
    const health = terminal.health();
    log.info(health.ready ? 'ready' : 'started, not ready', {
      api: api.address,
      simulated,
      startupMs: Math.round(startupMs),
      ...(health.ready ? {} : { reasons: health.reasons.map((r) => `${r.component}: ${r.en}`) }),
    });
    notifySystemd(log);
    // systemd's watchdog (daemon/watchdog.ts): pinged while the loop runs and pcscd is there.
    undo.push(startWatchdog({ env: process.env, pid: process.pid, healthy: () => pcsc.isUp, log }));

    let stopping: Promise<void> | undefined;
    return {
      config: cfg,
      terminal,
      api,
      simulated,
      startupMs,
      stop: (reason = 'stop requested') => {
        stopping ??= (async () => {
          log.info('stopping', { reason, busy: terminal.busySlots });
          await undo.run();
          log.info('stopped');
          await logging.close();
        })();
        return stopping;
      },
    };
  } catch (e) {
    log.error('start failed', { code: isSsCardError(e) ? e.code : undefined, message: isSsCardError(e) ? e.text.en : e instanceof Error ? e.message : String(e) });
    await undo.run();
    await logging.close();
    throw e;
  }
}
