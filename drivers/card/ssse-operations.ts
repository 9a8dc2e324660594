/**
 * The state-changing PIN and life-cycle operations of the SSSE application (docs/card-conventions.md
 * "Card commands as the virtual card implements them"): VERIFY, CHANGE PIN, RELOAD PIN (PBOC and 3.0
 * forms), PIN UNBLOCK, and activation (APPLICATION UNBLOCK, then the holder's PIN).
 *
 * House rules (docs/architecture.md "Habits", README "PIN secrecy"):
 * - each operation sends its state-changing APDU exactly ONCE and never retries it;
 * - the PIN buffers passed in are CONSUMED: they are wiped before the function returns, whatever
 *   happens, and so is every APDU or block built from them;
 * - the outcome is reported, not thrown: `answered` with the card's status word; `notSent` when a
 *   preparatory step failed (GET CHALLENGE, EXTERNAL AUTHENTICATE, the PSAM, the presence probe
 *   before VERIFY / CHANGE PIN) or the transport proved the state-changing APDU never reached the
 *   card (its error is marked `notSent`: drivers/pcsc/errors.ts — the card already gone by the
 *   reader's state, or a PC/SC return code pcsc-lite gives before it calls the reader driver) —
 *   the card is unchanged; `unknown` when the transport failed during the state-changing APDU
 *   itself (timeout, card removed mid-command): the card may or may not have executed it, and the
 *   caller must re-read the tries left / state before anything else on that card.
 * - a `notSent` whose cause is the card's removal ({@link removedBeforeSending}) is the card
 *   taken out, not a failure: nothing was done and nothing needs reconciling.
 *
 * The journal's `pending` row is the caller's job and must be written before calling these.
 */
import { decodeResponse } from '../../apdu/apdu.js';
import type { Algorithm } from '../../apdu/crypto.js';
import { blockSize } from '../../apdu/crypto.js';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import { pinToBcd, wipe } from '../../apdu/pin.js';
import { KeyUsage } from '../../apdu/psam.js';
import { appUnblock, changePin as changePinApdu, getChallenge, macInput, pinUnblock, reloadPinPboc, reloadPinSsse3, updateRecord as updateRecordApdu, verify, verifyQuery } from '../../apdu/ssse.js';
import { swHex, triesLeft as swTriesLeft } from '../../apdu/sw.js';
import { isNotSent } from '../pcsc/errors.js';
import type { CardAuthenticator, SsseCard } from './ssse-card.js';

/** What the operations need from a PSAM (or an HSM hook of the same shape): drivers/psam/psam.ts fits. */
export interface SecureModule extends CardAuthenticator {
  commandMac(alg: Algorithm, usage: number, factor: Uint8Array, challenge: Uint8Array, macInputBytes: Uint8Array): Promise<Buffer>;
  encryptPinBlock(alg: Algorithm, factor: Uint8Array, pin: Uint8Array): Promise<Buffer>;
}

/** Which RELOAD PIN form the card takes (UNCONFIRMED per card make; profile `pinReload`). */
export type PinReloadForm = 'pboc' | 'ssse3';

export type OperationOutcome =
  /** The card answered the state-changing command. */
  | { readonly status: 'answered'; readonly sw: number; readonly swHex: string; readonly triesLeft?: number; readonly blocked: boolean }
  /** A step before the state-changing command failed: it was not sent; the card is unchanged. */
  | { readonly status: 'notSent'; readonly error: SsCardError }
  /** The state-changing command was handed to the transport and no answer came: the card may have changed. */
  | { readonly status: 'unknown'; readonly error: SsCardError };

/** Activation is two state-changing commands: APPLICATION UNBLOCK, then the holder's PIN. */
export interface ActivationOutcome {
  readonly appUnblock: OperationOutcome;
  /** Absent when APPLICATION UNBLOCK did not answer 9000 (the PIN was then not sent). */
  readonly pin?: OperationOutcome;
}

const SW_OK = 0x9000;
const SW_BLOCKED = 0x6983;

function answered(sw: number): OperationOutcome {
  const left = sw === SW_BLOCKED ? 0 : swTriesLeft(sw);
  return { status: 'answered', sw, swHex: swHex(sw), ...(left === undefined ? {} : { triesLeft: left }), blocked: sw === SW_BLOCKED || left === 0 };
}

/** The transport errors that mean the card is not in the reader (any more). */
const REMOVAL: ReadonlySet<ErrorCode> = new Set([ErrorCode.Pcsc_CardRemoved, ErrorCode.Pcsc_NoCard]);

