/**
 * Card identity at rest: the journal never stores 卡识别码, 卡号, 社会保障号码 or the holder's name in
 * clear. Each row carries
 * - the identity encrypted with AES-256-GCM (a fresh 96-bit IV per row, the row id as additional
 *   authenticated data so a ciphertext cannot be moved to another row, NIST SP 800-38D);
 * - keyed hashes (HMAC-SHA-256) of the card identification code and of the social security number,
 *   for look-ups ("this card's earlier operations", "is this card hotlisted");
 * - masked forms for display (4104**********0047, 李**).
 *
 * One 32-byte master secret lives in a key file readable only by the daemon's user (created 0600 on
 * first start); the encryption and HMAC keys are derived from it with HKDF-SHA-256 (RFC 5869).
 */
import { maskCardId, maskCardNumber, maskIdNumber, maskName } from '../../core/mask.js';
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { isAgentBasis, type AgentBasis, type AgentIdentity } from '../../state/agents.js';

/** Who the card and its holder are, as read from EF05/EF06. `cardId` is required: it names the card. */
export interface CardIdentity {
  /** 卡识别码: 32 hex digits (EF05 tag 01). */
  readonly cardId: string;
  /** 卡号 (EF05 tag 07). */
  readonly cardNumber?: string;
  /** 社会保障号码 (EF06 tag 08): 18 characters (or 15 digits on old cards). */
  readonly socialSecurityNumber?: string;
  /** 姓名. */
  readonly name?: string;
}

/** What a person may see without the key. */
export interface MaskedIdentity {
  readonly cardId: string;
  readonly cardNumber: string | null;
  readonly socialSecurityNumber: string | null;
  readonly name: string | null;
}

const KEY_FILE_HEADER = 'sscard-journal-key v1';
const BLOB_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

function invalid(field: string, zh: string, en: string): never {
  throw new SsCardError(
    ErrorCode.Journal_InvalidRecord,
    { zh: `卡片身份字段 ${field} 无效：${zh}；请检查读卡结果`, en: `card identity field ${field} is invalid: ${en}; check what was read from the card` },
    { field },
  );
}

const IDENTITY_KEYS = new Set(['cardId', 'cardNumber', 'socialSecurityNumber', 'name']);

/**
 * Check and normalise an identity (upper-case hex and X). Unknown properties are refused, so
 * nothing else (a PIN, say) can ride along into the encrypted blob. Values are never echoed.
 */
export function normalizeIdentity(id: CardIdentity): CardIdentity {
  if (typeof id !== 'object' || id === null) invalid('identity', '不是对象', 'not an object');
  for (const k of Object.keys(id)) if (!IDENTITY_KEYS.has(k)) invalid(k, '不允许的字段', 'unknown field');
  const cardId = typeof id.cardId === 'string' ? id.cardId.toUpperCase() : '';
  if (!/^[0-9A-F]{32}$/.test(cardId)) invalid('cardId', '应为 32 位十六进制数字', 'must be 32 hex digits');
  const out: { cardId: string; cardNumber?: string; socialSecurityNumber?: string; name?: string } = { cardId };
  if (id.cardNumber !== undefined) {
    if (typeof id.cardNumber !== 'string' || !/^[0-9A-Z]{1,20}$/i.test(id.cardNumber)) invalid('cardNumber', '应为 1 到 20 位字母或数字', 'must be 1 to 20 letters or digits');
    out.cardNumber = id.cardNumber.toUpperCase();
  }
  if (id.socialSecurityNumber !== undefined) {
    const s = typeof id.socialSecurityNumber === 'string' ? id.socialSecurityNumber.toUpperCase() : '';
    if (!/^(\d{17}[\dX]|\d{15})$/.test(s)) invalid('socialSecurityNumber', '应为 18 位（或旧卡 15 位）', 'must be 18 characters (15 digits on old cards)');
    out.socialSecurityNumber = s;
  }
  if (id.name !== undefined) {
    // No digits and no control characters: a name can never smuggle a PIN.
    if (typeof id.name !== 'string' || !/^[^\d\p{Cc}]{1,40}$/u.test(id.name)) invalid('name', '应为 1 到 40 个字符，不含数字', 'must be 1 to 40 characters without digits');
    out.name = id.name;
  }
  return out;
}

