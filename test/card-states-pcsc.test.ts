/**
 * Cards the terminal must identify and name rather than call unreadable, end to end through the
 * real PC/SC stack: pcscd with vsmartcard's vpcd, the virtual card in "Virtual PCD 00 00" and the
 * test PSAM in "Virtual PCD 00 01", a Terminal (the daemon's card slots, sessions and ReadBasic) on
 * a PcscService. Every command the card receives is recorded at the vpcd bridge.
 * - an application-locked card (挂失, SELECT → 9303: docs/domain.md §2): identified appLocked, every
 *   service the counter offers ends card.appLocked and no state-changing command reaches the card;
 * - a holder name with four-byte GB18030 characters (docs/card-conventions.md "Names"): ReadBasic
 *   returns it whole;
 * - a card past its 卡有效期 (card-expired, 2024-04-09): reported expired; refused card.expired by
 *   default (seed 001 line 60, 001_bf9ce8a90a3e7ce5.txt: 材料真实有效), served with
 *   session.expiredCard = "report".
 * Run under `flock /tmp/sscard-vpcd.lock` (other suites share the vpcd readers).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Terminal } from '../daemon/terminal/terminal.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { TouchPinPad } from '../drivers/pinpad/touch-pinpad.js';
import { cardFixture, psamFixture } from '../drivers/sim/profile.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import { VPCD_PORT_PSAM, VpcdBridge } from '../drivers/sim/vpcd-bridge.js';
import type { SessionConfig } from '../state/session.js';
import { CARD_READER, PSAM_READER, requireStack, settleAfterRemoval } from './helpers/stack.js';

/** INS of every command that spends a PIN try or changes the card (docs/domain.md §2): VERIFY, CHANGE/RELOAD PIN, PIN UNBLOCK / 3.0 RELOAD, APP BLOCK/UNBLOCK, UPDATE RECORD. */
const CHANGES_CARD = new Set([0x20, 0x5e, 0x24, 0x1e, 0x18, 0xdc]);
/** Such commands among `commands` — VERIFY without data (the tries query, ISO 7816-4: spends none) left out. */
const cardChanging = (commands: Buffer[]): string[] => commands.filter((c) => CHANGES_CARD.has(c[1]!) && !(c[1] === 0x20 && c.length <= 5)).map((c) => c.toString('hex'));

let pcsc: PcscService;
let psamBridge: VpcdBridge;

beforeAll(async () => {
  await requireStack();
  psamBridge = new VpcdBridge(await VirtualPsam.fromFile(psamFixture('psam-test')), { port: VPCD_PORT_PSAM });
  await psamBridge.insert();
  pcsc = new PcscService();
  pcsc.start();
  await pcsc.ready(5000);
  await pcsc.waitForCard(PSAM_READER, 5000);
}, 30_000);

afterAll(async () => {
  await psamBridge?.remove();
  await pcsc?.stop();
  await settleAfterRemoval();
});

const open: { terminals: Terminal[]; pads: TouchPinPad[]; bridges: VpcdBridge[] } = { terminals: [], pads: [], bridges: [] };
afterEach(async () => {
  for (const t of open.terminals.splice(0)) await t.stop(2000);
  for (const p of open.pads.splice(0)) await p.close();
  for (const b of open.bridges.splice(0)) await b.remove();
  await pcsc.waitForRemoval(CARD_READER, 5000);
});