/** The state-changing command was not sent because the card had been taken out. */
export function removedBeforeSending(o: OperationOutcome): boolean {
  const cause = o.status === 'notSent' ? o.error.context?.['cause'] : undefined;
  return typeof cause === 'number' && REMOVAL.has(cause);
}

function asError(e: unknown, code: ErrorCode, what: { zh: string; en: string }): SsCardError {
  const inner = isSsCardError(e) ? `E${e.code}` : 'error';
  if (code === ErrorCode.Flow_NotSent && isSsCardError(e) && REMOVAL.has(e.code)) {
    return new SsCardError(
      code,
      {
        zh: `卡片在${what.zh}命令发出前已被取出（${inner}）：命令未发出，卡片未改变。请重新插卡后再办理`,
        en: `the card was taken out before ${what.en} was sent (${inner}): the command was not sent and the card is unchanged. Insert the card again to start over`,
      },
      { cause: e.code },
      { cause: e },
    );
  }
  if (code === ErrorCode.Flow_OutcomeUnknown) {
    return new SsCardError(
      code,
      {
        zh: `${what.zh}命令已发出但没有收到卡片应答（${inner}）：结果未知，卡片状态可能已改变。请勿重复操作，先重新插卡查询密码剩余次数`,
        en: `${what.en} was sent but no answer came from the card (${inner}): the outcome is unknown and the card may have changed. Do not repeat it; re-insert the card and check the PIN tries left first`,
      },
      { cause: isSsCardError(e) ? e.code : undefined },
      { cause: e },
    );
  }
  return new SsCardError(
    code,
    {
      zh: `${what.zh}的准备步骤失败（${inner}），命令未发出，卡片未改变：请检查卡片和 PSAM 后重试`,
      en: `a step before ${what.en} failed (${inner}); the command was not sent and the card is unchanged: check the card and the PSAM, then try again`,
    },
    { cause: isSsCardError(e) ? e.code : undefined },
    { cause: e },
  );
}

class NotSent extends Error {
  public constructor(public readonly inner: unknown) {
    super('not sent');
  }
}

/** Run the preparatory steps; any failure there means "not sent". */
async function prepare<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new NotSent(e);
  }
}

/**
 * The single transmit of a state-changing APDU. The APDU is wiped after the transmit whatever
 * happens. A transport rejection here is `unknown`, unless the transport proved the APDU never
 * reached the card (its error marked `notSent`).
 */
async function sendOnce(card: SsseCard, apdu: Buffer): Promise<OperationOutcome | SsCardError> {
  try {
    const raw = await card.transport.transmit(apdu);
    return answered(decodeResponse(raw).sw);
  } catch (e) {
    return isSsCardError(e) ? e : new SsCardError(ErrorCode.Pcsc_TransmitFailed, { zh: '发送命令失败', en: 'sending the command failed' }, undefined, { cause: e });
  } finally {
    apdu.fill(0);
  }
}

async function run(what: { zh: string; en: string }, body: () => Promise<Buffer>, card: SsseCard): Promise<OperationOutcome> {
  let apdu: Buffer;
  try {
    apdu = await body();
  } catch (e) {
    const inner = e instanceof NotSent ? e.inner : e;
    return { status: 'notSent', error: asError(inner, ErrorCode.Flow_NotSent, what) };
  }
  const r = await sendOnce(card, apdu);
  if (r instanceof SsCardError) {
    return isNotSent(r) ? { status: 'notSent', error: asError(r, ErrorCode.Flow_NotSent, what) } : { status: 'unknown', error: asError(r, ErrorCode.Flow_OutcomeUnknown, what) };
  }
  return r;
}

/**
 * Right before VERIFY or CHANGE PIN: is the card still there? VERIFY without data asks for the
 * tries left (ISO/IEC 7816-4 VERIFY with an absent data field; docs/domain.md §2), spends no
 * try and changes nothing, and it fails on a card pulled since the last exchange — also when the
 * reader has not noticed yet: pcscd learns of a pull on an interrupt-less reader (vpcd among them)
 * only at its next presence poll, up to 400 ms later, and the PIN command would otherwise be the
 * first command to a card that is gone, with an outcome nobody can know. Its status word is not
 * looked at (the PIN command answers for itself). RELOAD PIN, PIN UNBLOCK and APPLICATION UNBLOCK
 * need no probe: their GET CHALLENGE goes to the card right before them.
 */
async function stillThere(card: SsseCard): Promise<void> {
  await card.transport.transmit(verifyQuery());
}

