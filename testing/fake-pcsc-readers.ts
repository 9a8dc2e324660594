/**
 * A virtual card and PSAM behind real PcscChannels — the channel that writes the APDU trace —
 * over the fake pcsclite addon (testing/fake-pcsc-addon.ts): no pcscd, but the trace, the
 * transmit path and the secret marks (core/secret.ts) are the daemon's own. For tests that scan
 * the trace of both readers for PINs.
 */
import type { TraceEntry } from '../drivers/pcsc/channel.js';
import type { PcscChannel } from '../drivers/pcsc/channel.js';
import { FakePcsc } from './fake-pcsc-addon.js';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import type { VirtualCardDevice } from '../drivers/sim/device.js';

export interface FakeReaders {
  readonly card: PcscChannel;
  readonly psam: PcscChannel;
  /** Every trace entry of both readers, in order. */
  readonly trace: TraceEntry[];
  /** The trace as the log shows it: "<reader> <C|R> <hex>" a line. */
  traceText(): string;
  stop(): Promise<void>;
}

export const FAKE_CARD_READER = 'Card Reader';
export const FAKE_PSAM_READER = 'PSAM Reader';

export async function fakeReaders(card: VirtualCardDevice, psam: VirtualCardDevice): Promise<FakeReaders> {
  const pcsc = new FakePcsc();
  pcsc.readerNames = [FAKE_CARD_READER, FAKE_PSAM_READER];
  const trace: TraceEntry[] = [];
  const s = new PcscService({ addon: pcsc.factory, backoffInitialMs: 10, backoffMaxMs: 80, trace: (e) => trace.push(e) });
  s.start();
  await s.ready(1000);
  for (const [name, device] of [[FAKE_CARD_READER, card], [FAKE_PSAM_READER, psam]] as const) {
    const reader = pcsc.reader(name);
    reader.respond = (apdu) => device.process(apdu);
    device.powerOn();
    reader.setCard(device.atr);
    await s.waitForCard(name, 1000);
  }
  return {
    card: await s.connect(FAKE_CARD_READER),
    psam: await s.connect(FAKE_PSAM_READER),
    trace,
    traceText: () => trace.map((t) => `${t.reader} ${t.direction} ${t.hex}`).join('\n'),
    stop: () => s.stop(),
  };
}
