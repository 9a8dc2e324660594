/**
 * End to end through the real PC/SC stack: pcscd with vsmartcard's vpcd driver, the project's
 * virtual card and PSAM on the vpcd sockets, and the sscard command run as a technician runs it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import { VPCD_PORT_PSAM, VpcdBridge, type VpcdBridgeOptions } from '../drivers/sim/vpcd-bridge.js';
import { transportContract } from '../testing/transport-contract.js';
import { CARD_READER, PSAM_READER, requireStack, restartPcscd, runCli } from './helpers/stack.js';

const SELECT_SSSE = '00 A4 04 00 0F 7378312E73682EC9E7BBE1B1A3D5CF';

beforeAll(async () => {
  await requireStack();
});

/** Services and bridges opened by a test, closed after it whatever happened. */
const open: { services: PcscService[]; bridges: VpcdBridge[] } = { services: [], bridges: [] };
afterEach(async () => {
  for (const b of open.bridges.splice(0)) await b.remove();
  for (const s of open.services.splice(0)) await s.stop();
  // pcscd notices a removal on its next presence poll: wait for it, so that the next test starts
  // from empty readers (and its CLI does not talk to a card pcscd still believes in).
  const s = new PcscService();
  s.start();
  try {
    await s.ready(5000);
    await s.waitForRemoval(CARD_READER, 5000);
    await s.waitForRemoval(PSAM_READER, 5000);
  } finally {
    await s.stop();
  }
});

async function service(): Promise<PcscService> {
  const s = new PcscService();
  open.services.push(s);
  s.start();
  await s.ready(5000);
  return s;
}

/** Put a virtual card (profile name) into "Virtual PCD 00 00"; returns the card and its bridge. */
async function insertCard(profile: string, options: VpcdBridgeOptions = {}): Promise<{ card: VirtualSsCard; bridge: VpcdBridge }> {
  const card = await VirtualSsCard.fromFile(cardFixture(profile));
  const bridge = new VpcdBridge(card, options);
  open.bridges.push(bridge);
  await bridge.insert();
  return { card, bridge };
}

async function insertPsam(): Promise<VpcdBridge> {
  const bridge = new VpcdBridge(await VirtualPsam.fromFile(psamFixture('psam-test')), { port: VPCD_PORT_PSAM });
  open.bridges.push(bridge);
  await bridge.insert();
  return bridge;
}

/** Wait until pcscd reports the card (the CLI would otherwise race the insertion). */
async function settled(reader = CARD_READER): Promise<void> {
  const s = await service();
  await s.waitForCard(reader, 5000);
  await s.stop();
}

describe('the PC/SC channel passes the CardTransport contract through pcscd + vpcd', () => {
  transportContract('PcscChannel (pcscd + vpcd)', async () => {
    const s = await service();
    const { bridge } = await insertCard('card-2.0');
    await s.waitForCard(CARD_READER, 5000);
    const transport = await s.connect(CARD_READER);
    return {
      transport,
      removeCard: async () => {
        await bridge.remove();
        await s.waitForRemoval(CARD_READER, 5000);
      },
      insertCard: async () => {
        await bridge.insert();
        await s.waitForCard(CARD_READER, 5000);
      },
      cleanup: async () => {
        await transport.close();
        await bridge.remove();
      },
    };
  });
});

