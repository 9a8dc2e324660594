/**
 * Log entries to journald in its native protocol, so that each keeps its fields (systemd.io
 * "Native Journal Protocol"; systemd-journald.service(8)): one datagram per entry on
 * `/run/systemd/journal/socket`, each field `NAME=value\n`, or — when the value holds a newline —
 * `NAME\n`, the value's length as a 64-bit little-endian integer, the value and `\n`.
 *
 * What an entry carries: `MESSAGE` (the component's label, the message and the metadata as JSON,
 * as the stream lines read), `PRIORITY` (sd-daemon(3): 3 error … 7 debug), `SYSLOG_IDENTIFIER`,
 * `SSCARD_COMPONENT`, and one `SSCARD_<KEY>` field per key of the metadata — `readerName` becomes
 * `SSCARD_READER_NAME`, an object or array its JSON — so that `journalctl SSCARD_COMPONENT=PCSC`
 * or `journalctl SSCARD_OPERATION_ID=…` finds entries without parsing text. The metadata is what
 * redact.ts left of it (this transport sits behind the same format as the file and the console).
 *
 * Node cannot open an AF_UNIX datagram socket; `unix-dgram` (a small NAN addon by a Node.js core
 * author; hot-shots uses it for the same purpose) does, and sends without blocking. Only its
 * synchronous send is used: its callbacks from libuv (receive, writable) are not.
 * An entry the socket does not take (journald gone, its queue full, an entry over
 * {@link MAX_DATAGRAM_BYTES}) is written to the fallback stream instead as the stream protocol's
 * line with its priority prefix, so nothing is lost; the first such failure is said there once.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { TransportBase } from './rotating-file.js';

/** Where journald listens for native entries (systemd-journald.service(8), "FILES"). */
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

/** Entries larger than this go to the fallback stream (journald takes up to its socket's buffer; sd_journal_send passes larger ones in a memfd). */
export const MAX_DATAGRAM_BYTES = 128 * 1024;

/** Metadata fields per entry at most (the rest stay in MESSAGE's JSON). */
export const MAX_META_FIELDS = 32;

/** sd-daemon(3) priorities of the levels (SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG). */
export const JOURNAL_PRIORITY: Readonly<Record<string, number>> = Object.freeze({ error: 3, warn: 4, info: 6, debug: 7 });

/** The part of unix-dgram's socket this transport uses. */
export interface DatagramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
}

/** Load unix-dgram and open a socket, or say why not (the addon missing or not built for this Node.js). */
export function openDatagramSocket(): DatagramSocket | Error {
  try {
    const require = createRequire(import.meta.url);
    const dgram = require('unix-dgram') as { createSocket(type: 'unix_dgram'): DatagramSocket };
    return dgram.createSocket('unix_dgram');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * A journal field name for a metadata key: upper case, `_` for anything else, a camelCase hump
 * split, under the `SSCARD_` prefix (a name may not start with `_`: those are journald's own
 * trusted fields), at most 64 characters.
 */
export function fieldName(key: string): string {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_');
  return `SSCARD_${snake}`.slice(0, 64);
}

function fieldValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? undefined;
  } catch {
    return '"[unserialisable]"';
  }
}

/** One field in the native protocol's encoding. */
export function encodeField(name: string, value: string): Buffer {
  if (!value.includes('\n')) return Buffer.from(`${name}=${value}\n`, 'utf8');
  const data = Buffer.from(value, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  return Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), len, data, Buffer.from('\n')]);
}

