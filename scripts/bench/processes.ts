/**
 * The processes a bench starts and watches (the daemon, pcscd, the card process): how they end,
 * and what they cost (RSS, CPU time) read from /proc.
 */
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** SIGTERM, then SIGKILL after `ms`; resolves when the child has ended. */
export async function stopChild(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

/** Is `cmd` on the PATH? */
export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Child processes get SIGTERM when the bench dies, even by SIGKILL (setpriv --pdeathsig). */
export function withDeathSignal(cmd: string, args: string[]): [string, string[]] {
  return haveCommand('setpriv') ? ['setpriv', ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
}

/** A process's resident set in kB (/proc/<pid>/status VmRSS), or undefined when it is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in ms (/proc/<pid>/stat, clock ticks of 1/100 s on Linux). */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time (ms) used so far by each named process; `self` names this one. */
export function cpuNow(self: string, procs: readonly (readonly [string, number | undefined])[]): Map<string, number> {
  const out = new Map<string, number>();
  const own = process.cpuUsage();
  out.set(self, (own.user + own.system) / 1000);
  for (const [name, pid] of procs) {
    const ms = pid === undefined ? undefined : cpuMsOf(pid);
    if (ms !== undefined) out.set(name, ms);
  }
  return out;
}

/** Adds the CPU time each process used between two {@link cpuNow} readings to `total`. */
export function addCpu(total: Map<string, number>, a: Map<string, number>, b: Map<string, number>): void {
  for (const [k, v] of b) {
    const v0 = a.get(k);
    if (v0 !== undefined) total.set(k, (total.get(k) ?? 0) + v - v0);
  }
}

/** A process's peak resident set in kB (/proc/<pid>/status VmHWM), or undefined when it is gone. */
export function peakRssKb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `root` and every process whose parent is `root` (e.g. a postmaster and its backends), from /proc. */
export function withChildren(root: number): number[] {
  const out = [root];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === root) out.push(Number(name));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}
