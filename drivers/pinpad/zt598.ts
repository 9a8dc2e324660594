/**
 * ZT598-style serial encrypting PIN pad framing (docs/domain.md §6; the SZZT family, as the public
 * smartkiosk/smartware driver for the ZT588 speaks it):
 *
 *   STX(02) | LEN: 3 ASCII decimal digits, bytes of CMD+DATA | CMD | DATA | ETX(03) | LRC: 2 ASCII hex
 *
 * LRC = XOR of every byte after STX up to and including ETX. A response frame's payload starts with
 * a status byte: E0–EF are errors (EE = input timed out), anything else is success followed by data.
 * In plaintext-input mode the pad sends each key press as a bare byte outside any frame.
 *
 * Commands used (UNCONFIRMED for the ZT598 itself; the ZT588 driver uses the same letters):
 * `3` read user information (our probe), `5` control: `5 0 30` reset, `5 0 33` input on,
 * `5 0 32` input off (control value as ASCII hex of the value's character).
 * Key bytes: `0`–`9`, `0D` Enter, `1B`/`80` Cancel, `08` Backspace (更正); others ignored.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { PadKey } from './pinpad.js';
import type { SerialPadCommand, SerialPadItem, SerialPadParser, SerialPadProtocol, SerialPadResponse } from './serial-protocol.js';

export const STX = 0x02;
export const ETX = 0x03;
/** Largest LEN three decimal digits can say. */
export const MAX_TEXT = 999;

/** Success status byte the simulator answers with (any non-E0..EF byte means success). */
export const STATUS_OK = 0x04;

/** XOR of the bytes. */
export function lrc(bytes: Uint8Array): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** Frame `text` (CMD ‖ DATA, or a response payload). */
export function encodeFrame(text: Uint8Array): Buffer {
  if (!(text instanceof Uint8Array) || text.length > MAX_TEXT) {
    throw new SsCardError(ErrorCode.Input_BadLength, { zh: `ZT598 帧内容最长 ${MAX_TEXT} 字节`, en: `a ZT598 frame holds at most ${MAX_TEXT} bytes` }, { length: text instanceof Uint8Array ? text.length : 0 });
  }
  const body = Buffer.concat([Buffer.from(String(text.length).padStart(3, '0'), 'latin1'), Buffer.from(text), Buffer.from([ETX])]);
  const check = Buffer.from(lrc(body).toString(16).toUpperCase().padStart(2, '0'), 'latin1');
  return Buffer.concat([Buffer.from([STX]), body, check]);
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const hexValue = (b: number): number => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1);

function framingError(what: string, zh: string, context: Record<string, unknown>): SsCardError {
  return new SsCardError(
    ErrorCode.PinPad_Protocol,
    { zh: `密码键盘发来的数据帧有误（${zh}），已丢弃：若反复出现请检查串口线与波特率`, en: `the PIN pad sent a bad frame (${what}), dropped: if it keeps happening check the serial cable and baud rate` },
    context,
  );
}

/**
 * Incremental ZT598 parser. Chunk boundaries never change the result: every decision needs only
 * bytes that are already there, and a bad frame drops a span fixed by the bytes themselves
 * (STX+LEN for a bad LEN — or up to an STX inside it —, the whole frame for a bad ETX or LRC).
 */
export class Zt598Parser implements SerialPadParser {
  private buf: Buffer = Buffer.alloc(0);

