/**
 * bench:api's driver baseline (docs/benchmarks.md, "bench:api"): the API flow's card work done
 * straight on the driver, with the same APDUs. On its own here so that it can follow the card
 * driver's own reading of the basics and PIN state when that changes.
 */
import { randomBytes } from 'node:crypto';
import { SsseCard } from '../../../drivers/card/ssse-card.js';
import { verifyPin } from '../../../drivers/card/ssse-operations.js';
import type { PcscChannel } from '../../../drivers/pcsc/channel.js';
import type { Psam } from '../../../drivers/psam/psam.js';
import { PIN } from './config.js';

/** What the daemon's readPinStatus does: SELECT, then VERIFY without data when the card is active. */
async function pinState(card: SsseCard): Promise<void> {
  const sel = await card.select();
  if (sel.activated) await card.pinStatus();
}

/**
 * The API flow's card work, straight on the driver: Terminal.readBasic (readBasics with the PSAM's
 * INTERNAL AUTHENTICATE check, then the PIN tries), then the session's VerifyPin (tries, VERIFY
 * with the PIN bytes, tries again).
 */
export async function driverFlow(ch: PcscChannel, psam: Psam): Promise<string | undefined> {
  const card = new SsseCard(ch);
  const b = await card.readBasics(psam, () => randomBytes(card.selectedAlgorithm === 'SM4' ? 16 : 8));
  if (b.authentic === false) return 'card not authentic';
  if (b.activated) await card.pinStatus();
  await pinState(card);
  const o = await verifyPin(card, Buffer.from(PIN, 'ascii'));
  if (o.status !== 'answered') return `verify ${o.status}: ${o.error.text.en}`;
  if (o.sw !== 0x9000) return `verify answered ${o.swHex}`;
  await pinState(card);
  return undefined;
}
