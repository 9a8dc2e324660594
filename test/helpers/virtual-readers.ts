/**
 * The virtual card and the test PSAM in pcscd's vpcd readers, as the daemon suites use them: the
 * PSAM in "Virtual PCD 00 01", a card in "Virtual PCD 00 00" that a test can swap like a holder
 * at the kiosk, and both taken out at the end with the pause pcscd's presence poll needs.
 */
import path from 'node:path';
import { loadPsamProfile } from '../../drivers/sim/profile.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import { VpcdBridge } from '../../drivers/sim/vpcd-bridge.js';
import { ROOT, settleAfterRemoval } from './stack.js';

export class VirtualReaders {
  private constructor(
    public readonly card: VpcdBridge,
    public readonly psam: VpcdBridge,
  ) {}

  /** Insert the test PSAM, then the card of `fixture` (fixtures/cards/<fixture>.json). */
  public static async insert(fixture = 'card-2.0'): Promise<VirtualReaders> {
    const psam = new VpcdBridge(new VirtualPsam(await loadPsamProfile(path.join(ROOT, 'fixtures', 'psam', 'psam-test.json'))), { port: 35964 });
    await psam.insert();
    const card = new VpcdBridge(await VirtualSsCard.fromFile(path.join(ROOT, 'fixtures', 'cards', `${fixture}.json`)), { port: 35963 });
    await card.insert();
    return new VirtualReaders(card, psam);
  }

  /** Take the card out (if in), put `device` in its place and insert it. */
  public async swap(device: VirtualSsCard): Promise<void> {
    if (this.card.inserted) await this.card.remove();
    this.card.setCard(device);
    await this.card.insert();
  }

  /** Take both out and wait until pcscd has seen them go (the next suite inserts its own). */
  public async remove(): Promise<void> {
    await this.card.remove();
    await this.psam.remove();
    await settleAfterRemoval();
  }
}
