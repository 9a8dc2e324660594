/**
 * The simulator's control socket (sim-control.ts) with a fake simulator, and its client as the
 * `sscard sim-control` command uses it: requests in words or JSON, one JSON answer per line,
 * bilingual errors, a 0600 socket, a stale socket replaced, a live one never taken over.
 */
import { SILENT_LOGGER } from '../../core/logger.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { askSimulator } from '../../scripts/cmd-sim-control.js';

import type { SimControlAnswer, SimControlTarget, SimStatus } from './sim-control.js';
import { SimControlServer, parseSimControlRequest } from './sim-control.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

class FakeSim implements SimControlTarget {
  inserted = true;
  profile = 'card-card-2.0.json';
  calls: string[] = [];
  removeCard(): Promise<void> {
    this.calls.push('remove');
    this.inserted = false;
    return Promise.resolve();
  }
  insertCard(): Promise<void> {
    this.calls.push('insert');
    this.inserted = true;
    return Promise.resolve();
  }
  swapCard(file: string): Promise<void> {
    this.calls.push(`swap ${file}`);
    if (!file.endsWith('.json')) return Promise.reject(new SsCardError(ErrorCode.Input_BadOption, { zh: `卡片配置文件不存在：${file}`, en: `the card profile does not exist: ${file}` }));
    this.profile = `card-${path.basename(file)}`;
    return Promise.resolve();
  }
  idCard: string | null = 'id-card-2.0.json';
  placeIdCard(file: string | null): Promise<void> {
    this.calls.push(`idcard ${file ?? '(none)'}`);
    if (file !== null && !file.endsWith('.json')) return Promise.reject(new SsCardError(ErrorCode.Input_BadOption, { zh: `身份证配置文件不存在：${file}`, en: `the ID card fixture does not exist: ${file}` }));
    this.idCard = file === null ? null : path.basename(file);
    return Promise.resolve();
  }
  simStatus(): SimStatus {
    return { card: { inserted: this.inserted, label: 'test card', profile: this.profile }, psam: { inserted: true }, idCard: { fixture: this.idCard } };
  }
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sscard-simctl-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(sim = new FakeSim(), socket = path.join(tempDir(), 'control.sock')) {
  const server = await SimControlServer.listen(sim, socket, SILENT_LOGGER);
  cleanups.push(() => server.close());
  return { sim, server, socket };
}

/** Write raw lines and collect the answers (one JSON per line). */
function raw(socket: string, lines: string, count: number): Promise<SimControlAnswer[]> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let text = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(lines));
    s.on('data', (d: string) => {
      text += d;
      const got = text.split('\n').filter((l) => l.length > 0);
      if (got.length >= count) {
        s.destroy();
        resolve(got.map((l) => JSON.parse(l) as SimControlAnswer));
      }
    });
    s.on('error', reject);
  });
}

describe('parseSimControlRequest', () => {
  it.each([
    ['remove', { command: 'remove' }],
    ['  insert  ', { command: 'insert' }],
    ['status', { command: 'status' }],
    ['swap /x/card 3.0.json', { command: 'swap', file: '/x/card 3.0.json' }],
    ['{"command":"swap","file":"/x/c.json"}', { command: 'swap', file: '/x/c.json' }],
    ['{"command":"remove"}', { command: 'remove' }],
    ['idcard /x/id-mismatch-same-name.json', { command: 'idcard', file: '/x/id-mismatch-same-name.json' }],
    ['idcard none', { command: 'idcard', file: 'none' }],
    ['{"command":"idcard","file":"/x/id.json"}', { command: 'idcard', file: '/x/id.json' }],
  ])('%s', (line, want) => {
    expect(parseSimControlRequest(line)).toEqual(want);
  });

  it.each([
    ['eject', /unknown control command/],
    ['swap', /swap needs a card profile path/],
    ['idcard', /idcard needs an ID card fixture path/],
    ['remove now', /remove takes no argument/],
    ['{"command":"remove","pin":"123456"}', /1 unknown field/],
    ['{nope', /not valid JSON/],
    ['{"command":1}', /unknown control command/],
  ])('refuses %s with a bilingual Input_BadOption', (line, en) => {
    let err: unknown;
    try {
      parseSimControlRequest(line);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SsCardError);
    expect((err as SsCardError).code).toBe(ErrorCode.Input_BadOption);
    expect((err as SsCardError).text.en).toMatch(en);
    expect((err as SsCardError).text.zh.length).toBeGreaterThan(0);
    // a value given is never echoed back (it could be anything a person typed)
    expect((err as SsCardError).message).not.toContain('123456');
  });
});

