/**
 * The virtual card's authentication and life-cycle commands (docs/card-conventions.md "MACs on
 * card commands"): GET CHALLENGE, INTERNAL and EXTERNAL AUTHENTICATE, the MAC check of secured
 * commands, and APPLICATION BLOCK / UNBLOCK.
 */
import type { CommandApdu } from '../../apdu/apdu.js';
import { blockSize, diversify, encryptBlocks, mac, MAC_LENGTH, macEquals } from '../../apdu/crypto.js';
import { macInput } from '../../apdu/ssse.js';
import { ok, sw } from './card-os.js';
import type { Reply } from './card-os.js';
import type { CardRuntime } from './card-runtime.js';
import { cardKeyName } from './profile.js';

/** The card's own key for `80 1A` usage / P2, if the profile has it. */
export function cardKey(rt: CardRuntime, usage: number, p2: number): Buffer | undefined {
  return rt.profile.keys.get(cardKeyName(usage, p2));
}

/** `00 84` GET CHALLENGE: 4, 8 or 16 random bytes (the block size by default), good for the next command only. */
export function getChallenge(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.p1 !== 0 || c.p2 !== 0) return sw(0x6a86);
  if (c.data.length > 0) return sw(0x6700);
  let n: number;
  if (c.le === 4 || c.le === 8 || c.le === 16) n = c.le;
  else if (c.le === undefined || c.le === 256) n = blockSize(rt.profile.algorithm);
  else return sw(0x6700);
  const r = rt.random(n);
  if (r.length !== n) return sw(0x6f00);
  rt.challenge = Buffer.from(r);
  return ok(Buffer.from(r));
}

/** `00 88` INTERNAL AUTHENTICATE: the terminal's random data encrypted with the card's key 88. */
export function internalAuth(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.p1 !== 0) return sw(0x6a86);
  const alg = rt.profile.algorithm;
  // The card make's form (profile `internalAuth`, docs/card-conventions.md "Card-make profiles"):
  // one block of random, or the integrators' process factor(8) ‖ data(8).
  if (c.data.length !== (rt.profile.internalAuth === 'challenge' ? 16 : blockSize(alg))) return sw(0x6700);
  if (rt.state === 'appLocked') return sw(0x9303);
  const key = cardKey(rt, 0x88, c.p2 === 0 ? 0x01 : c.p2);
  if (key === undefined) return sw(0x6a88);
  if (rt.profile.internalAuth === 'random') return ok(encryptBlocks(alg, key, c.data));
  const data = Buffer.alloc(blockSize(alg));
  c.data.copy(data, 0, 8, 16);
  return ok(encryptBlocks(alg, diversify(alg, key, c.data.subarray(0, 8)), data));
}

/** The challenge zero-padded to the block size (a 4-byte challenge is PBOC practice). */
function iv(rt: CardRuntime, challenge: Buffer): Buffer {
  const out = Buffer.alloc(blockSize(rt.profile.algorithm));
  challenge.copy(out, 0, 0, Math.min(challenge.length, blockSize(rt.profile.algorithm)));
  return out;
}

/** `00 82` EXTERNAL AUTHENTICATE with key P2 (usage 82): the challenge encrypted by the terminal's PSAM. */
export function externalAuth(rt: CardRuntime, c: CommandApdu, challenge: Buffer | undefined): Reply {
  if (c.p1 !== 0) return sw(0x6a86);
  if (c.data.length !== blockSize(rt.profile.algorithm)) return sw(0x6700);
  if (rt.state === 'appLocked') return sw(0x9303);
  if (challenge === undefined) return sw(0x6985);
  const key = cardKey(rt, 0x82, c.p2);
  if (key === undefined) return sw(0x6a88);
  const expected = encryptBlocks(rt.profile.algorithm, key, iv(rt, challenge));
  if (!macEquals(expected, c.data)) {
    rt.authenticated.delete(c.p2);
    return sw(0x6300);
  }
  rt.authenticated.add(c.p2);
  return sw(0x9000);
}

/** Check the 4-byte MAC at the end of `c.data`: undefined when good, else the status word. */
export function checkMac(rt: CardRuntime, c: CommandApdu, usage: number, challenge: Buffer | undefined): Reply | undefined {
  if (challenge === undefined) return sw(0x6985);
  const key = cardKey(rt, usage, 0x01);
  if (key === undefined) return sw(0x6a88);
  const body = c.data.subarray(0, c.data.length - MAC_LENGTH);
  const input = macInput(c.cla, c.ins, c.p1, c.p2, body);
  try {
    const expected = mac(rt.profile.algorithm, key, iv(rt, challenge), input, { sm4MacFold: rt.profile.sm4MacFold });
    return macEquals(expected, c.data.subarray(c.data.length - MAC_LENGTH)) ? undefined : sw(0x6988);
  } finally {
    input.fill(0);
  }
}

/** `84 1E` APPLICATION BLOCK (挂失) and `84 18` APPLICATION UNBLOCK (解挂, also activation): MAC with key 18. */
export function appBlockUnblock(rt: CardRuntime, c: CommandApdu, challenge: Buffer | undefined): Reply {
  if (c.p1 !== 0 || c.p2 !== 0) return sw(0x6a86);
  if (c.data.length !== MAC_LENGTH) return sw(0x6700);
  const bad = checkMac(rt, c, 0x18, challenge);
  if (bad) return bad;
  if (c.ins === 0x1e) {
    rt.state = 'appLocked';
    rt.authenticated.clear();
    rt.verified = false;
  } else {
    rt.state = 'active';
  }
  return sw(0x9000);
}
