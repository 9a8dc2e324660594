/**
 * iWriteCard through libSSCardDriver.so at a counter (docs/api.md "SSCardDriver calls";
 * docs/sscard-driver.md): the operator's token from Operator.Login in SSCARD_DRIVER_TOKEN, a GBK
 * name written to the simulated 3.0 card over pcscd + vpcd with the PSAM's write key, read back
 * with iReadCard, and the write in the journal (SSCard.Operations) as an operation of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import type { TestClient } from '../testing/api-test-client.js';
import { connectClient, DaemonProcess } from './helpers/daemon.js';
import { CALLERS, buildDriver, callDriver, type Caller } from './helpers/sscard-driver.js';
import { ROOT, requireStack, settleAfterRemoval } from './helpers/stack.js';

const PASSPHRASE = 'driver counter passphrase';
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-driver-counter-'));
const LIB = path.join(dir, 'lib');
const SOCKET = path.join(dir, 'driver.sock');
let daemon: DaemonProcess;
let client: TestClient;
let token = '';

const call = (caller: Caller, args: readonly string[], withToken = true) => callDriver(LIB, caller, args, { SSCARD_DRIVER_SOCKET: SOCKET, ...(withToken ? { SSCARD_DRIVER_TOKEN: token } : {}) });
const gbk = (s: string) => `hex:${iconv.encode(s, 'gbk').toString('hex')}`;

beforeAll(async () => {
  await requireStack();
  await buildDriver(LIB);
  daemon = await DaemonProcess.start(
    {
      config: {
        simulate: 'on',
        role: 'counter',
        terminalId: 'E2E-DRIVER-COUNTER',
        api: { port: 0, driverSocket: SOCKET },
        log: { level: 'info', file: 'log/sscard.log', console: false },
        simulator: { stateDir: 'var/sim', card: path.join(ROOT, 'fixtures', 'cards', 'card-3.0.json') },
        journal: { path: 'journal.db', keyFile: 'journal.key' },
        operators: { sessionTtlMs: 600_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
      },
      entry: 'sscardd',
    },
    dir,
  );
  await daemon.waitIdentified();
  client = await connectClient(daemon.port);
  const login = await client.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
  expect(login.completion.header.completionCode).toBe('success');
  token = (login.completion.payload as { token: string }).token;
}, 180_000);

afterAll(async () => {
  client?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(CALLERS)('iWriteCard from %s at a counter', (caller) => {
  it('without the operator\'s token −24; the number −13; then a GBK name written and read back, and journaled', async () => {
    const bas = (await call(caller, ['iReadCardBas', '1'])).out[0]!.split('|');
    const cardInfo = `${bas[3]}|${bas[2]}|`;
    const name = bas[4]!;
    expect((await call(caller, ['iWriteCard', '1', cardInfo, 'DDF1EF06|09|$', gbk('李四|')], false)).code).toBe(-24);
    expect((await call(caller, ['iWriteCard', '1', cardInfo, 'DDF1EF06|08|$', '410402199001010013|'])).code).toBe(-13);
    const written = await call(caller, ['iWriteCard', '1', cardInfo, 'DDF1EF06|09|$', gbk('李四|')]);
    expect([written.code, written.out[0]]).toEqual([0, '已写入 1 条记录 / 1 record(s) written']);
    expect((await call(caller, ['iReadCard', '1', '0', cardInfo, 'DDF1EF06|09|$'])).out[0]).toBe('李四|');
    // Put the holder's name back (the simulated card keeps what is written).
    expect((await call(caller, ['iWriteCard', '1', cardInfo, 'DDF1EF06|09|$', gbk(`${name}|`)])).code).toBe(0);
    expect((await call(caller, ['iReadCard', '1', '0', cardInfo, 'DDF1EF06|09|$'])).out[0]).toBe(`${name}|`);
    const ops = await client.command('SSCard.Operations', { token, limit: 10 });
    const writes = (ops.completion.payload as { operations: { kind: string; outcome: string; operatorId?: string }[] }).operations.filter((o) => o.kind === 'write');
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes[0]).toMatchObject({ outcome: 'ok' });
  });
});
