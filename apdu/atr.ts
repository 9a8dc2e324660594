/**
 * Answer-to-Reset, ISO/IEC 7816-3:2006 §8.2 (character sequence of the ATR):
 *
 *   TS T0 {TAi TBi TCi TDi}… T1…TK [TCK]
 *
 * - TS (§8.1): 3B direct convention, 3F inverse. PC/SC readers hand the ATR over already decoded,
 *   so only the convention is reported; the bytes are the same in both cases.
 * - T0 (§8.2.2): Y1 (b8..b5: TA1 TB1 TC1 TD1 present) and K (b4..b1: number of historical bytes).
 * - TDi: Y(i+1) in b8..b5 and T (protocol type) in b4..b1; the bytes of group i+1 relate to that T.
 * - TCK (§8.2.5): absent if only T=0 is indicated, present otherwise; XOR of T0..TCK is 00.
 * - At most 32 bytes after TS (33 in all).
 *
 * Interpretation of the global bytes (§8.3): TA1 Fi/Di (tables 7 and 8), TB1/TB2 VPP (deprecated),
 * TC1 extra guard time N, TA2 specific mode, TC2 WI (T=0), T=15 TA clock stop / class, T=1 TA IFSC,
 * TB BWI/CWI, TC error detection code (ISO 7816-3 §11.4).
 */
import { ErrorCode, fail } from '../core/errors.js';
import { parseHex, toHex } from './hex.js';

export const ATR_MAX_LENGTH = 33;

/** ISO 7816-3 Table 7: Fi and f(max) in MHz, indexed by the high nibble of TA1. undefined = RFU. */
export const FI_TABLE: readonly (readonly [fi: number, fMaxMHz: number] | undefined)[] = [
  [372, 4], [372, 5], [558, 6], [744, 8], [1116, 12], [1488, 16], [1860, 20], undefined,
  undefined, [512, 5], [768, 7.5], [1024, 10], [1536, 15], [2048, 20], undefined, undefined,
];

/** ISO 7816-3 Table 8: Di, indexed by the low nibble of TA1. undefined = RFU. */
export const DI_TABLE: readonly (number | undefined)[] = [
  undefined, 1, 2, 4, 8, 16, 32, 64, 12, 20, undefined, undefined, undefined, undefined, undefined, undefined,
];

/** One group of interface bytes: TAi TBi TCi TDi (i from 1). */
export interface InterfaceGroup {
  readonly i: number;
  /**
   * The protocol type these bytes relate to: T of TD(i-1) for i >= 2 (15 = global bytes);
   * undefined for group 1, whose bytes are global.
   */
  readonly t: number | undefined;
  readonly ta?: number;
  readonly tb?: number;
  readonly tc?: number;
  readonly td?: number;
}

export interface Atr {
  readonly raw: Buffer;
  /** "3B 88 80 01 …" */
  readonly hex: string;
  readonly ts: number;
  readonly convention: 'direct' | 'inverse';
  readonly t0: number;
  /** T0 b8..b5: which of TA1 TB1 TC1 TD1 are present. */
  readonly y1: number;
  /** Number of historical bytes. */
  readonly k: number;
  readonly groups: readonly InterfaceGroup[];
  /** Transmission protocols offered, first one = default (T=0 when there is no TD1). T=15 is not a protocol: see `t15`. */
  readonly protocols: readonly number[];
  /** TDi indicated T=15 (global interface bytes follow). */
  readonly t15: boolean;
  readonly historical: Buffer;
  readonly tck: number | undefined;
  /** XOR of T0..TCK is 00; undefined when no TCK is present (only T=0). */
  readonly tckValid: boolean | undefined;
  /** From TA1, or the default (11: Fi 372, f max 5 MHz, Di 1) without TA1. undefined for RFU values. */
  readonly fi: number | undefined;
  readonly di: number | undefined;
  readonly fMaxMHz: number | undefined;
  /** TC1: extra guard time N (0 when absent). */
  readonly extraGuardTime: number;
  /** TA2 present: the card is in specific mode, with this protocol. */
  readonly specificMode: { readonly protocol: number; readonly canChange: boolean; readonly implicit: boolean } | undefined;
  /** First TA for T=1: IFSC. */
  readonly ifsc: number | undefined;
  /** Lines for a technician. */
  summary(): string[];
  toString(): string;
}

function badAtr(raw: Uint8Array, zh: string, en: string, extra?: Record<string, unknown>): never {
  fail(ErrorCode.Input_BadAtr, `ATR 无效：${zh}（${toHex(raw, ' ')}）`, `Invalid ATR: ${en} (${toHex(raw, ' ')})`, { atr: toHex(raw), ...extra });
}

const h2 = (v: number): string => toHex([v]);