async function algorithmOf(card: SsseCard): Promise<Algorithm> {
  return card.selectedAlgorithm ?? (await card.select()).algorithm;
}

/** GET CHALLENGE of the card's block size; throws on a status other than 9000. */
async function challenge(card: SsseCard, alg: Algorithm): Promise<Buffer> {
  const r = decodeResponse(await card.transport.transmit(getChallenge(blockSize(alg))));
  if (r.sw !== SW_OK) {
    throw new SsCardError(ErrorCode.Card_Status, { zh: `取随机数失败：${swHex(r.sw)}`, en: `GET CHALLENGE failed: ${swHex(r.sw)}` }, { sw: swHex(r.sw) });
  }
  return r.data;
}

/** The MAC of `cla ins p1 p2` over `data` with the card's key `usage`, on a fresh challenge. */
async function macFor(card: SsseCard, sm: SecureModule, alg: Algorithm, usage: number, header: readonly [number, number, number, number], data: Uint8Array): Promise<Buffer> {
  const factor = await card.factor();
  const input = macInput(header[0], header[1], header[2], header[3], data);
  try {
    // The challenge comes last: the card keeps it for the very next command only.
    const ch = await challenge(card, alg);
    return await sm.commandMac(alg, usage, factor, ch, input);
  } finally {
    input.fill(0);
  }
}

const TEXT = {
  update: { zh: '写记录', en: 'UPDATE RECORD' },
  verify: { zh: '校验密码', en: 'VERIFY' },
  change: { zh: '修改密码', en: 'CHANGE PIN' },
  reload: { zh: '重置密码', en: 'RELOAD PIN' },
  unblock: { zh: '密码解锁', en: 'PIN UNBLOCK' },
  appUnblock: { zh: '应用解锁（启用）', en: 'APPLICATION UNBLOCK' },
} as const;

/** VERIFY `00 20 00 00 03 <BCD>`: one try of the holder's PIN, after the presence probe `00 20 00 00`. `pin` is consumed (wiped). */
export async function verifyPin(card: SsseCard, pin: Buffer): Promise<OperationOutcome> {
  try {
    return await run(TEXT.verify, () => prepare(async () => {
      await algorithmOf(card);
      await stillThere(card);
      return verify(pin);
    }), card);
  } finally {
    wipe(pin);
  }
}

/** CHANGE PIN `80 5E 01 00 07 <old> FF <new>` after the presence probe; the old PIN counts as a try. Both PINs are consumed. */
export async function changePin(card: SsseCard, oldPin: Buffer, newPin: Buffer): Promise<OperationOutcome> {
  try {
    return await run(TEXT.change, () => prepare(async () => {
      await algorithmOf(card);
      await stillThere(card);
      return changePinApdu(oldPin, newPin);
    }), card);
  } finally {
    wipe(oldPin, newPin);
  }
}

/** CHANGE PIN that stopped after its VERIFY: the new PIN was refused by `check` (nothing else was sent). */
export interface ChangeRefused<R> {
  readonly status: 'refused';
  /** The VERIFY's answer (9000). */
  readonly sw: number;
  readonly reason: R;
}

/**
 * CHANGE PIN when the new PIN must first be checked against data the card opens only to a
 * verified PIN (the holder's phone in DF01, docs/card-conventions.md): VERIFY with the old PIN,
 * once; unless it answers 9000 its outcome is the result (a wrong old PIN spends the one try the
 * CHANGE PIN would have spent, and the CHANGE PIN is then not sent). Then `check(card, newPin)`
 * reads what it needs and returns a refusal or undefined; a refusal ends it (`refused`, the card's
 * PIN unchanged); otherwise CHANGE PIN is sent, once. A `check` failure (card gone, status word)
 * means CHANGE PIN was not sent: `notSent` (the VERIFY did succeed, which restores the tries).
 * A transport failure during the VERIFY is `unknown` and nothing more is sent. Both PINs are consumed.
 */
export async function changePinAfterVerify<R>(
  card: SsseCard,
  oldPin: Buffer,
  newPin: Buffer,
  check: (card: SsseCard, newPin: Uint8Array) => Promise<R | undefined>,
): Promise<OperationOutcome | ChangeRefused<R>> {
  try {
    const verified = await verifyPin(card, Buffer.from(oldPin));
    if (verified.status !== 'answered' || verified.sw !== SW_OK) return verified;
    let refusal: R | undefined;
    try {
      refusal = await check(card, newPin);
    } catch (e) {
      return { status: 'notSent', error: asError(e, ErrorCode.Flow_NotSent, TEXT.change) };
    }
    if (refusal !== undefined) return { status: 'refused', sw: verified.sw, reason: refusal };
    return await changePin(card, oldPin, newPin);
  } finally {
    wipe(oldPin, newPin);
  }
}

