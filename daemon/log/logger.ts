/**
 * The daemon's logging, zwave-js style (packages/core/src/bindings/log/node.ts): one winston
 * container, one logger per component with a short fixed-width label and its own level
 * (`log.levels.<COMPONENT>` overrides `log.level`), all writing to the same transports:
 *
 * - a JSON-lines file rotated by size with winston File's options and names (`maxsize`,
 *   `maxFiles`, tailable: the current file keeps its name, `sscard1.log` is the newest old one),
 *   written by rotating-file.ts (winston's own File transport loses entries around a rotation);
 * - readable lines on stderr (`2025-01-02T03:04:05.678Z PCSC   info  reader added {"name":…}`);
 * - any extra transport the caller passes (tests: {@link SpyTransport}).
 *
 * Every entry's metadata goes through redact.ts before any transport sees it (defence in depth:
 * PIN-, passphrase-, key-, hash- and token-named keys become "[redacted]", Buffers "[n bytes]").
 * The real protection is that callers never log PINs; see redact.ts.
 *
 * Transports get level "debug": winston would otherwise filter in the transport by the level of
 * the *last* logger piped into it, which breaks per-component levels. Each component's logger does
 * the filtering.
 */
import type { Logger } from '../../core/logger.js';
import { fstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { DaemonConfig } from '../config/config.js';
import { LOG_COMPONENTS, LOG_LEVELS } from '../config/schema.js';
import type { LogComponent, LogLevel } from '../config/schema.js';

import { JOURNAL_PRIORITY, JournaldTransport, nativeJournald } from './journald.js';
import { redact } from './redact.js';
import { LogRing, RingTransport } from './ring.js';
import { RotatingFileTransport } from './rotating-file.js';

export { LOG_COMPONENTS, LOG_LEVELS };
export type { LogComponent, LogLevel };

export type LogConfig = DaemonConfig['log'];

/** A winston transport (winston's own re-export of winston-transport). */
export type Transport = winston.transport;

/** Severity order: error 0 … debug 3 (npm levels, the four we use). */
export const LEVEL_RANK: Readonly<Record<LogLevel, number>> = Object.freeze({ error: 0, warn: 1, info: 2, debug: 3 });

/** Fixed-width (6) labels, as zwave-js's `SERIAL`, `CNTRLR`, `DRIVER`. */
export const LABELS: Readonly<Record<LogComponent, string>> = Object.freeze({
  PCSC: 'PCSC  ',
  APDU: 'APDU  ',
  PINPAD: 'PINPAD',
  IDCARD: 'IDCARD',
  FLOW: 'FLOW  ',
  JOURNAL: 'JRNL  ',
  SYNC: 'SYNC  ',
  API: 'API   ',
  DAEMON: 'DAEMON',
});

export interface ComponentLogger extends Logger {
  readonly component: LogComponent;
  /** The component's current level. */
  readonly level: LogLevel;
  /** Debug entries are written (build expensive debug metadata only when true). */
  isDebug(): boolean;
  isEnabled(level: LogLevel): boolean;
}

export interface Logging {
  get(component: LogComponent): ComponentLogger;
  setLevel(component: LogComponent, level: LogLevel): void;
  /** Flush and close every transport (file writes are on disk when it resolves). Later log calls are dropped. */
  close(): Promise<void>;
  /** The last lines in memory (ring.ts), what the file log gets: for `SSCard.RecentLog` (docs/api.md). */
  readonly recent: LogRing;
  /** Where the console lines go, said in the daemon's first log line: stderr, journald's native protocol, or journald's stream and why. */
  readonly console: string;
}

export interface LoggingOptions {
  /** Extra transports, e.g. a SpyTransport in tests. */
  readonly transports?: readonly Transport[];
  /** Where console lines go instead of process.stderr (tests). */
  readonly consoleStream?: NodeJS.WritableStream;
  /** close() gives up waiting for the transports after this long (default 5000 ms). */
  readonly closeTimeoutMs?: number;
  /**
   * Console lines for journald: a syslog priority prefix (sd-daemon(3): `<3>` error … `<7>` debug),
   * which journald stores as the entry's PRIORITY, and no timestamp (journald keeps its own).
   * Default: when stderr is the journal stream systemd gave the daemon ({@link underJournald}).
   */
  readonly journald?: boolean;
  /**
   * Under journald, entries go to this native socket with their fields (journald.ts) when it
   * exists and unix-dgram loads; otherwise, or with null, as stream lines with their priority.
   * Default: /run/systemd/journal/socket.
   */
  readonly journalSocket?: string | null;
}

/**
 * Whether stderr is connected to journald: systemd sets JOURNAL_STREAM to the stream's
 * `device:inode`, compared with stderr's (systemd.exec(5) $JOURNAL_STREAM), so that a child whose
 * stderr was redirected elsewhere does not take the variable for its own.
 */
export function underJournald(env: NodeJS.ProcessEnv = process.env, stderrFd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env['JOURNAL_STREAM'] ?? '');
  if (m === null) return false;
  try {
    const st = fstatSync(stderrFd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** Fields of a log entry this module writes (winston's `info`). */
export interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly component: LogComponent;
  readonly label: string;
  readonly timestamp: string;
  /** The metadata, redacted. */
  readonly meta?: Record<string, unknown>;
}

const MESSAGE = Symbol.for('message');

function checkLevel(level: unknown, what: string): asserts level is LogLevel {
  if (!(LOG_LEVELS as readonly unknown[]).includes(level)) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `${what} 必须是 ${LOG_LEVELS.join('、')} 之一`, en: `${what} must be one of ${LOG_LEVELS.join(', ')}` }, { argument: what });
  }
}

