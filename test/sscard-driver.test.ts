/**
 * libSSCardDriver.so (native/sscard-driver/, docs/sscard-driver.md) as integrators load it: linked
 * into a C program (test/sscard-driver/call.c, also built with AddressSanitizer and UBSan) and
 * through Python's ctypes (test/sscard-driver/call.py, Debian's python3), calling every function
 * against the simulating daemon (pcscd + vpcd, the project's virtual card and PSAM) over its driver
 * socket. Outputs are checked byte for byte in GBK against the daemon's own UTF-8 answers; every
 * output buffer is exactly the documented size with guard bytes after it. Without a daemon, with
 * one that never answers, or with something else on the socket, each call returns −11 in time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimEncryptionMachine } from '../drivers/sim/encryption-machine.js';
import type { TestClient } from '../testing/api-test-client.js';
import { connectClient, DaemonProcess } from './helpers/daemon.js';
import { CALLERS, buildDriver, callDriver, type Answer, type Caller } from './helpers/sscard-driver.js';
import { ROOT, requireStack, settleAfterRemoval } from './helpers/stack.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-driver-'));
const LIB = path.join(dir, 'lib');
const SOCKET = path.join(dir, 'driver.sock');
/** The PIN of fixtures/cards/card-3.0.json. */
const PIN = '246810';

let daemon: DaemonProcess;
let pad: TestClient;

function call(caller: Caller, args: readonly string[], env: Record<string, string> = {}, encoding = 'GBK'): Promise<Answer> {
  return callDriver(LIB, caller, args, { SSCARD_DRIVER_SOCKET: SOCKET, ...env }, encoding);
}

