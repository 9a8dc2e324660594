/**
 * ReadBasic (the vendors' iReadCardBas, docs/domain.md §4): the card in a slot identified by the
 * card driver (SsseCard.identify: EF05/EF06, the PSAM's genuineness check, PIN tries and card
 * state), once the slot's session has identified it, under the slot's lock.
 */
import { profileFor, type CardMakeProfile } from '../../drivers/card/card-profiles.js';
import { parseAtr } from '../../apdu/atr.js';
import { toHex } from '../../apdu/hex.js';
import { SsseCard, type CardIdentity } from '../../drivers/card/ssse-card.js';
import type { Psam } from '../../drivers/psam/psam.js';
import { isCardExpired, localDate } from '../../state/card-state.js';
import type { CardSlots } from './card-slots.js';
import type { CardBasicInfo } from './port.js';

/** The driver's record field names (apdu/records.ts) as ReadBasic names them; fields ReadBasic does not carry are left out. */
const READ_BASIC_NAMES: Readonly<Record<string, string>> = {
  regionCode: 'region',
  socialSecurityNumber: 'socialSecurityNumber',
  cardNumber: 'cardNumber',
  cardId: 'cardId',
  name: 'name',
  gender: 'sex',
  nation: 'nation',
  birthDate: 'birthDate',
  specVersion: 'specVersion',
  issueDate: 'issueDate',
  expiryDate: 'expiryDate',
};

function yyyymmdd(date: string): string {
  return date.replace(/-/g, '');
}

/** The ATR's historical bytes (hex), empty when the ATR does not parse. */
function historicalBytes(atr: Buffer): string {
  try {
    return toHex(parseAtr(atr).historical);
  } catch {
    return '';
  }
}

export interface ReadBasicOptions {
  readonly slots: CardSlots;
  /** The PSAM now (none: undefined). */
  readonly psam: () => Psam | undefined;
  readonly terminalId: string;
  readonly deviceId: string;
  /** The terminal's clock: its local date decides `expired` (default Date.now). */
  readonly now?: () => number;
  /** Card-make profiles (drivers/card/card-profiles.ts): the card's is chosen by its ATR. */
  readonly cardProfiles?: readonly CardMakeProfile[];
}

/** ReadBasic's answer from what the card driver read (also iReadCardBas_HSM_Step2's, vendor-reads.ts). */
export function basicInfo(o: ReadBasicOptions, atr: Buffer, profileName: string, b: Pick<CardIdentity, 'issuer' | 'holder' | 'triesLeft' | 'cardState' | 'authentic'>): CardBasicInfo {
  return {
    region: b.issuer.regionCode,
    socialSecurityNumber: b.holder.socialSecurityNumber,
    cardNumber: b.issuer.cardNumber,
    cardId: b.issuer.cardId,
    name: b.holder.name,
    sex: b.holder.gender,
    nation: b.holder.nation,
    birthDate: yyyymmdd(b.holder.birthDate),
    atrHistorical: historicalBytes(atr),
    specVersion: b.issuer.specVersion,
    issueDate: yyyymmdd(b.issuer.issueDate),
    expiryDate: yyyymmdd(b.issuer.expiryDate),
    expired: b.issuer.expiryDate === '' ? null : isCardExpired(b.issuer.expiryDate, localDate((o.now ?? Date.now)())),
    terminalId: o.psam()?.terminalNumber ?? o.terminalId,
    deviceId: o.deviceId,
    triesLeft: b.triesLeft ?? null,
    cardState: b.cardState,
    authentic: b.authentic ?? null,
    cardProfile: profileName,
    undecodable: [...(b.issuer.undecodable ?? []), ...(b.holder.undecodable ?? [])].flatMap((k) => (READ_BASIC_NAMES[k] === undefined ? [] : [READ_BASIC_NAMES[k]])),
  };
}

export async function readBasic(o: ReadBasicOptions, signal: AbortSignal, reader?: string): Promise<CardBasicInfo> {
  const slot = o.slots.slotFor(reader);
  const unlock = slot.lock('readBasic');
  try {
    if (!slot.present) throw slot.noCard();
    await slot.identified(0, signal);
    const ch = slot.channel;
    if (ch === undefined) throw slot.noCard();
    const psam = o.psam();
    const profile = profileFor(o.cardProfiles ?? [], slot.atr ?? ch.atr);
    const b = await new SsseCard(ch, profile.read).identify(psam);
    return basicInfo(o, slot.atr ?? ch.atr, profile.name, b);
  } finally {
    unlock();
  }
}