/** Parse an ATR (bytes or hex text). Every malformation is an SsCardError(Input_BadAtr). */
export function parseAtr(input: Uint8Array | string): Atr {
  const raw = typeof input === 'string' ? parseHex(input, 'ATR') : Buffer.from(input);
  if (raw.length === 0) badAtr(raw, '为空', 'empty');
  if (raw.length > ATR_MAX_LENGTH) {
    badAtr(raw, `长度 ${raw.length} 字节，超过最大 ${ATR_MAX_LENGTH} 字节`, `${raw.length} bytes, more than the maximum of ${ATR_MAX_LENGTH}`, { length: raw.length });
  }
  const ts = raw[0]!;
  if (ts !== 0x3b && ts !== 0x3f) {
    badAtr(raw, `TS=${h2(ts)}，应为 3B（正向约定）或 3F（反向约定）；可能是存储卡或读卡器未正确复位`, `TS=${h2(ts)}, expected 3B (direct convention) or 3F (inverse convention); a memory card, or a reset the reader got wrong`, { ts });
  }
  const truncated = (where: string, whereEn: string): never =>
    badAtr(raw, `在 ${where} 处截断（共 ${raw.length} 字节）`, `truncated at ${whereEn} (${raw.length} bytes)`, { length: raw.length });

  let p = 1;
  if (p >= raw.length) truncated('T0', 'T0');
  const t0 = raw[p++]!;
  const y1 = t0 >> 4;
  const k = t0 & 0x0f;

  const groups: InterfaceGroup[] = [];
  const indicated: number[] = [];
  let y = y1;
  let t: number | undefined;
  for (let i = 1; ; i++) {
    const g: { i: number; t: number | undefined; ta?: number; tb?: number; tc?: number; td?: number } = { i, t };
    for (const [bit, name] of [[1, 'ta'], [2, 'tb'], [4, 'tc'], [8, 'td']] as const) {
      if ((y & bit) === 0) continue;
      if (p >= raw.length) truncated(`${name.toUpperCase()}${i}`, `${name.toUpperCase()}${i}`);
      g[name] = raw[p++]!;
    }
    groups.push(g);
    if (g.td === undefined) break;
    y = g.td >> 4;
    t = g.td & 0x0f;
    indicated.push(t);
  }

  const protocols: number[] = [];
  for (const x of indicated.length === 0 ? [0] : indicated) if (x !== 15 && !protocols.includes(x)) protocols.push(x);
  const t15 = indicated.includes(15);
  const hasTck = indicated.some((x) => x !== 0);

  const expected = p + k + (hasTck ? 1 : 0);
  if (raw.length < expected) {
    badAtr(
      raw,
      `被截断：T0 声明 ${k} 个历史字节${hasTck ? '且需要 TCK' : ''}，应有 ${expected} 字节，实际 ${raw.length} 字节`,
      `truncated: T0 announces ${k} historical bytes${hasTck ? ' and a TCK is required' : ''}, so ${expected} bytes are expected, got ${raw.length}`,
      { length: raw.length, expected },
    );
  }
  if (raw.length > expected) {
    badAtr(
      raw,
      `过长：应有 ${expected} 字节，实际 ${raw.length} 字节${hasTck ? '' : '（只提供 T=0 时不应有 TCK）'}`,
      `too long: ${expected} bytes expected, got ${raw.length}${hasTck ? '' : ' (there is no TCK when only T=0 is offered)'}`,
      { length: raw.length, expected },
    );
  }
  const historical = Buffer.from(raw.subarray(p, p + k));
  const tck = hasTck ? raw[expected - 1] : undefined;
  let tckValid: boolean | undefined;
  if (hasTck) {
    let x = 0;
    for (let i = 1; i < raw.length; i++) x ^= raw[i]!;
    tckValid = x === 0;
  }

  const g1 = groups[0]!;
  const ta1 = g1.ta ?? 0x11;
  const fiEntry = FI_TABLE[ta1 >> 4];
  const di = DI_TABLE[ta1 & 0x0f];
  const g2 = groups[1];
  const specificMode =
    g2?.ta === undefined ? undefined : { protocol: g2.ta & 0x0f, canChange: (g2.ta & 0x80) === 0, implicit: (g2.ta & 0x10) !== 0 };
  const ifsc = groups.find((g) => g.i >= 3 && g.t === 1 && g.ta !== undefined)?.ta;

  const atr: Omit<Atr, 'summary' | 'toString'> = {
    raw,
    hex: toHex(raw, ' '),
    ts,
    convention: ts === 0x3b ? 'direct' : 'inverse',
    t0,
    y1,
    k,
    groups,
    protocols,
    t15,
    historical,
    tck,
    tckValid,
    fi: fiEntry?.[0],
    di,
    fMaxMHz: fiEntry?.[1],
    extraGuardTime: g1.tc ?? 0,
    specificMode,
    ifsc,
  };
  return {
    ...atr,
    summary: () => summarize(atr),
    toString: () => summarize(atr).join('\n'),
  };
}

