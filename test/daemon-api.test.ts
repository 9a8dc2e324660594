/**
 * The daemon end to end: `sscard daemon` as a child process over the real pcscd
 * + vpcd, the project's virtual card and PSAM inserted by this test, the ID card reader simulator
 * on a real pty, the reference platform on loopback for the sync, and the XFS4IoT API over a real
 * WebSocket. At the end every log line (debug level), journal row, sync payload and API message is
 * scanned for the PINs the flows used.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CentralServer } from '../platform/server.js';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import { Journal } from '../daemon/journal/journal.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { findLeaks, needlesFor, pinBlockNeedles } from '../testing/pin-scan.js';
import type { CommandResult as CommandOutcome, Msg as XfsMessage, TestClient } from '../testing/api-test-client.js';
import { DaemonProcess, connectClient } from './helpers/daemon.js';
import { CounterDevices } from './helpers/counter-devices.js';
import { ROOT, requireStack } from './helpers/stack.js';

const PASSPHRASE = 'counter-op-passphrase';
/** Every PIN any flow here types or sets. */
const PINS = ['123456', '135790', '864209', '975312', '246813'];

let daemon: DaemonProcess;
let central: CentralServer;
let devices: CounterDevices;
const clients: TestClient[] = [];
const pushBodies: Buffer[] = [];

async function client(): Promise<TestClient> {
  const c = await connectClient(daemon.port);
  clients.push(c);
  return c;
}

/** A client with the counter operator logged in (change, reset and activation at a counter need one). */
async function operator(): Promise<TestClient> {
  const c = await client();
  const r = await c.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
  if (r.completion.header.completionCode !== 'success') throw new Error(`login failed: ${JSON.stringify(r.completion)}`);
  return c;
}

async function useCard(fixture: string, idCard: string): Promise<void> {
  devices.idSim.place(loadIdCardFixture(idCard));
  await devices.readers.swap(await VirtualSsCard.fromFile(path.join(ROOT, 'fixtures', 'cards', fixture)));
  await daemon.waitIdentified();
}

async function status(): Promise<Record<string, unknown> & { card: { identified: boolean; triesLeft: number | null; cardState: string | null; session: string } }> {
  const r = await daemon.fetch('/status');
  return (await r.json()) as never;
}

