/**
 * The problems of a configuration and the one error that lists them (docs/config.md "Rules"): each
 * problem is a key path and what is allowed there, and {@link invalid} renders every problem as
 * `key = value: what is allowed`, zh-CN first and English second, in one SsCardError
 * Config_Invalid. The value is shown as JSON cut at 60 characters; values of secrets (operator
 * hashes, anything under a key named like passphrase/key/secret/token, the PIN deny list) are
 * shown as "(hidden)".
 */
import type { z } from 'zod';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import { docAt, keysAt } from './schema-walk.js';
import type { Segment } from './schema-walk.js';

export interface Problem {
  readonly path: readonly Segment[];
  /** What is allowed or what is wrong, phrased to follow "key = value: ". */
  readonly text: BilingualText;
}
/** Key names whose values are never shown (defence in depth beside FieldDoc.secret). */
export const SECRET_KEY = /pass|secret|hash|token|key|cred|deny|pin(?!pad|entry)/i;
const SCRYPT_LIKE = /^scrypt\$/i;
const MAX_SHOWN = 60;

export function keyPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out || '(root)';
}

/** The value at `segments` of the raw document, and whether it is there at all. */
function valueAt(raw: unknown, segments: readonly Segment[]): { found: boolean; value: unknown } {
  let cur: unknown = raw;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, s)) return { found: false, value: undefined };
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return { found: true, value: cur };
}

function isSecretPath(segments: readonly Segment[]): boolean {
  for (let i = 1; i <= segments.length; i++) {
    const s = segments[i - 1];
    if (typeof s === 'string' && SECRET_KEY.test(s)) return true;
    if (docAt(segments.slice(0, i))?.secret === true) return true;
  }
  return false;
}

const HIDDEN: BilingualText = { zh: '（已隐藏）', en: '(hidden)' };

/** The value as an error message may show it: JSON cut at 60 characters, secrets hidden. */
export function shownValue(raw: unknown, segments: readonly Segment[]): BilingualText {
  const { found, value } = valueAt(raw, segments);
  if (!found) return { zh: '（未设置）', en: '(missing)' };
  if (isSecretPath(segments)) return HIDDEN;
  if (typeof value === 'string' && SCRYPT_LIKE.test(value)) return HIDDEN;
  let json: string;
  try {
    json =
      JSON.stringify(value, (k, v: unknown) => {
        if (k !== '' && SECRET_KEY.test(k)) return '(hidden)';
        if (typeof v === 'string' && SCRYPT_LIKE.test(v)) return '(hidden)';
        if (typeof v === 'bigint') return v.toString();
        return v;
      }) ?? String(value);
  } catch {
    json = Object.prototype.toString.call(value);
  }
  if (json.length > MAX_SHOWN) json = `${json.slice(0, MAX_SHOWN - 1)}…`;
  return { zh: json, en: json };
}

function allowedText(segments: readonly Segment[]): BilingualText {
  const d = docAt(segments);
  if (d !== undefined) return { zh: `应为${d.allowed.zh}`, en: `must be ${d.allowed.en}` };
  const keys = keysAt(segments);
  if (keys.length > 0) return { zh: `应为一个表（对象），可用的键：${keys.join('、')}`, en: `must be a table (object) with the keys ${keys.join(', ')}` };
  return { zh: '该处的值无效', en: 'is not valid here' };
}

/** The schema's issues as problems: an unknown key names the keys allowed beside it. */
export function zodProblems(issues: readonly z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const at = issue.path.filter((s): s is Segment => typeof s === 'string' || typeof s === 'number');
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(at);
      for (const k of issue.keys) {
        out.push({
          path: [...at, k],
          text: {
            zh: `未知的键${allowed.length ? `；${keyPath(at) === '(root)' ? '顶层' : keyPath(at)} 中可用的键：${allowed.join('、')}` : ''}`,
            en: `unknown key${allowed.length ? `; the keys allowed in ${keyPath(at) === '(root)' ? 'the top level' : keyPath(at)} are ${allowed.join(', ')}` : ''}`,
          },
        });
      }
      continue;
    }
    out.push({ path: at, text: allowedText(at) });
  }
  return out;
}

/** Turn an SsCardError of a house validator (which names `${prefix}[0]`) into a problem at `at`. */
export function validatorProblem(err: unknown, innerPath: string, at: readonly Segment[]): Problem {
  if (!isSsCardError(err)) throw err;
  const strip = (s: string): string => {
    let t = s.startsWith(innerPath) ? s.slice(innerPath.length) : s;
    t = t.replace(/^[\s：:]+/, '');
    return t;
  };
  return { path: at, text: { zh: strip(err.text.zh), en: strip(err.text.en) } };
}

/** The one Config_Invalid error listing every problem of `raw` (read from `source`), one line each. */
export function invalid(raw: unknown, source: string, problems: readonly Problem[]): SsCardError {
  const lines = problems.map((p) => {
    const key = keyPath(p.path);
    const v = shownValue(raw, p.path);
    return { zh: `  ${key} = ${v.zh}：${p.text.zh}`, en: `  ${key} = ${v.en}: ${p.text.en}` };
  });
  const n = problems.length;
  return new SsCardError(
    ErrorCode.Config_Invalid,
    {
      zh: `配置 ${source} 有 ${n} 处错误：\n${lines.map((l) => l.zh).join('\n')}\n请修改配置后重新启动（说明见 docs/config.md）`,
      en: `configuration ${source} has ${n} problem${n === 1 ? '' : 's'}:\n${lines.map((l) => l.en).join('\n')}\nFix the configuration and start again (see docs/config.md)`,
    },
    { file: source, path: problems.map((p) => keyPath(p.path)) },
  );
}