  public push(chunk: Uint8Array): SerialPadItem[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: SerialPadItem[] = [];
    for (;;) {
      if (this.buf.length === 0) break;
      const first = this.buf[0]!;
      if (first !== STX) {
        out.push({ type: 'key', byte: first });
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < 4) break;
      const lenBytes = this.buf.subarray(1, 4);
      if (!lenBytes.every(isDigit)) {
        const nextStx = lenBytes.indexOf(STX);
        const drop = nextStx >= 0 ? 1 + nextStx : 4;
        out.push({ type: 'error', error: framingError('length is not 3 decimal digits', '长度不是 3 位十进制数字', { dropped: drop }) });
        this.buf = this.buf.subarray(drop);
        continue;
      }
      const len = Number(lenBytes.toString('latin1'));
      const full = 7 + len;
      if (this.buf.length < full) break;
      const frame = this.buf.subarray(0, full);
      this.buf = this.buf.subarray(full);
      if (frame[4 + len] !== ETX) {
        out.push({ type: 'error', error: framingError('no ETX where the length says', '长度所指位置没有 ETX', { length: len }) });
        continue;
      }
      const hi = hexValue(frame[full - 2]!);
      const lo = hexValue(frame[full - 1]!);
      const expected = lrc(frame.subarray(1, full - 2));
      if (hi < 0 || lo < 0 || ((hi << 4) | lo) !== expected) {
        out.push({ type: 'error', error: framingError('wrong LRC', '校验值 LRC 错误', { length: len }) });
        continue;
      }
      out.push({ type: 'frame', payload: Buffer.from(frame.subarray(4, 4 + len)) });
    }
    // Keep our own copy small: the rest of a partial frame at most.
    if (this.buf.length > 0) this.buf = Buffer.from(this.buf);
    return out;
  }

  public reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

/** Error codes E0..EF (the ZT588 driver's table, the same family). */
export const ZT598_ERRORS: Readonly<Record<number, { zh: string; en: string }>> = {
  0xe0: { zh: '电池电量低', en: 'low battery' },
  0xe1: { zh: '需要先装入 IMK', en: 'IMK required' },
  0xe2: { zh: '需要先装入 TMK', en: 'TMK required' },
  0xe3: { zh: '密钥长度不符', en: 'unexpected key size' },
  0xe4: { zh: '密钥不存在', en: 'key not found' },
  0xe5: { zh: '密钥不存在或不兼容', en: 'key not found or not compatible' },
  0xe6: { zh: '密钥奇偶校验失败', en: 'key parity check failed' },
  0xe7: { zh: '密钥无效', en: 'key is not valid' },
  0xe8: { zh: '命令长度错误', en: 'unexpected command length' },
  0xe9: { zh: '数据错误', en: 'incorrect data' },
  0xea: { zh: '命令不支持', en: 'command not supported' },
  0xeb: { zh: '参数错误', en: 'incorrect parameter' },
  0xec: { zh: '需要认证', en: 'authorisation required' },
  0xed: { zh: '认证暂时锁定', en: 'authorisation temporarily locked' },
  0xee: { zh: '输入超时', en: 'input timed out' },
  0xef: { zh: '一般错误', en: 'general error' },
};

const COMMANDS: Record<SerialPadCommand, string> = {
  probe: '3',
  reset: '5030',
  plainInputOn: '5033',
  plainInputOff: '5032',
};

export const zt598: SerialPadProtocol = {
  name: 'zt598',
  defaultBaudRate: 9600,
  inputTimeoutCode: 0xee,
  createParser: () => new Zt598Parser(),
  encode: (command) => encodeFrame(Buffer.from(COMMANDS[command], 'latin1')),
  interpret(payload: Buffer): SerialPadResponse {
    if (payload.length === 0) return { ok: false, code: -1, zh: '应答为空', en: 'empty response' };
    const status = payload[0]!;
    if (status >= 0xe0 && status <= 0xef) {
      const t = ZT598_ERRORS[status] ?? { zh: '未知错误', en: 'unknown error' };
      return { ok: false, code: status, zh: t.zh, en: t.en };
    }
    return { ok: true, data: Buffer.from(payload.subarray(1)) };
  },
  decodeKey(byte: number): PadKey | undefined {
    if (byte >= 0x30 && byte <= 0x39) return { type: 'digit', digit: byte - 0x30 };
    if (byte === 0x0d) return { type: 'enter' };
    if (byte === 0x1b || byte === 0x80) return { type: 'cancel' };
    if (byte === 0x08) return { type: 'backspace' };
    return undefined;
  },
};
