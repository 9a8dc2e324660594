/**
 * PIN secrecy through the real daemon at debug level (README "PIN secrecy", docs/security.md):
 * every PIN flow — verify (wrong and right), change, reset, unblock, activate — on a 2nd-generation
 * (3DES, PBOC reload) and a 3rd-generation (SM4, encrypted-block reload) card, once with each PIN
 * pad the daemon can drive here: the serial ZT598 pad (its simulator on a real pty) and the
 * touchscreen keypad (digits typed over the API). Distinctive PINs, one set per pad and card.
 *
 * Afterwards every place a PIN could leak is scanned for every PIN in every form
 * (testing/pin-scan.ts: ASCII, BCD bytes and hex text, F-padded, UTF-16) and for the PIN blocks
 * the flows produced (clear and encrypted with each card's usage-24 key): the log file, the
 * daemon's stdout and stderr (console logging on, at debug), the journal with its WAL and shared
 * memory (and every decoded row and audit entry), the sync payloads the platform received, and
 * every API frame the clients got.
 *
 * The USB HID pad and the PC/SC Part 10 keypad reader need a device this machine does not have
 * (no hidraw/uhid, and vpcd has no keypad); their flows run in-process with the daemon's flow
 * wiring in test/services-pinpads.test.ts, which scans the same way.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CentralServer } from '../platform/server.js';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import { Journal } from '../daemon/journal/journal.js';
import type { CommandResult, TestClient } from '../testing/api-test-client.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { SimKeypad } from '../drivers/sim/pinpad-keypad.js';
import { Zt598Simulator } from '../drivers/sim/pinpad-zt598.js';
import type { CardProfile } from '../drivers/sim/profile.js';
import { cardFixture, loadCardProfile } from '../drivers/sim/profile.js';
import { PtyPair } from '../drivers/sim/pty.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { findLeaks, needlesFor, pinBlockNeedles } from '../testing/pin-scan.js';
import type { Needle } from '../testing/pin-scan.js';
import { DaemonProcess, connectClient } from './helpers/daemon.js';
import { CARD_READER, PSAM_READER, ROOT, requireStack } from './helpers/stack.js';
import { VirtualReaders } from './helpers/virtual-readers.js';

const PASSPHRASE = 'pin-secrecy-operator';

type PadKind = 'serial' | 'touchscreen';

interface CardCase {
  readonly name: '2.0' | '3.0';
  readonly fixture: string;
  readonly idCard: string;
  /** The card's PIN as personalised. */
  readonly pin: string;
}

const CARDS: readonly CardCase[] = [
  { name: '2.0', fixture: 'card-2.0', idCard: 'id-card-2.0', pin: '123456' },
  { name: '3.0', fixture: 'card-3.0', idCard: 'id-card-3.0', pin: '246810' },
];

/** Six distinctive PINs per pad and card: wrong, changed-to, reset-to, unblocked-to, activated-to, spare. */
const PIN_SETS: Record<PadKind, Record<CardCase['name'], readonly string[]>> = {
  serial: { '2.0': ['864209', '975312', '531864', '208642', '319753', '742086'], '3.0': ['620953', '957130', '408621', '730518', '186420', '592074'] },
  touchscreen: { '2.0': ['853097', '964201', '307582', '519640', '647093', '290475'], '3.0': ['706198', '183027', '592816', '849032', '360719', '915706'] },
};

let central: CentralServer;
let readers: VirtualReaders;
let idPty: PtyPair;
let idSim: IdReaderSimulator;
const pushBodies: Buffer[] = [];
/** What each daemon run left to scan (the daemon's folder and its output). */
const runs: { pad: PadKind; daemon: DaemonProcess; frames: string[] }[] = [];

beforeAll(async () => {
  await requireStack();
  central = await CentralServer.start({ capture: (b) => pushBodies.push(b) });
  idPty = await PtyPair.open();
  idSim = new IdReaderSimulator({ path: idPty.b });
  await idSim.start();
  readers = await VirtualReaders.insert('card-2.0');
}, 60_000);

afterAll(async () => {
  for (const r of runs) await r.daemon.stop();
  await readers?.remove();
  await idSim?.stop();
  await idPty?.close();
  await central?.close();
});