/** Run a service, typing each PIN (from `pins`, in order) on the touchscreen pad when asked. */
function service(c: TestClient, name: string, pins: string[], payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<CommandOutcome> {
  const queue = [...pins];
  return c.command(name, payload, { timeout: 60_000, ...header }, 70_000, (m) => {
      if (m.header.name === 'SSCard.PinEntryStartedEvent') {
        const pin = queue.shift();
        if (pin === undefined) return;
        void (async () => {
          for (const k of pin) {
            const r = await c.command('Keyboard.TouchKey', { key: k });
            if (r.completion.header.completionCode !== 'success') throw new Error(`TouchKey failed: ${JSON.stringify(r.completion)}`);
          }
        })();
      }
  });
}

function result(o: CommandOutcome): { code: string; outcome: string; triesLeft?: number } {
  const r = (o.completion.payload as { result?: { code: string; outcome: string; triesLeft?: number } } | undefined)?.result;
  if (r === undefined) throw new Error(`no result in ${JSON.stringify(o.completion)}`);
  return r;
}

function completion(o: CommandOutcome): string | undefined {
  return o.completion.header.completionCode;
}

beforeAll(async () => {
  await requireStack();
  central = await CentralServer.start({ capture: (b) => pushBodies.push(b) });
  devices = await CounterDevices.open();
  daemon = await DaemonProcess.start({
    config: {
      terminalId: 'E2E-COUNTER-1',
      deviceId: 'DEV-42',
      role: 'counter',
      ...devices.config,
      journal: { path: 'journal.db', keyFile: 'journal.key' },
      sync: { endpoint: central.url, intervalMs: 1000 },
      api: { port: 0, maxFrameBytes: 4096, maxConnectionsPerClient: 32 },
      operators: { sessionTtlMs: 600_000, maxFailures: 3, lockoutMs: 60_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
      log: { level: 'debug', file: 'log/sscard.log', console: false },
      session: { inactivityMs: 120_000, pinEntryMs: 30_000 },
    },
  });
  await daemon.waitIdentified();
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await devices?.close();
  await central?.close();
});

describe('daemon over the WebSocket API (counter role, pcscd + vpcd)', () => {
  it('reports health and status over HTTP, with the card identified and the PSAM ready', async () => {
    const h = await daemon.fetch('/health');
    const health = (await h.json()) as { ready: boolean; reasons: unknown[] };
    expect(health).toMatchObject({ live: true, ready: true, reasons: [] });
    expect(h.status).toBe(200);
    const s = await status();
    expect(s).toMatchObject({ terminalId: 'E2E-COUNTER-1', role: 'counter', simulated: false });
    expect(s.card).toMatchObject({ present: true, identified: true, cardNumberMasked: 'X0****019', triesLeft: 6 });
    expect(s['psam']).toMatchObject({ connected: true });
    expect(JSON.stringify(s)).not.toContain('411082198503120038');
  });

  it('Common.Status / Capabilities and SSCard.ReadBasic', async () => {
    const c = await client();
    const st = await c.command('Common.Status');
    expect(completion(st)).toBe('success');
    const caps = await c.command('Common.Capabilities');
    expect(completion(caps)).toBe('success');
    const cp = caps.completion.payload as { interfaces: { name: string }[]; sscard: { interfaces: { name: string }[]; role: string; services: string[]; operatorRequired: string[]; psam: unknown; simulated: boolean } };
    expect(cp.interfaces.map((i) => i.name)).toEqual(['Common', 'CardReader', 'Keyboard']);
    expect(cp.sscard.interfaces.map((i) => i.name)).toEqual(expect.arrayContaining(['SSCard', 'Operator']));
    // A counter offers every service; each but verify needs an operator (seed 000/001, state/roles.ts).
    expect([...cp.sscard.services].sort()).toEqual(['activate', 'change', 'reset', 'unblock', 'verify']);
    expect([...cp.sscard.operatorRequired].sort()).toEqual(['activate', 'change', 'reset', 'unblock']);
    expect(cp.sscard).toMatchObject({ role: 'counter', simulated: false });
    const rb = await c.command('SSCard.ReadBasic');
    expect(completion(rb)).toBe('success');
    expect(JSON.stringify(rb.completion.payload)).toContain('411082198503120038');
    expect(JSON.stringify(rb.completion.payload)).toContain('王志强');
  });

  it('iReadCardBas answers in the vendor format', async () => {
    const r = await daemon.fetch('/sscard/iReadCardBas', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ iType: 1 }) });
    const body = await r.text();
    expect(r.headers.get('x-sscard-return')).toBe('0');
    const f = body.split('|');
    expect(f).toHaveLength(12);
    expect(f.slice(0, 5)).toEqual(['411082', '411082198503120038', 'X00000019', '411082D156000005B342125825DF90C3', '王志强']);
    expect(f[6]).toBe('2.00');
    expect(f[7]).toBe('20160520');
    expect(f[8]).toBe('20310519');
    expect(f[10]).toBe('DEV-42');
    expect(f[11]).toBe('');
  });

  it('iGetReaderInfo: the device number and the PSAM\'s terminal number, the same as iReadCardBas gives', async () => {
    const post = (fn: string, body: unknown) => daemon.fetch(`/sscard/${fn}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bas = (await (await post('iReadCardBas', { iType: 1 })).text()).split('|');
    const r = await post('iGetReaderInfo', {});
    expect(r.headers.get('x-sscard-return')).toBe('0');
    expect(await r.text()).toBe(`DEV-42|${bas[9]!}|`);
    expect(bas[9]).toMatch(/^\d{12}$/);
  });

  it('VerifyPin: wrong PIN gives tries left, right PIN succeeds; events fan out to a second client', async () => {
    const kiosk = await client();
    const watcher = await client();
    const wrong = await service(kiosk, 'SSCard.VerifyPin', ['864209']);
    expect(result(wrong)).toMatchObject({ code: 'verify.wrongPin', triesLeft: 5 });
    expect(completion(wrong)).toBe('commandErrorCode');
    const ok = await service(kiosk, 'SSCard.VerifyPin', ['123456']);
    expect(result(ok)).toMatchObject({ code: 'verify.ok', outcome: 'ok', triesLeft: 6 });
    expect(completion(ok)).toBe('success');
    expect(ok.events.map((e) => e.header.name)).toEqual(expect.arrayContaining(['SSCard.PinEntryStartedEvent', 'SSCard.PinDigitsEvent', 'SSCard.ResultEvent']));
    await watcher.waitFor((m) => m.header.type === 'unsolicited' && m.header.name === 'SSCard.ResultEvent');
    expect(kiosk.unsolicited('SSCard.ResultEvent')).toEqual([]);
  });

  it('iVerifyPIN (vendor call): the PIN is typed on the pad; wrong PIN → -51, right PIN → 0', async () => {
    const pad = await client();
    const call = async (pin: string): Promise<{ code: string | null; body: string }> => {
      const started = pad.messages.length;
      const res = daemon.fetch('/sscard/iVerifyPIN', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ iType: 1 }) });
      await pad.waitFor((m) => pad.messages.indexOf(m) >= started && m.header.type === 'unsolicited' && m.header.name === 'SSCard.PinEntryStartedEvent', 10_000);
      for (const k of pin) expect(completion(await pad.command('Keyboard.TouchKey', { key: k }))).toBe('success');
      const r = await res;
      return { code: r.headers.get('x-sscard-return'), body: await r.text() };
    };
    const wrong = await call('864209');
    expect(wrong.code).toBe('-51');
    expect(wrong.body).toContain('密码错误，还可尝试 5 次。');
    expect(wrong.body).toContain('Wrong PIN: 5 tries left.');
    const right = await call('123456');
    expect(right.code).toBe('0');
    expect(right.body).not.toContain('密码错误');
    const two = await daemon.fetch('/sscard/iVerifyPIN', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ iType: 2 }) });
    expect(two.headers.get('x-sscard-return')).toBe('-1');
  });

  it('ChangePin and back; the new PIN verifies', async () => {
    const c = await operator();
    // A phone number the caller gives with the request: the new PIN may not be 6 digits of it.
    const phone = await service(c, 'SSCard.ChangePin', ['123456', '975312', '975312'], { phones: ['139-7531-2000'] });
    expect(result(phone)).toMatchObject({ code: 'pin.policy' });
    expect(JSON.stringify(phone.completion)).not.toContain('975312');
    const ch = await service(c, 'SSCard.ChangePin', ['123456', '975312', '975312']);
    expect(result(ch)).toMatchObject({ code: 'change.ok' });
    expect(result(await service(c, 'SSCard.VerifyPin', ['975312']))).toMatchObject({ code: 'verify.ok' });
    expect(result(await service(c, 'SSCard.ChangePin', ['975312', '123456', '123456']))).toMatchObject({ code: 'pin.policy' });
    expect(result(await service(c, 'SSCard.ChangePin', ['975312', '246813', '246813']))).toMatchObject({ code: 'change.ok' });
  });

  it('ResetPin at a counter: the ID card is read and matches, the new PIN is set with the PSAM MAC', async () => {
    const c = await operator();
    const r = await service(c, 'SSCard.ResetPin', ['864209', '864209']);
    expect(result(r)).toMatchObject({ code: 'reset.ok', outcome: 'ok' });
    expect(result(await service(c, 'SSCard.VerifyPin', ['864209']))).toMatchObject({ code: 'verify.ok' });
  });

  it('operator auth: UnblockPin needs a login; bad passphrase refused; with a login the locked card is unblocked', async () => {
    await useCard('card-locked.json', 'id-card-locked');
    const c = await client();
    const anon = await service(c, 'SSCard.UnblockPin', ['864209', '864209']);
    expect(completion(anon)).toBe('authorisationRequired');
    expect(anon.events.map((e) => e.header.name)).not.toContain('SSCard.PinEntryStartedEvent');
    const bad = await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'wrong-passphrase' });
    // Wrong credentials (docs/api.md "Operators"): commandErrorCode auth.badCredentials, same text as an unknown id.
    expect(completion(bad)).toBe('commandErrorCode');
    expect(bad.completion.payload?.errorCode).toBe('auth.badCredentials');
    expect(JSON.stringify(bad.completion)).not.toContain('wrong-passphrase');
    const good = await c.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
    expect(completion(good)).toBe('success');
    const token = (good.completion.payload as { token: string }).token;
    const un = await service(c, 'SSCard.UnblockPin', ['864209', '864209']);
    expect(result(un)).toMatchObject({ code: 'unblock.ok', outcome: 'ok', triesLeft: 6 });
    // A token from another connection works too; a made-up one does not.
    const other = await client();
    expect(completion(await other.command('CardReader.ChipIO', { chipData: Buffer.from('00A40000023F00', 'hex').toString('base64'), token: 'made-up' }))).toBe('authorisationRequired');
    const io = await other.command('CardReader.ChipIO', { chipData: Buffer.from('00A40000023F00', 'hex').toString('base64'), token });
    expect(completion(io)).toBe('success');
    const pinIo = await other.command('CardReader.ChipIO', { chipData: Buffer.from('0020000003123456', 'hex').toString('base64'), token });
    // A PIN-bearing INS through raw ChipIO is refused before it reaches the card (docs/api.md).
    expect(completion(pinIo)).toBe('invalidData');
    expect(pinIo.completion.payload).not.toHaveProperty('chipData');
    // The card is identified afresh after raw APDUs, and verifies with the new PIN.
    expect(result(await service(c, 'SSCard.VerifyPin', ['864209']))).toMatchObject({ code: 'verify.ok' });
    expect(token.length).toBeGreaterThan(20);
  });

  it('Activate a not-activated card (the holder sets the PIN)', async () => {
    await useCard('card-not-activated.json', 'id-card-not-activated');
    const c = await operator();
    const a = await service(c, 'SSCard.Activate', ['864209', '864209']);
    expect(result(a)).toMatchObject({ code: 'activate.ok', outcome: 'ok' });
  });

  it('malformed traffic gets answers, never a crash: bad JSON, unknown command, bad types, duplicate requestId, binary, oversized frame', async () => {
    await useCard('card-2.0.json', 'id-card-2.0');
    const c = await client();
    const replies = (n: number): Promise<XfsMessage[]> =>
      new Promise((resolve) => {
        const start = c.messages.length;
        const t = setInterval(() => {
          if (c.messages.length >= start + n) {
            clearInterval(t);
            resolve(c.messages.slice(start));
          }
        }, 10);
      });
    let p = replies(1);
    c.ws.send('{not json');
    const notJson = (await p)[0]!;
    expect(notJson.header).toMatchObject({ type: 'acknowledge', status: 'invalidMessage' });
    expect(notJson.header.errorDescription).toMatch(/JSON/);
    const unknown = await c.command('SSCard.Teleport');
    expect(completion(unknown)).toBe('unsupportedCommand');
    const badType = await c.command('Keyboard.PinEntry', { minLen: 'six' });
    expect(badType.completion.header).toMatchObject({ type: 'completion', completionCode: 'invalidData' });
    expect(badType.completion.header.errorDescription).toContain('minLen');
    p = replies(1);
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const binary = await p;
    expect(binary).toHaveLength(1);
    expect(binary[0]!.header).toMatchObject({ type: 'acknowledge', status: 'invalidMessage' });
    // Two commands with one requestId while the first still runs: the second is refused, the first goes on.
    const firstId = 900_001;
    const first = service(c, 'SSCard.VerifyPin', [], {}, { requestId: firstId });
    await c.waitFor((m) => m.header.requestId === firstId && m.header.name === 'SSCard.PinEntryStartedEvent');
    const before = c.messages.length;
    c.ws.send(JSON.stringify({ header: { type: 'command', name: 'Common.Status', requestId: firstId, version: '2.0' }, payload: {} }));
    const dup = await c.waitFor((m) => c.messages.indexOf(m) >= before && m.header.requestId === firstId && m.header.type === 'acknowledge');
    expect(dup.header).toMatchObject({ name: 'Common.Status', status: 'invalidRequestID' });
    expect(dup.header.errorDescription).toContain(String(firstId));
    // The refused duplicate did not run: no completion carries that id while the first still waits for its PIN.
    expect(c.messages.some((m) => m.header.requestId === firstId && m.header.type === 'completion')).toBe(false);
    void first; // resolved by the duplicate's refusal (same id); the first's own completion is awaited below
    const other = await client();
    const seq = await other.command('SSCard.ReadBasic');
    expect(completion(seq)).toBe('sequenceError');
    await c.command('Common.Cancel', {});
    const firstDone = await c.waitFor((m) => m.header.requestId === firstId && m.header.type === 'completion', 10_000);
    expect(firstDone.header).toMatchObject({ name: 'SSCard.VerifyPin', completionCode: 'canceled' });
    // An oversized frame closes that connection only; the daemon and other clients go on.
    const big = await client();
    const closed = new Promise<number>((resolve) => big.ws.once('close', (code: number) => resolve(code)));
    big.ws.send(JSON.stringify({ header: { type: 'command', name: 'Common.Status', requestId: 1 }, payload: { pad: 'x'.repeat(10_000) } }));
    expect(await closed).toBe(1009);
    expect(completion(await other.command('Common.Status'))).toBe('success');
  });

  it('a client that disconnects mid-flow: the flow ends safely and the reader is free for the next', async () => {
    const c = await client();
    void service(c, 'SSCard.VerifyPin', []);
    await c.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    c.close();
    const d = await client();
    const end = Date.now() + 10_000;
    let r: CommandOutcome;
    for (;;) {
      r = await service(d, 'SSCard.VerifyPin', ['864209']);
      if (completion(r) !== 'sequenceError' || Date.now() > end) break;
      await new Promise((x) => setTimeout(x, 100));
    }
    expect(result(r)).toMatchObject({ code: 'verify.wrongPin' });
    expect(result(await service(d, 'SSCard.VerifyPin', ['123456']))).toMatchObject({ code: 'verify.ok', triesLeft: 6 });
  });

  it('unknown WebSocket paths are refused at the upgrade', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${daemon.port}/nowhere`, { headers: { authorization: `Bearer ${daemon.token!}` } });
    const code = await new Promise<string>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.once('error', (e) => resolve(e.message));
    });
    expect(code).toContain('404');
  });

  it('SIGTERM mid-flow: the daemon stops cleanly, leaves no pending row, and starts again', async () => {
    const c = await client();
    void service(c, 'SSCard.VerifyPin', []);
    await c.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    // Let the sync push what the flows journaled before stopping.
    await new Promise((r) => setTimeout(r, 1500));
    daemon.signal('SIGTERM');
    await daemon.waitExit();
    expect(daemon.exitCode).toBe(0);
    const j = Journal.open({ path: path.join(daemon.dir, 'journal.db'), keyFile: path.join(daemon.dir, 'journal.key'), readOnly: true });
    try {
      expect(j.stats().byState.pending).toBe(0);
      expect(j.stats().total).toBeGreaterThan(5);
      const rows = JSON.stringify(j.list({}));
      for (const pin of PINS) expect(rows).not.toContain(pin);
      expect(rows).toContain('op1');
      const audit = j.audit({ limit: 1000 });
      expect(audit.some((a) => a.kind === 'privileged-call' && a.operatorId === 'op1' && a.command === 'SSCard.UnblockPin')).toBe(true);
      expect(audit.some((a) => a.kind === 'privileged-call' && a.operatorId === '' && a.outcome?.startsWith('authorisationRequired') === true)).toBe(true);
      expect(audit.some((a) => a.kind === 'operator-login' && a.operatorId === 'op1')).toBe(true);
      expect(audit.some((a) => a.kind === 'operator-login-failed')).toBe(true);
      expect(JSON.stringify(audit)).not.toContain(PASSPHRASE);
    } finally {
      j.close();
    }
    const log = readFileSync(path.join(daemon.dir, 'log', 'sscard.log'), 'utf8');
    expect(log).toContain('"APDU');
    expect(log).toContain('stopping');
    daemon = await DaemonProcess.start({ config: JSON.parse(readFileSync(daemon.configFile, 'utf8')) as Record<string, unknown> }, daemon.dir);
    await daemon.waitIdentified();
  }, 60_000);

  it('no PIN in any log line, journal file, sync payload or API message', () => {
    expect(pushBodies.length).toBeGreaterThan(0);
    // Every form of every PIN the flows used, and the PIN blocks the unblock and activation built.
    const blocks = [...pinBlockNeedles(path.join(ROOT, 'fixtures', 'cards', 'card-locked.json'), ['864209']), ...pinBlockNeedles(path.join(ROOT, 'fixtures', 'cards', 'card-not-activated.json'), ['864209'])];
    const needles = [...needlesFor(PINS), ...blocks];
    const logDir = path.join(daemon.dir, 'log');
    const logs = readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('\n');
    expect(logs.split('\n').length).toBeGreaterThan(50);
    // The debug log does trace the PSAM's COMPUTE MAC and PIN-block commands (redacted) — so the scan has something to look at.
    expect(logs).toMatch(/80 FA 05 00 [0-9A-F]{2} \[\d+ bytes redacted\]/);
    expect(findLeaks(logs, needles, { ignoreIncidentalDigits: true }), 'log files').toEqual([]);
    for (const suffix of ['', '-wal', '-shm']) {
      const f = path.join(daemon.dir, `journal.db${suffix}`);
      if (!existsSync(f)) continue;
      // Binary database pages: the bare 3-byte BCD would match random ciphertext by chance (testing/pin-scan.ts).
      expect(findLeaks(readFileSync(f), [...needlesFor(PINS, { bareBcd: false }), ...blocks], { ignoreIncidentalDigits: true, databasePages: true }), f).toEqual([]);
    }
    const j = Journal.open({ path: path.join(daemon.dir, 'journal.db'), keyFile: path.join(daemon.dir, 'journal.key'), readOnly: true });
    try {
      const rows = JSON.stringify([j.list({}), j.audit({ limit: 10_000 })]);
      expect(findLeaks(rows, needles, { ignoreIncidentalDigits: true }), 'decoded journal rows').toEqual([]);
    } finally {
      j.close();
    }
    const api = clients.flatMap((c) => c.frames).join('\n');
    expect(findLeaks(api, needles, { ignoreIncidentalDigits: true }), 'API frames').toEqual([]);
    const sync = pushBodies.map((b) => b.toString('utf8')).join('\n');
    expect(findLeaks(sync, needles, { ignoreIncidentalDigits: true }), 'sync payloads').toEqual([]);
    expect(logs).not.toContain(PASSPHRASE);
  });
});
