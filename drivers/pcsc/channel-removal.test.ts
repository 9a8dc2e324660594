/**
 * How PcscChannel tells a card removal from a reader failure (docs/api.md: removal is "no card"),
 * and which refusals prove that a command never reached the card (errors.ts NOT_SENT_RETURNS), on
 * the fake addon: the reader's state (with pcsc-lite's card event count) is what the watcher
 * reports, as pcscd does after its presence poll.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { Scard } from './addon.js';
import { NOT_SENT_RETURNS, PcscReturn, isNotSent, toPcscError } from './errors.js';
import { FakePcsc } from '../../testing/fake-pcsc-addon.js';
import { PcscService } from './pcsc-service.js';

const ATR = Buffer.from('3B8880010000000000000000', 'hex');
const OTHER_ATR = Buffer.from('3B8880010000000000000001', 'hex');
const SELECT = Buffer.from('00A4040000', 'hex');
const NOT_TRANSACTED = 'SCardTransmit error: Transaction failed.(0x80100016)';
const services: PcscService[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

async function channel(removalSettleMs = 1000) {
  const pcsc = new FakePcsc();
  const s = new PcscService({ addon: pcsc.factory, backoffInitialMs: 10, removalSettleMs });
  services.push(s);
  s.start();
  await s.ready(1000);
  const reader = pcsc.reader();
  reader.setCard(ATR);
  await s.waitForCard(reader.name, 1000);
  const ch = await s.connect(reader.name, { share: 'exclusive' });
  return { s, ch, reader };
}

const failure = (p: Promise<unknown>): Promise<SsCardError> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => {
      if (!(e instanceof SsCardError)) throw e;
      return e;
    },
  );

describe('a failed exchange is classified by the reader state pcscd reports', () => {
  it.each([
    ['SCARD_E_NOT_TRANSACTED', () => new Error(NOT_TRANSACTED)],
    ['an empty answer (vpcd: the card closed its socket)', () => Buffer.alloc(0)],
    ['an unknown return code', () => new Error('SCardTransmit error: Unknown error.(0x80100001)')],
  ])('%s, then pcscd reports the reader empty → Pcsc_CardRemoved, not "not sent"', async (_name, answer) => {
    const { ch, reader } = await channel();
    reader.respond = () => {
      // pcscd's presence poll sees the card gone a little later
      setTimeout(() => reader.setCard(undefined), 30);
      return answer();
    };
    const e = await failure(ch.transmit(SELECT));
    expect(e.code).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(e.message).toMatch(/已被取出.*removed/);
    expect(e.context).toMatchObject({ presence: 'absent', failure: ErrorCode.Pcsc_TransmitFailed });
    // The command was handed to the reader: it may have reached the card before it went.
    expect(isNotSent(e)).toBe(false);
    expect(ch.isOpen).toBe(false);
    // The next command is refused without a PC/SC call, and that refusal is provably not sent.
    const next = await failure(ch.transmit(SELECT));
    expect(next.code).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(isNotSent(next)).toBe(true);
    expect(reader.sent).toHaveLength(1);
  });

  it('a failure with the card still in the reader stays a reader failure (after waiting for the poll)', async () => {
    const { ch, reader } = await channel(80);
    reader.respond = () => new Error(NOT_TRANSACTED);
    const t0 = performance.now();
    const e = await failure(ch.transmit(SELECT));
    expect(e.code).toBe(ErrorCode.Pcsc_TransmitFailed);
    expect(e.context).toMatchObject({ pcscCode: '0x80100016' });
    expect(isNotSent(e)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(70);
  });

  it('a card reported gone stops the wait at once (no full settle time)', async () => {
    const { ch, reader } = await channel(5000);
    reader.respond = () => {
      setTimeout(() => reader.setCard(undefined), 20);
      return new Error(NOT_TRANSACTED);
    };
    const t0 = performance.now();
    expect((await failure(ch.transmit(SELECT))).code).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a timed-out command whose card is gone is a removal, still not "not sent"', async () => {
    const { ch, reader } = await channel(200);
    reader.respond = () => {
      setTimeout(() => reader.setCard(undefined), 10);
      return 'hang';
    };
    const e = await failure(ch.transmit(Buffer.from('0020000003123456', 'hex'), { timeoutMs: 50 }));
    expect(e.code).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(e.context).toMatchObject({ failure: ErrorCode.Pcsc_Timeout });
    expect(isNotSent(e)).toBe(false);
  });
});

describe('before each command the channel asks the reader state (what SCardStatus reports)', () => {
  it('a card pcscd already reported gone: refused, nothing sent, marked not sent', async () => {
    const { s, ch, reader } = await channel();
    reader.setCard(undefined);
    await s.waitForRemoval(reader.name, 1000);
    expect(ch.isOpen).toBe(false);
    expect(ch.presence()).toBe('absent');
    const e = await failure(ch.transmit(Buffer.from('0020000003123456', 'hex')));
    expect(e.code).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(isNotSent(e)).toBe(true);
    expect(reader.sent).toHaveLength(0);
  });

  it('another card in the reader since we connected (the event count moved): refused as a removal, nothing sent', async () => {
    const { s, ch, reader } = await channel();
    reader.setCard(undefined);
    reader.setCard(OTHER_ATR);
    await s.waitForCard(reader.name, 1000);
    await new Promise((r) => setImmediate(r));
    expect(ch.presence()).toBe('changed');
    const e = await failure(ch.transmit(SELECT));
    expect(e.code).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(e.text.en).toMatch(/inserted since/);
    expect(isNotSent(e)).toBe(true);
    expect(reader.sent).toHaveLength(0);
  });

  it('the card still there: present, and the command goes', async () => {
    const { ch, reader } = await channel();
    expect(ch.presence()).toBe('present');
    expect((await ch.transmit(SELECT)).toString('hex')).toBe('9000');
    expect(reader.sent).toHaveLength(1);
  });

  it('a closed channel refuses a command as not sent; reset() re-reads the event count', async () => {
    const { ch, reader } = await channel();
    await ch.reset();
    expect(ch.presence()).toBe('present');
    await ch.close();
    const e = await failure(ch.transmit(SELECT));
    expect(e.code).toBe(ErrorCode.Pcsc_NotConnected);
    expect(isNotSent(e)).toBe(true);
    expect(reader.sent).toHaveLength(0);
  });
});

describe('PC/SC return codes that prove a command never reached the card', () => {
  it.each([
    ['SCARD_W_REMOVED_CARD', PcscReturn.W_REMOVED_CARD, ErrorCode.Pcsc_CardRemoved, true],
    ['SCARD_E_NO_SMARTCARD', PcscReturn.E_NO_SMARTCARD, ErrorCode.Pcsc_NoCard, true],
    ['SCARD_W_RESET_CARD', PcscReturn.W_RESET_CARD, ErrorCode.Pcsc_TransmitFailed, true],
    ['SCARD_E_SHARING_VIOLATION', PcscReturn.E_SHARING_VIOLATION, ErrorCode.Pcsc_SharingViolation, true],
    ['SCARD_E_NOT_TRANSACTED', PcscReturn.E_NOT_TRANSACTED, ErrorCode.Pcsc_TransmitFailed, false],
    ['SCARD_E_READER_UNAVAILABLE', PcscReturn.E_READER_UNAVAILABLE, ErrorCode.Pcsc_ReaderRemoved, false],
    ['SCARD_E_TIMEOUT', PcscReturn.E_TIMEOUT, ErrorCode.Pcsc_Timeout, false],
    ['SCARD_E_NO_SERVICE', PcscReturn.E_NO_SERVICE, ErrorCode.Pcsc_ServiceUnavailable, false],
  ])('%s on a transmit: notSent %s', (_name, rc, code, notSent) => {
    const e = toPcscError(new Error(`SCardTransmit error: x.(0x${rc.toString(16)})`), 'transmit', 'R');
    expect(e.code).toBe(code);
    expect(isNotSent(e)).toBe(notSent);
    expect(NOT_SENT_RETURNS.has(rc)).toBe(notSent);
    // Only a transmit is marked: a failed connect or control sent no card command anyway.
    expect(isNotSent(toPcscError(new Error(`x.(0x${rc.toString(16)})`), 'connect'))).toBe(false);
  });

  it('the channel passes the mark on: SCARD_W_REMOVED_CARD from pcscd is a removal that was not sent', async () => {
    const { ch, reader } = await channel(50);
    reader.respond = () => new Error('SCardTransmit error: Card was removed.(0x80100069)');
    const e = await failure(ch.transmit(SELECT));
    expect(isSsCardError(e, ErrorCode.Pcsc_CardRemoved)).toBe(true);
    expect(isNotSent(e)).toBe(true);
  });

  it('the reader state flags: EMPTY is absent, PRESENT with the same count present, neither unknown', async () => {
    const { ch, reader } = await channel();
    const events = reader.events * 0x10000;
    reader.emit('status', { state: events | Scard.STATE_PRESENT | Scard.STATE_EXCLUSIVE | Scard.STATE_INUSE, atr: ATR });
    expect(ch.presence()).toBe('present');
    reader.emit('status', { state: events | Scard.STATE_UNAVAILABLE });
    expect(ch.presence()).toBe('unknown');
    reader.emit('status', { state: (events + 0x10000) | Scard.STATE_EMPTY });
    expect(ch.presence()).toBe('absent');
  });
});
