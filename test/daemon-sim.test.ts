/**
 * The daemon as a newcomer meets it (README "Quick start"): default configuration on a machine with no
 * physical reader → the simulator (virtual card and PSAM on pcscd's vpcd readers, simulated ID
 * reader on a pty, touchscreen keypad), kiosk role. Also: a kiosk never runs a counter-only
 * service whatever a client sends, the virtual card's state survives a restart, and a bad config
 * stops the daemon with the key, the value and what is allowed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import type { CommandResult as CommandOutcome, TestClient } from '../testing/api-test-client.js';
import { DaemonProcess, connectClient } from './helpers/daemon.js';
import { requireStack, runCli, settleAfterRemoval } from './helpers/stack.js';

const PASSPHRASE = 'kiosk-should-not-care';
let daemon: DaemonProcess;
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-sim-'));
const config = {
  api: { port: 0 },
  log: { level: 'debug', file: 'log/sscard.log', console: false },
  operators: { accounts: [{ id: 'op1', name: '李四', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
};

function verify(c: TestClient, pin: string, extra: Record<string, unknown> = {}): Promise<CommandOutcome> {
  return typed(c, 'SSCard.VerifyPin', [pin], extra);
}

function typed(c: TestClient, name: string, pins: string[], payload: Record<string, unknown> = {}): Promise<CommandOutcome> {
  const queue = [...pins];
  return c.command(name, payload, { timeout: 60_000 }, 70_000, (m) => {
      if (m.header.name !== 'SSCard.PinEntryStartedEvent') return;
      const pin = queue.shift();
      if (pin !== undefined) void (async () => {
        for (const k of pin) await c.command('Keyboard.TouchKey', { key: k });
      })();
  });
}

const code = (o: CommandOutcome): string | undefined => (o.completion.payload as { result?: { code: string } } | undefined)?.result?.code;

async function ready(d: DaemonProcess): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const h = (await (await fetch(d.url('/health'))).json()) as { ready: boolean };
    const s = (await (await d.fetch('/status')).json()) as { card: { identified: boolean } };
    if (h.ready && s.card.identified) return;
    if (Date.now() > end) throw new Error(`not ready: ${JSON.stringify(h)} ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await requireStack();
  writeFileSync(path.join(dir, 'placeholder'), '');
  daemon = await DaemonProcess.start({ config, entry: 'sscardd' }, dir);
  await ready(daemon);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await settleAfterRemoval();
});

describe('daemon with the default configuration (simulator, kiosk)', () => {
  it('says it is simulating, is ready, and serves a verify with the touchscreen keypad', async () => {
    expect(daemon.stderr).toMatch(/simulating/);
    const s = (await (await daemon.fetch('/status')).json()) as Record<string, unknown>;
    expect(s).toMatchObject({ simulated: true, role: 'kiosk', services: ['verify', 'change'] });
    const c = await connectClient(daemon.port);
    try {
      expect(code(await verify(c, '123456'))).toBe('verify.ok');
    } finally {
      c.close();
    }
  });

  it('a kiosk refuses counter-only services even with a valid operator token', async () => {
    const c = await connectClient(daemon.port);
    try {
      const login = await c.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
      const token = (login.completion.payload as { token?: string }).token;
      for (const name of ['SSCard.UnblockPin', 'SSCard.ResetPin', 'SSCard.Activate']) {
        const r = await typed(c, name, ['864209', '864209'], token === undefined ? {} : { token });
        expect(r.completion.header.completionCode, name).toBe('commandErrorCode');
        expect((r.completion.payload as { errorCode: string }).errorCode, name).toBe('serviceNotOffered');
        expect(r.events, name).toEqual([]);
      }
      const vendor = await daemon.fetch('/sscard/iUnblockPIN', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ iType: 1, cardInfo: '411082D156000005B342125825DF90C3|X00000019|' }),
      });
      expect(vendor.ok).toBe(false);
      expect(vendor.headers.get('x-sscard-return')).not.toBe('0');
    } finally {
      c.close();
    }
  });

  it('the virtual card keeps its state across a restart (a changed PIN stays changed)', async () => {
    const c = await connectClient(daemon.port);
    { const r = await typed(c, 'SSCard.ChangePin', ['123456', '864209', '864209']); expect(code(r), JSON.stringify(r.completion.payload)).toBe('change.ok'); }
    c.close();
    await daemon.stop();
    expect(daemon.exitCode).toBe(0);
    daemon = await DaemonProcess.start({ config, entry: 'sscardd' }, dir);
    await ready(daemon);
    const d = await connectClient(daemon.port);
    try {
      expect(code(await verify(d, '864209'))).toBe('verify.ok');
    } finally {
      d.close();
    }
  }, 60_000);
});

describe('a bad configuration stops the daemon with a clear message', () => {
  it('names the key, the value and what is allowed — every problem at once', async () => {
    const bad = path.join(dir, 'bad.toml');
    writeFileSync(bad, 'role = "kiosk"\nservices = ["verify", "unblock"]\n[api]\nport = 70000\nhost = "0.0.0.0"\n[session]\ntriesFloor = "one"\n');
    const r = await runCli(['daemon', '--config', bad], 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('api.port');
    expect(r.stderr).toContain('70000');
    expect(r.stderr).toContain('api.host');
    expect(r.stderr).toContain('session.triesFloor');
    expect(r.stderr).toContain('unblock');
    expect(r.stderr).toMatch(/错误|配置/);
  });
});
