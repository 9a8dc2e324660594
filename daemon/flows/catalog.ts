/**
 * The service catalog as the flows use it: fixtures/catalog/service-items.json (the two seed
 * items, documented in fixtures/catalog/README.md) read from disk and validated by
 * state/catalog.ts `parseCatalog`, and the 业务办理项编码 each service kind reports with its journal
 * rows (docs/service-items/README.md: transactions reported upstream carry the service item code).
 *
 * state/ reads no file; this is where the file is read. The shipped file is found next to the
 * sources (`daemon/flows` → `../../fixtures`) and next to the build (`dist/daemon/flows` →
 * `../../../fixtures`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, SsCardError, isSsCardError } from '../../core/errors.js';
import type { ServiceItem } from '../../state/catalog.js';
import { hasServiceItem, parseCatalog, serviceItemFor } from '../../state/catalog.js';
import { SERVICE_KINDS } from '../../state/roles.js';
import type { ServiceKind } from '../../state/roles.js';
import { SERVICE_ITEM_PATTERN } from '../journal/types.js';
import { PIN_CHECK_SERVICE_ITEM } from '../sync/wire.js';

/** The shipped catalog file. */
export function defaultCatalogFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../fixtures/catalog/service-items.json'), path.resolve(here, '../../../fixtures/catalog/service-items.json')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

function catalogError(file: string, zh: string, en: string, cause?: unknown): SsCardError {
  return new SsCardError(ErrorCode.Config_Invalid, { zh: `服务目录 ${file}：${zh}`, en: `service catalog ${file}: ${en}` }, { path: file }, cause === undefined ? undefined : { cause });
}

/** Read and validate a catalog file (Config_Invalid naming the file, and the key path when the content is wrong). */
export function loadServiceCatalog(file: string = defaultCatalogFile()): ServiceItem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw catalogError(file, '无法读取文件，请检查路径与权限', 'cannot read the file; check the path and the permissions', e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw catalogError(file, '不是有效的 JSON', 'is not valid JSON', e);
  }
  try {
    return parseCatalog(json);
  } catch (e) {
    if (isSsCardError(e)) throw catalogError(file, e.text.zh, e.text.en, e);
    throw e;
  }
}

let shipped: ServiceItem[] | undefined;

/** The shipped catalog, read once per process. */
export function shippedCatalog(): readonly ServiceItem[] {
  shipped ??= loadServiceCatalog();
  return shipped;
}

/**
 * The service item code (业务办理项编码) per kind from a catalog, checked eagerly: every kind but a
 * plain PIN check must have an item, and its code must be one the journal accepts (Config_Invalid
 * otherwise). `verify` is no service item (state/catalog.ts `KINDS_WITHOUT_ITEM`): it is journaled
 * under its own kind with {@link PIN_CHECK_SERVICE_ITEM}, never a catalog item's code.
 */
export function catalogServiceItems(catalog: readonly ServiceItem[]): (kind: ServiceKind) => string {
  const codes = new Map<ServiceKind, string>();
  for (const kind of SERVICE_KINDS) {
    const code = hasServiceItem(kind) ? serviceItemFor(catalog, kind).itemCode : PIN_CHECK_SERVICE_ITEM;
    if (!SERVICE_ITEM_PATTERN.test(code)) {
      throw new SsCardError(
        ErrorCode.Config_Invalid,
        { zh: `服务事项 ${kind} 的业务办理项编码格式不对，交易日志不能记录`, en: `the service item code for ${kind} has a shape the journal cannot record` },
        { kind },
      );
    }
    codes.set(kind, code);
  }
  return (kind) => codes.get(kind) ?? PIN_CHECK_SERVICE_ITEM;
}

let shippedCodes: ((kind: ServiceKind) => string) | undefined;

/** The 业务办理项编码 `kind` reports under in the shipped catalog (tests, benchmarks). */
export function shippedServiceItemCode(kind: ServiceKind): string {
  shippedCodes ??= catalogServiceItems(shippedCatalog());
  return shippedCodes(kind);
}
