/**
 * The social security card's SSSE application as the terminal uses it, over any CardTransport:
 * select, read the issuer (EF05) and holder (EF06) records, authenticate with the PSAM, ask for
 * PIN tries left, and {@link SsseCard.identify} them all at once. Read-only operations only: the state-changing commands belong to the service
 * flows (state/), which journal first and never retry.
 *
 * Facts marked UNCONFIRMED in docs/domain.md are options here (CardReadOptions), not constants.
 */
import { randomBytes } from 'node:crypto';
import { decodeResponse } from '../../apdu/apdu.js';
import type { Algorithm } from '../../apdu/crypto.js';
import { blockSize } from '../../apdu/crypto.js';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { CardState } from '../../state/card-state.js';
import {
  EF05_FIELDS,
  EF06_FIELDS,
  decodeEf05,
  decodeEf06,
  fieldSpec,
  parseSimpleTlv,
  type CardIssuerData,
  type EfId,
  type HolderData,
} from '../../apdu/records.js';
import { FID, SSSE_AID, externalAuth, getChallenge, internalAuth, readRecordByNumber, readRecordByTag, selectAid, selectFile, selectMf, verifyQuery } from '../../apdu/ssse.js';
import { describeSw, swHex, triesLeft as swTriesLeft } from '../../apdu/sw.js';
import { findTag, parseBerTlv } from '../../apdu/tlv.js';
import type { CardTransport } from '../transport.js';
import type { ReloadOptions } from './ssse-operations.js';

/** What the terminal needs from a PSAM (or an HSM with the same shape) to read a card. */
export interface CardAuthenticator {
  /** The cryptogram for EXTERNAL AUTHENTICATE with card key `keyId`, over the card's challenge. */
  externalAuthCryptogram(alg: Algorithm, keyId: number, factor: Buffer, challenge: Buffer): Promise<Buffer>;
  /**
   * What a genuine card answers to INTERNAL AUTHENTICATE with `random`; with `processFactor`
   * (the integrators' form, docs/card-conventions.md "Card-make profiles") under the process key
   * diversified from the card key by that factor.
   */
  internalAuthExpected(alg: Algorithm, factor: Buffer, random: Buffer, processFactor?: Buffer): Promise<Buffer>;
}

/**
 * INTERNAL AUTHENTICATE's form: `random` — one block of terminal random, `00 88 00 00 <bs>`;
 * `challenge` — as integrator code sends it (docs/domain.md §4, iReadCardBas_HSM_Step1): two GET
 * CHALLENGEs give the data and the process factor, `00 88 00 00 10` + factor ‖ data.
 */
export type InternalAuthForm = 'random' | 'challenge';

export interface CardReadOptions {
  /** READ RECORD addressing: by tag (P2=00, default) or by record number (P2=04). Real drivers use both. */
  readonly addressing?: 'tag' | 'record';
  /** Which bytes of the card identification code form the diversification factor (UNCONFIRMED; default the last 8). */
  readonly factorOffset?: number;
  readonly factorLength?: number;
  /** Key id of EXTERNAL AUTHENTICATE that opens EF06 on 3.0 cards (docs/domain.md §1: 0A). */
  readonly ef06AuthKeyId?: number;
  /** Key id of EXTERNAL AUTHENTICATE that lets the terminal write EF06 (UNCONFIRMED per card make; default 84). */
  readonly ef06WriteKeyId?: number;
  /** Select the MF before the AID (some card makes need it). Default: only when the AID select fails with 6A82. */
  readonly selectMfFirst?: boolean;
  /**
   * Where the holder's phone number is (docs/domain.md §1: DF01 EF06 tag 28, 15 bytes). The record
   * number (for `addressing: 'record'`, default 1) and the encoding (`an`: ASCII, 00/20/FF-padded,
   * default; `cn`: BCD, F-padded) are UNCONFIRMED (docs/card-conventions.md).
   */
  readonly phone?: { readonly tag?: number; readonly record?: number; readonly length?: number; readonly encoding?: 'an' | 'cn' };
  /** INTERNAL AUTHENTICATE's form (default `random`). */
  readonly internalAuth?: InternalAuthForm;
  /** The card-make profile these options come from (drivers/card/card-profiles.ts), for logs and reports. */
  readonly profile?: string;
  /** How this card make takes RELOAD PIN (drivers/card/ssse-operations.ts; default by the algorithm). */
  readonly reload?: ReloadOptions;
  /**
   * The card make lets RELOAD PIN set a blocked PIN (default false: this project's reading, the
   * card answers 6983 and the holder needs PIN UNBLOCK; docs/card-conventions.md).
   */
  readonly reloadOnBlockedPin?: boolean;
  /**
   * The SELECT status word that means "issued, never activated" (default 6283, this project's
   * reading: docs/card-conventions.md "Card-make profiles"); null: the card make has none.
   */
  readonly notActivatedSw?: number | null;
}