describe('sscard readers', () => {
  it('lists both vpcd readers with the card, its ATR parsed, and the PSAM', async () => {
    const { card } = await insertCard('card-2.0');
    await insertPsam();
    await settled();
    await settled(PSAM_READER);
    const r = await runCli(['readers', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { readers: { name: string; cardPresent: boolean; atr: string | null; protocols: string[] }[] };
    const cardReader = out.readers.find((x) => x.name === CARD_READER)!;
    expect(cardReader.cardPresent).toBe(true);
    expect(cardReader.atr!.replace(/ /g, '')).toBe(card.atr.toString('hex').toUpperCase());
    expect(cardReader.protocols).toEqual(['T=0']);
    expect(out.readers.find((x) => x.name === PSAM_READER)!.cardPresent).toBe(true);
  });

  it('shows an empty reader as empty', async () => {
    const r = await runCli(['readers']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${CARD_READER}\\n  卡片 card: +无 absent`));
  });
});

describe('sscard read --json on each card profile', () => {
  it.each([
    ['card-2.0', true, '3DES', 6, 'active'],
    ['card-3.0', true, 'SM4', 6, 'active'],
    ['card-not-activated', false, 'SM4', null, 'notActivated'],
    ['card-locked', true, '3DES', 0, 'pinBlocked'],
  ])('%s: every field as personalised, genuine by internal authentication, PIN tries and card state', async (name, activated, algorithm, triesLeft, cardState) => {
    const profile = await loadCardProfile(cardFixture(name));
    await insertCard(name);
    await insertPsam();
    await settled();
    await settled(PSAM_READER);
    const r = await runCli(['read', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      reader: CARD_READER,
      psamReader: PSAM_READER,
      cardId: profile.issuer.cardId,
      regionCode: profile.issuer.cardId.slice(0, 6),
      cardNumber: profile.issuer.cardNumber,
      specVersion: profile.issuer.specVersion,
      issueDate: profile.issuer.issueDate,
      expiryDate: profile.issuer.expiryDate,
      socialSecurityNumber: profile.holder.socialSecurityNumber,
      name: profile.holder.name,
      gender: profile.holder.gender,
      nation: profile.holder.nation,
      birthDate: profile.holder.birthDate,
      algorithm,
      activated,
      authentic: true,
      triesLeft,
      cardState,
    });
  });

  it('a 3.0 card without a PSAM: the issuer data is readable, the holder data needs the PSAM, and it says so', async () => {
    await insertCard('card-3.0');
    await settled();
    const r = await runCli(['read']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`E${ErrorCode.Psam_Missing}`);
    expect(r.stderr).toMatch(/PSAM.*\n.*insert the PSAM/);
  });

  it('no card in the reader: a clear error, exit 1', async () => {
    const r = await runCli(['read', '--reader', CARD_READER]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/没有卡片.*\n.*no card in "Virtual PCD 00 00"/);
  });
});

describe('sscard apdu', () => {
  it('sends APDUs in order and explains each status word; PIN data is redacted in the echo', async () => {
    await insertCard('card-2.0');
    await settled();
    const r = await runCli(['apdu', '--json', SELECT_SSSE, '00 A4 02 00 02 EF05', '00 B2 07 00 0B', '0020000003999999']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { exchanges: { command: string; sw: string; data: string; en: string }[] };
    expect(out.exchanges.map((e) => e.sw)).toEqual(['9000', '9000', '9000', '63C5']);
    // READ RECORD tag 07 = card number "X00000019"
    expect(Buffer.from(out.exchanges[2]!.data.replace(/ /g, ''), 'hex').subarray(2).toString('latin1')).toBe('X00000019');
    expect(out.exchanges[3]!.command).toBe('00 20 00 00 03 [3 bytes redacted]');
    expect(r.stdout).not.toContain('99 99 99');
    expect(out.exchanges[3]!.en).toMatch(/5 tries left/);
  });

  it('bad hex: exit 2, names the argument and the character, sends nothing', async () => {
    const { bridge } = await insertCard('card-2.0');
    await settled();
    let sent = 0;
    bridge.on('apdu', () => sent++);
    const r = await runCli(['apdu', SELECT_SSSE, '00 B2 07 0Z 0B']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/APDU #2.*“Z”.*\n.*APDU #2 contains a non-hex character "Z"/);
    expect(sent).toBe(0);
  });

  it('a card pulled out mid-sequence: the first answer is shown, then a clear error, exit 1', async () => {
    // pulled out when the terminal selects EF05 (after the SELECT and its GET RESPONSE were answered)
    await insertCard('card-2.0', { onCommand: (c) => (c[1] === 0xa4 && c[2] === 0x02 ? 'drop' : undefined) });
    await settled();
    const r = await runCli(['apdu', SELECT_SSSE, '00 A4 02 00 02 EF05', '00 B2 07 00 0B']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('9000');
    // pcscd reports removed card / no card, or (vpcd) an empty response: either way the person is told.
    expect(r.stderr).toMatch(/Error E20[2-47]: .*(removed|no card|not available)/);
  });

  it('an unknown reader: the readers present are named', async () => {
    const r = await runCli(['apdu', '--reader', 'Nonexistent Reader', SELECT_SSSE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('"Virtual PCD 00 00", "Virtual PCD 00 01"');
  });
});

describe('pcscd missing', () => {
  // libpcsclite finds pcscd through PCSCLITE_CSOCK_NAME: pointing it nowhere is pcscd not running,
  // without stopping the pcscd the other suites share.
  it.each([['readers'], ['read'], ['apdu', SELECT_SSSE]])('sscard %s says pcscd is not running and how to start it, exit 1', async (...args) => {
    const r = await runCli(args, 30000, { PCSCLITE_CSOCK_NAME: '/nonexistent/pcscd.comm' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`E${ErrorCode.Pcsc_ServiceUnavailable}`);
    expect(r.stderr).toMatch(/pcscd 未运行.*\n.*pcscd is not running: run \.\/scripts\/setup\.sh/);
  });
});

describe('independent cross-check with OpenSC', () => {
  it('opensc-tool sees the same ATR and the same answer to SELECT SSSE', async () => {
    const { card } = await insertCard('card-3.0');
    await settled();
    // Asynchronous on purpose: the virtual card answers from this very process.
    const run = async (args: string[]): Promise<string> => (await promisify(execFile)('opensc-tool', args, { encoding: 'utf8', timeout: 20000 })).stdout;
    const atr = await run(['--reader', CARD_READER, '--atr']);
    expect(atr.replace(/[\s:]/g, '').toUpperCase()).toContain(card.atr.toString('hex').toUpperCase());
    const sel = await run(['--reader', CARD_READER, '--send-apdu', SELECT_SSSE.replace(/ /g, '')]);
    // FCI with 9F0C 03 86 01 03: an SM4 (3rd generation) card
    expect(sel).toMatch(/9F 0C 03 86 01 03/);
    expect(sel).toMatch(/SW1=0x90, SW2=0x00/);
  });
});

describe('PcscService across a pcscd restart', () => {
  afterAll(async () => {
    await requireStack();
  });

  it('goes down, comes back by itself, re-discovers the readers and sees the card again', async () => {
    const s = await service();
    const { bridge } = await insertCard('card-2.0', { autoReconnect: true });
    await s.waitForCard(CARD_READER, 5000);
    const before = await s.connect(CARD_READER);
    expect((await before.transmit(Buffer.from(SELECT_SSSE.replace(/ /g, ''), 'hex'))).subarray(-2).toString('hex')).toBe('9000');

    const events: string[] = [];
    s.on('service-down', () => events.push('down'));
    s.on('service-up', () => events.push('up'));
    s.on('card-removed', () => events.push('removed'));
    const reconnected = new Promise<void>((resolve) => bridge.once('reconnected', () => resolve()));

    await restartPcscd(300);
    await reconnected;
    await s.waitForCard(CARD_READER, 15000);
    expect(s.isUp).toBe(true);
    expect(events).toContain('down');
    expect(events.at(-1) === 'up' || events.includes('up')).toBe(true);
    expect(events.indexOf('down')).toBeLessThan(events.lastIndexOf('up'));

    // The old channel belongs to the dead context: refused with a clear error, not reused.
    const err = await before.transmit(Buffer.from('00A4040000', 'hex')).catch((e: unknown) => e);
    expect(isSsCardError(err)).toBe(true);
    expect([ErrorCode.Pcsc_ReaderRemoved, ErrorCode.Pcsc_CardRemoved, ErrorCode.Pcsc_ServiceUnavailable, ErrorCode.Pcsc_NotConnected]).toContain((err as { code: number }).code);

    const after = await s.connect(CARD_READER);
    expect((await after.transmit(Buffer.from(SELECT_SSSE.replace(/ /g, ''), 'hex'))).subarray(-2).toString('hex')).toBe('9000');
    await after.close();
  });
});
