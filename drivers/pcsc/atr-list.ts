/**
 * ATR identification against pcsc-tools' list (/usr/share/pcsc/smartcard_list.txt) plus the
 * project's own virtual cards. The list is read once, lazily; a machine without pcsc-tools
 * simply identifies nothing beyond the project's own cards.
 */
import { readFileSync } from 'node:fs';
import { identifyAtr, parseSmartcardList, type SmartcardList } from '../../apdu/smartcard-list.js';

export const SYSTEM_SMARTCARD_LIST = '/usr/share/pcsc/smartcard_list.txt';

let cached: { path: string; list: SmartcardList | undefined } | undefined;

export function loadSmartcardList(path = SYSTEM_SMARTCARD_LIST): SmartcardList | undefined {
  if (cached?.path === path) return cached.list;
  let list: SmartcardList | undefined;
  try {
    list = parseSmartcardList(readFileSync(path, 'utf8'));
  } catch {
    list = undefined;
  }
  cached = { path, list };
  return list;
}

/** Descriptions of the ATR from the system list and from `extra` (e.g. the project's card profiles). */
export function identify(atr: Buffer, extra?: SmartcardList, path?: string): string[] {
  const list = loadSmartcardList(path);
  return [...(list ? identifyAtr(atr, list) : []), ...(extra ? identifyAtr(atr, extra) : [])];
}