describe('SimControlServer', () => {
  it('listens on a 0600 socket and answers each command with the simulator status', async () => {
    const { sim, socket } = await serve();
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const answers = await raw(socket, 'remove\nstatus\n{"command":"insert"}\nswap /tmp/card-3.0.json\n', 4);
    expect(answers.map((a) => a.ok && a.command)).toEqual(['remove', 'status', 'insert', 'swap']);
    expect(answers[0]).toMatchObject({ ok: true, zh: '卡片已取出', en: 'card removed', status: { card: { inserted: false } } });
    expect(answers[2]).toMatchObject({ status: { card: { inserted: true } } });
    expect(answers[3]).toMatchObject({ status: { card: { profile: 'card-card-3.0.json' } } });
    expect(sim.calls).toEqual(['remove', 'insert', 'swap /tmp/card-3.0.json']);
  });

  it('idcard FILE lays another ID card on the simulated ID reader, idcard none takes it away', async () => {
    const { sim, socket } = await serve();
    const answers = await raw(socket, 'idcard /tmp/id-mismatch-same-name.json\nidcard none\nidcard /nowhere/x.txt\n', 3);
    expect(answers[0]).toMatchObject({ ok: true, command: 'idcard', zh: '身份证已放置', en: 'ID card placed', status: { idCard: { fixture: 'id-mismatch-same-name.json' } } });
    expect(answers[1]).toMatchObject({ ok: true, command: 'idcard', en: 'ID card taken away', status: { idCard: { fixture: null } } });
    expect(answers[2]).toMatchObject({ ok: false, command: 'idcard', error: { code: ErrorCode.Input_BadOption } });
    expect(sim.calls).toEqual(['idcard /tmp/id-mismatch-same-name.json', 'idcard (none)', 'idcard /nowhere/x.txt']);
  });

  it('answers a bad request and a failed command with a bilingual error, and goes on', async () => {
    const { socket } = await serve();
    const answers = await raw(socket, 'eject\nswap /nowhere/x.txt\nstatus\n', 3);
    expect(answers[0]).toMatchObject({ ok: false, command: null, error: { code: ErrorCode.Input_BadOption } });
    expect(answers[1]).toMatchObject({ ok: false, command: 'swap', error: { code: ErrorCode.Input_BadOption, en: expect.stringMatching(/does not exist/) as unknown } });
    expect(answers[2]).toMatchObject({ ok: true, command: 'status' });
  });

  it('drops a client whose line is too long', async () => {
    const { socket } = await serve();
    const [a] = await raw(socket, 'x'.repeat(5000), 1);
    expect(a).toMatchObject({ ok: false, error: { en: expect.stringMatching(/too long/) as unknown } });
  });

  it('replaces a stale socket left by a crash, refuses to take over a live one or another file, and removes its socket on close', async () => {
    const socket = path.join(tempDir(), 'control.sock');
    // A daemon killed hard leaves its socket file behind.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(statSync(socket).isSocket()).toBe(true);
    const { server } = await serve(new FakeSim(), socket);
    expect((await raw(socket, 'status\n', 1))[0]).toMatchObject({ ok: true });
    // A live one is not taken over.
    const err = await SimControlServer.listen(new FakeSim(), socket, SILENT_LOGGER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SsCardError);
    expect((err as SsCardError).text.en).toMatch(/another simulating daemon/);
    await server.close();
    expect(existsSync(socket)).toBe(false);
    // A plain file in its place is refused, not deleted.
    writeFileSync(socket, 'not a socket');
    const err2 = await SimControlServer.listen(new FakeSim(), socket, SILENT_LOGGER).catch((e: unknown) => e);
    expect((err2 as SsCardError).code).toBe(ErrorCode.Sim_Bridge);
    expect(existsSync(socket)).toBe(true);
  });
});

describe('the sscard sim-control client', () => {
  it('sends one request and returns the answer', async () => {
    const { socket, sim } = await serve();
    expect(await askSimulator(socket, { command: 'remove' })).toMatchObject({ ok: true, status: { card: { inserted: false } } });
    expect(sim.calls).toEqual(['remove']);
  });

  it('no socket (the daemon is not simulating): a bilingual Sim_Bridge error naming the path', async () => {
    const socket = path.join(tempDir(), 'control.sock');
    const err = await askSimulator(socket, { command: 'status' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SsCardError);
    expect((err as SsCardError).code).toBe(ErrorCode.Sim_Bridge);
    expect((err as SsCardError).message).toMatch(/守护进程没有运行，或没有在模拟.*not running, or not simulating/);
    expect((err as SsCardError).message).toContain(socket);
  });
});
