/**
 * The daemon's simulator (daemon issue §1): on a machine with no physical reader, the default
 * configuration puts the project's virtual card and PSAM into pcscd's vpcd readers and a simulated
 * ID card reader on a pseudo-terminal, so a newcomer sees the whole daemon work end to end through
 * the real PC/SC stack. The card's state lives in a copy of its profile under `stateDir` (first
 * start copies the fixture) and is saved after every service and at shutdown, so PIN changes and
 * lockouts survive a restart, as on a real card.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SsCardError } from '../../apdu/errors.js';
import { SerialIdCardReader } from '../../drivers/idcard/reader.js';
import { parseIdCardFixture } from '../../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../../drivers/sim/idcard-reader.js';
import { loadPsamProfile } from '../../drivers/sim/profile.js';
import { PtyPair } from '../../drivers/sim/pty.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import { VPCD_PORT_CARD, VPCD_PORT_PSAM, VpcdBridge } from '../../drivers/sim/vpcd-bridge.js';
import type { LoggerLike } from '../journal/types.js';

export interface SimulatorOptions {
  /** Card profile fixture (copied to stateDir on first start). */
  readonly card: string;
  readonly psam: string | null;
  readonly stateDir: string;
  /** ID card fixture laid on the simulated ID reader (null: no ID reader). */
  readonly idCard: string | null;
  readonly host?: string;
  readonly cardPort?: number;
  readonly psamPort?: number;
  readonly logger: LoggerLike;
}

export class Simulator {
  private constructor(
    private readonly cardBridge: VpcdBridge,
    private readonly psamBridge: VpcdBridge | undefined,
    public readonly card: VirtualSsCard,
    /** Where the card's state is kept. */
    public readonly cardFile: string,
    private readonly pty: PtyPair | undefined,
    private readonly idSim: IdReaderSimulator | undefined,
    /** The driver of the simulated ID reader (already open), when there is one. */
    public readonly idReader: SerialIdCardReader | undefined,
    private readonly log: LoggerLike,
  ) {}

  public static async start(o: SimulatorOptions): Promise<Simulator> {
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    const cardFile = path.join(o.stateDir, `card-${path.basename(o.card)}`);
    if (!existsSync(cardFile)) {
      if (!existsSync(o.card)) {
        throw new SsCardError(ErrorCode.Config_Invalid, { zh: `模拟卡配置文件不存在：${o.card}（simulator.card）`, en: `the simulated card profile does not exist: ${o.card} (simulator.card)` }, { path: ['simulator', 'card'] });
      }
      copyFileSync(o.card, cardFile);
    }
    const card = await VirtualSsCard.fromFile(cardFile);
    const host = o.host ?? '127.0.0.1';
    let psamBridge: VpcdBridge | undefined;
    if (o.psam !== null) {
      const psam = new VirtualPsam(await loadPsamProfile(o.psam));
      psamBridge = new VpcdBridge(psam, { host, port: o.psamPort ?? VPCD_PORT_PSAM, autoReconnect: true });
      await psamBridge.insert();
    }
    const cardBridge = new VpcdBridge(card, { host, port: o.cardPort ?? VPCD_PORT_CARD, autoReconnect: true });
    await cardBridge.insert();
    let pty: PtyPair | undefined;
    let idSim: IdReaderSimulator | undefined;
    let idReader: SerialIdCardReader | undefined;
    if (o.idCard !== null) {
      const fixture = parseIdCardFixture(JSON.parse(readFileSync(o.idCard, 'utf8')), path.basename(o.idCard));
      pty = await PtyPair.open();
      idSim = new IdReaderSimulator({ path: pty.b });
      await idSim.start();
      idSim.place(fixture);
      idReader = new SerialIdCardReader({ path: pty.a });
      await idReader.open();
    }
    o.logger.warn('SIMULATING: virtual card and PSAM on vpcd, simulated ID reader on a pty, touchscreen PIN pad — not for production', {
      card: card.label,
      cardFile,
      idReader: pty?.a,
    });
    return new Simulator(cardBridge, psamBridge, card, cardFile, pty, idSim, idReader, o.logger);
  }

  /** Write the card's state back to its file (after a service, at shutdown). */
  public async save(): Promise<void> {
    try {
      await this.card.save(this.cardFile);
    } catch (e) {
      this.log.error('could not save the simulated card state', { cardFile: this.cardFile, message: e instanceof Error ? e.message : String(e) });
    }
  }

  public async stop(): Promise<void> {
    await this.save();
    await this.idReader?.close().catch(() => undefined);
    await this.idSim?.stop().catch(() => undefined);
    await this.pty?.close().catch(() => undefined);
    await this.cardBridge.remove().catch(() => undefined);
    await this.psamBridge?.remove().catch(() => undefined);
  }
}
