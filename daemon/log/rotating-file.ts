/**
 * A size-rotating JSON-lines file transport for winston, with winston File's options and naming
 * (`maxsize`, `maxFiles`, tailable: `sscard.log` is always the current file, `sscard1.log` the
 * newest old one, `sscard{maxFiles-1}.log` the oldest kept).
 *
 * Why not winston's own File transport: tried first, it loses or misplaces entries around a
 * rotation (entries logged before the file has opened are dropped when they exceed maxsize; a
 * close() during a rotation leaves the current file uncreated and the old ones half-shifted), and
 * a terminal's log is evidence when something went wrong at the counter. This one writes each
 * entry synchronously with one write(2) — a few microseconds for a log line — so the size is
 * exact, rotation happens between two entries, nothing is buffered in the process (an entry logged
 * before a crash is in the file), and close() has nothing to flush.
 *
 * Write errors (disk full, file removed under us) are emitted once as 'error' and the entry is
 * dropped; the transport keeps trying with the next entry, reopening the file.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import { ErrorCode, SsCardError } from '../../core/errors.js';

const MESSAGE = Symbol.for('message');

/** winston.Transport (winston-transport's class) at run time; winston's typings only name its instance type. */
type TransportConstructor = new (opts?: { level?: string; format?: winston.Logform.Format }) => winston.transport;
export const TransportBase = (winston as unknown as { Transport: TransportConstructor }).Transport;

export interface RotatingFileOptions {
  readonly filename: string;
  /** Rotate before an entry would make the file larger than this (bytes). */
  readonly maxsize: number;
  /** Files kept, the current one included (1: the current file is truncated instead). */
  readonly maxFiles: number;
  readonly level?: string;
  readonly format?: winston.Logform.Format;
  /** File mode for new files (default 0o640: the log is not for everyone). */
  readonly mode?: number;
}

export class RotatingFileTransport extends TransportBase {
  public readonly filename: string;
  private readonly maxsize: number;
  private readonly maxFiles: number;
  private readonly mode: number;
  private fd: number | null = null;
  private size = 0;
  private failed = false;

  public constructor(opts: RotatingFileOptions) {
    super({ ...(opts.level === undefined ? {} : { level: opts.level }), ...(opts.format === undefined ? {} : { format: opts.format }) });
    for (const [name, v] of [['maxSizeBytes', opts.maxsize], ['maxFiles', opts.maxFiles]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new SsCardError(ErrorCode.Input_BadOption, { zh: `log.${name} 必须是正整数`, en: `log.${name} must be a positive integer` }, { argument: `log.${name}` });
      }
    }
    this.filename = opts.filename;
    this.maxsize = opts.maxsize;
    this.maxFiles = opts.maxFiles;
    this.mode = opts.mode ?? 0o640;
    mkdirSync(path.dirname(this.filename), { recursive: true });
    this.open();
  }

  /** The name of old file `n` (1 = newest): sscard.log → sscard1.log. */
  public rotatedName(n: number): string {
    const ext = path.extname(this.filename);
    return path.join(path.dirname(this.filename), `${path.basename(this.filename, ext)}${n}${ext}`);
  }

  public override log(info: unknown, next: () => void): void {
    const line = `${String((info as Record<symbol, unknown>)[MESSAGE])}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd === null) this.open();
      if (this.size > 0 && this.size + bytes > this.maxsize) this.rotate();
      const buf = Buffer.from(line, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd!, buf, off);
      this.size += bytes;
      this.failed = false;
    } catch (err) {
      this.closeFd();
      if (!this.failed) {
        this.failed = true;
        this.emit('error', err);
      }
    }
    next();
  }

  public override _final(callback: (error?: Error | null) => void): void {
    this.closeFd();
    callback();
  }

  private open(): void {
    const fd = openSync(this.filename, 'a', this.mode);
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = null;
  }

  private rotate(): void {
    this.closeFd();
    if (this.maxFiles === 1) {
      rmSync(this.filename, { force: true });
    } else {
      rmSync(this.rotatedName(this.maxFiles - 1), { force: true });
      for (let n = this.maxFiles - 2; n >= 1; n--) {
        try {
          renameSync(this.rotatedName(n), this.rotatedName(n + 1));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      renameSync(this.filename, this.rotatedName(1));
    }
    this.open();
  }
}
