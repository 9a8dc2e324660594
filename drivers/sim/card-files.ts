/**
 * The virtual card's file commands (docs/domain.md §1, docs/card-conventions.md): SELECT, READ
 * RECORD, READ BINARY and UPDATE RECORD over the file model MF / SSSE (EF05 EF06 EF07 EF08 DF01
 * (EF06)), with the access rules of each file.
 */
import type { CommandApdu } from '../../apdu/apdu.js';
import { EF05_FIELDS, EF06_FIELDS, encodeSimpleTlv } from '../../apdu/records.js';
import { FID, SSSE_AID } from '../../apdu/ssse.js';
import { encodeBerTlv } from '../../apdu/tlv.js';
import type { TlvInput } from '../../apdu/tlv.js';
import { ok, sw } from './card-os.js';
import type { Reply } from './card-os.js';
import type { CardRuntime, DfName, EfInfo } from './card-runtime.js';
import { PHONE_TAG } from './profile.js';
import type { RecordFileName } from './profile.js';

/** The file model (docs/domain.md §1): MF / SSSE (EF05 EF06 EF07 EF08 DF01 (EF06)). */
const EFS: readonly EfInfo[] = [
  { df: 'SSSE', fid: FID.EF05, sfi: 0x05, kind: 'record', name: 'EF05' },
  { df: 'SSSE', fid: FID.EF06, sfi: 0x06, kind: 'record', name: 'EF06' },
  { df: 'SSSE', fid: FID.EF07, sfi: 0x07, kind: 'binary', name: 'EF07' },
  { df: 'SSSE', fid: FID.EF08, sfi: 0x08, kind: 'binary', name: 'EF08' },
  { df: 'DF01', fid: FID.EF06, sfi: 0x06, kind: 'record', name: 'DF01/EF06' },
];

/** Record number → tag, per record file. */
function recordTag(file: RecordFileName, record: number): number | undefined {
  if (file === 'DF01/EF06') return record === 1 ? PHONE_TAG : undefined;
  const fields = file === 'EF05' ? EF05_FIELDS : EF06_FIELDS;
  return fields.find((f) => f.record === record)?.tag;
}

/** Tag → record number, per record file. */
function tagRecord(file: RecordFileName, tag: number): number | undefined {
  if (file === 'DF01/EF06') return tag === PHONE_TAG ? 1 : undefined;
  const fields = file === 'EF05' ? EF05_FIELDS : EF06_FIELDS;
  return fields.find((f) => f.tag === tag)?.record;
}

function fci(rt: CardRuntime): Buffer {
  const a5: TlvInput[] = [];
  if (rt.profile.fciAlgorithmTag) {
    a5.push({ tag: 0x9f0c, value: Buffer.from([0x86, 0x01, rt.profile.algorithm === 'SM4' ? 0x03 : 0x01]) });
  }
  return encodeBerTlv([{ tag: 0x6f, children: [{ tag: 0x84, value: SSSE_AID }, { tag: 0xa5, children: a5 }] }]);
}

/** `00 A4` SELECT: the SSSE application by AID (FCI, and 6283 / 9303 for its life cycle), the MF, DF01 or an EF by FID. */
export function select(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.p2 !== 0x00 && c.p2 !== 0x04 && c.p2 !== 0x0c) return sw(0x6a86);
  const noData = c.p2 === 0x0c;
  if (c.p1 === 0x04) {
    if (c.data.length === 0) return sw(0x6700);
    if (!c.data.equals(SSSE_AID)) return sw(0x6a82);
    enterDf(rt, 'SSSE');
    const word = rt.state === 'notActivated' ? 0x6283 : rt.state === 'appLocked' ? 0x9303 : 0x9000;
    return noData ? sw(word) : ok(fci(rt), word);
  }
  if (c.p1 !== 0x00 && c.p1 !== 0x01 && c.p1 !== 0x02) return sw(0x6a86);
  if (c.data.length !== 2) return sw(0x6700);
  const fid = c.data.readUInt16BE(0);
  if (fid === FID.MF && c.p1 === 0x00) {
    enterDf(rt, 'MF');
    return sw(0x9000);
  }
  if (rt.df === 'MF') return sw(0x6a82);
  // DF01 is the only DF modelled under SSSE; EFs are searched in the current DF, then its parent.
  if (fid === FID.DF01 && c.p1 !== 0x02) {
    if (rt.df !== 'DF01') rt.df = 'DF01';
    rt.ef = undefined;
    return sw(0x9000);
  }
  if (c.p1 === 0x01) return sw(0x6a82);
  const search: Exclude<DfName, 'MF'>[] = rt.df === 'DF01' ? (c.p1 === 0x02 ? ['DF01'] : ['DF01', 'SSSE']) : ['SSSE'];
  for (const df of search) {
    const ef = findEf(rt, df, (e) => e.fid === fid);
    if (ef !== undefined) {
      rt.df = df;
      rt.ef = ef;
      return sw(0x9000);
    }
  }
  return sw(0x6a82);
}