function checkComponent(component: unknown): asserts component is LogComponent {
  if (!(LOG_COMPONENTS as readonly unknown[]).includes(component)) {
    throw new SsCardError(ErrorCode.Input_BadOption, { zh: `日志组件必须是 ${LOG_COMPONENTS.join('、')} 之一`, en: `the log component must be one of ${LOG_COMPONENTS.join(', ')}` }, { argument: 'component' });
  }
}

/** The redaction format: applied by every component logger, so before any transport. */
export const redactFormat = winston.format((info) => {
  const i = info as Record<string | symbol, unknown>;
  if (typeof i.message !== 'string') i.message = typeof i.message === 'object' && i.message !== null ? JSON.stringify(redact(i.message)) : String(i.message);
  for (const k of Object.keys(i)) {
    if (k === 'level' || k === 'message' || k === 'component' || k === 'label' || k === 'timestamp') continue;
    const v = redact({ [k]: i[k] }) as Record<string, unknown>;
    i[k] = v[k];
  }
  return info;
});

function componentFormat(component: LogComponent): winston.Logform.Format {
  return winston.format((info) => {
    const i = info as Record<string, unknown>;
    i.component = component;
    i.label = LABELS[component];
    i.timestamp = new Date().toISOString();
    return info;
  })();
}

function metaOf(info: Record<string, unknown>): Record<string, unknown> | undefined {
  const m = info.meta;
  return m !== null && typeof m === 'object' && Object.keys(m).length > 0 ? (m as Record<string, unknown>) : undefined;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '"[unserialisable]"';
  }
}

/** One JSON object per line: {"timestamp","level","component","message","meta"}. */
export const jsonLineFormat = winston.format((info) => {
  const i = info as Record<string | symbol, unknown>;
  const meta = metaOf(i);
  i[MESSAGE] = safeJson({ timestamp: i.timestamp, level: i.level, component: i.component, message: i.message, ...(meta === undefined ? {} : { meta }) });
  return info;
});

/** `timestamp LABEL  level message {compact meta}` for people. */
export const consoleLineFormat = winston.format((info) => {
  const i = info as Record<string | symbol, unknown>;
  const meta = metaOf(i);
  const label = typeof i.label === 'string' ? i.label : (typeof i.component === 'string' ? i.component : '').padEnd(6);
  i[MESSAGE] = `${String(i.timestamp)} ${label} ${String(i.level).padEnd(5)} ${String(i.message)}${meta === undefined ? '' : ` ${safeJson(meta)}`}`;
  return info;
});

/** `<priority>LABEL level message {compact meta}` for journald (no timestamp: it keeps its own). */
export const journaldLineFormat = winston.format((info) => {
  const i = info as Record<string | symbol, unknown>;
  const meta = metaOf(i);
  const label = typeof i.label === 'string' ? i.label : (typeof i.component === 'string' ? i.component : '').padEnd(6);
  const priority = JOURNAL_PRIORITY[i.level as LogLevel] ?? 6;
  i[MESSAGE] = `<${priority}>${label} ${String(i.level).padEnd(5)} ${String(i.message)}${meta === undefined ? '' : ` ${safeJson(meta)}`}`;
  return info;
});

const winstonLevels: Record<LogLevel, number> = { ...LEVEL_RANK };

