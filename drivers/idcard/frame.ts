/**
 * Framing of the resident ID card reader's SAM module (docs/domain.md §5; the "ID SAM" serial protocol
 * every 二代证 reader speaks, 115200 8N1):
 *
 *   request:  AA AA AA 96 69 | LEN (2, big-endian) | CMD | PARA | data | CHK
 *   response: AA AA AA 96 69 | LEN (2, big-endian) | SW1 SW2 SW3 | data | CHK
 *
 * LEN counts the bytes from CMD (or SW1) through CHK; CHK is the XOR of LEN (both bytes) through the
 * last data byte.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';

export const PREAMBLE: Buffer = Buffer.from([0xaa, 0xaa, 0xaa, 0x96, 0x69]);
/** Largest LEN accepted (base info with fingerprint is ~2.3 KB). */
export const MAX_LEN = 4096;

export function xor(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let x = 0;
  for (let i = start; i < end; i++) x ^= bytes[i]!;
  return x;
}

/** Frame a body (CMD PARA data, or SW1 SW2 SW3 data): preamble, LEN, body, CHK. */
export function encodeFrame(body: Uint8Array): Buffer {
  const len = body.length + 1;
  if (body.length < 2 || len > MAX_LEN) {
    throw new SsCardError(ErrorCode.Input_BadLength, { zh: `身份证读卡器帧内容长度应为 2–${MAX_LEN - 1} 字节`, en: `an ID reader frame body must be 2..${MAX_LEN - 1} bytes` }, { length: body.length });
  }
  const out = Buffer.alloc(PREAMBLE.length + 2 + len);
  PREAMBLE.copy(out, 0);
  out.writeUInt16BE(len, 5);
  Buffer.from(body).copy(out, 7);
  out[out.length - 1] = xor(out, 5, out.length - 1);
  return out;
}

/** A request: `CMD PARA data`. */
export function encodeRequest(cmd: number, para: number, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return encodeFrame(Buffer.concat([Buffer.from([cmd & 0xff, para & 0xff]), Buffer.from(data)]));
}

/** A response: `SW1 SW2 SW3 data`. */
export function encodeResponse(sw3: number, data: Uint8Array = Buffer.alloc(0), sw1 = 0, sw2 = 0): Buffer {
  return encodeFrame(Buffer.concat([Buffer.from([sw1 & 0xff, sw2 & 0xff, sw3 & 0xff]), Buffer.from(data)]));
}

export type IdFrameItem = { readonly type: 'frame'; readonly body: Buffer } | { readonly type: 'error'; readonly error: SsCardError };

function framingError(what: string, zh: string, context: Record<string, unknown>): SsCardError {
  return new SsCardError(
    ErrorCode.IdCard_Protocol,
    { zh: `身份证读卡器发来的数据帧有误（${zh}），已丢弃：若反复出现请检查串口线与波特率（115200）`, en: `the ID card reader sent a bad frame (${what}), dropped: if it keeps happening check the cable and the baud rate (115200)` },
    context,
  );
}

/**
 * Incremental parser for either direction. Bytes before a preamble are skipped (counted in
 * {@link skipped}); a LEN out of range drops the preamble and resynchronises; a wrong CHK drops the
 * whole frame. The result never depends on how the stream was chunked; push never throws.
 */
export class IdFrameParser {
  private buf: Buffer = Buffer.alloc(0);
  public skipped = 0;

  public push(chunk: Uint8Array): IdFrameItem[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: IdFrameItem[] = [];
    for (;;) {
      const at = this.buf.indexOf(PREAMBLE);
      if (at < 0) {
        // keep a tail that may be the start of a preamble
        const keep = Math.min(this.buf.length, PREAMBLE.length - 1);
        let k = keep;
        while (k > 0 && !PREAMBLE.subarray(0, k).equals(this.buf.subarray(this.buf.length - k))) k--;
        this.skipped += this.buf.length - k;
        this.buf = this.buf.subarray(this.buf.length - k);
        break;
      }
      if (at > 0) {
        this.skipped += at;
        this.buf = this.buf.subarray(at);
      }
      if (this.buf.length < 7) break;
      const len = this.buf.readUInt16BE(5);
      if (len < 3 || len > MAX_LEN) {
        out.push({ type: 'error', error: framingError(`LEN ${len} out of range`, `长度 ${len} 超出范围`, { length: len }) });
        this.buf = this.buf.subarray(PREAMBLE.length);
        continue;
      }
      const full = 7 + len;
      if (this.buf.length < full) break;
      const frame = this.buf.subarray(0, full);
      this.buf = this.buf.subarray(full);
      if (xor(frame, 5, full - 1) !== frame[full - 1]) {
        out.push({ type: 'error', error: framingError('wrong checksum', '校验和错误', { length: len }) });
        continue;
      }
      out.push({ type: 'frame', body: Buffer.from(frame.subarray(7, full - 1)) });
    }
    if (this.buf.length > 0) this.buf = Buffer.from(this.buf);
    return out;
  }

  public reset(): void {
    this.buf = Buffer.alloc(0);
  }
}

/** Commands (docs/domain.md §5). */
export const IdCmd = {
  RESET: [0x10, 0xff],
  STATUS: [0x11, 0xff],
  SAM_ID: [0x12, 0xff],
  FIND: [0x20, 0x01],
  SELECT: [0x20, 0x02],
  READ_BASE: [0x30, 0x01],
  READ_NEW_ADDRESS: [0x30, 0x03],
} as const;

/** SW3 values of the SAM (GA 467 / reader manuals). */
export const SW3: Readonly<Record<number, { zh: string; en: string }>> = {
  0x90: { zh: '操作成功', en: 'success' },
  0x91: { zh: '身份证中此项无内容', en: 'the card has no such item' },
  0x9f: { zh: '找到身份证', en: 'card found' },
  0x10: { zh: '读卡器收到的数据校验和错', en: 'checksum error in the data the reader received' },
  0x11: { zh: '读卡器收到的数据长度错', en: 'length error in the data the reader received' },
  0x21: { zh: '命令错误', en: 'bad command' },
  0x23: { zh: '越权操作', en: 'operation not permitted' },
  0x24: { zh: '无法识别的错误', en: 'unrecognised error' },
  0x31: { zh: '身份证认证 SAM 失败', en: 'the card failed to authenticate the SAM' },
  0x32: { zh: 'SAM 认证身份证失败', en: 'the SAM failed to authenticate the card' },
  0x33: { zh: '信息验证错误', en: 'information verification error' },
  0x40: { zh: '无法识别的卡类型', en: 'unrecognised card type' },
  0x41: { zh: '读身份证失败', en: 'reading the card failed' },
  0x47: { zh: '取随机数失败', en: 'getting a random number failed' },
  0x60: { zh: 'SAM 自检失败', en: 'SAM self-test failed' },
  0x66: { zh: 'SAM 未经授权', en: 'SAM not authorised' },
  0x80: { zh: '未找到身份证', en: 'no card found' },
  0x81: { zh: '选卡失败', en: 'selecting the card failed' },
};

export function describeSw3(sw3: number): { zh: string; en: string } {
  return SW3[sw3] ?? { zh: `未知状态 ${sw3.toString(16).toUpperCase()}`, en: `unknown status ${sw3.toString(16).toUpperCase()}` };
}