function enterDf(rt: CardRuntime, df: DfName): void {
  // Leaving or re-entering the application resets its security status (ISO 7816-4 §5.4).
  rt.df = df;
  rt.ef = undefined;
  rt.authenticated.clear();
  rt.verified = false;
}

function findEf(rt: CardRuntime, df: Exclude<DfName, 'MF'>, match: (e: EfInfo) => boolean): EfInfo | undefined {
  const ef = EFS.find((e) => e.df === df && match(e));
  if (ef?.name === 'EF07' && rt.profile.fingerprint.length === 0) return undefined;
  return ef;
}

/** The EF a READ/UPDATE addresses: by SFI (P2 b8..b4 for records) or the current EF. */
function targetEf(rt: CardRuntime, sfi: number): EfInfo | Reply {
  if (sfi === 0) return rt.ef ?? sw(0x6986);
  if (rt.df === 'MF') return sw(0x6a82);
  const ef = findEf(rt, rt.df, (e) => e.sfi === sfi);
  if (ef === undefined) return sw(0x6a82);
  rt.ef = ef;
  return ef;
}

function readAccess(rt: CardRuntime, ef: EfInfo): Reply | undefined {
  if (rt.state === 'appLocked' && ef.name !== 'EF05') return sw(0x9303);
  if (ef.name === 'EF06' && rt.profile.ef06NeedsExternalAuth && !rt.authenticated.has(0x0a)) return sw(0x6982);
  if (ef.name === 'DF01/EF06' && rt.phoneAccess === 'verifiedPin' && !rt.verified) return sw(0x6982);
  return undefined;
}

/** `00 B2` READ RECORD by record number (P2 mode 04) or by tag (mode 00), of the current EF or one given by SFI. */
export function readRecord(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.data.length > 0) return sw(0x6700);
  const mode = c.p2 & 0x07;
  if (mode !== 0x04 && mode !== 0x00) return sw(0x6a86);
  const ef = targetEf(rt, c.p2 >> 3);
  if ('sw' in ef) return ef;
  if (ef.kind !== 'record') return sw(0x6981);
  const denied = readAccess(rt, ef);
  if (denied) return denied;
  const file = ef.name as RecordFileName;
  const tag = mode === 0x04 ? recordTag(file, c.p1) : tagRecord(file, c.p1) === undefined ? undefined : c.p1;
  const value = tag === undefined ? undefined : rt.records.get(file)?.get(tag);
  if (tag === undefined || value === undefined) return sw(0x6a83);
  return ok(encodeSimpleTlv(tag, value));
}

/** `00 B0` READ BINARY of EF07 / EF08, by SFI (P1 b8 set) or of the current EF. */
export function readBinary(rt: CardRuntime, c: CommandApdu): Reply {
  if (c.data.length > 0) return sw(0x6700);
  let offset: number;
  let ef: EfInfo | Reply;
  if ((c.p1 & 0x80) !== 0) {
    if ((c.p1 & 0x60) !== 0) return sw(0x6a86);
    ef = targetEf(rt, c.p1 & 0x1f);
    offset = c.p2;
  } else {
    ef = targetEf(rt, 0);
    offset = (c.p1 << 8) | c.p2;
  }
  if ('sw' in ef) return ef;
  if (ef.kind !== 'binary') return sw(0x6981);
  const denied = readAccess(rt, ef);
  if (denied) return denied;
  const content = ef.name === 'EF07' ? rt.profile.fingerprint : rt.profile.photo;
  if (offset >= content.length) return sw(0x6b00);
  const want = c.le ?? 256;
  return ok(Buffer.from(content.subarray(offset, Math.min(content.length, offset + want))));
}

/** `00 DC` UPDATE RECORD: same tag and length as the record holds, after EXTERNAL AUTHENTICATE with the file's write key. */
export function updateRecord(rt: CardRuntime, c: CommandApdu): Reply {
  if ((c.p2 & 0x07) !== 0x04) return sw(0x6a86);
  if (c.data.length < 2) return sw(0x6700);
  const ef = targetEf(rt, c.p2 >> 3);
  if ('sw' in ef) return ef;
  if (ef.kind !== 'record') return sw(0x6981);
  if (rt.state === 'appLocked') return sw(0x9303);
  const file = ef.name as RecordFileName;
  if (!rt.authenticated.has(rt.profile.writeKeys[file])) return sw(0x6982);
  const tag = recordTag(file, c.p1);
  const current = tag === undefined ? undefined : rt.records.get(file)?.get(tag);
  if (tag === undefined || current === undefined) return sw(0x6a83);
  if (c.data[0] !== tag) return sw(0x6a80);
  const len = c.data[1]!;
  if (len !== c.data.length - 2 || len !== current.length) return sw(0x6700);
  rt.records.get(file)!.set(tag, Buffer.from(c.data.subarray(2)));
  return sw(0x9000);
}