/** What the daemon answers over HTTP (UTF-8), for comparison. */
async function http(fn: string, body: object): Promise<{ code: number; text: string }> {
  const r = await daemon.fetch(`/sscard/${fn}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { code: Number(r.headers.get('x-sscard-return')), text: await r.text() };
}

beforeAll(async () => {
  await requireStack();
  await buildDriver(LIB);
  daemon = await DaemonProcess.start(
    {
      config: {
        simulate: 'on',
        role: 'kiosk',
        terminalId: 'E2E-DRIVER',
        api: { port: 0, driverSocket: SOCKET },
        log: { level: 'info', file: 'log/sscard.log', console: false },
        simulator: { stateDir: 'var/sim', card: path.join(ROOT, 'fixtures', 'cards', 'card-3.0.json') },
        journal: { path: 'journal.db', keyFile: 'journal.key' },
      },
      entry: 'sscardd',
    },
    dir,
  );
  await daemon.waitIdentified();
  pad = await connectClient(daemon.port);
}, 180_000);

afterAll(async () => {
  pad?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(CALLERS)('libSSCardDriver.so from %s against the simulating daemon', (caller) => {
  it('iReadCardBas: the daemon\'s output in GBK, the holder\'s Chinese name included', async () => {
    const want = await http('iReadCardBas', { iType: 1 });
    expect(want.code).toBe(0);
    const got = await call(caller, ['iReadCardBas', '1']);
    expect(got.code).toBe(0);
    expect(got.out[0]).toBe(want.text);
    expect(got.raw[0]).toEqual(iconv.encode(want.text, 'gbk'));
    expect(want.text.split('|')[4]).toMatch(/^[\u4e00-\u9fff]+$/);
    // iType 2 is contactless: the vendors' −1.
    expect((await call(caller, ['iReadCardBas', '2'])).code).toBe(-1);
  });

  it('iGetReaderInfo: the device number and the PSAM\'s terminal number in their own buffers', async () => {
    const got = await call(caller, ['iGetReaderInfo']);
    const want = (await http('iGetReaderInfo', {})).text.split('|');
    expect(got.code).toBe(0);
    expect(got.out).toEqual([want[0], want[1]]);
    expect(got.out[1]).toMatch(/^\d{12}$/);
  });

  it('iReadCard: records by file address; a bad address −14, an unread file −13, another card −22', async () => {
    const bas = (await http('iReadCardBas', { iType: 1 })).text.split('|');
    const got = await call(caller, ['iReadCard', '1', '0', '', 'DDF1EF06|09|08|$DDF1EF05|07|$']);
    expect(got.code).toBe(0);
    expect(got.out[0]).toBe(`${bas[4]}|${bas[1]}|${bas[2]}|`);
    expect((await call(caller, ['iReadCard', '1', '0', `${bas[3]}|${bas[2]}|`, '3F00EF06|08|$'])).out[0]).toBe(`${bas[1]}|`);
    expect((await call(caller, ['iReadCard', '1', '0', `${'0'.repeat(32)}|${bas[2]}|`, '3F00EF06|08|$'])).code).toBe(-22);
    const bad = await call(caller, ['iReadCard', '1', '0', '', 'DDF1EF06|8|$']);
    expect(bad.code).toBe(-14);
    expect(bad.out[0]).toContain('不是两位十六进制的记录标签');
    expect((await call(caller, ['iReadCard', '1', '0', '', 'DDF1EF07|01|$'])).code).toBe(-13);
  });

  it('iReadCardBas_HSM_Step1 / _Step2 with the simulator\'s encryption machine give iReadCardBas\'s output; a wrong answer −25, a malformed one −41/−42', async () => {
    const machine = await SimEncryptionMachine.fromPsamProfile(path.join(ROOT, 'fixtures', 'psam', 'psam-test.json'));
    const step1 = await call(caller, ['iReadCardBas_HSM_Step1', '1']);
    expect(step1.code).toBe(0);
    expect(step1.out[0]!.split('|')).toHaveLength(10);
    const key = await machine.answer(step1.out[0]!);
    const step2 = await call(caller, ['iReadCardBas_HSM_Step2', key]);
    expect(step2.code).toBe(0);
    expect(step2.out[0]).toBe((await http('iReadCardBas', { iType: 1 })).text);
    expect((await call(caller, ['iReadCardBas_HSM_Step1', '1'])).code).toBe(0);
    expect((await call(caller, ['iReadCardBas_HSM_Step2', `${'00'.repeat(16)}|${'00'.repeat(16)}|`])).code).toBe(-25);
    expect((await call(caller, ['iReadCardBas_HSM_Step2', `${'00'.repeat(16)}|${'00'.repeat(16)}|`])).code).toBe(-12);
    expect((await call(caller, ['iReadCardBas_HSM_Step2', 'xyz|'])).code).toBe(-41);
    expect((await call(caller, ['iReadCardBas_HSM_Step2', '0011|'])).code).toBe(-42);
  });

  it('iReadCard_HSM_Step1 / _Step2: the records of Step1\'s address through the encryption machine; another card −22', async () => {
    const machine = await SimEncryptionMachine.fromPsamProfile(path.join(ROOT, 'fixtures', 'psam', 'psam-test.json'));
    const bas = (await http('iReadCardBas', { iType: 1 })).text.split('|');
    const step1 = await call(caller, ['iReadCard_HSM_Step1', '1', `${bas[3]}|${bas[2]}|`, 'DDF1EF06|09|08|$']);
    expect(step1.code).toBe(0);
    const step2 = await call(caller, ['iReadCard_HSM_Step2', await machine.answer(step1.out[0]!)]);
    expect([step2.code, step2.out[0]]).toEqual([0, `${bas[4]}|${bas[1]}|`]);
    expect((await call(caller, ['iReadCard_HSM_Step1', '1', `${'0'.repeat(32)}|${bas[2]}|`, 'DDF1EF06|09|$'])).code).toBe(-22);
    // The card was freed at once: a read goes through.
    expect((await call(caller, ['iReadCardBas', '1'])).code).toBe(0);
  });

  it('bad arguments: malformed 卡识别码 −20, text that is not GBK −23, an oversized string −14, a NULL −14 — each with a message', async () => {
    const malformed = await call(caller, ['iReadCard', '1', '0', 'not-a-card|', 'DDF1EF05|07|$']);
    expect(malformed.code).toBe(-20);
    expect(malformed.out[0]).toContain('卡识别码');
    const notGbk = await call(caller, ['iReadCard', '1', '0', 'hex:ff30ff', 'DDF1EF05|07|$']);
    expect(notGbk.code).toBe(-23);
    expect(notGbk.out[0]).toContain('is not GBK text');
    const long = await call(caller, ['iReadCard', '1', '0', '', 'DDF1EF06|08|'.padEnd(1500, '0')]);
    expect(long.code).toBe(-14);
    expect(long.out[0]).toContain('longer than 1024 bytes');
    expect((await call(caller, ['iReadCard', '1', '0', '', 'null'])).code).toBe(-14);
  });

  it('functions the terminal does not provide answer −13 saying so', async () => {
    for (const args of [
      ['iWriteCard_HSM_Step1', '1', '', 'DDF1EF06|09|$'],
      ['iWriteCard_HSM_Step2', 'k', 'x'],
      ['iReloadPIN_HSM_Step1', '1', ''],
      ['iReloadPIN_HSM_Step2', 'k'],
      ['iReloadPIN_HSM_Step3', 'k'],
      ['iUnblockPIN_HSM_Step1', '1', ''],
      ['iUnblockPIN_HSM_Step2', 'k'],
      ['iUnblockPIN_HSM_Step3', 'k'],
    ]) {
      const r = await call(caller, args);
      expect(r.code, args[0]).toBe(-13);
      expect(r.out[0]).toContain(`本终端不提供 ${args[0]!}`);
    }
    // iWriteCard is provided at a counter (test/sscard-driver-counter.test.ts), not at this kiosk.
    const write = await call(caller, ['iWriteCard', '1', '', 'DDF1EF06|09|$', 'x|']);
    expect([write.code, write.out[0]]).toEqual([-13, expect.stringContaining('at a counter by an operator')]);
  });
});

describe('PIN functions through the library: the PIN is typed on the terminal\'s pad, never passed', () => {
  /** Run `args`, typing `pin` on the pad once the entry starts. */
  async function withPin(caller: Caller, args: string[], ...pins: string[]): Promise<Answer> {
    let after = pad.messages.length;
    const answer = call(caller, args);
    for (const pin of pins) {
      const from = after;
      const started = await pad.waitFor((m) => pad.messages.indexOf(m) >= from && m.header.type === 'unsolicited' && m.header.name === 'SSCard.PinEntryStartedEvent', 20_000);
      after = pad.messages.indexOf(started) + 1;
      for (const k of pin) expect((await pad.command('Keyboard.TouchKey', { key: k })).completion.header.completionCode).toBe('success');
    }
    return answer;
  }

  it.each(CALLERS)('iVerifyPIN from %s: wrong PIN −51 with the tries left, right PIN 0', async (caller) => {
    const wrong = await withPin(caller, ['iVerifyPIN', '1'], '864209');
    expect(wrong.code).toBe(-51);
    expect(wrong.out[0]).toContain('密码错误，还可尝试');
    const right = await withPin(caller, ['iVerifyPIN', '1'], PIN);
    expect(right.code).toBe(0);
  });

  it('iChangePIN: the two new PINs differ → −34', async () => {
    const r = await withPin('c', ['iChangePIN', '1'], PIN, '135792', '135793');
    expect(r.code).toBe(-34);
  });

  it('iUnblockPIN at a kiosk: −13 (the service is not offered here)', async () => {
    const r = await call('c', ['iUnblockPIN', '1', '410402D156000005AAAAAAAAAAAAAAAA|X00000019|']);
    expect(r.code).toBe(-13);
  });
});

/** A Unix socket server that answers each connection with `reply` (or never, for null). */
async function fakeDaemon(reply: string | Buffer | null): Promise<{ socket: string; close: () => Promise<void> }> {
  const socket = path.join(dir, `fake-${Math.random().toString(36).slice(2, 8)}.sock`);
  const held: net.Socket[] = [];
  const server = net.createServer((c) => {
    held.push(c);
    c.on('error', () => {});
    c.once('data', () => {
      if (reply !== null) c.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of held) c.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(code: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nx-sscard-return: ${code}\r\nconnection: close\r\n\r\n`), body]);
}

