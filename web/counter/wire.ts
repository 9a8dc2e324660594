/**
 * The counter page's own payloads (docs/api.md "Counter": `IdCard.Read`, `SSCard.Operations`; the
 * catalog and service results are read by web/client/catalog.ts and read.ts), read from what the daemon sent: checked shapes in, typed
 * values out, anything unexpected dropped rather than trusted. Pure, unit-tested.
 */
import type { BilingualText } from '../../core/text.js';
import type { Payload } from '../client/messages.js';
import { isObj, str, strOrNull, textOf } from '../client/read.js';

/** IdCard.Read's completion: the ID card masked and whether it is the card holder's. */
export interface IdCardReport {
  readonly read: boolean;
  readonly idCard: { readonly documentType: string; readonly nameMasked: string; readonly idNumberMasked: string; readonly idNumberValid: boolean; readonly validFrom: string; readonly validTo: string } | null;
  readonly matchesCard: boolean | null;
  readonly cardNumberMasked: string | null;
  readonly mismatch: BilingualText | null;
  /** Present when the ID card read is past its 有效期截止 on the terminal's date: why it cannot be accepted (受理标准 材料真实有效). */
  readonly expired?: BilingualText;
}

/** One row of SSCard.Operations. */
export interface OperationRow {
  readonly id: string;
  readonly kind: string;
  readonly itemCode: string;
  readonly state: string;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly cardNumberMasked: string | null;
  readonly synced: boolean;
  readonly syncState: string;
  readonly operatorId: string | null;
}

const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const defined = <T>(xs: readonly (T | null)[]): T[] => xs.filter((v): v is T => v !== null);

/** `IdCard.Read`'s completion; null when it is not one. */
export function idCardReportOf(p: Payload): IdCardReport | null {
  if (typeof p['read'] !== 'boolean') return null;
  const c = p['idCard'];
  const idCard =
    isObj(c) && str(c['nameMasked']) && str(c['idNumberMasked']) && str(c['validFrom']) && str(c['validTo'])
      ? { documentType: str(c['documentType']) ? c['documentType'] : 'residentId', nameMasked: c['nameMasked'], idNumberMasked: c['idNumberMasked'], idNumberValid: c['idNumberValid'] === true, validFrom: c['validFrom'], validTo: c['validTo'] }
      : null;
  const m = p['matchesCard'];
  const expired = textOf(p['expired']);
  return {
    read: p['read'],
    idCard,
    matchesCard: typeof m === 'boolean' ? m : null,
    cardNumberMasked: strOrNull(p['cardNumberMasked']),
    mismatch: textOf(p['mismatch']),
    ...(expired === null ? {} : { expired }),
  };
}

/** `SSCard.Operations`' completion; null when it is not one. */
export function operationsOf(p: Payload): OperationRow[] | null {
  if (!Array.isArray(p['operations'])) return null;
  return defined(
    p['operations'].map((o): OperationRow | null => {
      if (!isObj(o) || !str(o['id']) || !str(o['kind']) || !num(o['startedAt'])) return null;
      return {
        id: o['id'],
        kind: o['kind'],
        itemCode: str(o['itemCode']) ? o['itemCode'] : '',
        state: str(o['state']) ? o['state'] : '',
        outcome: strOrNull(o['outcome']),
        reason: strOrNull(o['reason']),
        startedAt: o['startedAt'],
        endedAt: num(o['endedAt']) ? o['endedAt'] : null,
        cardNumberMasked: strOrNull(o['cardNumberMasked']),
        synced: o['synced'] === true,
        syncState: str(o['syncState']) ? o['syncState'] : o['synced'] === true ? 'synced' : 'unsynced',
        operatorId: strOrNull(o['operatorId']),
      };
    }),
  );
}

