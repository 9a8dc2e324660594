/**
 * What must hold after bench:fuzz's traffic (docs/benchmarks.md, "bench:fuzz"; docs/security.md,
 * "A hostile client costs nothing"): the daemon alive and ready, no card operation left running,
 * the holder's PIN tries untouched, ReadBasic with the holder's data and the right PIN verifying.
 */
import type { Daemon } from '../daemon.js';
import { reasonOf } from '../errors.js';
import { sleep } from '../run.js';
import { commandOnce } from '../xfs-client.js';

/** The card's PIN (fixtures/cards/card-2.0.json) and holder, for the checks afterwards. */
const PIN = '123456';
const HOLDER = { socialSecurityNumber: '411082198503120038', name: '王志强' };

export interface Checks {
  readonly alive: boolean;
  readonly health: { readonly status: number; readonly ready: boolean | null; readonly reasons: unknown };
  readonly readBasic: { readonly completionCode: string; readonly holderMatches: boolean; readonly triesLeft: unknown };
  readonly cardBusyAfterMs: number | null;
  readonly triesLeft: unknown;
  readonly verifyPin: { readonly completionCode: string; readonly result: unknown };
}

/** What must hold after the traffic: alive, ready, ReadBasic with the holder's data, no flow left, tries untouched, the right PIN verifies. */
export async function checksAfter(d: Daemon, token: string): Promise<{ checks: Checks; failures: string[] }> {
  const failures: string[] = [];
  const alive = d.exitReason === undefined;
  if (!alive) failures.push(d.exitReason ?? 'the daemon exited');
  const get = (p: string) => fetch(`http://127.0.0.1:${d.port}${p}`, { headers: { authorization: `Bearer ${token}` } });
  let health: Checks['health'] = { status: 0, ready: null, reasons: null };
  try {
    const h = await get('/health');
    const body = (await h.json()) as { ready?: boolean; reasons?: unknown };
    health = { status: h.status, ready: body.ready ?? null, reasons: body.reasons ?? null };
  } catch (e) {
    failures.push(`/health: ${reasonOf(e)}`);
  }
  if (health.status !== 200 || health.ready !== true) failures.push(`/health answered ${health.status} ${JSON.stringify(health.reasons)}`);
  // Flows the traffic started let go within abortGraceMs (10 s) of its connections closing.
  const t0 = Date.now();
  let busyAfter: number | null = null;
  let triesLeft: unknown = null;
  try {
    for (;;) {
      const s = (await (await get('/status')).json()) as { readers: { busy: boolean }[]; card: { triesLeft: unknown } };
      triesLeft = s.card.triesLeft;
      if (!s.readers.some((r) => r.busy)) {
        busyAfter = Date.now() - t0;
        break;
      }
      if (Date.now() - t0 > 15_000) {
        failures.push('a card operation was still running 15 s after the traffic');
        break;
      }
      await sleep(100);
    }
  } catch (e) {
    failures.push(`/status: ${reasonOf(e)}`);
  }
  if (triesLeft !== 6) failures.push(`the card's PIN tries are ${JSON.stringify(triesLeft)}, not 6`);
  let readBasic: Checks['readBasic'] = { completionCode: 'not run', holderMatches: false, triesLeft: null };
  try {
    const rb = await commandOnce(d.port, token, 'SSCard.ReadBasic', {});
    const p = rb.payload ?? {};
    readBasic = { completionCode: rb.header.completionCode ?? rb.header.status ?? '?', holderMatches: p['socialSecurityNumber'] === HOLDER.socialSecurityNumber && p['name'] === HOLDER.name, triesLeft: p['triesLeft'] ?? null };
  } catch (e) {
    failures.push(`ReadBasic: ${reasonOf(e)}`);
  }
  if (readBasic.completionCode !== 'success' || !readBasic.holderMatches || readBasic.triesLeft !== 6) failures.push(`ReadBasic afterwards: ${JSON.stringify(readBasic)}`);
  let verifyPin: Checks['verifyPin'] = { completionCode: 'not run', result: null };
  try {
    let typed = false;
    const vp = await commandOnce(d.port, token, 'SSCard.VerifyPin', {}, (c, m) => {
      if (m.header.name !== 'SSCard.PinEntryStartedEvent' || typed) return;
      typed = true;
      for (const key of PIN) void c.command('Keyboard.TouchKey', { key });
    });
    const result = (vp.payload?.['result'] as { code?: string; triesLeft?: number } | undefined) ?? null;
    verifyPin = { completionCode: vp.header.completionCode ?? vp.header.status ?? '?', result: result === null ? null : { code: result.code, triesLeft: result.triesLeft } };
    if (verifyPin.completionCode !== 'success' || result?.code !== 'verify.ok') failures.push(`VerifyPin afterwards: ${JSON.stringify(verifyPin)}`);
  } catch (e) {
    failures.push(`VerifyPin: ${reasonOf(e)}`);
  }
  return { checks: { alive, health, readBasic, cardBusyAfterMs: busyAfter, triesLeft, verifyPin }, failures };
}
