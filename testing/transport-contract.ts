/**
 * The CardTransport contract as a test suite (drivers/transport.ts), in the manner of
 * node-serialport's one suite for the mock and the real binding: every implementation runs it,
 * the simulator's SimTransport in unit tests and the PC/SC channel over pcscd + vpcd in e2e.
 *
 * The transport under test must be connected to a card personalised from
 * fixtures/cards/card-2.0.json (a 2nd-generation, T=0 card), fresh (power-on state), e.g. a
 * VirtualSsCard behind SimTransport or behind the vpcd bridge.
 *
 * Usage:
 *   transportContract('SimTransport', async () => ({ transport, removeCard, insertCard, cleanup }));
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeResponse } from '../apdu/apdu.js';
import { ErrorCode, isSsCardError } from '../core/errors.js';
import { encodeSimpleTlv } from '../apdu/records.js';
import { readRecordByNumber, selectAid, selectFile, FID } from '../apdu/ssse.js';
import { cardFixture, cardRecords, loadCardProfile } from '../drivers/sim/profile.js';
import type { CardProfile } from '../drivers/sim/profile.js';
import type { CardTransport } from '../drivers/transport.js';

export interface TransportUnderTest {
  readonly transport: CardTransport;
  /** Take the card out of the reader (resolves once the transport can notice). */
  removeCard(): Promise<void>;
  /** Put the card back. */
  insertCard(): Promise<void>;
  /** Close everything the factory opened. */
  cleanup(): Promise<void>;
}

/** Hex of a whole response for readable failures. */
const hex = (b: Buffer): string => b.toString('hex').toUpperCase();

export function transportContract(name: string, make: () => Promise<TransportUnderTest>): void {
  describe(`CardTransport contract: ${name}`, () => {
    let profile: CardProfile;
    let ef05: Map<number, Buffer>;
    let current: TransportUnderTest | undefined;

    beforeAll(async () => {
      profile = await loadCardProfile(cardFixture('card-2.0'));
      ef05 = cardRecords(profile).get('EF05')!;
    });

    afterEach(async () => {
      const c = current;
      current = undefined;
      if (c) await c.cleanup();
    });

    async function open(): Promise<CardTransport> {
      current = await make();
      return current.transport;
    }

    async function selectEf05(t: CardTransport): Promise<void> {
      const fci = decodeResponse(await t.transmit(selectAid()));
      expect(fci.sw, 'SELECT SSSE').toBe(0x9000);
      expect(fci.data[0], 'FCI template 6F').toBe(0x6f);
      expect(decodeResponse(await t.transmit(selectFile(FID.EF05))).sw, 'SELECT EF05').toBe(0x9000);
    }

    it('reports the ATR of the 2.0 test card and is open', async () => {
      const t = await open();
      expect(hex(t.atr)).toBe(hex(profile.atr));
      expect(t.isOpen).toBe(true);
      expect(t.readerName.length).toBeGreaterThan(0);
    });

    it('selects the SSSE application (T=0: 61xx fetched transparently) and reads EF05', async () => {
      const t = await open();
      await selectEf05(t);
      for (const [tag, value] of ef05) {
        const res = await t.transmit(readRecordByNumber(tag, value.length));
        expect(hex(res)).toBe(hex(Buffer.concat([encodeSimpleTlv(tag, value), Buffer.from([0x90, 0x00])])));
      }
    });

    it('handles 6Cxx: a READ RECORD with the wrong Le is re-sent with the right one', async () => {
      const t = await open();
      await selectEf05(t);
      const cardNumber = ef05.get(0x07)!;
      // Le = 0x20 instead of 2 + 9: the T=0 card answers 6C0B, the transport re-sends with Le = 0B.
      const res = await t.transmit(Buffer.from([0x00, 0xb2, 0x07, 0x04, 0x20]));
      expect(hex(res)).toBe(hex(Buffer.concat([encodeSimpleTlv(0x07, cardNumber), Buffer.from([0x90, 0x00])])));
    });

    it('answers concurrent transmits in order', async () => {
      const t = await open();
      await selectEf05(t);
      const tags = [...ef05.keys()];
      const results = await Promise.all(tags.map((tag) => t.transmit(readRecordByNumber(tag, ef05.get(tag)!.length))));
      results.forEach((res, i) => {
        const r = decodeResponse(res);
        expect(r.sw).toBe(0x9000);
        expect(r.data[0], `response ${i} belongs to record ${tags[i]}`).toBe(tags[i]);
      });
    });

    it('rejects a transmit after the card was removed (Pcsc_CardRemoved or Pcsc_NoCard)', async () => {
      const t = await open();
      await selectEf05(t);
      await current!.removeCard();
      const err: unknown = await t.transmit(readRecordByNumber(7, 9)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSsCardError(err), `expected an SsCardError, got ${String(err)}`).toBe(true);
      expect([ErrorCode.Pcsc_CardRemoved, ErrorCode.Pcsc_NoCard]).toContain((err as { code: number }).code);
      expect(t.isOpen).toBe(false);
      await current!.insertCard();
    });

    it('reset resolves with the ATR and the card starts over (no application selected)', async () => {
      const t = await open();
      await selectEf05(t);
      const atr = await t.reset();
      expect(hex(atr)).toBe(hex(profile.atr));
      // After the reset the current EF is gone: READ RECORD without a current EF is refused.
      const res = decodeResponse(await t.transmit(readRecordByNumber(7, 9)));
      expect(res.sw).not.toBe(0x9000);
    });

    it('close is idempotent', async () => {
      const t = await open();
      await t.close();
      await t.close();
      expect(t.isOpen).toBe(false);
      await expect(t.transmit(selectAid())).rejects.toSatisfy((e: unknown) => isSsCardError(e));
    });
  });
}
