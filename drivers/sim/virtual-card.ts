/**
 * The virtual social security card: a card OS answering the commands of docs/card-conventions.md
 * from a card profile (drivers/sim/profile.ts). A product feature (training, demos, CI), not a
 * test mock: it keeps the state a real card keeps and answers like one.
 *
 * This module holds the card's state and dispatches each command; the handlers are by group:
 * card-files.ts (SELECT, READ, UPDATE RECORD), card-security.ts (challenge, authentication, MACs,
 * application block/unblock), card-pin.ts (VERIFY, CHANGE, RELOAD, UNBLOCK PIN); the T=0/T=1 frame
 * is card-os.ts.
 */
import { randomBytes } from 'node:crypto';
import type { CommandApdu } from '../../apdu/apdu.js';
import type { Algorithm } from '../../apdu/crypto.js';
import { checkSm4MacFold } from '../../apdu/crypto.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { CardLifeCycle } from '../../state/card-state.js';
import { readBinary, readRecord, select, updateRecord } from './card-files.js';
import { SimCardOs, sw } from './card-os.js';
import type { Reply } from './card-os.js';
import { changePin, pinUnblockOrReload, reloadPinPboc, verify } from './card-pin.js';
import type { CardRuntime, PhoneAccess } from './card-runtime.js';
import { appBlockUnblock, externalAuth, getChallenge, internalAuth } from './card-security.js';
import { cardRecords, loadCardProfile, saveCardProfile, withRecords } from './profile.js';
import type { CardProfile, SimProtocol } from './profile.js';

export type { PhoneAccess };

export interface VirtualSsCardOptions {
  /** Random bytes for GET CHALLENGE (default node:crypto randomBytes); tests make it deterministic. */
  readonly random?: (length: number) => Buffer;
  /** Access rule of the phone record (default `verifiedPin`). */
  readonly phoneAccess?: PhoneAccess;
}

/**
 * The virtual social security card: answers every command of docs/card-conventions.md from a
 * {@link CardProfile}.
 *
 * Persistent state (kept across powerOff/powerOn, written back by {@link toProfile} / {@link save}):
 * PIN, tries left, life cycle state, records. Volatile state (lost at power-off and reset): the
 * selected DF/EF, the challenge, the external-auth security status, the verified-PIN flag.
 *
 * The PIN never leaves the object except through {@link toProfile} (fixtures are TEST cards).
 */
export class VirtualSsCard extends SimCardOs {
  public readonly atr: Buffer;
  protected readonly protocol: SimProtocol;
  /** Held in a #private field so that util.inspect / console.log of a card shows no PIN or key. */
  readonly #rt: CardRuntime;

  public constructor(profile: CardProfile, options: VirtualSsCardOptions = {}) {
    super();
    checkSm4MacFold(profile.sm4MacFold); // a profile built in code skips parseCardProfile's check
    const withoutPin = { ...profile, pin: Buffer.alloc(0) };
    this.atr = Buffer.from(profile.atr);
    this.protocol = profile.protocol;
    const random = options.random ?? ((n: number) => randomBytes(n));
    const access = options.phoneAccess ?? 'verifiedPin';
    if (access !== 'verifiedPin' && access !== 'open') {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: 'phoneAccess 必须是 verifiedPin 或 open', en: 'phoneAccess must be verifiedPin or open' }, { option: 'phoneAccess' });
    }
    this.#rt = {
      profile: withoutPin,
      random,
      phoneAccess: access,
      pin: Buffer.from(profile.pin),
      triesLeft: profile.pinTriesLeft,
      state: profile.state,
      records: cardRecords(profile),
      df: 'MF',
      ef: undefined,
      challenge: undefined,
      authenticated: new Set<number>(),
      verified: false,
    };
  }

  /** Load a card profile (validated) and make the card. */
  public static async fromFile(file: string, options?: VirtualSsCardOptions): Promise<VirtualSsCard> {
    return new VirtualSsCard(await loadCardProfile(file), options);
  }

  public get label(): string {
    return this.#rt.profile.label;
  }

  public get algorithm(): Algorithm {
    return this.#rt.profile.algorithm;
  }

  /** PIN tries left (persistent). */
  public get pinTriesLeft(): number {
    return this.#rt.triesLeft;
  }

  /** Life cycle state (persistent). */
  public get cardState(): CardLifeCycle {
    return this.#rt.state;
  }

  /** The card's current persistent state as a profile (the PIN included: TEST cards only). */
  public toProfile(): CardProfile {
    const rt = this.#rt;
    const base: CardProfile = {
      ...rt.profile,
      pin: Buffer.from(rt.pin),
      pinTriesLeft: rt.triesLeft,
      state: rt.state,
    };
    return withRecords(base, rt.records);
  }

  /** Write the current persistent state to a profile file (atomically). */
  public async save(file: string): Promise<void> {
    const p = this.toProfile();
    try {
      await saveCardProfile(file, p);
    } finally {
      p.pin.fill(0);
    }
  }

  protected clearVolatile(): void {
    const rt = this.#rt;
    rt.df = 'MF';
    rt.ef = undefined;
    rt.challenge = undefined;
    rt.authenticated.clear();
    rt.verified = false;
  }

  protected execute(c: CommandApdu): Reply {
    const rt = this.#rt;
    // The challenge serves the next command only (docs/card-conventions.md "MACs on card commands").
    const challenge = rt.challenge;
    rt.challenge = undefined;
    switch (c.cla) {
      case 0x00:
        switch (c.ins) {
          case 0xa4:
            return select(rt, c);
          case 0xb2:
            return readRecord(rt, c);
          case 0xb0:
            return readBinary(rt, c);
          case 0x84:
            return getChallenge(rt, c);
          case 0x88:
            return internalAuth(rt, c);
          case 0x82:
            return externalAuth(rt, c, challenge);
          case 0x20:
            return verify(rt, c);
          case 0xdc:
            return updateRecord(rt, c);
          default:
            return sw(0x6d00);
        }
      case 0x80:
        if (c.ins === 0x5e) return c.p1 === 0x01 ? changePin(rt, c) : reloadPinPboc(rt, c, challenge);
        return sw(0x6d00);
      case 0x84:
        switch (c.ins) {
          case 0x24:
            return pinUnblockOrReload(rt, c, challenge);
          case 0x1e:
          case 0x18:
            return appBlockUnblock(rt, c, challenge);
          default:
            return sw(0x6d00);
        }
      default:
        return sw(0x6e00);
    }
  }
}