/**
 * The phone number record, as far as the terminal could read it:
 * - `read`: the number (digits, `+`, `-`, spaces as stored);
 * - `absent`: no DF01 / EF06 / record, or an empty or undecodable value;
 * - `denied`: the card wants a security state first (6982 / 6985: a verified PIN, as the
 *   conventions have it) — the same read may work after VERIFY.
 */
export type PhoneRead =
  | { readonly status: 'read'; readonly phone: string }
  | { readonly status: 'absent'; readonly sw?: number }
  | { readonly status: 'denied'; readonly sw: number };

export interface SelectResult {
  readonly algorithm: Algorithm;
  /** False when the application answered 6283 (issued, never activated). */
  readonly activated: boolean;
  /**
   * True when the application answered 9303 (APPLICATION BLOCK, e.g. after 挂失): a social
   * security card in a locked state, not an unreadable card (docs/domain.md §2).
   */
  readonly appLocked: boolean;
  readonly fci: Buffer;
}

export interface PinStatus {
  /** Tries left, when the card says (63Cx). */
  readonly triesLeft: number | undefined;
  readonly blocked: boolean;
}

export interface CardBasics {
  /** EF05. On an application-locked card, what it still answers; fields it refused are ''. */
  readonly issuer: CardIssuerData;
  /** EF06. On an application-locked card nothing is read: every field is ''. */
  readonly holder: HolderData;
  readonly algorithm: Algorithm;
  readonly activated: boolean;
  /** INTERNAL AUTHENTICATE checked by the PSAM: true genuine, false not, undefined not checked (no PSAM). */
  readonly authentic: boolean | undefined;
}

/** The PIN's tries left and the card's state (state/card-state.ts), as the card tells them now. */
export interface CardPinState {
  /** Tries left when the card says (63Cx; 6983 → 0); undefined when it does not (not activated, locked, 9000). */
  readonly triesLeft: number | undefined;
  readonly cardState: CardState;
}

/** What {@link SsseCard.identify} reads: the basics, the PIN's tries left and the card's state. */
export interface CardIdentity extends CardBasics, CardPinState {}

/** DF01 EF06 tag 28: the holder's phone number, 15 bytes (docs/domain.md §1). */
export const PHONE_TAG = 0x28;
export const PHONE_LENGTH = 15;

const SW_OK = 0x9000;
const SW_NOT_ACTIVATED = 0x6283;
const SW_SECURITY = 0x6982;
const SW_FILE_NOT_FOUND = 0x6a82;
const SW_RECORD_NOT_FOUND = 0x6a83;
const SW_BLOCKED = 0x6983;
const SW_CONDITIONS = 0x6985;
/** APPLICATION BLOCK (挂失): the application answers 9303 (docs/domain.md §1). */
const SW_APP_LOCKED = 0x9303;
/** The records of a card that would not let them be read (decodeEf05/decodeEf06's '' for a missing field). */
const BLANK_ISSUER: CardIssuerData = Object.freeze({ cardId: '', regionCode: '', cardType: '', specVersion: '', initOrgCode: '', issueDate: '', expiryDate: '', cardNumber: '' });
const BLANK_HOLDER: HolderData = Object.freeze({ socialSecurityNumber: '', name: '', gender: '', nation: '', birthPlace: '', birthDate: '' });
/** Status words that mean "not now: a security state is missing" (ISO 7816-4 §5.1.3). */
const DENIED_SWS: ReadonlySet<number> = new Set([SW_SECURITY, SW_CONDITIONS]);