/** One daemon with `pad`: the counter role (every service), debug logs to file and console. */
async function startDaemon(pad: PadKind, padPath?: string): Promise<DaemonProcess> {
  return DaemonProcess.start({
    config: {
      terminalId: `E2E-SECRECY-${pad}`,
      deviceId: 'DEV-S',
      role: 'counter',
      simulate: 'off',
      readers: { card: CARD_READER, psam: PSAM_READER },
      pinPad: pad === 'serial' ? { kind: 'serial', path: padPath } : { kind: 'touchscreen', allowTouchscreen: true },
      idReader: { kind: 'serial', path: idPty.a },
      journal: { path: 'journal.db', keyFile: 'journal.key' },
      sync: { endpoint: central.url, intervalMs: 1000 },
      api: { port: 0, maxConnectionsPerClient: 32 },
      operators: { sessionTtlMs: 600_000, maxFailures: 3, lockoutMs: 60_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
      log: { level: 'debug', file: 'log/sscard.log', console: true },
      session: { inactivityMs: 120_000, pinEntryMs: 30_000 },
    },
  });
}

interface Driver {
  readonly daemon: DaemonProcess;
  readonly client: TestClient;
  /** PINs the holder types next, one per prompt. */
  readonly queue: string[];
}

async function status(d: DaemonProcess): Promise<{ sync: { backlog: number } }> {
  return (await (await d.fetch('/status')).json()) as never;
}

async function useCard(d: DaemonProcess, profile: CardProfile, idCard: string): Promise<void> {
  idSim.place(loadIdCardFixture(idCard));
  await readers.swap(new VirtualSsCard(profile));
  await d.waitIdentified();
}

/** Run a service; the holder types the queued PINs on whichever pad asks (touch keys over the API here). */
function service(drv: Driver, pad: PadKind, name: string, pins: readonly string[]): Promise<CommandResult> {
  drv.queue.push(...pins);
  return drv.client.command(name, {}, { timeout: 60_000 }, 70_000, (m) => {
    if (pad !== 'touchscreen' || m.header.name !== 'SSCard.PinEntryStartedEvent') return;
    const pin = drv.queue.shift();
    if (pin === undefined) return;
    void (async () => {
      for (const k of pin) await drv.client.command('Keyboard.TouchKey', { key: k });
    })();
  });
}

function code(r: CommandResult): string {
  return (r.completion.payload as { result?: { code: string } } | undefined)?.result?.code ?? `${r.completion.header.completionCode ?? '?'}:${String(r.completion.payload?.['sscardErrorCode'])}`;
}

/** Every flow on one card generation, with its own distinctive PINs. */
async function allFlows(drv: Driver, pad: PadKind, card: CardCase): Promise<void> {
  const [wrong, changed, reset, unblocked, activated] = PIN_SETS[pad][card.name] as [string, string, string, string, string];
  const base = await loadCardProfile(cardFixture(card.fixture));
  await useCard(drv.daemon, base, card.idCard);
  expect(code(await service(drv, pad, 'SSCard.VerifyPin', [wrong]))).toBe('verify.wrongPin');
  expect(code(await service(drv, pad, 'SSCard.VerifyPin', [card.pin]))).toBe('verify.ok');
  expect(code(await service(drv, pad, 'SSCard.ChangePin', [card.pin, changed, changed]))).toBe('change.ok');
  expect(code(await service(drv, pad, 'SSCard.ResetPin', [reset, reset]))).toBe('reset.ok');
  expect(code(await service(drv, pad, 'SSCard.VerifyPin', [reset]))).toBe('verify.ok');
  // The same card with its PIN locked (tries used up), then unblocked with a new PIN.
  await useCard(drv.daemon, { ...base, pinTriesLeft: 0 }, card.idCard);
  expect(code(await service(drv, pad, 'SSCard.UnblockPin', [unblocked, unblocked]))).toBe('unblock.ok');
  expect(code(await service(drv, pad, 'SSCard.VerifyPin', [unblocked]))).toBe('verify.ok');
  // The same card never activated: activation sets the holder's first PIN.
  await useCard(drv.daemon, { ...base, state: 'notActivated' }, card.idCard);
  expect(code(await service(drv, pad, 'SSCard.Activate', [activated, activated]))).toBe('activate.ok');
  expect(code(await service(drv, pad, 'SSCard.VerifyPin', [activated]))).toBe('verify.ok');
}

async function runPad(pad: PadKind): Promise<void> {
  let padPty: PtyPair | undefined;
  let padSim: Zt598Simulator | undefined;
  const queue: string[] = [];
  const keypad = new SimKeypad();
  if (pad === 'serial') {
    padPty = await PtyPair.open();
    padSim = new Zt598Simulator(keypad, { path: padPty.b });
    await padSim.start();
    keypad.onPrompt(() => {
      const pin = queue.shift();
      if (pin !== undefined) keypad.press(pin);
    });
  }
  const daemon = await startDaemon(pad, padPty?.a);
  const client = await connectClient(daemon.port);
  const run = { pad, daemon, frames: client.frames };
  runs.push(run);
  try {
    const login = await client.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
    expect(login.completion.header.completionCode).toBe('success');
    for (const card of CARDS) await allFlows({ daemon, client, queue }, pad, card);
    // Let the sync deliver everything before the scan.
    const end = Date.now() + 20_000;
    while ((await status(daemon)).sync.backlog > 0) {
      if (Date.now() > end) throw new Error('the sync did not drain');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(queue).toEqual([]);
  } finally {
    client.close();
    await daemon.stop();
    await padSim?.stop();
    await padPty?.close();
  }
}

/** Every PIN this suite used, and the PIN blocks its reset (3.0), unblock and activation produced. */
function needles(): Needle[] {
  const pins = [...CARDS.map((c) => c.pin), ...Object.values(PIN_SETS).flatMap((byCard) => Object.values(byCard).flat())];
  const blocks = CARDS.flatMap((c) => pinBlockNeedles(path.join(ROOT, 'fixtures', 'cards', `${c.fixture}.json`), Object.values(PIN_SETS).flatMap((s) => s[c.name].slice(1, 5))));
  return [...needlesFor(pins), ...blocks];
}

describe('no PIN, PIN block or key anywhere, at debug level, for every flow, card and PIN pad', () => {
  it.each<PadKind>(['serial', 'touchscreen'])('%s pad: verify, change, reset, unblock, activate on the 2.0 and the 3.0 card', async (pad) => {
    await runPad(pad);
  }, 240_000);

  it('the log files, stdout/stderr, journal (+WAL), sync payloads and API frames hold none of them', () => {
    expect(runs.map((r) => r.pad)).toEqual(['serial', 'touchscreen']);
    const all = needles();
    const fileNeedles = all.filter((n) => !n.label.endsWith('as BCD bytes'));
    for (const r of runs) {
      const logDir = path.join(r.daemon.dir, 'log');
      const logs = readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('\n');
      // The scan has something to look at: debug traces of both readers, redacted where secret.
      expect(logs).toMatch(/80 FA 05 00 [0-9A-F]{2} \[\d+ bytes redacted\]/);
      expect(logs).toMatch(/00 20 00 00 03 \[3 bytes redacted\]/);
      expect(findLeaks(logs, all, { ignoreIncidentalDigits: true }), `${r.pad}: log files`).toEqual([]);
      expect(r.daemon.stderr.length + r.daemon.stdout.length).toBeGreaterThan(10_000);
      expect(findLeaks(r.daemon.stdout + r.daemon.stderr, all, { ignoreIncidentalDigits: true }), `${r.pad}: stdout/stderr`).toEqual([]);
      for (const suffix of ['', '-wal', '-shm']) {
        const f = path.join(r.daemon.dir, `journal.db${suffix}`);
        if (existsSync(f)) expect(findLeaks(readFileSync(f), fileNeedles, { ignoreIncidentalDigits: true, databasePages: true }), `${r.pad}: ${f}`).toEqual([]);
      }
      const j = Journal.open({ path: path.join(r.daemon.dir, 'journal.db'), keyFile: path.join(r.daemon.dir, 'journal.key'), readOnly: true });
      try {
        const rows = j.list({});
        expect(rows.length).toBeGreaterThanOrEqual(18);
        expect(findLeaks(JSON.stringify([rows, j.audit({ limit: 10_000 })]), all, { ignoreIncidentalDigits: true }), `${r.pad}: decoded journal`).toEqual([]);
      } finally {
        j.close();
      }
      expect(r.frames.length).toBeGreaterThan(50);
      expect(findLeaks(r.frames.join('\n'), all, { ignoreIncidentalDigits: true }), `${r.pad}: API frames`).toEqual([]);
    }
    expect(pushBodies.length).toBeGreaterThan(0);
    expect(findLeaks(Buffer.concat(pushBodies), all, { ignoreIncidentalDigits: true }), 'sync payloads').toEqual([]);
  });
});
