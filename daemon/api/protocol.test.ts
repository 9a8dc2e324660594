import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { acknowledge, commandHeader, completion, errorCodeName, isAbortLike, issuesText, outcomeOfError, payloadParts } from './protocol.js';

const e = (code: ErrorCode) => new SsCardError(code, { zh: '中文说明', en: 'English text' });

describe('the envelope', () => {
  it('acknowledge: no status when accepted; a refusal says why in errorDescription (zh / en) and has no payload; the version is the command\'s', () => {
    expect(acknowledge('Common.Status', 4, null)).toEqual({ header: { type: 'acknowledge', name: 'Common.Status', requestId: 4, version: '2.0' } });
    // The version the command came with, when it gave one (KAL CommandDispatcher.cs).
    expect(acknowledge('Common.Status', 4, null, undefined, '3.1').header['version']).toBe('3.1');
    expect(acknowledge('CardReader.ChipIO', 5, null).header['version']).toBe('3.0');
    expect(acknowledge(null, null, 'invalidMessage', { zh: '坏', en: 'bad' })).toEqual({
      header: { type: 'acknowledge', name: null, requestId: null, version: '2.0', status: 'invalidMessage', errorDescription: '坏 / bad' },
    });
  });

  it('completion: the code and version in the header; errorCode only with commandErrorCode, our detailed code always as sscardErrorCode', () => {
    // Our own interface: our codes are the command's own.
    expect(completion('SSCard.VerifyPin', 2, { code: 'commandErrorCode', payload: { result: 1 }, errorCode: 'verify.wrongPin', description: { zh: '错', en: 'wrong' } })).toEqual({
      header: { type: 'completion', name: 'SSCard.VerifyPin', requestId: 2, version: '2.0', completionCode: 'commandErrorCode', errorDescription: '错 / wrong' },
      payload: { result: 1, errorCode: 'verify.wrongPin', sscardErrorCode: 'verify.wrongPin' },
    });
    // Not commandErrorCode: no errorCode at all.
    expect(completion('CardReader.ChipIO', 3, { code: 'authorisationRequired', errorCode: 'auth.required', description: { zh: '登录', en: 'log in' } })).toEqual({
      header: { type: 'completion', name: 'CardReader.ChipIO', requestId: 3, version: '3.0', completionCode: 'authorisationRequired', errorDescription: '登录 / log in' },
      payload: { sscardErrorCode: 'auth.required' },
    });
    // A standard command: its own enum (CardReader/Completions/ChipIO_g.cs), mapped from ours.
    expect(completion('CardReader.ChipIO', 4, { code: 'commandErrorCode', errorCode: 'flow.noCard' }).payload).toEqual({ errorCode: 'noMedia', sscardErrorCode: 'flow.noCard' });
    expect(completion('Keyboard.PinEntry', 5, { code: 'commandErrorCode', errorCode: 'pinPad.timeout' }).payload).toEqual({ errorCode: 'entryTimeout', sscardErrorCode: 'pinPad.timeout' });
    expect(completion('Common.Status', 6, { code: 'success', payload: {} }).header['version']).toBe('3.0');
    // Nothing without a value: no errorDescription on a success, no empty payload (Common/Completions/SetVersions_g.cs has none).
    expect(completion('Common.SetVersions', 8, { code: 'success', payload: {} })).toEqual({ header: { type: 'completion', name: 'Common.SetVersions', requestId: 8, version: '2.0', completionCode: 'success' } });
    // None of its own codes says it: not commandErrorCode, and no errorCode.
    const other = completion('CardReader.ChipPower', 7, { code: 'commandErrorCode', errorCode: 'flow.refused' });
    expect(other.header).toMatchObject({ completionCode: 'invalidCommand', version: '3.0' });
    expect(other.payload).toEqual({ sscardErrorCode: 'flow.refused' });
  });

  it('payloadParts: a payload timeout (XFS4IoT 2021-1) is taken out and checked; sscard-prefixed fields are dropped, other unknown fields kept for the schema to refuse', () => {
    expect(payloadParts({ timeout: 5000, chipData: 'AA==' }, new Set(['chipData']))).toEqual({ payload: { chipData: 'AA==' }, timeout: 5000 });
    expect(payloadParts({ sscardTrace: 'x', sscard: 1, bogus: 2 }, new Set())).toEqual({ payload: { sscard: 1, bogus: 2 } });
    for (const bad of [-1, 1.5, '100', 2 ** 31]) {
      const r = payloadParts({ timeout: bad }, new Set());
      expect(r.timeout).toBeUndefined();
      expect(r.problem?.en).toContain('payload.timeout must be an integer');
    }
    // A command that defines a field of that name keeps it.
    expect(payloadParts({ timeout: 3 }, new Set(['timeout']))).toEqual({ payload: { timeout: 3 } });
    expect(payloadParts('not an object', new Set())).toEqual({ payload: 'not an object' });
  });

  it('the header accepts what XFS4IoT sends and nothing else', () => {
    expect(commandHeader.safeParse({ type: 'command', name: 'Common.Status', requestId: 1, version: '2.0', timeout: 0 }).success).toBe(true);
    expect(commandHeader.safeParse({ type: 'command', name: 'Common.Status', requestId: 1 }).success).toBe(true);
    for (const bad of [
      { type: 'command', name: 'Common.Status', requestId: 1, version: 'two' },
      { type: 'command', name: 'Common', requestId: 1 },
      { type: 'command', name: 'Common.Status', requestId: Number.MAX_SAFE_INTEGER + 1 },
      { type: 'command', name: 'Common.Status', requestId: 1, timeout: 1.5 },
    ]) {
      expect(commandHeader.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('stable error codes and completion codes', () => {
  it.each([
    [ErrorCode.PinPad_Timeout, 'pinPad.timeout'],
    [ErrorCode.Flow_NoCard, 'flow.noCard'],
    [ErrorCode.Auth_SessionExpired, 'auth.sessionExpired'],
    [ErrorCode.Api_SequenceError, 'api.sequenceError'],
    [ErrorCode.Internal, 'internal'],
    [12345 as ErrorCode, 'internal'],
  ])('%i → %s', (code, name) => expect(errorCodeName(code)).toBe(name));

  it.each([
    [ErrorCode.Flow_Busy, 'sequenceError'],
    [ErrorCode.PinPad_Busy, 'sequenceError'],
    [ErrorCode.Auth_Required, 'authorisationRequired'],
    [ErrorCode.Auth_InvalidToken, 'authorisationRequired'],
    [ErrorCode.Pcsc_ReaderNotFound, 'deviceNotReady'],
    [ErrorCode.PinPad_NotFound, 'deviceNotReady'],
    [ErrorCode.Psam_Missing, 'deviceNotReady'],
    [ErrorCode.Pcsc_TransmitFailed, 'hardwareError'],
    [ErrorCode.PinPad_DeviceError, 'hardwareError'],
    [ErrorCode.PinPad_Unsupported, 'unsupportedCommand'],
    [ErrorCode.Input_BadApdu, 'invalidData'],
    [ErrorCode.Flow_NoCard, 'commandErrorCode'],
    [ErrorCode.Card_Status, 'commandErrorCode'],
    [ErrorCode.PinPad_Timeout, 'commandErrorCode'],
    [ErrorCode.Journal_CardHotlisted, 'commandErrorCode'],
  ])('SsCardError %i → %s, with its own bilingual text', (code, completionCode) => {
    const o = outcomeOfError(e(code));
    expect(o).toMatchObject({ code: completionCode, description: { zh: '中文说明', en: 'English text' }, errorCode: errorCodeName(code), internal: false });
  });

  it('a bug (any other throw, or ErrorCode.Internal) is internalError with a generic text', () => {
    for (const thrown of [new TypeError('x is undefined'), 'string', null, e(ErrorCode.Internal)]) {
      const o = outcomeOfError(thrown);
      expect(o).toMatchObject({ code: 'internalError', errorCode: 'internal', internal: true });
      expect(JSON.stringify(o)).not.toContain('undefined');
    }
  });

  it('recognises aborts', () => {
    expect(isAbortLike(new DOMException('x', 'AbortError'))).toBe(true);
    expect(isAbortLike(new DOMException('x', 'TimeoutError'))).toBe(true);
    expect(isAbortLike(new Error('x'))).toBe(false);
    expect(isAbortLike(null)).toBe(false);
  });
});

describe('schema problems as text', () => {
  const schema = z.strictObject({ a: z.string().max(3), n: z.int().min(1), list: z.array(z.string()).max(1), mode: z.enum(['x', 'y']) });
  const text = (input: unknown) => {
    const r = schema.safeParse(input, { reportInput: true });
    if (r.success) throw new Error('expected a failure');
    return issuesText(r.error, 'payload');
  };

  it('names the field and what it must be, in zh then en', () => {
    const t = text({ a: 'abcdef', n: 0, list: ['1', '2'], mode: 'z' });
    expect(t.en).toBe('payload.a must be at most 3 characters; payload.n must be at least 1; payload.list must have at most 1 items; payload.mode must be one of "x", "y"');
    expect(t.zh).toBe('payload.a 最多 3 个字符；payload.n 不能小于 1；payload.list 最多 1 项；payload.mode 只能是 "x"、"y" 之一');
    expect(text({ n: 1, list: [], mode: 'x' }).en).toBe('payload.a is missing');
    expect(text({ a: 5, n: 1, list: [], mode: 'x' }).en).toBe('payload.a must be a string');
  });

  it('never echoes a value; unknown field names only when they look like names', () => {
    const secret = '246810';
    const t = text({ a: secret, n: secret, list: [secret], mode: secret, [secret]: 1, pinCode: secret });
    expect(JSON.stringify(t)).not.toContain(secret);
    expect(t.en).toContain('unknown field(s) pinCode (+1)');
  });

  it('stops after five problems and says how many more', () => {
    const s = z.strictObject({ a: z.string(), b: z.string(), c: z.string(), d: z.string(), e: z.string(), f: z.string(), g: z.string() });
    const r = s.safeParse({}, { reportInput: true });
    expect(r.success).toBe(false);
    if (!r.success) expect(issuesText(r.error, 'payload').en).toMatch(/; and 2 more$/);
  });
});