export interface ReloadOptions {
  /** Default: `ssse3` for SM4 (3rd-generation) cards, `pboc` for 3DES cards. */
  readonly form?: PinReloadForm;
  /** EXTERNAL AUTHENTICATE key id before the 3.0 RELOAD (default 06). */
  readonly reloadAuthKeyId?: number;
}

function reloadForm(alg: Algorithm, options: ReloadOptions): PinReloadForm {
  return options.form ?? (alg === 'SM4' ? 'ssse3' : 'pboc');
}

async function buildReload(card: SsseCard, sm: SecureModule, alg: Algorithm, pin: Buffer, options: ReloadOptions): Promise<Buffer> {
  if (reloadForm(alg, options) === 'pboc') {
    const bcd = pinToBcd(pin);
    try {
      const mac = await macFor(card, sm, alg, KeyUsage.ReloadPin, [0x80, 0x5e, 0x00, 0x00], bcd);
      return reloadPinPboc(pin, mac);
    } finally {
      bcd.fill(0);
    }
  }
  await card.externalAuthenticate(sm, options.reloadAuthKeyId ?? 0x06, alg);
  const block = await sm.encryptPinBlock(alg, await card.factor(), pin);
  const mac = await macFor(card, sm, alg, KeyUsage.PinUnblock, [0x84, 0x24, 0x00, 0x01], block);
  return reloadPinSsse3(block, mac);
}

/**
 * RELOAD PIN (forgotten PIN, seed 001 in docs/service-items/): PBOC `80 5E 00 00 <new> ‖ MAC` or,
 * on 3.0 cards, EXTERNAL AUTHENTICATE key 06 then `84 24 00 01 E(PIN block) ‖ MAC`. `pin` is consumed.
 */
export async function reloadPin(card: SsseCard, sm: SecureModule, pin: Buffer, options: ReloadOptions = {}): Promise<OperationOutcome> {
  try {
    return await run(TEXT.reload, () => prepare(async () => buildReload(card, sm, await algorithmOf(card), pin, options)), card);
  } finally {
    wipe(pin);
  }
}

/** PIN UNBLOCK `84 24 00 00 E(PIN block) ‖ MAC`: new PIN, tries back to the card's limit. `pin` is consumed. */
export async function unblockPin(card: SsseCard, sm: SecureModule, pin: Buffer): Promise<OperationOutcome> {
  try {
    return await run(TEXT.unblock, () => prepare(async () => {
      const alg = await algorithmOf(card);
      const block = await sm.encryptPinBlock(alg, await card.factor(), pin);
      const mac = await macFor(card, sm, alg, KeyUsage.PinUnblock, [0x84, 0x24, 0x00, 0x00], block);
      return pinUnblock(block, mac);
    }), card);
  } finally {
    wipe(pin);
  }
}

/**
 * Activation (seed 000 in docs/service-items/): APPLICATION UNBLOCK `84 18 00 00 04 MAC` on a
 * never-activated card, then the holder's PIN by RELOAD PIN. Each command is sent once; the PIN is
 * not sent unless the unblock answered 9000. `pin` is consumed.
 */
export async function activate(card: SsseCard, sm: SecureModule, pin: Buffer, options: ReloadOptions = {}): Promise<ActivationOutcome> {
  try {
    const appOutcome = await run(TEXT.appUnblock, () => prepare(async () => {
      const alg = await algorithmOf(card);
      const mac = await macFor(card, sm, alg, KeyUsage.AppBlockUnblock, [0x84, 0x18, 0x00, 0x00], Buffer.alloc(0));
      return appUnblock(mac);
    }), card);
    if (appOutcome.status !== 'answered' || appOutcome.sw !== SW_OK) return { appUnblock: appOutcome };
    const pinOutcome = await reloadPin(card, sm, pin, options);
    return { appUnblock: appOutcome, pin: pinOutcome };
  } finally {
    wipe(pin);
  }
}

/**
 * UPDATE RECORD of one record of the selected EF (iWriteCard, docs/api.md), after
 * SsseCard.prepareEf06Write and the journal's pending row: sent exactly once, never retried; its
 * outcome as the other operations report theirs.
 */
export async function updateRecord(card: SsseCard, record: number, tag: number, value: Uint8Array): Promise<OperationOutcome> {
  return run(TEXT.update, () => Promise.resolve(updateRecordApdu(record, tag, value)), card);
}
