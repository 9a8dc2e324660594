/**
 * A winston transport that records what it is given, for tests (zwave-js's SpyTransport,
 * packages/core/src/test/SpyTransport.ts, without sinon): every entry as the transports see it
 * (after redaction) and its formatted line.
 *
 *   const spy = new SpyTransport();
 *   const logging = createLogging(cfg, { transports: [spy] });
 *   logging.get('PCSC').info('reader added', { name: 'X' });
 *   expect(spy.entries[0]).toMatchObject({ component: 'PCSC', message: 'reader added' });
 *   expect(spy.lines[0]).toMatch(/PCSC {3}info {2}reader added/);
 */
import type winston from 'winston';
import type { LogEntry } from '../daemon/log/logger.js';
import { consoleLineFormat } from '../daemon/log/logger.js';
import { TransportBase } from '../daemon/log/rotating-file.js';

const MESSAGE = Symbol.for('message');


export class SpyTransport extends TransportBase {
  /** The entries, in order (redacted; plain copies, safe to keep). */
  public readonly entries: LogEntry[] = [];
  /** The formatted lines (the console format unless another format is given). */
  public readonly lines: string[] = [];

  public constructor(options: { format?: winston.Logform.Format } = {}) {
    super({ level: 'debug', format: options.format ?? consoleLineFormat() });
  }

  public override log(info: unknown, next: () => void): void {
    const i = info as Record<string | symbol, unknown>;
    const entry: Record<string, unknown> = {};
    for (const k of ['level', 'message', 'component', 'label', 'timestamp', 'meta']) if (i[k] !== undefined) entry[k] = i[k];
    this.entries.push(entry as unknown as LogEntry);
    this.lines.push(String(i[MESSAGE]));
    next();
  }

  public clear(): void {
    this.entries.length = 0;
    this.lines.length = 0;
  }

  /** Everything recorded, as one string (for "never contains" checks). */
  public text(): string {
    return `${this.lines.join('\n')}\n${JSON.stringify(this.entries)}`;
  }
}
