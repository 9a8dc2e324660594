/**
 * The devices of a counter daemon on the real PC/SC stack, as the API suites use them: the card
 * and the PSAM in pcscd's vpcd readers (VirtualReaders), the resident ID card reader simulated on a
 * pseudo-terminal with an ID card placed, and the touchscreen keypad. `config` is the daemon
 * configuration's device part (docs/config.md), for a suite to spread into its own.
 */
import { loadIdCardFixture } from '../../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../../drivers/sim/idcard-reader.js';
import { PtyPair } from '../../drivers/sim/pty.js';
import { CARD_READER, PSAM_READER } from './stack.js';
import { VirtualReaders } from './virtual-readers.js';

export class CounterDevices {
  private constructor(
    public readonly readers: VirtualReaders,
    public readonly pty: PtyPair,
    public readonly idSim: IdReaderSimulator,
  ) {}

  /** The card profile `card` (fixtures/cards) in the readers, the ID card `idCard` (fixtures/idcards) on the reader. */
  public static async open(card = 'card-2.0', idCard = 'id-card-2.0'): Promise<CounterDevices> {
    const pty = await PtyPair.open();
    const idSim = new IdReaderSimulator({ path: pty.b });
    await idSim.start();
    idSim.place(loadIdCardFixture(idCard));
    const readers = await VirtualReaders.insert(card);
    return new CounterDevices(readers, pty, idSim);
  }

  /** The daemon's device settings for these devices. */
  public get config() {
    return {
      simulate: 'off',
      readers: { card: CARD_READER, psam: PSAM_READER },
      pinPad: { kind: 'touchscreen', allowTouchscreen: true },
      idReader: { kind: 'serial', path: this.pty.a },
    } as const;
  }

  /** After the daemon stopped: the card and the PSAM out (with pcscd's settle), the ID reader closed. */
  public async close(): Promise<void> {
    await this.readers.remove();
    await this.idSim.stop();
    await this.pty.close();
  }
}