describe.each(CALLERS)('libSSCardDriver.so from %s when the daemon is not there or misbehaves', (caller) => {
  it('no daemon: −11 at once, the message names the socket', async () => {
    const t0 = Date.now();
    const r = await call(caller, ['iReadCardBas', '1'], { SSCARD_DRIVER_SOCKET: path.join(dir, 'nobody.sock') });
    expect(r.code).toBe(-11);
    expect(r.out[0]).toContain('nobody.sock');
    expect(r.out[0]).toContain('无法连接 sscard 服务');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a daemon that never answers: −11 after SSCARD_DRIVER_TIMEOUT_MS, not a hang', async () => {
    const fake = await fakeDaemon(null);
    try {
      const t0 = Date.now();
      const r = await call(caller, ['iVerifyPIN', '1'], { SSCARD_DRIVER_SOCKET: fake.socket, SSCARD_DRIVER_TIMEOUT_MS: '400' });
      expect(r.code).toBe(-11);
      expect(r.out[0]).toContain('did not answer within 400 ms');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    } finally {
      await fake.close();
    }
  });

  it('something else on the socket: −11, never a crash', async () => {
    const fake = await fakeDaemon('SSH-2.0-OpenSSH\r\n');
    try {
      const r = await call(caller, ['iReadCardBas', '1'], { SSCARD_DRIVER_SOCKET: fake.socket });
      expect(r.code).toBe(-11);
      expect(r.out[0]).toContain("not the sscard daemon's");
    } finally {
      await fake.close();
    }
  });

  it('an answer longer than the buffer is cut at a character boundary within 1024 bytes; a character GBK lacks becomes ?, GB18030 keeps it', async () => {
    const text = `𠀀${'社会保障卡'.repeat(400)}`;
    const fake = await fakeDaemon(answer(-999, Buffer.from(text)));
    try {
      const gbk = await call(caller, ['iReadCardBas', '1'], { SSCARD_DRIVER_SOCKET: fake.socket });
      expect(gbk.code).toBe(-999);
      expect(gbk.raw[0]!.length).toBe(1023);
      expect(gbk.out[0]).toBe(`?${'社会保障卡'.repeat(400)}`.slice(0, 512));
    } finally {
      await fake.close();
    }
    const fake2 = await fakeDaemon(answer(0, Buffer.from(text)));
    try {
      const gb18030 = await call(caller, ['iReadCardBas', '1'], { SSCARD_DRIVER_SOCKET: fake2.socket, SSCARD_DRIVER_ENCODING: 'GB18030' }, 'GB18030');
      expect(gb18030.out[0]!.startsWith('𠀀社会')).toBe(true);
      expect(gb18030.raw[0]!.length).toBeLessThanOrEqual(1023);
    } finally {
      await fake2.close();
    }
  });
});

it.each(['c', 'c-asan'] as const)('a NULL output buffer from %s: −14 without writing anything', async (caller) => {
  const r = await call(caller, ['nullOutput'], { SSCARD_DRIVER_SOCKET: path.join(dir, 'nobody.sock') });
  expect(r.code).toBe(-14);
});

describe('the daemon\'s metrics after these calls (docs/api.md "Metrics")', () => {
  it('GET /metrics counts the PIN flows by result and the APDUs per reader, and names no card', async () => {
    const r = await daemon.fetch('/metrics');
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toMatch(/^sscard_flows_total\{service="verify",result="verify\.ok"\} [1-9]\d*$/m);
    expect(text).toMatch(/^sscard_flows_total\{service="verify",result="verify\.wrongPin"\} [1-9]\d*$/m);
    expect(text).toMatch(/^sscard_apdu_duration_seconds_count\{reader="Virtual PCD 00 00"\} [1-9]\d*$/m);
    expect(text).toMatch(/^sscard_up 1$/m);
    const bas = (await http('iReadCardBas', { iType: 1 })).text.split('|');
    for (const field of [bas[1], bas[2], bas[3], bas[4]]) expect(text).not.toContain(field);
  });
});
