import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addCpu, cpuMsOf, cpuNow, peakRssKb, rssKb, stopChild, withChildren, withDeathSignal } from './processes.js';

describe('processes', () => {
  it('reads a live process’s RSS and CPU time, and nothing of one that does not exist', () => {
    expect(rssKb(process.pid)).toBeGreaterThan(1000);
    expect(cpuMsOf(process.pid)).toBeGreaterThanOrEqual(0);
    expect(rssKb(2 ** 30)).toBeUndefined();
    expect(cpuMsOf(2 ** 30)).toBeUndefined();
  });

  it('reads a process’s peak RSS (never below its current RSS) and finds its children', async () => {
    const peak = peakRssKb(process.pid);
    expect(peak).toBeGreaterThanOrEqual(rssKb(process.pid)! - 1024);
    expect(peakRssKb(2 ** 30)).toBeUndefined();
    const child = spawn('sleep', ['5']);
    try {
      await new Promise((r) => child.once('spawn', r));
      expect(withChildren(process.pid)).toEqual(expect.arrayContaining([process.pid, child.pid]));
      expect(withChildren(2 ** 30)).toEqual([2 ** 30]);
    } finally {
      child.kill();
    }
  });

  it('cpuNow names this process and the live ones; addCpu sums what each used between two readings', () => {
    const a = cpuNow('bench', [['me', process.pid], ['gone', 2 ** 30], ['none', undefined]]);
    expect([...a.keys()]).toEqual(['bench', 'me']);
    const total = new Map<string, number>([['bench', 1]]);
    addCpu(total, new Map([['bench', 10], ['me', 5]]), new Map([['bench', 14], ['me', 6], ['new', 3]]));
    expect(Object.fromEntries(total)).toEqual({ bench: 5, me: 1 });
  });

  it('stopChild ends a child that ignores SIGTERM with SIGKILL, and returns at once for one that has ended', async () => {
    const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); process.stdout.write('up'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    await stopChild(child, 200);
    expect(child.signalCode).toBe('SIGKILL');
    await stopChild(child, 200);
  });

  it('withDeathSignal wraps the command in setpriv when there is one, else leaves it', () => {
    const [cmd, args] = withDeathSignal('node', ['x.js']);
    if (cmd === 'setpriv') expect(args).toEqual(['--pdeathsig', 'TERM', '--', 'node', 'x.js']);
    else expect([cmd, args]).toEqual(['node', ['x.js']]);
  });
});
