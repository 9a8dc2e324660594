/**
 * The state of one virtual social security card as its command handlers see it (virtual-card.ts
 * owns it and dispatches; card-files.ts, card-security.ts and card-pin.ts are the handlers by
 * group). Persistent: PIN, tries left, life cycle, records. Volatile (lost at power-off and reset):
 * the selected DF/EF, the challenge, the external-auth security status, the verified-PIN flag.
 */
import type { CardLifeCycle } from '../../state/card-state.js';
import type { CardProfile, RecordFileName } from './profile.js';

export type DfName = 'MF' | 'SSSE' | 'DF01';

export interface EfInfo {
  readonly df: Exclude<DfName, 'MF'>;
  readonly fid: number;
  readonly sfi: number;
  readonly kind: 'record' | 'binary';
  /** Record files: name in the profile; binary files: which buffer. */
  readonly name: RecordFileName | 'EF07' | 'EF08';
}

/**
 * Who may READ RECORD the phone number (DF01 EF06 tag 28): `verifiedPin` (default, as
 * docs/card-conventions.md and docs/domain.md §1 have it: 6982 until the holder's PIN is verified in
 * this session) or `open` (some card makes may let anyone read DF01). UNCONFIRMED per card make:
 * a per-card setting, not a constant.
 */
export type PhoneAccess = 'verifiedPin' | 'open';

export interface CardRuntime {
  /** The profile the card was made from, its PIN emptied (the PIN lives in {@link pin}). */
  readonly profile: CardProfile;
  /** Random bytes for GET CHALLENGE. */
  readonly random: (length: number) => Buffer;
  readonly phoneAccess: PhoneAccess;
  // persistent
  pin: Buffer;
  triesLeft: number;
  state: CardLifeCycle;
  readonly records: Map<RecordFileName, Map<number, Buffer>>;
  // volatile
  df: DfName;
  ef: EfInfo | undefined;
  challenge: Buffer | undefined;
  /** Key ids (usage 82) EXTERNAL AUTHENTICATE succeeded with in this session. */
  readonly authenticated: Set<number>;
  verified: boolean;
}
