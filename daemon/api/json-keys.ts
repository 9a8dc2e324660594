/**
 * Duplicate member names in a JSON text. RFC 8259 §4 says names "SHOULD be unique" and leaves
 * the meaning of duplicates to the implementation; JSON.parse keeps the last one, so
 * `{"iType":2,"iType":1}` would be read differently by a filter that looks at the first. The API
 * treats such a message as malformed (docs/api.md: 400 / invalidMessage) instead of guessing.
 */
import type { BilingualText } from '../../core/text.js';

/**
 * The first member name that appears twice in one object of `text` (escapes decoded, so `"a"` and
 * `"\u0061"` are the same name), or null. `text` must already be valid JSON (JSON.parse accepted it).
 */
export function findDuplicateKey(text: string): string | null {
  /** One entry per open container: the names seen in an object, null for an array. */
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < n && text.charCodeAt(j) !== 0x22) {
        if (text.charCodeAt(j) === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top instanceof Set) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : raw;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}

/**
 * The bilingual problem for a duplicate name. The name is given back only when it looks like a
 * name (as protocol.ts does for unknown fields): a client that put a PIN into a name does not get it back.
 */
export function duplicateKeyText(key: string): BilingualText {
  const named = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/.test(key);
  return named
    ? { zh: `字段 ${key} 出现了不止一次：每个字段只能给一次`, en: `field ${key} appears more than once: give each field once` }
    : { zh: '有字段出现了不止一次：每个字段只能给一次', en: 'a field appears more than once: give each field once' };
}
