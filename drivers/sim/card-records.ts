/**
 * The card's record files as the simulated card holds them (EF05, EF06, DF01/EF06), derived from
 * a card profile (card-profile.ts) and folded back into one after UPDATE RECORD; the phone number
 * of DF01 EF06 tag 28; the diversification factor of the card's keys.
 */
import { decodeEf05, decodeEf06, encodeEf05, encodeEf06 } from '../../apdu/records.js';
import type { CardProfile } from './card-profile.js';

/** Record files of the card, by path name. */
export type RecordFileName = 'EF05' | 'EF06' | 'DF01/EF06';
export const RECORD_FILES: readonly RecordFileName[] = ['EF05', 'EF06', 'DF01/EF06'];

/** DF01 EF06 tag 28: phone number, 15 bytes AN, 00-padded (the encoding is UNCONFIRMED). Record number 1. */
export const PHONE_TAG = 0x28;
export const PHONE_LENGTH = 15;

/** The 8-byte diversification factor of a card identification code (16 bytes), per the profile. */
export function diversificationFactor(cardId: Uint8Array, div: CardProfile['diversification'] = { offset: 8, length: 8 }): Buffer {
  return Buffer.from(cardId.subarray(div.offset, div.offset + div.length));
}

/** The card's diversification factor, from its EF05 card identification code. */
export function cardFactor(profile: CardProfile): Buffer {
  return diversificationFactor(Buffer.from(profile.issuer.cardId, 'hex'), profile.diversification);
}

/** Encode the phone number as DF01 EF06 tag 28 holds it. */
export function encodePhone(phone: string): Buffer {
  const out = Buffer.alloc(PHONE_LENGTH);
  out.write(phone, 'latin1');
  return out;
}

/** Decode DF01 EF06 tag 28; undefined when it is not printable ASCII after the 00 padding. */
export function decodePhone(value: Uint8Array): string | undefined {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x00 || value[end - 1] === 0x20)) end--;
  const s = Buffer.from(value.subarray(0, end)).toString('latin1');
  return value.length === PHONE_LENGTH && /^[0-9+\- ]*$/.test(s) ? s : undefined;
}

/** The record files as the card holds them: readable data encoded, then raw overrides applied. */
export function cardRecords(profile: CardProfile): Map<RecordFileName, Map<number, Buffer>> {
  const files = new Map<RecordFileName, Map<number, Buffer>>([
    ['EF05', encodeEf05(profile.issuer)],
    ['EF06', encodeEf06(profile.holder)],
    ['DF01/EF06', new Map([[PHONE_TAG, encodePhone(profile.phone)]])],
  ]);
  for (const [f, overrides] of profile.recordOverrides) {
    const m = files.get(f)!;
    for (const [tag, value] of overrides) m.set(tag, Buffer.from(value));
  }
  return files;
}

function sameRecords(a: ReadonlyMap<number, Buffer>, b: ReadonlyMap<number, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [tag, v] of a) {
    const w = b.get(tag);
    if (w === undefined || !w.equals(v)) return false;
  }
  return true;
}

/**
 * Fold record files (as a card holds them after UPDATE RECORD) back into a profile: readable data
 * where it decodes and re-encodes to the same bytes, raw overrides for the rest.
 */
export function withRecords(profile: CardProfile, files: ReadonlyMap<RecordFileName, ReadonlyMap<number, Buffer>>): CardProfile {
  let issuer = profile.issuer;
  let holder = profile.holder;
  let phone = profile.phone;
  const tryDecode = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  const ef05 = files.get('EF05');
  if (ef05 !== undefined) {
    const d = tryDecode(() => ({ ...decodeEf05(ef05), regionCode: '' }));
    if (d !== undefined && tryDecode(() => sameRecords(encodeEf05(d), ef05)) === true) issuer = d;
  }
  const ef06 = files.get('EF06');
  if (ef06 !== undefined) {
    const d = tryDecode(() => decodeEf06(ef06));
    if (d !== undefined && tryDecode(() => sameRecords(encodeEf06(d), ef06)) === true) holder = d;
  }
  const df01 = files.get('DF01/EF06')?.get(PHONE_TAG);
  if (df01 !== undefined) {
    const d = decodePhone(df01);
    if (d !== undefined && encodePhone(d).equals(df01)) phone = d;
  }
  const base = cardRecords({ ...profile, issuer, holder, phone, recordOverrides: new Map() });
  const recordOverrides = new Map<RecordFileName, Map<number, Buffer>>();
  for (const [f, m] of files) {
    const b = base.get(f)!;
    const diff = new Map<number, Buffer>();
    for (const [tag, v] of m) if (!b.get(tag)?.equals(v)) diff.set(tag, Buffer.from(v));
    if (diff.size > 0) recordOverrides.set(f, diff);
  }
  return { ...profile, issuer, holder, phone, recordOverrides };
}
