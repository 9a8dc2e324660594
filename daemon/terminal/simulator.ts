/**
 * The daemon's simulator (README "Quick start", docs/config.md `simulate`): on a machine with no
 * physical reader, the default
 * configuration puts the project's virtual card and PSAM into pcscd's vpcd readers and a simulated
 * ID card reader on a pseudo-terminal, so a newcomer sees the whole daemon work end to end through
 * the real PC/SC stack. The card's state lives in a copy of its profile under `stateDir` (first
 * start copies the fixture) and is saved after every service and at shutdown, so PIN changes and
 * lockouts survive a restart, as on a real card.
 *
 * The card can be taken out, put back and swapped while the daemon runs, as with `sscard sim`:
 * through the control socket `<stateDir>/control.sock` (sim-control.ts; `sscard sim-control
 * remove|insert|swap FILE|status`), which exists only while the simulator runs. A swapped-in
 * card keeps its state in its own copy under `stateDir` too. Another resident ID card can be laid on
 * the simulated ID reader the same way (`sscard sim-control idcard FILE|none`), e.g. a namesake's.
 */
import type { Logger } from '../../core/logger.js';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { SerialIdCardReader } from '../../drivers/idcard/reader.js';
import { parseIdCardFixture } from '../../drivers/sim/idcard-fixtures.js';
import { IdReaderSimulator } from '../../drivers/sim/idcard-reader.js';
import { loadPsamProfile } from '../../drivers/sim/profile.js';
import { PtyPair } from '../../drivers/sim/pty.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import { VPCD_PORT_CARD, VPCD_PORT_PSAM, VpcdBridge } from '../../drivers/sim/vpcd-bridge.js';

import type { SimControlTarget, SimStatus } from './sim-control.js';
import { SIM_CONTROL_SOCKET, SimControlServer } from './sim-control.js';

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
  /** The control socket (default `<stateDir>/control.sock`; null: none). */
  readonly controlSocket?: string | null;
  readonly logger: Logger;
}

/** The state copy of a card profile in the state folder (first use copies the fixture). */
function stateCopy(stateDir: string, profile: string, option: string): string {
  const file = path.join(stateDir, `card-${path.basename(profile)}`);
  if (!existsSync(file)) {
    if (!existsSync(profile)) {
      throw new SsCardError(ErrorCode.Config_Invalid, { zh: `模拟卡配置文件不存在：${profile}（${option}）`, en: `the simulated card profile does not exist: ${profile} (${option})` }, { path: option.split('.') });
    }
    copyFileSync(profile, file);
  }
  return file;
}

export class Simulator implements SimControlTarget {
  private control: SimControlServer | undefined;

  private constructor(
    private readonly cardBridge: VpcdBridge,
    private readonly psamBridge: VpcdBridge | undefined,
    private cardValue: VirtualSsCard,
    private cardFileValue: string,
    private readonly stateDir: string,
    private readonly pty: PtyPair | undefined,
    private readonly idSim: IdReaderSimulator | undefined,
    /** The fixture file of the ID card on the simulated ID reader (null: none). */
    private idCardFile: string | null,
    /** The driver of the simulated ID reader (already open), when there is one. */
    public readonly idReader: SerialIdCardReader | undefined,
    private readonly log: Logger,
  ) {}

  /** The virtual card in (or last in) the reader. */
  public get card(): VirtualSsCard {
    return this.cardValue;
  }

  /** Where the card's state is kept. */
  public get cardFile(): string {
    return this.cardFileValue;
  }

  /** The control socket's path, when it listens. */
  public get controlSocket(): string | undefined {
    return this.control?.path;
  }


  public static async start(o: SimulatorOptions): Promise<Simulator> {
    mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    // The folder holds the control socket: only the daemon's user may enter it.
    chmodSync(o.stateDir, 0o700);
    const cardFile = stateCopy(o.stateDir, o.card, 'simulator.card');
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
    const sim = new Simulator(cardBridge, psamBridge, card, cardFile, o.stateDir, pty, idSim, o.idCard, idReader, o.logger);
    const socket = o.controlSocket === undefined ? path.join(o.stateDir, SIM_CONTROL_SOCKET) : o.controlSocket;
    if (socket !== null) {
      try {
        sim.control = await SimControlServer.listen(sim, socket, o.logger);
      } catch (e) {
        // The simulation works without it; only pulling the card from outside does not.
        o.logger.error('simulator control socket not available: the card cannot be removed or swapped from outside', {
          path: socket,
          message: e instanceof SsCardError ? e.text.en : e instanceof Error ? e.message : String(e),
        });
      }
    }
    o.logger.warn('SIMULATING: virtual card and PSAM on vpcd, simulated ID reader on a pty, touchscreen PIN pad — not for production', {
      card: card.label,
      cardFile,
      idReader: pty?.a,
      control: sim.controlSocket,
    });
    return sim;
  }