/** The fields of one entry: [name, value] in the order written. */
export function entryFields(info: Record<string, unknown>, identifier: string): [string, string][] {
  const level = String(info['level']);
  const component = typeof info['component'] === 'string' ? info['component'] : undefined;
  const label = typeof info['label'] === 'string' ? info['label'] : (component ?? '').padEnd(6);
  const message = typeof info['message'] === 'string' ? info['message'] : String(info['message']);
  const m = info['meta'];
  const meta = m !== null && typeof m === 'object' && Object.keys(m).length > 0 ? (m as Record<string, unknown>) : undefined;
  const fields: [string, string][] = [
    ['MESSAGE', `${label} ${message}${meta === undefined ? '' : ` ${fieldValue(meta) ?? ''}`}`],
    ['PRIORITY', String(JOURNAL_PRIORITY[level] ?? 6)],
    ['SYSLOG_IDENTIFIER', identifier],
  ];
  if (component !== undefined) fields.push(['SSCARD_COMPONENT', component]);
  if (meta !== undefined) {
    const seen = new Set(fields.map(([n]) => n));
    let added = 0;
    for (const [k, v] of Object.entries(meta)) {
      if (added >= MAX_META_FIELDS) break;
      const name = fieldName(k);
      const value = fieldValue(v);
      if (value === undefined || seen.has(name)) continue;
      seen.add(name);
      fields.push([name, value]);
      added++;
    }
  }
  return fields;
}

export interface JournaldOptions {
  /** The native socket's path (default {@link JOURNAL_SOCKET}). */
  readonly socketPath?: string | undefined;
  /** SYSLOG_IDENTIFIER of the entries (default `sscardd`). */
  readonly identifier?: string | undefined;
  /** Where an entry the socket refused goes, as a stream line with its priority prefix (default process.stderr). */
  readonly fallback?: NodeJS.WritableStream | undefined;
}

/** The winston transport: level debug (each component's logger filters), after redact.ts. */
export class JournaldTransport extends TransportBase {
  private readonly socketPath: string;
  private readonly identifier: string;
  private readonly fallback: NodeJS.WritableStream;
  private readonly socket: DatagramSocket;
  private warned = false;
  /** Entries journald took. */
  public sent = 0;

  public constructor(socket: DatagramSocket, opts: JournaldOptions = {}) {
    super({ level: 'debug' });
    this.socket = socket;
    this.socketPath = opts.socketPath ?? JOURNAL_SOCKET;
    this.identifier = opts.identifier ?? 'sscardd';
    this.fallback = opts.fallback ?? process.stderr;
  }

  public override log(info: unknown, next: () => void): void {
    const i = info as Record<string, unknown>;
    const fields = entryFields(i, this.identifier);
    const datagram = Buffer.concat(fields.map(([n, v]) => encodeField(n, v)));
    if (datagram.length > MAX_DATAGRAM_BYTES) {
      this.fallBack(fields, `an entry of ${datagram.length} bytes`);
      next();
      return;
    }
    // unix-dgram sends at once (non-blocking) and calls back before returning.
    this.socket.send(datagram, 0, datagram.length, this.socketPath, (err) => {
      if (err === undefined || err === null) this.sent++;
      else this.fallBack(fields, err.message);
    });
    next();
  }

  public override _final(callback: (error?: Error | null) => void): void {
    try {
      this.socket.close();
    } catch {
      // Already closed: nothing to release.
    }
    callback();
  }

  private fallBack(fields: readonly [string, string][], why: string): void {
    if (!this.warned) {
      this.warned = true;
      this.fallback.write(`<4>sscard: journald did not take a log entry (${why}); this and later ones it refuses are written here\n`);
    }
    const priority = fields.find(([n]) => n === 'PRIORITY')?.[1] ?? '6';
    const message = fields.find(([n]) => n === 'MESSAGE')?.[1] ?? '';
    this.fallback.write(`<${priority}>${message.replace(/\n/g, ' ')}\n`);
  }
}

/** A native journald transport when the socket is there and the addon loads; otherwise why not. */
export function nativeJournald(opts: JournaldOptions = {}): JournaldTransport | string {
  const socketPath = opts.socketPath ?? JOURNAL_SOCKET;
  if (!existsSync(socketPath)) return `no journald socket at ${socketPath}`;
  const socket = openDatagramSocket();
  if (socket instanceof Error) return `unix-dgram did not load (${socket.message.split('\n')[0]})`;
  return new JournaldTransport(socket, { ...opts, socketPath });
}
