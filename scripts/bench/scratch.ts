/**
 * A bench's temporary folder and its undo steps (the logs, config and journal of a run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UndoStack } from '../../core/undo.js';

/**
 * A bench's temporary folder (logs, config, journal) and what to undo: the steps run once, in
 * reverse order, at the end, on SIGINT/SIGTERM (then exit 130) or when a watchdog gives up. The
 * folder is removed unless the run failed or `keep` is set, and then its path is printed.
 */
export class BenchScratch {
  public readonly dir: string;
  /** Undo steps, in the order they were taken (they run last first). */
  public readonly steps = new UndoStack();
  /** Set to false when the run succeeded; a failed run keeps its folder to look at. */
  public failed = true;
  private running: Promise<void> | undefined;

  public constructor(
    private readonly name: string,
    prefix: string,
    private readonly keep: boolean,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    const onSignal = (sig: NodeJS.Signals): void => {
      process.stderr.write(`${name}: ${sig}, cleaning up\n`);
      void this.run().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  /** Undo everything (best effort; once, whoever asks first). */
  public run(): Promise<void> {
    return (this.running ??= (async () => {
      await this.steps.run();
      if (this.failed || this.keep) process.stderr.write(`${this.name}: files (logs, config, journal) kept in ${this.dir}\n`);
      else rmSync(this.dir, { recursive: true, force: true });
    })());
  }
}