export function maskIdentity(id: CardIdentity): MaskedIdentity {
  return {
    cardId: maskCardId(id.cardId),
    cardNumber: id.cardNumber === undefined ? null : maskCardNumber(id.cardNumber),
    socialSecurityNumber: id.socialSecurityNumber === undefined ? null : maskIdNumber(id.socialSecurityNumber),
    name: id.name === undefined ? null : maskName(id.name),
  };
}

/** An agent's identity as a person may see it without the key. */
export interface MaskedAgent {
  readonly basis: AgentBasis;
  readonly idNumber: string;
  readonly name: string;
}

/**
 * Check an agent's identity before it is sealed: a known basis, a document number of letters and
 * digits (a resident ID, a residence permit or a permanent residence card number), a name without
 * digits or control characters. Values are never echoed.
 */
export function normalizeAgent(a: AgentIdentity): AgentIdentity {
  if (typeof a !== 'object' || a === null) invalid('agent', '不是对象', 'not an object');
  for (const k of Object.keys(a)) if (!['basis', 'idNumber', 'name'].includes(k)) invalid(`agent.${k}`, '不允许的字段', 'unknown field');
  if (!isAgentBasis(a.basis)) invalid('agent.basis', '不是已知的代办依据', 'is not a known basis');
  const idNumber = typeof a.idNumber === 'string' ? a.idNumber.trim().toUpperCase() : '';
  if (!/^[0-9A-Z]{6,36}$/.test(idNumber)) invalid('agent.idNumber', '应为 6 到 36 位字母或数字', 'must be 6 to 36 letters or digits');
  const name = typeof a.name === 'string' ? a.name.trim() : '';
  if (!/^[^\d\p{Cc}]{1,60}$/u.test(name)) invalid('agent.name', '应为 1 到 60 个字符，不含数字', 'must be 1 to 60 characters without digits');
  return { basis: a.basis, idNumber, name };
}

export function maskAgent(a: AgentIdentity): MaskedAgent {
  return { basis: a.basis, idNumber: maskIdNumber(a.idNumber), name: maskName(a.name) };
}

export interface KeyFileResult {
  readonly keys: IdentityKeys;
  /** True when this call created the file (first start). */
  readonly created: boolean;
}

function keyFileError(file: string, zh: string, en: string, cause?: unknown): never {
  throw new SsCardError(ErrorCode.Journal_KeyFile, { zh: `日志密钥文件 ${file}：${zh}`, en: `journal key file ${file}: ${en}` }, { path: file }, cause === undefined ? undefined : { cause });
}

