/**
 * Keyboard.PinEntry (XFS4IoT 2.0; KAL Keyboard/Commands/PinEntry_g.cs, Completions/PinEntry_g.cs,
 * Events/KeyEvent_g.cs; docs/api.md "Keyboard"): a PIN typed on the terminal's pad for an
 * application that handles no PIN itself — only the count of digits comes back, the digits are
 * wiped by the terminal. What the pads cannot honour of `activeKeys` is refused with the command's
 * own error codes where the specification has one.
 */
import { z } from 'zod';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { def } from './command-kit.js';
import type { CommandDef } from './commands.js';
import { FORMAT_TEXT } from './protocol.js';
import type { Outcome } from './protocol.js';

/** The key names a PinEntry may list that the pads have (KeyboardSchemas_g.cs key names). */
export const PIN_KEYS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'enter', 'cancel', 'clear', 'backspace'] as const;

const ok = (payload: Record<string, unknown> = {}): Outcome => ({ code: 'success', payload });

/** The longest PIN the pads take (docs/domain.md §6; ISO 9564 PIN blocks hold 4–12 digits). */
const MAX_PIN_DIGITS = 12;

/** Keyboard.PinEntry 2.0 (KAL Keyboard/Commands/PinEntry_g.cs): `activeKeys` maps a key name to `{ terminate }`. */
const pinEntrySchema = z.strictObject({
  minLen: z.int().min(0).max(MAX_PIN_DIGITS).optional(),
  /** 0 = no maximum (the pad's, 12). */
  maxLen: z.int().min(0).max(MAX_PIN_DIGITS).optional(),
  autoEnd: z.boolean().optional(),
  /** The replace character on a local display: accepted; the screens show their own mask. */
  echo: z.string().max(4).optional(),
  activeKeys: z
    .record(z.string().min(1).max(32), z.strictObject({ terminate: z.boolean().optional() }))
    .refine((m) => Object.keys(m).length <= 64, { error: 'fmt.activeKeys' })
    .optional(),
});

/** Key names of the specification's keyboards that no pad here has (Keyboard.GetLayout's function keys). */
const OTHER_SPEC_KEYS = /^(?:doubleZero|tripleZero|decPoint|help|shift|fdk(?:0[1-9]|[12][0-9]|3[0-2])|f(?:0[1-9]|[12][0-9]|3[0-2]))$/;
const DIGIT_KEYS: readonly string[] = PIN_KEYS.slice(0, 10);

/**
 * What a PinEntry's `activeKeys` asks of the pads: they cannot disable a key, end on anything but
 * enter (or cancel), or end on a digit. The answer is the command's own errorCode where the
 * specification has one (PinEntry_g.cs ErrorCodeEnum), else unsupportedData.
 */
function activeKeysProblem(keys: Readonly<Record<string, { terminate?: boolean | undefined }>>, autoEnd: boolean): Outcome | null {
  const names = Object.keys(keys);
  const refuse = (errorCode: string, zh: string, en: string): Outcome => ({ code: 'commandErrorCode', errorCode, description: { zh, en } });
  if (names.length === 0) return refuse('noActivekeys', 'activeKeys 为空：至少要有数字键和确认键', 'activeKeys is empty: the digit keys and enter are needed at least');
  const unknown = names.filter((k) => !(PIN_KEYS as readonly string[]).includes(k) && !OTHER_SPEC_KEYS.test(k));
  if (unknown.length > 0) return refuse('keyInvalid', `activeKeys 中有无效的键名（${unknown.length} 个）：键名见 Keyboard.PinEntry 的说明`, `activeKeys has ${unknown.length} invalid key name(s): see Keyboard.PinEntry for the names`);
  const other = names.filter((k) => OTHER_SPEC_KEYS.test(k));
  if (other.length > 0) return refuse('keyNotSupported', `密码键盘没有这些键：${other.join('、')}`, `the PIN pad has no such keys: ${other.join(', ')}`);
  if (!autoEnd && !names.some((k) => keys[k]!.terminate === true)) return refuse('noTerminatekeys', 'activeKeys 中没有结束键，且 autoEnd 为 false：请将 enter 设为 terminate', 'activeKeys has no terminate key and autoEnd is false: make enter a terminate key');
  if (![...DIGIT_KEYS, 'enter'].every((k) => names.includes(k)) || keys['enter']!.terminate === false || DIGIT_KEYS.some((k) => keys[k]!.terminate === true)) {
    return { code: 'unsupportedData', description: FORMAT_TEXT['fmt.activeKeys']! };
  }
  return null;
}

export const PIN_ENTRY_COMMAND: CommandDef = def({
    name: 'Keyboard.PinEntry',
    payload: pinEntrySchema,
    cardOp: true,
    privilege: 'never',
    async run(ctx, p) {
      if (p.activeKeys !== undefined) {
        const problem = activeKeysProblem(p.activeKeys, p.autoEnd === true);
        if (problem !== null) return problem;
      }
      const maxLen = p.maxLen === undefined || p.maxLen === 0 ? undefined : p.maxLen;
      if (p.minLen !== undefined && p.minLen > (maxLen ?? MAX_PIN_DIGITS)) {
        return { code: 'commandErrorCode', errorCode: 'minimumLength', description: FORMAT_TEXT['fmt.minMax']! };
      }
      try {
        const r = await ctx.api.terminal.pinEntry(
          {
            ...(p.minLen === undefined ? {} : { minLength: p.minLen }),
            ...(maxLen === undefined ? {} : { maxLength: maxLen }),
            ...(p.autoEnd === undefined ? {} : { autoEnd: p.autoEnd }),
            ...(ctx.timeoutMs > 0 ? { timeoutMs: ctx.timeoutMs } : {}),
          },
          // Keyboard/Events/KeyEvent_g.cs: completion and digit (null for a PIN key); the count and mask are ours.
          (k) => ctx.event('Keyboard.KeyEvent', { completion: k.key === 'digit' ? 'continue' : k.key, digit: null, sscardCount: k.count, sscardMask: k.mask }),
          ctx.signal,
        );
        return ok({ digits: r.digits, completion: r.completion });
      } catch (e) {
        // The holder pressed cancel (not our signal): XFS4IoT completes PinEntry with completion "cancel".
        if (isSsCardError(e, ErrorCode.PinPad_Cancelled) && !ctx.signal.aborted) return ok({ digits: 0, completion: 'cancel' });
        // The pad was given the command's timeout: its own timeout is the command's timeOut.
        if (isSsCardError(e, ErrorCode.PinPad_Timeout) && ctx.timeoutMs > 0) return { code: 'timeOut', description: e.text };
        throw e;
      }
    },
  });