/** Build the logging of the daemon from `log` of the configuration. */
export function createLogging(cfg: LogConfig, options: LoggingOptions = {}): Logging {
  checkLevel(cfg.level, 'log.level');
  const levels = new Map<LogComponent, LogLevel>();
  for (const c of LOG_COMPONENTS) {
    const l = cfg.levels[c] ?? cfg.level;
    checkLevel(l, `log.levels.${c}`);
    levels.set(c, l);
  }

  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  const transports: Transport[] = [];
  if (cfg.file !== null && cfg.file !== undefined) {
    try {
      mkdirSync(path.dirname(cfg.file), { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new SsCardError(
        ErrorCode.Config_Invalid,
        {
          zh: `无法创建日志目录 ${path.dirname(cfg.file)}（${code}）：请检查 log.file 的路径与权限，或把 log.file 设为 null`,
          en: `cannot create the log folder ${path.dirname(cfg.file)} (${code}): check the path and permissions of log.file, or set log.file = null`,
        },
        { path: ['log.file'] },
        { cause: err },
      );
    }
    transports.push(new RotatingFileTransport({ filename: cfg.file, maxsize: cfg.maxSizeBytes, maxFiles: cfg.maxFiles, level: 'debug', format: jsonLineFormat() }));
  }
  let consoleMode = 'none';
  if (cfg.console) {
    const journald = options.journald ?? underJournald();
    // Under journald, the native protocol keeps each entry's fields (journald.ts); the stream's
    // lines with a priority prefix are what is left when that socket or its addon is not there.
    const native = journald && options.journalSocket !== null ? nativeJournald({ socketPath: options.journalSocket ?? undefined, fallback: options.consoleStream }) : undefined;
    if (native instanceof JournaldTransport) {
      transports.push(native);
      consoleMode = 'journald (native protocol, with fields)';
    } else {
      const format = journald ? journaldLineFormat() : consoleLineFormat();
      transports.push(
        options.consoleStream !== undefined
          ? new winston.transports.Stream({ stream: options.consoleStream, level: 'debug', format })
          : new winston.transports.Console({ stderrLevels: [...LOG_LEVELS], level: 'debug', format }),
      );
      consoleMode = !journald ? 'stderr' : `journald (stream lines with priorities${native === undefined ? '' : `: ${native}`})`;
    }
  }
  for (const t of options.transports ?? []) {
    if (t.level === undefined) t.level = 'debug';
    transports.push(t);
  }
  // The recent lines in memory (ring.ts): a transport like the file, so it keeps what the file keeps.
  const recent = new LogRing();
  transports.push(new RingTransport(recent));
  // Each component logger pipes into every transport (and winston listens to each for errors).
  for (const t of transports) t.setMaxListeners(LOG_COMPONENTS.length * 4 + 10);

  const container = new winston.Container();
  const loggers = new Map<LogComponent, winston.Logger>();
  let reportedError = false;
  for (const c of LOG_COMPONENTS) {
    const logger = container.add(c, {
      levels: winstonLevels,
      level: levels.get(c)!,
      format: winston.format.combine(componentFormat(c), redactFormat()),
      transports,
      exitOnError: false,
    });
    // A transport failing (disk full, log folder gone) must not crash the daemon: say it once.
    logger.on('error', (err: unknown) => {
      if (reportedError) return;
      reportedError = true;
      process.stderr.write(`sscard: 日志写入失败 / logging failed: ${err instanceof Error ? err.message : String(err)}\n`);
    });
    loggers.set(c, logger);
  }

  let closed = false;
  let closing: Promise<void> | undefined;
  const handles = new Map<LogComponent, ComponentLogger>();

  const write = (c: LogComponent, level: LogLevel, message: string, meta: Record<string, unknown> | undefined): void => {
    // There is always a transport (the ring of recent lines), so winston never queues an entry for ever.
    if (closed || LEVEL_RANK[level] > LEVEL_RANK[levels.get(c)!]) return;
    const entry: Record<string, unknown> = { level, message: typeof message === 'string' ? message : String(message) };
    if (meta !== undefined && meta !== null) entry.meta = meta;
    loggers.get(c)!.log(entry as winston.LogEntry);
  };

  return {
    recent,
    console: consoleMode,
    get(component) {
      checkComponent(component);
      let h = handles.get(component);
      if (h === undefined) {
        h = {
          component,
          get level() {
            return levels.get(component)!;
          },
          isDebug: () => LEVEL_RANK[levels.get(component)!] >= LEVEL_RANK.debug,
          isEnabled: (level) => LEVEL_RANK[level] <= LEVEL_RANK[levels.get(component)!],
          error: (m, meta) => write(component, 'error', m, meta),
          warn: (m, meta) => write(component, 'warn', m, meta),
          info: (m, meta) => write(component, 'info', m, meta),
          debug: (m, meta) => write(component, 'debug', m, meta),
        };
        handles.set(component, h);
      }
      return h;
    },
    setLevel(component, level) {
      checkComponent(component);
      checkLevel(level, 'level');
      levels.set(component, level);
      loggers.get(component)!.level = level;
    },
    close() {
      closing ??= (async () => {
        closed = true;
        const all = [...loggers.values()];
        // Let every logger hand what it holds to the transports (a paused pipe resumes on drain).
        for (let i = 0; i < 1000 && all.some((l) => l.readableLength > 0 || l.writableLength > 0); i++) {
          await new Promise((r) => setTimeout(r, i < 10 ? 0 : 5));
        }
        for (const l of all) l.unpipe();
        // A transport that never finishes (a stuck stream) must not hang the daemon's stop: give
        // up after closeTimeoutMs and say so. The timer also keeps the event loop alive meanwhile.
        let timer: NodeJS.Timeout | undefined;
        const finished = Promise.all(
          transports.map(
            (t) =>
              new Promise<void>((resolve) => {
                if (t.writableFinished) return resolve();
                t.once('finish', () => resolve());
                t.once('error', () => resolve());
                t.end();
              }),
          ),
        ).then(() => true);
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), closeTimeoutMs);
        });
        const ok = await Promise.race([finished, timedOut]);
        clearTimeout(timer);
        if (!ok) process.stderr.write(`sscard: 日志文件未能在 ${closeTimeoutMs} ms 内写完 / the log file was not flushed within ${closeTimeoutMs} ms\n`);
        for (const c of LOG_COMPONENTS) container.loggers.delete(c);
      })();
      return closing;
    },
  };
}