/** The keys of one journal, derived from the key file's master secret. */
export class IdentityKeys {
  /** A short, non-secret fingerprint stored with each row, so a wrong key is named, not guessed at. */
  public readonly keyId: string;
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  public constructor(master: Buffer) {
    if (master.length !== 32) throw new SsCardError(ErrorCode.Internal, { zh: '日志主密钥应为 32 字节', en: 'the journal master secret must be 32 bytes' });
    this.encKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'sscard journal identity encryption v1', 32));
    this.macKey = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'sscard journal identity lookup v1', 32));
    this.keyId = createHash('sha256').update(Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'sscard journal key id v1', 32))).digest('hex').slice(0, 16);
  }

  /** Read the key file, or create it (mode 0600, exclusively) when it does not exist and `create` is set. */
  public static fromFile(file: string, create: boolean): KeyFileResult {
    let fd: number | undefined;
    if (create) {
      try {
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') keyFileError(file, '无法创建，请检查目录权限', 'cannot be created; check the folder permissions', err);
      }
      if (fd !== undefined) {
        const master = randomBytes(32);
        try {
          writeSync(fd, `${KEY_FILE_HEADER}\n${master.toString('base64')}\n`);
        } finally {
          closeSync(fd);
        }
        return { keys: new IdentityKeys(master), created: true };
      }
    }
    let text: string;
    try {
      const st = statSync(file);
      if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
        keyFileError(
          file,
          `权限过宽（${(st.mode & 0o777).toString(8)}），其他用户可读；请执行 chmod 600 ${file}，并确认属主是守护进程用户`,
          `permissions are too open (${(st.mode & 0o777).toString(8)}), other users can read it; run chmod 600 ${file} and make the daemon's user its owner`,
        );
      }
      const fd2 = openSync(file, 'r');
      try {
        if (!fstatSync(fd2).isFile()) keyFileError(file, '不是普通文件', 'is not a regular file');
        text = readFileSync(fd2, 'utf8');
      } finally {
        closeSync(fd2);
      }
    } catch (err) {
      if (err instanceof SsCardError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') keyFileError(file, '不存在；守护进程首次启动时会创建它，或用 --key 指定正确的文件', 'does not exist; the daemon creates it on first start, or give the right file with --key');
      if (code === 'EACCES') keyFileError(file, '无权读取；只有守护进程用户可以读取日志密钥（以该用户运行，或不用 --reveal）', 'not readable by this user; only the daemon user may read the journal key (run as that user, or without --reveal)');
      keyFileError(file, '无法读取', 'cannot be read', err);
    }
    const lines = text.split('\n');
    const master = lines[0] === KEY_FILE_HEADER && lines[1] !== undefined ? Buffer.from(lines[1], 'base64') : Buffer.alloc(0);
    if (master.length !== 32) keyFileError(file, '格式不对（不是 sscard 日志密钥）；请恢复备份的密钥文件', 'is not an sscard journal key; restore the key file from backup');
    return { keys: new IdentityKeys(master), created: false };
  }

  /** HMAC-SHA-256 of the card identification code: the look-up handle of a card (hex). */
  public cardHash(cardId: string): string {
    return createHmac('sha256', this.macKey).update(`card:${cardId.toUpperCase()}`).digest('hex');
  }

  /** HMAC-SHA-256 of the social security number: the look-up handle of a person (hex). */
  public personHash(ssn: string): string {
    return createHmac('sha256', this.macKey).update(`ssn:${ssn.toUpperCase()}`).digest('hex');
  }

  /** Encrypt an identity for row `aad` (the operation id). */
  public seal(id: CardIdentity, aad: string): Buffer {
    return this.sealJson([id.cardId, id.cardNumber ?? null, id.socialSecurityNumber ?? null, id.name ?? null], aad);
  }

  /** Decrypt what {@link seal} made; a wrong key or a tampered row is a Journal_KeyMismatch error. */
  public open(blob: Buffer, aad: string): CardIdentity {
    const [cardId, cardNumber, ssn, name] = this.openJson(blob, aad) as [string, string | null, string | null, string | null];
    return { cardId, ...(cardNumber === null ? {} : { cardNumber }), ...(ssn === null ? {} : { socialSecurityNumber: ssn }), ...(name === null ? {} : { name }) };
  }

  /**
   * Encrypt the identity of someone who applied for the holder (state/agents.ts) for row `rowId`;
   * its additional data differs from the card identity's, so neither blob passes for the other.
   */
  public sealAgent(a: AgentIdentity, rowId: string): Buffer {
    return this.sealJson([a.basis, a.idNumber, a.name], `${rowId}#agent`);
  }

  /** Decrypt what {@link sealAgent} made (Journal_KeyMismatch on a wrong key or an altered row). */
  public openAgent(blob: Buffer, rowId: string): AgentIdentity {
    const [basis, idNumber, name] = this.openJson(blob, `${rowId}#agent`) as [AgentBasis, string, string];
    return { basis, idNumber, name };
  }

  private sealJson(value: unknown, aad: string): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const plain = Buffer.from(JSON.stringify(value), 'utf8');
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    plain.fill(0);
    return Buffer.concat([Buffer.from([BLOB_VERSION]), iv, cipher.getAuthTag(), body]);
  }

  private openJson(blob: Buffer, aad: string): unknown {
    try {
      if (blob[0] !== BLOB_VERSION || blob.length < 1 + IV_LENGTH + TAG_LENGTH) throw new Error('bad blob');
      const decipher = createDecipheriv('aes-256-gcm', this.encKey, blob.subarray(1, 1 + IV_LENGTH), { authTagLength: TAG_LENGTH });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(blob.subarray(1 + IV_LENGTH, 1 + IV_LENGTH + TAG_LENGTH));
      const plain = Buffer.concat([decipher.update(blob.subarray(1 + IV_LENGTH + TAG_LENGTH)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as unknown;
    } catch (err) {
      throw new SsCardError(
        ErrorCode.Journal_KeyMismatch,
        { zh: `记录 ${aad} 的身份信息无法用此密钥解密（密钥不对或记录被改动）；请用该日志自己的密钥文件`, en: `the identity of record ${aad} cannot be decrypted with this key (wrong key or altered record); use this journal's own key file` },
        { id: aad },
        { cause: err },
      );
    }
  }


  /** Constant-time comparison of two hex hashes. */
  public static sameHash(a: string, b: string): boolean {
    const x = Buffer.from(a, 'hex');
    const y = Buffer.from(b, 'hex');
    return x.length === y.length && timingSafeEqual(x, y);
  }
}
