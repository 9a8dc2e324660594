/**
 * The lost-card hotlist is signed by the platform (Ed25519, node:crypto) and checked by the
 * terminal before it applies it (docs/sync-protocol.md "Pull the lost-card hotlist"): a list that
 * a man in the middle, a mis-configured proxy or a hostile platform answer could shorten would let
 * a lost card be used; one it could lengthen would refuse the holders of good cards.
 *
 * What is signed is the answer's meaning, byte for byte, bound to the version the terminal asked
 * from (`since`): a delta replayed to a terminal at another version does not verify.
 *
 *   sscard-hotlist-v1 LF since LF version LF full(0|1) LF add joined by "," LF remove joined by ","
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, SsCardError } from '../../core/errors.js';

export const HOTLIST_SIGNATURE_CONTEXT = 'sscard-hotlist-v1';

export interface HotlistContent {
  readonly version: string;
  readonly full: boolean;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/** The bytes signed for an answer to `?since=` (null: the first pull, no `since`). */
export function hotlistSignedBytes(h: HotlistContent, since: string | null): Buffer {
  return Buffer.from([HOTLIST_SIGNATURE_CONTEXT, since ?? '', h.version, h.full ? '1' : '0', h.add.join(','), h.remove.join(',')].join('\n'), 'utf8');
}

/** The platform's signature (base64) of an answer. */
export function signHotlist(privateKey: KeyObject, h: HotlistContent, since: string | null): string {
  return sign(null, hotlistSignedBytes(h, since), privateKey).toString('base64');
}

/** Does `signature` (base64) sign this answer to `since` with `publicKey`? Never throws. */
export function hotlistSignatureValid(publicKey: KeyObject, h: HotlistContent, since: string | null, signature: string | undefined): boolean {
  if (signature === undefined || !/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false;
  try {
    return verify(null, hotlistSignedBytes(h, since), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** An Ed25519 public key from PEM text; throws (with node's reason) on anything else. */
export function hotlistPublicKey(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the hotlist key must be an Ed25519 public key, not ${String(key.asymmetricKeyType)}`);
  return key;
}

/** `sync.hotlistPublicKey` read and checked at start: Config_Invalid naming the file and what is wrong (undefined: not configured). */
export function loadHotlistKey(file: string | undefined): KeyObject | undefined {
  if (file === undefined) return undefined;
  try {
    return hotlistPublicKey(readFileSync(file));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SsCardError(
      ErrorCode.Config_Invalid,
      {
        zh: `sync.hotlistPublicKey：无法使用 ${file} 作为平台的挂失名单公钥（${why}）；应为平台提供的 Ed25519 公钥 PEM 文件`,
        en: `sync.hotlistPublicKey: ${file} cannot be used as the platform's hotlist key (${why}); it must be the Ed25519 public key (PEM) the platform gives out`,
      },
      { key: 'sync.hotlistPublicKey', path: file },
    );
  }
}
