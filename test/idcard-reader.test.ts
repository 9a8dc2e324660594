/**
 * The resident ID card reader end to end over a REAL pty pair (socat): the driver on one end, the ID
 * SAM simulator with fixture cards on the other. Read, no card, card taken away mid-read, waiting for
 * a card, split frames, garbage, a dead reader, unplug/replug.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { matchesSocialSecurityNumber } from '../drivers/idcard/info.js';
import type { IdCardReaderStatus } from '../drivers/idcard/reader.js';
import { SerialIdCardReader } from '../drivers/idcard/reader.js';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import type { IdReaderSimOptions } from '../drivers/sim/idcard-reader.js';
import { IdReaderSimulator } from '../drivers/sim/idcard-reader.js';
import { PtyPair } from '../drivers/sim/pty.js';

interface Rig {
  pty: PtyPair;
  sim: IdReaderSimulator;
  reader: SerialIdCardReader;
  statuses: IdCardReaderStatus[];
}
let rigs: Rig[] = [];

async function rig(simOptions: Partial<IdReaderSimOptions> = {}): Promise<Rig> {
  const pty = await PtyPair.open();
  const sim = new IdReaderSimulator({ path: pty.b, ...simOptions });
  await sim.start();
  const reader = new SerialIdCardReader({ path: pty.a, commandTimeoutMs: 800, reconnectMinMs: 50, reconnectMaxMs: 200 });
  const statuses: IdCardReaderStatus[] = [];
  reader.onStatus((s) => statuses.push(s));
  const r = { pty, sim, reader, statuses };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs) {
    await r.reader.close();
    await r.sim.stop();
    await r.pty.close();
  }
  rigs = [];
});

describe('ID card reader over a real pty', () => {
  it('opens (status 90), reads the SAM id and the card of the 2.0 card holder', async () => {
    const { sim, reader } = await rig();
    await reader.open();
    expect(reader.connected).toBe(true);
    expect(await reader.samId()).toMatch(/^[0-9A-F]{32}$/);
    const fx = loadIdCardFixture('id-card-2.0');
    sim.place(fx);
    const info = await reader.readCard();
    expect(info).toMatchObject({ name: '王志强', idNumber: '411082198503120038', idNumberValid: true, validTo: '2036-05-01' });
    expect(info.photo).toEqual(fx.photo);
    expect(matchesSocialSecurityNumber(info, '411082198503120038')).toBe(true);
    expect(sim.received).toEqual(['11 FF', '12 FF', '20 01', '20 02', '30 01']);
  });

  it.each([
    ['id-permit-hk', { documentType: 'residencePermit', name: '陈嘉欣', idNumber: '810000199408230021', passNumber: 'H60123456' }],
    ['id-foreign-2023', { documentType: 'foreignPermanent2023', name: '马克', idNumber: '941840198806150019', nationality: 'USA' }],
    ['id-foreign-2017', { documentType: 'foreignPermanent2017', name: 'DUBOIS, CLAIRE', idNumber: 'FRA410079110201', nationality: 'FRA' }],
  ])('reads %s: the other identity documents of seed 000_1700379f35991b5f.txt 申请条件 一 (line 222; 001_bf9ce8a90a3e7ce5.txt line 46)', async (name, expected) => {
    const { sim, reader } = await rig();
    await reader.open();
    sim.place(loadIdCardFixture(name));
    const info = await reader.readCard();
    expect(info).toMatchObject({ ...expected, idNumberValid: true });
    // A card issued on the document holds its number as 社会保障号码.
    expect(matchesSocialSecurityNumber(info, expected.idNumber)).toBe(true);
  });

  it('split frames (7-byte writes) are reassembled', async () => {
    const { sim, reader } = await rig({ splitWrites: true });
    await reader.open();
    sim.place(loadIdCardFixture('id-card-locked'));
    expect((await reader.readCard()).validTo).toBe('长期');
  });

  it('no card → IdCard_NoCard telling the holder what to do', async () => {
    const { reader } = await rig();
    await reader.open();
    const err = await reader.readCard().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.IdCard_NoCard)).toBe(true);
    expect((err as Error).message).toMatch(/身份证.*\/.*ID card/);
  });

  it('card taken away during the read → IdCard_CardRemoved', async () => {
    const { sim, reader } = await rig();
    await reader.open();
    sim.place(loadIdCardFixture('id-card-3.0'));
    sim.takeAwayDuringRead = true;
    const err = await reader.readCard().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.IdCard_CardRemoved)).toBe(true);
    expect((err as Error).message).toMatch(/拿开.*\/.*taken away/);
  });

  it('waitForCard: polls until a card is placed, then reads it; a mismatching card is told apart by number', async () => {
    const { sim, reader } = await rig();
    await reader.open();
    const pending = reader.waitForCard({ timeoutMs: 5000, pollMs: 30 });
    await new Promise((r) => setTimeout(r, 100));
    sim.place(loadIdCardFixture('id-mismatch-same-name'));
    const info = await pending;
    expect(info.name).toBe('王志强');
    expect(matchesSocialSecurityNumber(info, '411082198503120038')).toBe(false);
  });

  it('waitForCard times out with IdCard_Timeout, and an AbortSignal ends it with IdCard_Cancelled', async () => {
    const { reader } = await rig();
    await reader.open();
    const t = await reader.waitForCard({ timeoutMs: 150, pollMs: 30 }).catch((e: unknown) => e);
    expect(isSsCardError(t, ErrorCode.IdCard_Timeout)).toBe(true);
    const ac = new AbortController();
    const pending = reader.waitForCard({ timeoutMs: 10_000, pollMs: 30 }, ac.signal).catch((e: unknown) => e);
    setTimeout(() => ac.abort(), 50);
    expect(isSsCardError(await pending, ErrorCode.IdCard_Cancelled)).toBe(true);
  });

  it('a dead reader: open fails with IdCard_ReaderNotFound saying what to check', async () => {
    const { reader } = await rig({ mute: true });
    const err = await reader.open().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.IdCard_ReaderNotFound)).toBe(true);
    expect((err as Error).message).toMatch(/115200/);
  });

  it('garbage and a bad checksum on the line do not break the next read', async () => {
    const { sim, reader } = await rig();
    await reader.open();
    await sim.sendRaw(Buffer.from('AAAAAA966900030000FF0102', 'hex'));
    sim.place(loadIdCardFixture('id-card-not-activated'));
    const info = await reader.readCard();
    expect(info.nationText).toBe('回');
  });

  it('unplugged → disconnected (a pending read fails with IdCard_Disconnected); replugged → reconnects and reads', async () => {
    const { sim, reader, pty, statuses } = await rig();
    await reader.open();
    await sim.stop();
    await pty.unplug();
    for (let i = 0; i < 100 && reader.connected; i++) await new Promise((r) => setTimeout(r, 10));
    expect(reader.connected).toBe(false);
    expect(statuses.at(-1)).toMatchObject({ type: 'idcard.disconnected' });
    const err = await reader.readCard().catch((e: unknown) => e);
    expect(isSsCardError(err, ErrorCode.IdCard_Disconnected)).toBe(true);

    await pty.replug();
    const sim2 = new IdReaderSimulator({ path: pty.b });
    await sim2.start();
    try {
      for (let i = 0; i < 300 && !reader.connected; i++) await new Promise((r) => setTimeout(r, 20));
      expect(reader.connected).toBe(true);
      sim2.place(loadIdCardFixture('id-card-2.0'));
      expect((await reader.readCard()).idNumber).toBe('411082198503120038');
    } finally {
      await sim2.stop();
    }
  });
});
