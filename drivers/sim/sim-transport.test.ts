import { describe, expect, it } from 'vitest';
import { decodeResponse } from '../../apdu/apdu.js';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { readRecordByNumber, selectAid, selectFile, FID, verify, verifyQuery } from '../../apdu/ssse.js';
import { transportContract } from '../../testing/transport-contract.js';
import { cardFixture, loadCardProfile } from './profile.js';
import { SimTransport } from './sim-transport.js';
import type { SimCommandEvent } from './sim-transport.js';
import { VirtualSsCard } from './virtual-card.js';

async function card(name = 'card-2.0'): Promise<VirtualSsCard> {
  return new VirtualSsCard(await loadCardProfile(cardFixture(name)));
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isSsCardError(e) ? e.code : -1;
  }
}

transportContract('SimTransport', async () => {
  const t = new SimTransport(await card(), { protocol: 'T0' });
  return {
    transport: t,
    removeCard: () => Promise.resolve(t.remove()),
    insertCard: () => Promise.resolve(t.insert()),
    cleanup: () => t.close(),
  };
});

transportContract('SimTransport with latency', async () => {
  const t = new SimTransport(await card(), { protocol: 'T0', latencyMs: 1 });
  return {
    transport: t,
    removeCard: () => Promise.resolve(t.remove()),
    insertCard: () => Promise.resolve(t.insert()),
    cleanup: () => t.close(),
  };
});

describe('SimTransport', () => {
  it('distinguishes "never a card" (Pcsc_NoCard) from "card removed" (Pcsc_CardRemoved)', async () => {
    const t = new SimTransport(await card(), { present: false });
    expect(t.isOpen).toBe(false);
    expect(t.atr.length).toBe(0);
    expect(await codeOf(t.transmit(selectAid()))).toBe(ErrorCode.Pcsc_NoCard);
    t.insert();
    expect(t.isOpen).toBe(true);
    expect(decodeResponse(await t.transmit(selectAid())).sw).toBe(0x9000);
    t.remove();
    expect(await codeOf(t.transmit(selectAid()))).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(await codeOf(t.reset())).toBe(ErrorCode.Pcsc_CardRemoved);
  });

  it('insert() reconnects, to the same or another card; the card was powered off meanwhile', async () => {
    const first = await card();
    const t = new SimTransport(first, { protocol: 'T0' });
    await t.transmit(selectAid());
    await t.transmit(selectFile(FID.EF05));
    t.remove();
    t.insert();
    // volatile state gone: no current EF
    expect(decodeResponse(await t.transmit(readRecordByNumber(7, 9))).sw).toBe(0x6986);
    const other = await card('card-3.0');
    t.insert(other);
    expect(t.card).toBe(other);
    expect(t.atr.equals(other.atr)).toBe(true);
  });

  it('reports the protocol of the virtual card by default', async () => {
    expect(new SimTransport(await card('card-2.0')).protocol).toBe('T0');
    expect(new SimTransport(await card('card-3.0')).protocol).toBe('T1');
    expect(new SimTransport(await card('card-3.0'), { protocol: 'RAW' }).protocol).toBe('RAW');
  });

  it('control() rejects with Pcsc_ControlFailed', async () => {
    const t = new SimTransport(await card());
    expect(await codeOf(t.control(0x42000d48, Buffer.alloc(0)))).toBe(ErrorCode.Pcsc_ControlFailed);
  });

  it('transmit after close rejects with Pcsc_NotConnected', async () => {
    const t = new SimTransport(await card());
    await t.close('unpower');
    expect(await codeOf(t.transmit(selectAid()))).toBe(ErrorCode.Pcsc_NotConnected);
  });

  it('the hook sees every device command, GET RESPONSE included', async () => {
    const seen: string[] = [];
    const t = new SimTransport(await card(), {
      protocol: 'T0',
      onCommand: (e) => {
        if (e.phase === 'after') seen.push(`${e.index}:${e.command.subarray(0, 2).toString('hex')}:${e.response!.subarray(-2).toString('hex')}`);
      },
    });
    await t.transmit(selectAid());
    expect(seen).toEqual(['0:00a4:611b', '1:00c0:9000']);
  });

  it('removal before a VERIFY: the card never saw it, tries unchanged', async () => {
    const c = await card();
    const t = new SimTransport(c, {
      protocol: 'T0',
      onCommand: (e: SimCommandEvent) => {
        if (e.phase === 'before' && e.command[1] === 0x20 && e.command.length > 5) t.remove();
      },
    });
    await t.transmit(selectAid());
    expect(await codeOf(t.transmit(verify(Buffer.from('000000'))))).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(c.pinTriesLeft).toBe(6);
  });

  it('removal after a VERIFY: the card spent a try, the response is lost', async () => {
    const c = await card();
    const t = new SimTransport(c, {
      protocol: 'T0',
      onCommand: (e: SimCommandEvent) => {
        if (e.phase === 'after' && e.command[1] === 0x20 && e.command.length > 5) t.remove();
      },
    });
    await t.transmit(selectAid());
    expect(await codeOf(t.transmit(verify(Buffer.from('000000'))))).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(c.pinTriesLeft).toBe(5);
    t.insert();
    await t.transmit(selectAid());
    expect(decodeResponse(await t.transmit(verifyQuery())).sw).toBe(0x63c5);
  });

  it('failed commands do not stall the queue', async () => {
    const t = new SimTransport(await card(), { protocol: 'T0' });
    t.remove();
    const a = t.transmit(selectAid());
    const b = t.transmit(selectAid());
    expect(await codeOf(a)).toBe(ErrorCode.Pcsc_CardRemoved);
    expect(await codeOf(b)).toBe(ErrorCode.Pcsc_CardRemoved);
    t.insert();
    expect(decodeResponse(await t.transmit(selectAid())).sw).toBe(0x9000);
  });

  it('validates latencyMs eagerly', async () => {
    const c = await card();
    expect(() => new SimTransport(c, { latencyMs: -1 })).toThrow(/latencyMs/);
  });
});
