/**
 * Loading the daemon's configuration (docs/config.md): from the file given with `--config`, else
 * from env `SSCARD_CONFIG`, else all defaults; JSON (`.json`) or TOML (`.toml`). A file that cannot
 * be read, or has a syntax error, is one SsCardError Config_Invalid naming the file (and the line
 * and column, never the text around them: it could hold a secret). What the file says is then
 * validated and resolved by {@link parseConfig}.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TomlError, parse as parseToml } from 'smol-toml';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { parseConfig } from './config.js';
import type { DaemonConfig } from './config.js';
import { findJsonSyntaxError } from './json-syntax.js';

export const CONFIG_ENV = 'SSCARD_CONFIG';

export interface LoadConfigOptions {
  /** The `--config` argument. */
  readonly path?: string;
  /** Default process.env (only SSCARD_CONFIG is read). */
  readonly env?: NodeJS.ProcessEnv;
  /** Default process.cwd(). */
  readonly cwd?: string;
}

function fileError(file: string, zh: string, en: string, cause?: unknown, extra: Record<string, unknown> = {}): SsCardError {
  return new SsCardError(ErrorCode.Config_Invalid, { zh: `配置文件 ${file}：${zh}`, en: `configuration file ${file}: ${en}` }, { file, path: [], ...extra }, cause === undefined ? undefined : { cause });
}

/** Read and validate the configuration: `options.path`, else env SSCARD_CONFIG, else defaults. */
export function loadConfig(options: LoadConfigOptions = {}): DaemonConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const given = options.path ?? (env[CONFIG_ENV] !== undefined && env[CONFIG_ENV] !== '' ? env[CONFIG_ENV] : undefined);
  if (given === undefined) return parseConfig({}, '(defaults)', { baseDir: cwd });
  const file = path.resolve(cwd, given);
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.toml') {
    throw fileError(file, '文件名须以 .toml 或 .json 结尾（决定按哪种格式读取）', 'the file name must end in .toml or .json (that decides how it is read)');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw fileError(file, `无法读取（${code}）：请检查路径与权限`, `cannot be read (${code}): check the path and the permissions`, err, { errno: code });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let raw: unknown;
  if (ext === '.json') {
    try {
      raw = JSON.parse(text);
    } catch {
      // V8's message quotes the source; say where instead (json-syntax.ts).
      const at = findJsonSyntaxError(text);
      const where = at === null ? { zh: '', en: '' } : { zh: `第 ${at.line} 行第 ${at.column} 列：${at.reason.zh}`, en: `line ${at.line}, column ${at.column}: ${at.reason.en}` };
      throw fileError(file, `JSON 语法错误，${where.zh || '无法解析'}`, `JSON syntax error, ${where.en || 'cannot be parsed'}`, undefined, at === null ? {} : { line: at.line, column: at.column });
    }
  } else {
    try {
      raw = parseToml(text);
    } catch (err) {
      if (err instanceof TomlError) {
        // Only the first line: the rest is a code frame that could show a secret.
        const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
        throw fileError(file, `TOML 语法错误，第 ${err.line} 行第 ${err.column} 列：${reason}`, `TOML syntax error at line ${err.line}, column ${err.column}: ${reason}`, undefined, { line: err.line, column: err.column });
      }
      throw fileError(file, '无法解析', 'cannot be parsed', err);
    }
  }
  return parseConfig(raw, file, { baseDir: path.dirname(file) });
}
