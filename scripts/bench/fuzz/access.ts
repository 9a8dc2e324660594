/**
 * What access control must do with each request of the traffic (docs/api.md "Who may talk to the
 * daemon"): refuse it, admit it, or either. A request answered otherwise is an anomaly.
 */
import { defaultPagesRoot, openStaticSite } from '../../../daemon/api/static-files.js';
import type { Cred, HostKind, OriginKind } from './spec.js';

export function hostOk(h: HostKind): boolean {
  return h === 'ip' || h === 'localhost' || h === 'ipv6' || h === 'trailingDot' || h === 'noPort';
}

export function isJsonType(ct: readonly string[]): boolean {
  return ct.length >= 1 && ct[0]!.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

const GOOD_CRED = new Set<Cred>(['token', 'tokenLowerScheme']);

/** The path the daemon sees for a target (docs/api.md; daemon/api/access.ts pathOf), or null. */
export function pathOfTarget(target: string): string | null {
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return null;
  }
}

export interface Expectation {
  /** Access must refuse it: foreign or malformed Host, a refused Origin, a bad token, no credential where one is needed. */
  readonly mustRefuse: boolean;
  /** The admitted client, well-formed: access must let it in (no 421 / 403, no 401 outside /sscard/). */
  readonly mustAdmit: boolean;
}

/** What access control must do with a request (docs/api.md "Who may talk to the daemon"). */
export function expectationOf(r: { readonly host: HostKind; readonly origin: OriginKind; readonly cred: Cred; readonly upgrade: boolean; readonly method?: string; readonly target?: string; readonly raw?: string | null; readonly hugeHeader?: number; readonly page?: boolean }): Expectation {
  // A malformed head is sent as it is: its Host, Origin and credential are not the spec's.
  if ((r.raw ?? null) !== null) return { mustRefuse: false, mustAdmit: false };
  const originBad = r.origin !== 'none' && r.origin !== 'own';
  const path = r.target === undefined ? null : pathOfTarget(r.target.replace('{port}', '1'));
  // Open without a credential (docs/security.md): GET/HEAD of /health and of the daemon's own
  // pages (`page`: a target the page site serves); /status is the API's report, never a page.
  const read = !r.upgrade && (r.method === 'GET' || r.method === 'HEAD');
  const open = read && (path === '/health' || (r.page === true && path !== '/status'));
  const good = GOOD_CRED.has(r.cred);
  const noCred = !good && r.cred !== 'badToken';
  const mustRefuse = !hostOk(r.host) || originBad || r.cred === 'badToken' || (noCred && r.origin !== 'own' && !open);
  const wellFormed = (r.hugeHeader ?? 0) < 15_000;
  const mustAdmit = !mustRefuse && good && hostOk(r.host) && !originBad && wellFormed;
  return { mustRefuse, mustAdmit };
}

/** Statuses that refuse a request before the API routes it (access, or Node's parser and timeouts). */
export const REFUSAL_STATUS = new Set([400, 401, 403, 408, 421, 431, 505]);

/**
 * The daemon's own pages as the daemon under test serves them (dist/web, daemon/main.ts): a
 * predicate for request targets, or one that is always false when the pages are not built.
 */
export async function daemonPages(): Promise<(target: string) => boolean> {
  try {
    const site = await openStaticSite({ root: defaultPagesRoot(), socketOrigins: [] });
    return (target) => site.owns(target);
  } catch {
    return () => false;
  }
}