function describeByte(g: InterfaceGroup, name: 'ta' | 'tb' | 'tc' | 'td', v: number): string {
  const { i, t } = g;
  if (name === 'td') return `Y${i + 1}=${(v >> 4).toString(2).padStart(4, '0')}, T=${v & 0x0f}${(v & 0x0f) === 15 ? '（全局字节 / global bytes）' : ''}`;
  if (i === 1) {
    if (name === 'ta') {
      const f = FI_TABLE[v >> 4];
      const d = DI_TABLE[v & 0x0f];
      const fs = f ? `Fi=${f[0]}, f max=${f[1]} MHz` : 'Fi=RFU';
      const ds = d === undefined ? 'Di=RFU' : `Di=${d}`;
      const etu = f && d !== undefined ? `, ${+(f[0] / d).toFixed(3)} 时钟/ETU (cycles/ETU), ${Math.floor((4_000_000 * d) / f[0])} bit/s @ 4 MHz` : '';
      return `${fs}, ${ds}${etu}`;
    }
    if (name === 'tb') return v === 0 ? '未连接 VPP / VPP not connected' : `VPP 参数 / VPP parameters PI1=${v & 0x1f}, II=${(v >> 5) & 3}（已废弃 / deprecated）`;
    return `额外保护时间 / extra guard time N=${v}${v === 255 ? '（最小 / minimum）' : ''}`;
  }
  if (i === 2 && name === 'ta') {
    return `特定模式 / specific mode: T=${v & 0x0f}, ${(v & 0x80) === 0 ? '可切换 / can change' : '不可切换 / cannot change'}, ${(v & 0x10) === 0 ? '参数由接口字节定义 / parameters from interface bytes' : '参数隐含 / implicit parameters'}`;
  }
  if (i === 2 && name === 'tb') return `VPP PI2=${v}（已废弃 / deprecated）`;
  if (i === 2 && name === 'tc' && t === 0) return `T=0 等待时间整数 / waiting time integer WI=${v}`;
  if (i >= 2 && t === 15) {
    if (name === 'ta') {
      const clock = ['不支持 / not supported', '状态 L / state L', '状态 H / state H', '无偏好 / no preference'][v >> 6]!;
      const classes = [
        [1, 'A 5V'],
        [2, 'B 3V'],
        [4, 'C 1.8V'],
      ]
        .filter(([bit]) => (v & (bit as number)) !== 0)
        .map(([, s]) => s)
        .join(', ');
      return `时钟停止 / clock stop: ${clock}; 电压等级 / classes: ${classes || '-'}`;
    }
    if (name === 'tb') return `SPU=${h2(v)}`;
  }
  if (i >= 3 && t === 1) {
    if (name === 'ta') return `T=1 IFSC=${v}`;
    if (name === 'tb') return `T=1 BWI=${v >> 4}, CWI=${v & 0x0f}`;
    return `T=1 校验 / error detection: ${(v & 1) === 1 ? 'CRC' : 'LRC'}`;
  }
  return `T=${t ?? '?'} 专用 / specific`;
}

function historicalText(h: Buffer): string {
  const printable = [...h].filter((c) => c >= 0x20 && c < 0x7f).length;
  return h.length > 0 && printable >= h.length * 0.6
    ? ` "${[...h].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('')}"`
    : '';
}

function summarize(a: Omit<Atr, 'summary' | 'toString'>): string[] {
  const lines: string[] = [];
  lines.push(`ATR: ${a.hex}`);
  lines.push(`TS=${h2(a.ts)}: ${a.convention === 'direct' ? '正向约定 / direct convention' : '反向约定 / inverse convention'}`);
  lines.push(`T0=${h2(a.t0)}: Y1=${a.y1.toString(2).padStart(4, '0')}, K=${a.k}（历史字节数 / historical bytes）`);
  for (const g of a.groups) {
    for (const name of ['ta', 'tb', 'tc', 'td'] as const) {
      const v = g[name];
      if (v === undefined) continue;
      lines.push(`  ${name.toUpperCase()}${g.i}=${h2(v)}: ${describeByte(g, name, v)}`);
    }
  }
  lines.push(`协议 / protocols: ${a.protocols.map((p) => `T=${p}`).join(', ')}${a.t15 ? ' (+T=15)' : ''}`);
  lines.push(`历史字节 / historical bytes (${a.k}): ${toHex(a.historical, ' ')}${historicalText(a.historical)}`);
  if (a.tck === undefined) lines.push('TCK: 无（仅 T=0）/ none (T=0 only)');
  else lines.push(`TCK=${h2(a.tck)}: ${a.tckValid === true ? '校验正确 / checksum correct' : '校验错误 / WRONG checksum'}`);
  return lines;
}
