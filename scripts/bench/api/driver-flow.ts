/**
 * bench:api's driver baseline (docs/benchmarks.md, "bench:api"): the API flow's card work done
 * straight on the driver, with the same APDUs as the daemon sends.
 */
import { SsseCard } from '../../../drivers/card/ssse-card.js';
import { verifyPin } from '../../../drivers/card/ssse-operations.js';
import type { PcscChannel } from '../../../drivers/pcsc/channel.js';
import type { Psam } from '../../../drivers/psam/psam.js';
import { PIN } from './config.js';

/**
 * The API flow's card work, straight on the driver: Terminal.readBasic (`SsseCard.identify`: the
 * basics with the PSAM's INTERNAL AUTHENTICATE check, then the PIN state), then the session's
 * VerifyPin (PIN state, VERIFY with the PIN bytes, PIN state again).
 */
export async function driverFlow(ch: PcscChannel, psam: Psam): Promise<string | undefined> {
  const card = new SsseCard(ch);
  const b = await card.identify(psam);
  if (b.authentic === false) return 'card not authentic';
  await card.pinState();
  const o = await verifyPin(card, Buffer.from(PIN, 'ascii'));
  if (o.status !== 'answered') return `verify ${o.status}: ${o.error.text.en}`;
  if (o.sw !== 0x9000) return `verify answered ${o.swHex}`;
  await card.pinState();
  return undefined;
}