  // ---- the controls (sim-control.ts; the same as `sscard sim` takes on its input) ----

  /** Take the card out of its reader (its state is saved first). */
  public async removeCard(): Promise<void> {
    await this.save();
    await this.cardBridge.remove();
  }

  /** Put the card back (VpcdBridge keeps it out long enough for pcscd to have seen it go). */
  public async insertCard(): Promise<void> {
    await this.cardBridge.insert();
  }

  /**
   * Take the card out and put in another (a card profile file); it keeps its state in its own copy
   * under the state folder, as the first card does.
   */
  public async swapCard(profile: string): Promise<void> {
    if (!existsSync(profile)) {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `卡片配置文件不存在：${profile}`, en: `the card profile does not exist: ${profile}` }, { option: 'file' });
    }
    const file = path.join(this.stateDir, `card-${path.basename(profile)}`);
    if (!existsSync(file)) {
      // A profile that does not load is refused before the card moves, and never copied.
      await VirtualSsCard.fromFile(profile);
      copyFileSync(profile, file);
    }
    // Out first: the card being swapped out saves its state (it may be this very profile).
    await this.removeCard();
    const next = await VirtualSsCard.fromFile(file);
    this.cardBridge.setCard(next);
    this.cardValue = next;
    this.cardFileValue = file;
    await this.cardBridge.insert();
  }

  /**
   * Lay the resident ID card of an ID card fixture (fixtures/idcards/*.json) on the simulated ID
   * reader, in place of the one there; null takes it away. A file that does not parse is refused
   * and the reader keeps its card.
   */
  public placeIdCard(file: string | null): Promise<void> {
    const sim = this.idSim;
    if (sim === undefined) {
      return Promise.reject(new SsCardError(ErrorCode.Input_BadOption, { zh: '模拟器没有身份证读卡器（simulator.idCard 未配置）', en: 'the simulator has no ID card reader (no simulator.idCard)' }, { option: 'file' }));
    }
    if (file === null) {
      sim.takeAway();
      this.idCardFile = null;
      return Promise.resolve();
    }
    if (!existsSync(file)) {
      return Promise.reject(new SsCardError(ErrorCode.Input_BadOption, { zh: `身份证配置文件不存在：${file}`, en: `the ID card fixture does not exist: ${file}` }, { option: 'file' }));
    }
    try {
      sim.place(parseIdCardFixture(JSON.parse(readFileSync(file, 'utf8')), path.basename(file)));
    } catch (e) {
      if (e instanceof SsCardError) return Promise.reject(e);
      return Promise.reject(new SsCardError(ErrorCode.Input_BadOption, { zh: `身份证配置文件不是有效的 JSON：${file}`, en: `the ID card fixture is not valid JSON: ${file}` }, { option: 'file' }));
    }
    this.idCardFile = file;
    return Promise.resolve();
  }

  public simStatus(): SimStatus {
    return {
      card: { inserted: this.cardBridge.inserted, label: this.cardValue.label, profile: path.basename(this.cardFileValue) },
      psam: { inserted: this.psamBridge?.inserted ?? false },
      ...(this.idSim === undefined ? {} : { idCard: { fixture: this.idCardFile === null ? null : path.basename(this.idCardFile) } }),
    };
  }

  /** Write the card's state back to its file (after a service, at shutdown). */
  public async save(): Promise<void> {
    try {
      await this.cardValue.save(this.cardFileValue);
    } catch (e) {
      this.log.error('could not save the simulated card state', { cardFile: this.cardFile, message: e instanceof Error ? e.message : String(e) });
    }
  }

  public async stop(): Promise<void> {
    await this.control?.close().catch(() => undefined);
    this.control = undefined;
    await this.save();
    await this.idReader?.close().catch(() => undefined);
    await this.idSim?.stop().catch(() => undefined);
    await this.pty?.close().catch(() => undefined);
    await this.cardBridge.remove().catch(() => undefined);
    await this.psamBridge?.remove().catch(() => undefined);
  }
}
