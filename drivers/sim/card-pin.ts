/**
 * The virtual card's PIN commands (docs/card-conventions.md): VERIFY, CHANGE PIN, the PBOC RELOAD
 * PIN of 2.0 cards, and PIN UNBLOCK / the 3.0 RELOAD PIN with an encrypted PIN block. Every buffer
 * that held digits is wiped before the handler returns.
 */
import type { CommandApdu } from '../../apdu/apdu.js';
import { blockSize, decryptBlocks, MAC_LENGTH, macEquals } from '../../apdu/crypto.js';
import { bcdToPin, parsePinBlock, wipe } from '../../apdu/pin.js';
import { sw } from './card-os.js';
import type { Reply } from './card-os.js';
import type { CardRuntime } from './card-runtime.js';
import { cardKey, checkMac } from './card-security.js';

/** The card's PIN rule (docs/domain.md §2): exactly 6 digits, 3 bytes of BCD. */
const PIN_DIGITS = 6;
const PIN_BYTES = 3;

/** Life cycle gate of the PIN commands. */
function pinGate(rt: CardRuntime): Reply | undefined {
  if (rt.state === 'appLocked') return sw(0x9303);
  if (rt.state === 'notActivated') return sw(0x6985);
  return undefined;
}

/** Decode a 6-digit BCD PIN (3 bytes): the digits, or the status word for a bad one. */
function decodePin(bcd: Uint8Array): Buffer | Reply {
  if (bcd.length !== PIN_BYTES) return sw(0x6700);
  const digits = bcdToPin(bcd);
  if (digits === undefined) return sw(0x6a80);
  if (digits.length !== PIN_DIGITS) {
    digits.fill(0);
    return sw(0x6700);
  }
  return digits;
}

/** One PIN comparison: counts a try on mismatch (ISO 7816-4 §11.5.6). */
function tryPin(rt: CardRuntime, candidate: Buffer): Reply {
  if (macEquals(candidate, rt.pin)) {
    rt.triesLeft = rt.profile.pinTryLimit;
    rt.verified = true;
    return sw(0x9000);
  }
  rt.verified = false;
  rt.triesLeft = Math.max(0, rt.triesLeft - 1);
  return sw(0x63c0 | rt.triesLeft);
}

function setPin(rt: CardRuntime, digits: Buffer): void {
  rt.pin.fill(0);
  rt.pin = Buffer.from(digits);
  rt.triesLeft = rt.profile.pinTryLimit;
}

/** `00 20` VERIFY: without data the tries left (or 9000 once verified); with a 3-byte BCD PIN one try. */
export function verify(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.p1 !== 0 || c.p2 !== 0) return sw(0x6a86);
  const gate = pinGate(rt);
  if (gate) return gate;
  if (rt.triesLeft === 0) return sw(0x6983);
  if (c.data.length === 0) return rt.verified ? sw(0x9000) : sw(0x63c0 | rt.triesLeft);
  const pin = decodePin(c.data);
  c.data.fill(0);
  if (!Buffer.isBuffer(pin)) return pin;
  try {
    return tryPin(rt, pin);
  } finally {
    pin.fill(0);
  }
}

/** `80 5E 01 00` CHANGE PIN: old PIN ‖ FF ‖ new PIN, each 3 bytes BCD; the old PIN costs a try when wrong. */
export function changePin(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.p2 !== 0) return sw(0x6a86);
  const gate = pinGate(rt);
  if (gate) return gate;
  const data = c.data;
  try {
    if (data.length !== PIN_BYTES * 2 + 1) return sw(0x6700);
    if (data[PIN_BYTES] !== 0xff) return sw(0x6a80);
    if (rt.triesLeft === 0) return sw(0x6983);
    const oldPin = decodePin(data.subarray(0, PIN_BYTES));
    if (!Buffer.isBuffer(oldPin)) return oldPin;
    const newPin = decodePin(data.subarray(PIN_BYTES + 1));
    if (!Buffer.isBuffer(newPin)) {
      oldPin.fill(0);
      return newPin;
    }
    try {
      const r = tryPin(rt, oldPin);
      if (r.sw === 0x9000) setPin(rt, newPin);
      return r;
    } finally {
      oldPin.fill(0);
      newPin.fill(0);
    }
  } finally {
    data.fill(0);
  }
}

/** `80 5E 00 00` RELOAD PIN of 2.0 cards (PBOC form): new PIN ‖ MAC with key 5E; tries back to the limit. */
export function reloadPinPboc(rt: CardRuntime, c: CommandApdu, challenge: Buffer | undefined): Reply {
  if (c.p1 !== 0x00 || c.p2 !== 0x00 || rt.profile.pinReload !== 'pboc') return sw(0x6a86);
  const data = c.data;
  try {
    if (data.length !== PIN_BYTES + MAC_LENGTH) return sw(0x6700);
    const gate = pinGate(rt);
    if (gate) return gate;
    const bad = checkMac(rt, c, 0x5e, challenge);
    if (bad) return bad;
    if (rt.triesLeft === 0 && !rt.profile.reloadOnBlockedPin) return sw(0x6983);
    const pin = decodePin(data.subarray(0, PIN_BYTES));
    if (!Buffer.isBuffer(pin)) return pin;
    setPin(rt, pin);
    pin.fill(0);
    rt.verified = false;
    return sw(0x9000);
  } finally {
    data.fill(0);
  }
}

/** `84 24 00 00` PIN UNBLOCK and `84 24 00 01` 3.0 RELOAD PIN: encrypted PIN block ‖ MAC (usage 24). */
export function pinUnblockOrReload(rt: CardRuntime, c: CommandApdu, challenge: Buffer | undefined): Reply {
  const reload = c.p2 === 0x01;
  if (c.p1 !== 0x00 || (c.p2 !== 0x00 && c.p2 !== 0x01)) return sw(0x6a86);
  if (reload && rt.profile.pinReload !== 'ssse3') return sw(0x6a86);
  const data = c.data;
  let pin: Buffer | undefined;
  let block: Buffer | undefined;
  try {
    if (data.length !== blockSize(rt.profile.algorithm) + MAC_LENGTH) return sw(0x6700);
    const gate = pinGate(rt);
    if (gate) return gate;
    if (reload && !rt.authenticated.has(0x06)) return sw(0x6982);
    const bad = checkMac(rt, c, 0x24, challenge);
    if (bad) return bad;
    if (reload && rt.triesLeft === 0 && !rt.profile.reloadOnBlockedPin) return sw(0x6983);
    const key = cardKey(rt, 0x24, 0x01)!; // checkMac found it
    block = decryptBlocks(rt.profile.algorithm, key, data.subarray(0, blockSize(rt.profile.algorithm)));
    pin = parsePinBlock(block);
    if (pin === undefined) return sw(0x6a80);
    if (pin.length !== PIN_DIGITS) return sw(0x6700);
    setPin(rt, pin);
    rt.verified = false;
    return sw(0x9000);
  } finally {
    wipe(data, block, pin);
  }
}