async function until(pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A counter terminal on the vpcd readers with the card `profile` in its slot, identified. */
async function counterWith(profile: string, session: Omit<SessionConfig, 'role' | 'offered'> = {}) {
  const card = await VirtualSsCard.fromFile(cardFixture(profile));
  const commands: Buffer[] = [];
  const bridge = new VpcdBridge(card, {
    onCommand: (c) => {
      commands.push(Buffer.from(c));
      return undefined;
    },
  });
  open.bridges.push(bridge);
  await bridge.insert();
  await pcsc.waitForCard(CARD_READER, 5000);
  const pad = new TouchPinPad({ allowTouchscreen: true });
  await pad.open();
  open.pads.push(pad);
  const terminal = new Terminal({
    terminalId: 'E2E-CARD-STATES',
    deviceId: 'DEV-1',
    role: 'counter',
    version: '0.0.0-test',
    simulated: false,
    pcsc,
    isCardReader: (n) => n === CARD_READER,
    isPsamReader: (n) => n === PSAM_READER,
    pinPad: pad,
    session: { inactivityMs: 60_000, pinEntryMs: 30_000, ...session },
  });
  open.terminals.push(terminal);
  terminal.start();
  await terminal.settled();
  await until(() => terminal.status().card.identified);
  return { terminal, card, commands, pad };
}

describe('an application-locked card (card-app-locked: SELECT → FCI ‖ 9303)', () => {
  it('is identified appLocked (status and ReadBasic), and verify, change, reset, unblock and activate all end card.appLocked with no state-changing command sent', async () => {
    const { terminal, card, commands } = await counterWith('card-app-locked');
    expect(terminal.status().card).toMatchObject({ identified: true, cardState: 'appLocked', triesLeft: null });
    const basic = await terminal.readBasic(new AbortController().signal);
    expect(basic).toMatchObject({ cardState: 'appLocked', cardId: '410204D1560000057C2E91A4D35B0862', cardNumber: 'W00000624', triesLeft: null, authentic: null, name: '' });
    for (const kind of ['verify', 'change', 'reset', 'unblock', 'activate'] as const) {
      const r = await terminal.runService({ kind, operatorId: 'op-e2e' }, () => {}, new AbortController().signal);
      expect(r, kind).toMatchObject({ code: 'card.appLocked', kind, outcome: 'refused' });
      expect(r.nextStep.zh, kind).toContain('补换卡');
    }
    expect(cardChanging(commands)).toEqual([]);
    expect(commands.length).toBeGreaterThan(0);
    expect(card.pinTriesLeft).toBe(6);
    expect(card.toProfile().state).toBe('appLocked');
  });
});

describe('a name with four-byte GB18030 characters (card-rare-name, 3.0)', () => {
  it('ReadBasic returns 张𠀾㛃 whole, and the PIN verifies', async () => {
    const { terminal, pad } = await counterWith('card-rare-name');
    const basic = await terminal.readBasic(new AbortController().signal);
    expect(basic).toMatchObject({ name: '张𠀾㛃', socialSecurityNumber: '410703199011020627', cardState: 'active', authentic: true, undecodable: [] });
    const r = await terminal.runService({ kind: 'verify', operatorId: 'op-e2e' }, (e) => {
      if (e.type === 'pin.entryStarted') setImmediate(() => {
        for (const k of '246810') pad.input(k);
      });
    }, new AbortController().signal);
    expect(r).toMatchObject({ code: 'verify.ok', triesLeft: 6 });
  });
});

describe('a card past its validity (card-expired: 卡有效期 2024-04-09; seed 001 line 60: 材料真实有效)', () => {
  it('default session.expiredCard (refuse): ReadBasic and status say expired, verify and reset end card.expired, nothing sent that changes the card', async () => {
    const { terminal, card, commands } = await counterWith('card-expired');
    expect(terminal.status().card).toMatchObject({ cardState: 'active', expired: true });
    expect(await terminal.readBasic(new AbortController().signal)).toMatchObject({ expiryDate: '20240409', expired: true, name: '孙秀英', cardState: 'active' });
    for (const kind of ['verify', 'reset'] as const) {
      const r = await terminal.runService({ kind, operatorId: 'op-e2e' }, () => {}, new AbortController().signal);
      expect(r, kind).toMatchObject({ code: 'card.expired', kind, outcome: 'refused' });
    }
    expect(cardChanging(commands)).toEqual([]);
    expect(card.pinTriesLeft).toBe(6);
  });

  it('session.expiredCard = "report": reported expired, and the PIN verifies', async () => {
    const { terminal, pad } = await counterWith('card-expired', { expiredCard: 'report' });
    expect(await terminal.readBasic(new AbortController().signal)).toMatchObject({ expired: true });
    const r = await terminal.runService({ kind: 'verify', operatorId: 'op-e2e' }, (e) => {
      if (e.type === 'pin.entryStarted') setImmediate(() => {
        for (const k of '123456') pad.input(k);
      });
    }, new AbortController().signal);
    expect(r).toMatchObject({ code: 'verify.ok', triesLeft: 6 });
  });
});
