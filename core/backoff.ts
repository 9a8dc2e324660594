/**
 * Exponential backoff with jitter ("equal jitter" of the AWS architecture blog's "Exponential
 * Backoff And Jitter"): the n-th consecutive failure waits between half and all of
 * min(max, base · factor^(n-1)). Never gives up: a platform down for days is retried every
 * `maxMs` or so, and the spread keeps a fleet of terminals (or a daemon waiting for pcscd) from
 * knocking in step. The one retry rule of the house: the sync worker and the PC/SC service use it.
 */
import { ErrorCode, SsCardError } from './errors.js';

export interface BackoffOptions {
  /** First delay in ms (default 1 s). */
  readonly baseMs?: number;
  /** Ceiling in ms (default 5 min). */
  readonly maxMs?: number;
  /** Growth per failure (default 2). */
  readonly factor?: number;
}

/** Where a bad option is reported: the error code and the option's name as the caller knows it. */
export interface BackoffOptionNames {
  readonly code?: ErrorCode;
  /** The name of each option, e.g. `backoff.baseMs` (default) or `backoffInitialMs`. */
  readonly name?: (option: keyof BackoffOptions) => string;
}

/** The options with their defaults, checked; a bad one throws naming it. */
export function checkBackoff(o: BackoffOptions, names: BackoffOptionNames = {}): Required<BackoffOptions> {
  const r = { baseMs: o.baseMs ?? 1000, maxMs: o.maxMs ?? 300_000, factor: o.factor ?? 2 };
  const badOpt = (option: keyof BackoffOptions, zh: string, en: string): never => {
    const name = names.name?.(option) ?? `backoff.${option}`;
    throw new SsCardError(names.code ?? ErrorCode.Input_BadOption, { zh: `选项 ${name} 无效：${zh}`, en: `option ${name} is invalid: ${en}` }, { option: name });
  };
  if (!Number.isFinite(r.baseMs) || r.baseMs < 1) badOpt('baseMs', '应为 ≥ 1 的毫秒数', 'must be ≥ 1 ms');
  if (!Number.isFinite(r.maxMs) || r.maxMs < r.baseMs) badOpt('maxMs', '应 ≥ baseMs', 'must be ≥ baseMs');
  if (!Number.isFinite(r.factor) || r.factor < 1) badOpt('factor', '应 ≥ 1', 'must be ≥ 1');
  return r;
}

/** The delay after the `failures`-th consecutive failure (failures ≥ 1); `random` in [0, 1). */
export function backoffDelay(failures: number, o: Required<BackoffOptions>, random: () => number = Math.random): number {
  const exp = Math.min(o.maxMs, o.baseMs * Math.pow(o.factor, Math.max(0, Math.min(failures - 1, 60))));
  return Math.round(exp / 2 + random() * (exp / 2));
}