/**
 * Decode the phone record: `an` = ASCII digits, `+`, `-`, spaces, padded with 00 / 20 / FF;
 * `cn` = BCD, F-padded. Undefined when empty or not in that form.
 */
export function decodePhoneRecord(value: Uint8Array, encoding: 'an' | 'cn' = 'an'): string | undefined {
  if (encoding === 'cn') {
    let digits = '';
    let padding = false;
    for (const b of value) {
      for (const n of [b >> 4, b & 0x0f]) {
        if (n === 0x0f) padding = true;
        else if (padding || n > 9) return undefined;
        else digits += String(n);
      }
    }
    return digits.length > 0 ? digits : undefined;
  }
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x00 || value[end - 1] === 0x20 || value[end - 1] === 0xff)) end--;
  const s = Buffer.from(value.subarray(0, end)).toString('latin1');
  return /^[0-9+\- ]+$/.test(s) && /\d/.test(s) ? s : undefined;
}

export class SsseCard {
  private selected: SelectResult | undefined;
  private issuerCache: CardIssuerData | undefined;
  private readonly opts: Required<Omit<CardReadOptions, 'phone' | 'notActivatedSw' | 'profile' | 'reloadOnBlockedPin' | 'reload'>> & { readonly notActivatedSw: number | null };
  /** The card-make profile the terminal chose for this card (drivers/card/card-profiles.ts). */
  public readonly profileName: string;
  /** This card make's RELOAD PIN sets a blocked PIN. */
  public readonly reloadsBlockedPin: boolean;
  /** This card make's RELOAD PIN form. */
  public readonly reload: ReloadOptions;
  private readonly phone: { readonly tag: number; readonly record: number; readonly length: number; readonly encoding: 'an' | 'cn' };

  constructor(
    readonly transport: CardTransport,
    options: CardReadOptions = {},
  ) {
    this.opts = {
      addressing: options.addressing ?? 'tag',
      factorOffset: options.factorOffset ?? 8,
      factorLength: options.factorLength ?? 8,
      ef06AuthKeyId: options.ef06AuthKeyId ?? 0x0a,
      ef06WriteKeyId: options.ef06WriteKeyId ?? 0x84,
      selectMfFirst: options.selectMfFirst ?? false,
      internalAuth: options.internalAuth ?? 'random',
      notActivatedSw: options.notActivatedSw === undefined ? SW_NOT_ACTIVATED : options.notActivatedSw,
    };
    this.profileName = options.profile ?? 'default';
    this.reloadsBlockedPin = options.reloadOnBlockedPin ?? false;
    this.reload = options.reload ?? {};
    const phone = options.phone ?? {};
    this.phone = { tag: phone.tag ?? PHONE_TAG, record: phone.record ?? 1, length: phone.length ?? PHONE_LENGTH, encoding: phone.encoding ?? 'an' };
    const badPhone = (which: string): never => {
      throw new SsCardError(ErrorCode.Input_BadOption, { zh: `电话号码记录的 ${which} 设置无效：请检查 phone.${which}`, en: `the phone record's ${which} setting is invalid: check phone.${which}` }, { option: `phone.${which}` });
    };
    if (!Number.isInteger(this.phone.tag) || this.phone.tag < 1 || this.phone.tag > 0xfe) badPhone('tag');
    if (!Number.isInteger(this.phone.record) || this.phone.record < 1 || this.phone.record > 0xfe) badPhone('record');
    if (!Number.isInteger(this.phone.length) || this.phone.length < 1 || this.phone.length > 0x40) badPhone('length');
    if (this.phone.encoding !== 'an' && this.phone.encoding !== 'cn') badPhone('encoding');
    if (this.opts.factorOffset < 0 || this.opts.factorLength !== 8 || this.opts.factorOffset + this.opts.factorLength > 16) {
      throw new SsCardError(
        ErrorCode.Input_BadOption,
        { zh: '分散因子须为卡识别码（16 字节）中的 8 个字节：请检查 factorOffset/factorLength', en: 'the diversification factor must be 8 bytes within the 16-byte card identification code: check factorOffset/factorLength' },
        { option: 'factorOffset/factorLength' },
      );
    }
  }

  private async send(apdu: Buffer): Promise<{ data: Buffer; sw: number }> {
    const r = decodeResponse(await this.transport.transmit(apdu));
    return { data: r.data, sw: r.sw };
  }

