/**
 * VERIFY and CHANGE PIN with whatever pad the kiosk has: secure entry when the pad can (the reader
 * sends the command, only the SW comes back), else plain entry with the command built here
 * (apdu/ssse.ts) and every Buffer holding digits wiped as soon as it is sent. The service machines
 * call these (as actors, drivers/pinpad/actors.ts) so that digits never enter machine context.
 *
 * A command that spends a PIN try is sent once and never retried (docs/architecture.md "Habits").
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { wipe } from '../../apdu/pin.js';
import { changePin, verify } from '../../apdu/ssse.js';
import type { CardTransport } from '../transport.js';
import type { PinKeyEvent, PinPad, PinPrompt, SecurePinOptions } from './pinpad.js';

export interface PadPinOptions extends SecurePinOptions {
  /** Key events of plain entries (count and mask only), with the prompt they belong to. */
  readonly onKey?: (event: PinKeyEvent & { readonly prompt: PinPrompt }) => void;
  /** Prefer plain entry even on a pad that can do secure entry (default false). */
  readonly preferPlain?: boolean;
}

export interface PadPinResult {
  /** The card's status word: 9000, 63Cx, 6983… */
  readonly sw: number;
  readonly mode: 'secure' | 'plain';
  readonly elapsedMs: number;
}

function useSecure(pad: PinPad, kind: 'verify' | 'change', o: PadPinOptions): boolean {
  const can = kind === 'verify' ? pad.capabilities.secureVerify : pad.capabilities.secureChange;
  if (can && (o.preferPlain !== true || !pad.capabilities.plainEntry)) return true;
  if (pad.capabilities.plainEntry) return false;
  throw new SsCardError(
    ErrorCode.PinPad_Unsupported,
    { zh: `密码键盘“${pad.name}”无法${kind === 'verify' ? '校验' : '修改'}密码：它既不支持安全输入也不支持明文输入`, en: `PIN pad "${pad.name}" cannot ${kind === 'verify' ? 'verify' : 'change'} the PIN: it supports neither secure nor plain entry` },
    { pad: pad.name, kind },
  );
}

function swOf(res: Buffer): number {
  if (res.length < 2) {
    throw new SsCardError(ErrorCode.Pcsc_TransmitFailed, { zh: '卡片应答不足 2 字节', en: 'the card answered fewer than 2 bytes' }, { length: res.length });
  }
  return (res[res.length - 2]! << 8) | res[res.length - 1]!;
}

async function entry(pad: PinPad, o: PadPinOptions, prompt: PinPrompt, signal?: AbortSignal): Promise<Buffer> {
  const { onKey, preferPlain: _p, ...rest } = o;
  const r = await pad.enterPin({ ...rest, prompt, ...(onKey ? { onKey: (e: PinKeyEvent) => onKey({ ...e, prompt }) } : {}) }, signal);
  return r.pin;
}

/** VERIFY (`00 20 00 00 03 <BCD>`) with the PIN from `pad`. */
export async function verifyPinWithPad(pad: PinPad, card: CardTransport, options: PadPinOptions = {}, signal?: AbortSignal): Promise<PadPinResult> {
  const started = performance.now();
  if (!pad.connected) await pad.open(signal);
  if (useSecure(pad, 'verify', options)) {
    const r = await pad.secureVerify(options, signal);
    return { sw: r.sw, mode: 'secure', elapsedMs: r.elapsedMs };
  }
  const pin = await entry(pad, options, options.prompt ?? 'enterPin', signal);
  let apdu: Buffer | undefined;
  try {
    apdu = verify(pin);
    wipe(pin);
    const res = await card.transmit(apdu, { sensitive: true });
    return { sw: swOf(res), mode: 'plain', elapsedMs: performance.now() - started };
  } finally {
    wipe(pin, apdu);
  }
}

/** CHANGE PIN (`80 5E 01 00 07 <old> FF <new>`): old PIN, new PIN, new PIN again. */
export async function changePinWithPad(pad: PinPad, card: CardTransport, options: PadPinOptions = {}, signal?: AbortSignal): Promise<PadPinResult> {
  const started = performance.now();
  if (!pad.connected) await pad.open(signal);
  if (useSecure(pad, 'change', options)) {
    const r = await pad.secureChange(options, signal);
    return { sw: r.sw, mode: 'secure', elapsedMs: r.elapsedMs };
  }
  const held: Buffer[] = [];
  let apdu: Buffer | undefined;
  try {
    held.push(await entry(pad, options, 'enterOldPin', signal));
    held.push(await entry(pad, options, 'enterNewPin', signal));
    held.push(await entry(pad, options, 'confirmNewPin', signal));
    const [oldPin, newPin, again] = held as [Buffer, Buffer, Buffer];
    if (!newPin.equals(again)) {
      throw new SsCardError(ErrorCode.PinPad_Mismatch, { zh: '两次输入的新密码不一致：请重新修改密码', en: 'the two new PINs differ: change the PIN again' }, { pad: pad.name });
    }
    apdu = changePin(oldPin, newPin);
    wipe(...held);
    const res = await card.transmit(apdu, { sensitive: true });
    return { sw: swOf(res), mode: 'plain', elapsedMs: performance.now() - started };
  } finally {
    wipe(apdu, ...held);
  }
}
