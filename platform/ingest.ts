/**
 * What of a pushed batch the platform stores (docs/sync-protocol.md "Push operations", "Push bank
 * requests"): each item checked against the wire's rules, the rest answered `rejected` with the
 * reason — never a whole batch refused for one bad item.
 */
import { CARD_WRITE_SERVICE_ITEM, PIN_CHECK_SERVICE_ITEM, checkWireBankRequest, checkWireOperation, unstorableText } from '../daemon/sync/wire.js';
import type { RejectedOperation } from '../daemon/sync/wire.js';
import type { BankRequestIn, OperationIn } from './store/store.js';

const idOf = (x: unknown): string => (typeof x === 'object' && x !== null && 'id' in x && typeof x.id === 'string' ? x.id : '');

/** An item's problem: what the wire's rules say, else text no store can hold (when the body had a `\u` escape: wire.ts unstorableText). */
function itemProblem(item: unknown, check: (x: unknown) => string | undefined, escapes: boolean): string | undefined {
  const problem = check(item);
  if (problem !== undefined || !escapes) return problem;
  const text = unstorableText(item);
  return text === undefined ? undefined : `${text}, which the platform's database cannot store`;
}

/**
 * The operations to store, and the rejected ones; `serviceItems`: the platform's catalog (absent:
 * any well-formed code); `escapes`: the request's JSON text holds a `\u` escape.
 */
export function checkOperations(operations: readonly unknown[], serviceItems: readonly string[] | undefined, escapes: boolean): { valid: OperationIn[]; rejected: RejectedOperation[] } {
  const valid: OperationIn[] = [];
  const rejected: RejectedOperation[] = [];
  for (const op of operations) {
    const problem = itemProblem(op, checkWireOperation, escapes);
    if (problem !== undefined) {
      rejected.push({ id: idOf(op), code: 'invalid', message: problem });
      continue;
    }
    const o = op as { id: string; serviceItem: string; kind: string };
    // A plain PIN check and a card write carry a marker, no item of the catalog (docs/sync-protocol.md `serviceItem`).
    const marker = (o.kind === 'verify' && o.serviceItem === PIN_CHECK_SERVICE_ITEM) || (o.kind === 'write' && o.serviceItem === CARD_WRITE_SERVICE_ITEM);
    if (serviceItems !== undefined && !marker && !serviceItems.includes(o.serviceItem)) {
      rejected.push({ id: o.id, code: 'unknown-service-item', message: `service item ${o.serviceItem} is not in the platform's catalog` });
      continue;
    }
    valid.push({ id: o.id, serviceItem: o.serviceItem, body: op });
  }
  return { valid, rejected };
}

/** The bank requests to store, and the rejected ones; `escapes` as for {@link checkOperations}. */
export function checkBankRequests(requests: readonly unknown[], escapes: boolean): { valid: BankRequestIn[]; rejected: RejectedOperation[] } {
  const valid: BankRequestIn[] = [];
  const rejected: RejectedOperation[] = [];
  for (const r of requests) {
    const problem = itemProblem(r, checkWireBankRequest, escapes);
    if (problem !== undefined) {
      rejected.push({ id: idOf(r), code: 'invalid', message: problem });
      continue;
    }
    const b = r as { id: string; operationId: string | null };
    valid.push({ id: b.id, operationId: b.operationId, body: r });
  }
  return { valid, rejected };
}
