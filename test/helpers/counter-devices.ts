/**
 * The devices of a counter daemon on the real PC/SC stack, as the API suites use them: the card
 * and the PSAM in pcscd's vpcd readers (VirtualReaders), the resident ID card reader simulated on a
 * pseudo-terminal with an ID card placed, and the touchscreen keypad. `config` is the daemon
 * configuration's device part (docs/config.md), for a suite to spread into its own.
 */
import { hashPassphrase } from '../../daemon/auth/passphrase.js';
import { loadIdCardFixture } from '../../drivers/sim/idcard-fixtures.js';
import type { TestClient } from '../../testing/api-test-client.js';
import { connectClient } from './daemon.js';
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

  /**
   * A counter daemon's whole configuration over these devices: a journal, operator `op1` with
   * `passphrase`, sessions long enough for a loaded machine; `extra` adds or overrides keys.
   */
  public counterConfig(passphrase: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      role: 'counter',
      ...this.config,
      journal: { path: 'journal.db', keyFile: 'journal.key' },
      operators: { sessionTtlMs: 600_000, maxFailures: 3, lockoutMs: 60_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(passphrase), { N: 1024 }) }] },
      session: { inactivityMs: 120_000, pinEntryMs: 30_000 },
      ...extra,
    };
  }

  /** After the daemon stopped: the card and the PSAM out (with pcscd's settle), the ID reader closed. */
  public async close(): Promise<void> {
    await this.readers.remove();
    await this.idSim.stop();
    await this.pty.close();
  }
}

/** A client of the daemon on `port` with operator `op1` logged in (the account {@link CounterDevices.counterConfig} makes). */
export async function operatorClient(port: number, passphrase: string): Promise<TestClient> {
  const c = await connectClient(port);
  const r = await c.command('Operator.Login', { operatorId: 'op1', passphrase });
  if (r.completion.header.completionCode !== 'success') {
    c.close();
    throw new Error(`login failed: ${JSON.stringify(r.completion)}`);
  }
  return c;
}