  private cardError(sw: number, what: { zh: string; en: string }): SsCardError {
    const info = describeSw(sw);
    return new SsCardError(
      sw === SW_BLOCKED ? ErrorCode.Card_PinBlocked : ErrorCode.Card_Status,
      { zh: `${what.zh}失败：${swHex(sw)} ${info.zh}`, en: `${what.en} failed: ${swHex(sw)} ${info.en}` },
      { sw: swHex(sw) },
    );
  }

  /** The algorithm learnt from the last SELECT, if any. */
  get selectedAlgorithm(): Algorithm | undefined {
    return this.selected?.algorithm;
  }

  /** SELECT the SSSE application (MF first when the card wants it) and learn its algorithm from the FCI. */
  async select(): Promise<SelectResult> {
    if (this.opts.selectMfFirst) await this.send(selectMf());
    let r = await this.send(selectAid(SSSE_AID));
    if (r.sw === SW_FILE_NOT_FOUND && !this.opts.selectMfFirst) {
      await this.send(selectMf());
      r = await this.send(selectAid(SSSE_AID));
    }
    if (r.sw === SW_FILE_NOT_FOUND) {
      throw new SsCardError(ErrorCode.Card_NotSsse, { zh: '这张卡没有社会保障应用（SSSE）：请确认插入的是社会保障卡', en: 'this card has no social security application (SSSE): check that it is a social security card' }, { sw: swHex(r.sw) });
    }
    const notActivated = this.opts.notActivatedSw !== null && r.sw === this.opts.notActivatedSw;
    if (r.sw !== SW_OK && !notActivated && r.sw !== SW_APP_LOCKED) throw this.cardError(r.sw, { zh: '选择社保应用', en: 'selecting the SSSE application' });
    // The issuer data (EF05) stays cached: an SsseCard lives as long as one card is in the
    // reader, and EF05 is written only at personalisation.
    this.selected = { algorithm: algorithmFromFci(r.data), activated: !notActivated, appLocked: r.sw === SW_APP_LOCKED, fci: r.data };
    return this.selected;
  }

  private async ensureSelected(): Promise<SelectResult> {
    return this.selected ?? this.select();
  }

  /** Read one field: the response is `tag len value`. Returns undefined when the card has no such record. */
  private async readField(tag: number, recordNumber: number | undefined, length: number): Promise<Buffer | undefined> {
    const apdu = this.opts.addressing === 'record' && recordNumber !== undefined ? readRecordByNumber(recordNumber, length) : readRecordByTag(tag, length);
    const r = await this.send(apdu);
    if (r.sw === SW_RECORD_NOT_FOUND) return undefined;
    if (r.sw !== SW_OK) throw this.cardError(r.sw, { zh: `读取记录 ${tag.toString(16).padStart(2, '0').toUpperCase()}`, en: `reading record ${tag.toString(16).padStart(2, '0').toUpperCase()}` });
    const tlv = parseSimpleTlv(r.data);
    if (tlv.tag !== tag) {
      throw new SsCardError(ErrorCode.Input_BadRecord, { zh: `卡片返回的记录标签 ${tlv.tag.toString(16)} 与请求的 ${tag.toString(16)} 不符`, en: `the card returned record tag ${tlv.tag.toString(16)} instead of ${tag.toString(16)}` }, { tag, got: tlv.tag });
    }
    return tlv.value;
  }

  private async readFile(fid: number, fields: readonly { tag: number; length: number; record?: number | undefined }[]): Promise<Map<number, Buffer>> {
    const s = await this.send(selectFile(fid));
    if (s.sw !== SW_OK) throw this.cardError(s.sw, { zh: `选择文件 ${fid.toString(16).toUpperCase()}`, en: `selecting file ${fid.toString(16).toUpperCase()}` });
    const out = new Map<number, Buffer>();
    for (const f of fields) {
      const v = await this.readField(f.tag, f.record, f.length);
      if (v) out.set(f.tag, v);
    }
    return out;
  }

  /**
   * EF05, the card issuer's data (card identification code, card number, dates). A field that
   * does not decode is '' and named in `undecodable` (apdu/records.ts, lenient decoding).
   */
  async readIssuer(): Promise<CardIssuerData> {
    await this.ensureSelected();
    const fields = await this.readFile(0xef05, EF05_FIELDS);
    this.issuerCache = decodeEf05(fields, 'lenient');
    return this.issuerCache;
  }

