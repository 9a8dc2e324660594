/**
 * Pseudo-terminal pairs for the serial simulators and their tests: two linked ptys made by socat
 * (`socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`), so that a driver and a simulator talk
 * through the kernel's tty layer exactly as over a USB-serial cable. Real ptys, not mocks.
 *
 * `unplug()` kills socat (both ends vanish: the driver's port closes with "disconnected");
 * `replug()` starts a new socat with the same link names (the driver's reconnect finds it again).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, SsCardError } from '../../core/errors.js';

export interface PtyPairOptions {
  /** Folder for the two links (default: a new temp folder). */
  readonly dir?: string;
  /** Give up waiting for socat after this long (default 5000 ms). */
  readonly startTimeoutMs?: number;
}

/** True when socat is on the PATH. */
export function haveSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export class PtyPair {
  /** The end the driver opens. */
  public readonly a: string;
  /** The end the simulator opens. */
  public readonly b: string;
  private proc: ChildProcess | undefined;
  private readonly ownDir: boolean;
  private readonly dir: string;
  private readonly startTimeoutMs: number;

  private constructor(options: PtyPairOptions) {
    this.ownDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'sscard-pty-'));
    this.a = path.join(this.dir, 'driver');
    this.b = path.join(this.dir, 'device');
    this.startTimeoutMs = options.startTimeoutMs ?? 5000;
  }

  /** Make a linked pair and wait until both links exist. */
  public static async open(options: PtyPairOptions = {}): Promise<PtyPair> {
    if (!haveSocat()) {
      throw new SsCardError(
        ErrorCode.Sim_Bridge,
        { zh: '找不到 socat：请安装（apt-get install socat）后再运行串口模拟器', en: 'socat not found: install it (apt-get install socat) to run the serial simulators' },
        { tool: 'socat' },
      );
    }
    const pair = new PtyPair(options);
    await pair.start();
    return pair;
  }

  public get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Pull the cable: kill socat; both ptys disappear. */
  public async unplug(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  }

  /** Plug it back: a new socat with the same link names. */
  public async replug(): Promise<void> {
    await this.unplug();
    await this.start();
  }

  /** Stop socat and remove the temp folder. */
  public async close(): Promise<void> {
    await this.unplug();
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async start(): Promise<void> {
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
    const proc = spawn('socat', [`pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: 'ignore' });
    this.proc = proc;
    const end = Date.now() + this.startTimeoutMs;
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (proc.exitCode !== null || Date.now() > end) {
        proc.kill('SIGKILL');
        this.proc = undefined;
        throw new SsCardError(ErrorCode.Sim_Bridge, { zh: 'socat 未能创建伪终端对', en: 'socat did not create the pty pair' }, { dir: this.dir });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