  /** The 8-byte diversification factor of this card (from the card identification code). */
  async factor(): Promise<Buffer> {
    const issuer = this.issuerCache ?? (await this.readIssuer());
    const id = Buffer.from(issuer.cardId, 'hex');
    return id.subarray(this.opts.factorOffset, this.opts.factorOffset + this.opts.factorLength);
  }

  /**
   * EF06, the holder's data, decoded leniently: a field that does not decode (a name in bytes
   * that are not GB18030, say) is '' and named in `undecodable`, and the card still identifies.
   * On 3.0 cards the card answers 6982 until the terminal has passed
   * EXTERNAL AUTHENTICATE with key 0A; with an authenticator we do that and read again.
   */
  async readHolder(auth?: CardAuthenticator): Promise<HolderData> {
    return decodeEf06(await this.withEf06Auth(() => this.readFile(0xef06, EF06_FIELDS), auth), 'lenient');
  }

  /**
   * `read`, of EF06 on a card that may answer 6982 until EXTERNAL AUTHENTICATE with key 0A
   * (3.0 cards): with an authenticator that is done and `read` tried once more; without one the
   * 6982 becomes Psam_Missing.
   */
  private async withEf06Auth<T>(read: () => Promise<T>, auth: CardAuthenticator | undefined): Promise<T> {
    const sel = await this.ensureSelected();
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof SsCardError) || err.context?.sw !== swHex(SW_SECURITY)) throw err;
      if (!auth) {
        throw new SsCardError(
          ErrorCode.Psam_Missing,
          { zh: '读取持卡人信息需要 PSAM 外部认证（三代卡）：请插入 PSAM 卡或配置 PSAM 读卡器', en: 'reading the holder data needs external authentication with a PSAM (3rd-generation card): insert the PSAM or configure its reader' },
          { sw: swHex(SW_SECURITY) },
        );
      }
      await this.externalAuthenticate(auth, this.opts.ef06AuthKeyId, sel.algorithm);
      return read();
    }
  }

  /**
   * The raw values of records `tags` of EF05 or EF06 (the vendors' iReadCard by file address,
   * docs/api.md), in the order asked; undefined where the card has no such record. EF06 is
   * authenticated as {@link readHolder} does. Tags must be in apdu/records.ts's tables.
   */
  async readRecords(ef: EfId, tags: readonly number[], auth?: CardAuthenticator): Promise<(Buffer | undefined)[]> {
    const fields = tags.map((tag) => {
      const f = fieldSpec(ef, tag);
      if (f === undefined) throw new SsCardError(ErrorCode.Input_BadOption, { zh: `文件 ${ef.toString(16).toUpperCase()} 没有记录 ${tag.toString(16)}`, en: `file ${ef.toString(16).toUpperCase()} has no record ${tag.toString(16)}` }, { ef, tag });
      return f;
    });
    const read = async () => {
      const m = await this.readFile(ef, fields);
      return tags.map((t) => m.get(t));
    };
    return ef === 0xef06 ? this.withEf06Auth(read, auth) : (await this.ensureSelected(), read());
  }

  /**
   * The card's part of iReadCardBas_HSM_Step1 (docs/domain.md §4), for a terminal without a PSAM
   * that asks the online encryption machine instead: EF05, then INTERNAL AUTHENTICATE in the card
   * make's form over the card's own randomness (`challenge`: two GET CHALLENGEs, data and process
   * factor, `00 88 00 00 10` + factor ‖ data; `random`: one block of data),
   * whose answer the terminal keeps to compare with the machine's, and a GET CHALLENGE the card
   * keeps for the EXTERNAL AUTHENTICATE of {@link hsmFinish}. Nothing else may be sent to the card
   * in between (another GET CHALLENGE would replace the challenge).
   */
  async hsmBegin(): Promise<{ issuer: CardIssuerData; algorithm: Algorithm; factor: Buffer; data: Buffer; processFactor: Buffer; answer: Buffer; challenge: Buffer }> {
    const sel = await this.select();
    const issuer = await this.readIssuer();
    const challenge = async (n: 8 | 16): Promise<Buffer> => {
      const c = await this.send(getChallenge(n));
      if (c.sw !== SW_OK || c.data.length !== n) throw this.cardError(c.sw, { zh: '取随机数', en: 'GET CHALLENGE' });
      return c.data;
    };
    // The card make's form (InternalAuthForm): the integrators' factor ‖ data, or one block of data
    // (then there is no process factor: an empty one).
    const byChallenge = this.opts.internalAuth === 'challenge';
    const data = await challenge(byChallenge ? 8 : blockSize(sel.algorithm));
    const processFactor = byChallenge ? await challenge(8) : Buffer.alloc(0);
    const r = await this.send(internalAuth(0x00, Buffer.concat([processFactor, data])));
    if (r.sw !== SW_OK) throw this.cardError(r.sw, { zh: '内部认证', en: 'INTERNAL AUTHENTICATE' });
    const ext = await challenge(blockSize(sel.algorithm));
    return { issuer, algorithm: sel.algorithm, factor: await this.factor(), data, processFactor, answer: r.data, challenge: ext };
  }

  /**
   * iReadCardBas_HSM_Step2's card part: EXTERNAL AUTHENTICATE (key 0A) with the encryption machine's
   * cryptogram over {@link hsmBegin}'s challenge, then the holder data and the PIN state.
   */
  async hsmFinish(cryptogram: Buffer): Promise<{ holder: HolderData } & CardPinState> {
    await this.hsmAuthenticate(cryptogram);
    const holder = await this.readHolder();
    return { holder, ...(await this.pinState()) };
  }

  /**
   * Before iWriteCard's UPDATE RECORDs (drivers/card/ssse-operations.ts updateRecord): EF06 selected
   * and EXTERNAL AUTHENTICATE with its write key (`ef06WriteKeyId`) done. Nothing is changed yet;
   * the caller journals the write as pending between this and the first UPDATE RECORD.
   */
  async prepareEf06Write(auth: CardAuthenticator): Promise<void> {
    const sel = await this.ensureSelected();
    await this.factor();
    const s = await this.send(selectFile(0xef06));
    if (s.sw !== SW_OK) throw this.cardError(s.sw, { zh: '选择文件 EF06', en: 'selecting file EF06' });
    await this.externalAuthenticate(auth, this.opts.ef06WriteKeyId, sel.algorithm);
  }

  /** EXTERNAL AUTHENTICATE (key 0A) with the encryption machine's cryptogram over {@link hsmBegin}'s challenge: EF06 may be read then. */
  async hsmAuthenticate(cryptogram: Buffer): Promise<void> {
    const r = await this.send(externalAuth(this.opts.ef06AuthKeyId, cryptogram));
    if (r.sw !== SW_OK) throw this.cardError(r.sw, { zh: '外部认证', en: 'EXTERNAL AUTHENTICATE' });
  }


  /** GET CHALLENGE, the PSAM's cryptogram, EXTERNAL AUTHENTICATE. */
  async externalAuthenticate(auth: CardAuthenticator, keyId: number, alg?: Algorithm): Promise<void> {
    const algorithm = alg ?? (await this.ensureSelected()).algorithm;
    const factor = await this.factor();
    // EF06 reads left EF06 selected; the security state is per application, so no re-select.
    const ch = await this.send(getChallenge(blockSize(algorithm)));
    if (ch.sw !== SW_OK) throw this.cardError(ch.sw, { zh: '取随机数', en: 'GET CHALLENGE' });
    const cryptogram = await auth.externalAuthCryptogram(algorithm, keyId, factor, ch.data);
    const r = await this.send(externalAuth(keyId, cryptogram));
    if (r.sw !== SW_OK) throw this.cardError(r.sw, { zh: '外部认证', en: 'EXTERNAL AUTHENTICATE' });
  }

  /** INTERNAL AUTHENTICATE with a fresh random, checked against the PSAM: is the card genuine? */
  async internalAuthenticate(auth: CardAuthenticator, random: Buffer): Promise<boolean> {
    const { algorithm } = await this.ensureSelected();
    const factor = await this.factor();
    if (this.opts.internalAuth === 'challenge') return this.internalAuthenticateByChallenge(auth, algorithm, factor);
    const r = await this.send(internalAuth(0x00, random));
    if (r.sw !== SW_OK) throw this.cardError(r.sw, { zh: '内部认证', en: 'INTERNAL AUTHENTICATE' });
    const expected = await auth.internalAuthExpected(algorithm, factor, random);
    return expected.length > 0 && expected.equals(r.data);
  }

  /**
   * The integrators' form (docs/domain.md §4): GET CHALLENGE gives the data, a second the process
   * factor; `00 88 00 00 10` + factor ‖ data; the PSAM computes the answer under the process key
   * (the card key diversified once more by the process factor: docs/card-conventions.md).
   */
  private async internalAuthenticateByChallenge(auth: CardAuthenticator, algorithm: Algorithm, factor: Buffer): Promise<boolean> {
    const challenge = async (): Promise<Buffer> => {
      const c = await this.send(getChallenge(8));
      if (c.sw !== SW_OK || c.data.length !== 8) throw this.cardError(c.sw, { zh: '取随机数', en: 'GET CHALLENGE' });
      return c.data;
    };
    const data = await challenge();
    const processFactor = await challenge();
    const r = await this.send(internalAuth(0x00, Buffer.concat([processFactor, data])));
    if (r.sw !== SW_OK) throw this.cardError(r.sw, { zh: '内部认证', en: 'INTERNAL AUTHENTICATE' });
    const expected = await auth.internalAuthExpected(algorithm, factor, data, processFactor);
    return expected.length > 0 && expected.equals(r.data);
  }

  /** VERIFY without data: how many PIN tries are left (spends none). */
  async pinStatus(): Promise<PinStatus> {
    await this.ensureSelected();
    const r = await this.send(verifyQuery());
    if (r.sw === SW_BLOCKED) return { triesLeft: 0, blocked: true };
    const left = swTriesLeft(r.sw);
    if (left !== undefined) return { triesLeft: left, blocked: left === 0 };
    if (r.sw === SW_OK) return { triesLeft: undefined, blocked: false };
    throw this.cardError(r.sw, { zh: '查询密码剩余次数', en: 'asking for PIN tries left' });
  }

  /**
   * The holder's phone number from DF01 EF06 (tag 28), for the PIN policy's phone rule: SELECT
   * DF01, SELECT EF06, READ RECORD, then SELECT the SSSE application again so the next command
   * finds the card where it expects it (that also drops a verified-PIN state, as any re-select
   * does). Reading spends no PIN try and changes nothing.
   *
   * Status words never throw here: the card refusing for lack of a security state (6982 / 6985:
   * the conventions want a verified PIN) is `denied`; no such file or record, an empty or
   * undecodable value, or any other status word is `absent`. A transport failure (card removed)
   * does throw, like every read.
   */
  async readPhoneRecord(): Promise<PhoneRead> {
    await this.ensureSelected();
    const outcome = async (): Promise<PhoneRead> => {
      const df = await this.send(selectFile(FID.DF01, 0x00));
      if (df.sw !== SW_OK) return DENIED_SWS.has(df.sw) ? { status: 'denied', sw: df.sw } : { status: 'absent', sw: df.sw };
      const ef = await this.send(selectFile(FID.EF06, 0x02));
      if (ef.sw !== SW_OK) return DENIED_SWS.has(ef.sw) ? { status: 'denied', sw: ef.sw } : { status: 'absent', sw: ef.sw };
      const p = this.phone;
      const r = await this.send(this.opts.addressing === 'record' ? readRecordByNumber(p.record, p.length) : readRecordByTag(p.tag, p.length));
      if (r.sw !== SW_OK) return DENIED_SWS.has(r.sw) ? { status: 'denied', sw: r.sw } : { status: 'absent', sw: r.sw };
      let value: Uint8Array;
      try {
        const tlv = parseSimpleTlv(r.data);
        if (tlv.tag !== p.tag) return { status: 'absent' };
        value = tlv.value;
      } catch {
        return { status: 'absent' };
      }
      const phone = decodePhoneRecord(value, p.encoding);
      return phone === undefined ? { status: 'absent' } : { status: 'read', phone };
    };
    const found = await outcome();
    await this.select();
    return found;
  }

  /** {@link readPhoneRecord}'s number, or undefined when absent or not readable now. */
  async readPhone(): Promise<string | undefined> {
    const r = await this.readPhoneRecord();
    return r.status === 'read' ? r.phone : undefined;
  }

  /**
   * Select, EF05, EF06 (with external auth where needed), and with a PSAM the genuineness check.
   *
   * An application-locked card (SELECT 9303, docs/domain.md §2) is identified too: EF05 is read
   * as far as the card answers it (a status word or an undecodable record leaves it blank, ''),
   * EF06 is not asked for, and nothing is authenticated — the card can only be sent to the
   * window (seed 000 lines 329–331, 000_1700379f35991b5f.txt: 挂失后 补换卡 at the window).
   */
  async readBasics(auth?: CardAuthenticator, random?: () => Buffer): Promise<CardBasics> {
    const sel = await this.select();
    if (sel.appLocked) return { issuer: await this.readIssuerOfLockedCard(), holder: { ...BLANK_HOLDER }, algorithm: sel.algorithm, activated: sel.activated, authentic: undefined };
    const issuer = await this.readIssuer();
    let authentic: boolean | undefined;
    if (auth && random) authentic = await this.internalAuthenticate(auth, random());
    const holder = await this.readHolder(auth);
    return { issuer, holder, algorithm: sel.algorithm, activated: sel.activated, authentic };
  }

  /** EF05 of an application-locked card: what it answers, blank where it refuses; only a transport failure throws. */
  private async readIssuerOfLockedCard(): Promise<CardIssuerData> {
    try {
      return await this.readIssuer();
    } catch (e) {
      if (isSsCardError(e) && (e.context?.['sw'] !== undefined || e.code === ErrorCode.Input_BadRecord || e.code === ErrorCode.Input_BadTlv)) return { ...BLANK_ISSUER };
      throw e;
    }
  }

  /**
   * The PIN's tries left and the card's state: SELECT the application afresh (which also drops
   * any security state an earlier command left), then, when it is activated, VERIFY without data
   * (spends no try). Not activated (SELECT 6283): `notActivated`, nothing asked; no tries left
   * (6983, 63C0): `pinBlocked`; 9303 (APPLICATION BLOCK) to the SELECT or to the query:
   * `appLocked`, and no VERIFY is sent to a card whose SELECT said so. Other status words throw.
   */
  async pinState(): Promise<CardPinState> {
    const sel = await this.select();
    if (sel.appLocked) return { triesLeft: undefined, cardState: 'appLocked' };
    if (!sel.activated) return { triesLeft: undefined, cardState: 'notActivated' };
    try {
      const st = await this.pinStatus();
      return { triesLeft: st.triesLeft, cardState: st.blocked ? 'pinBlocked' : 'active' };
    } catch (e) {
      if (isSsCardError(e) && e.context?.['sw'] === swHex(SW_APP_LOCKED)) return { triesLeft: undefined, cardState: 'appLocked' };
      throw e;
    }
  }

  /**
   * Identify the card in the reader: {@link readBasics} (with `auth`, the PSAM: EXTERNAL
   * AUTHENTICATE for EF06 where needed and the INTERNAL AUTHENTICATE genuineness check over a
   * fresh `random` of the algorithm's block size), then {@link pinState}. A card that fails the
   * genuineness check is reported (`authentic: false`), not refused: that is the caller's choice.
   */
  async identify(auth?: CardAuthenticator, random: (n: number) => Buffer = randomBytes): Promise<CardIdentity> {
    const basics = await this.readBasics(auth, auth ? () => random(blockSize(this.selected?.algorithm ?? '3DES')) : undefined);
    return { ...basics, ...(await this.pinState()) };
  }
}

/** `9F0C 03 86 01 <alg>` in the FCI: 03 SM4, 01 (or absent) 3DES (docs/domain.md §1). */
export function algorithmFromFci(fci: Buffer): Algorithm {
  if (fci.length === 0) return '3DES';
  try {
    const nodes = parseBerTlv(fci);
    const node = findTag(nodes, 0x9f0c);
    const v = node?.value;
    if (v && v.length >= 3 && v[0] === 0x86) return v[2] === 0x03 ? 'SM4' : '3DES';
  } catch {
    // A malformed FCI tells us nothing about the algorithm.
  }
  return '3DES';
}
