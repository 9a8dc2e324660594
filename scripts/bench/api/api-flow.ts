/**
 * bench:api's flow over the daemon's local API (docs/benchmarks.md, "bench:api"): SSCard.ReadBasic,
 * then SSCard.VerifyPin with the PIN typed key by key (Keyboard.TouchKey, docs/api.md "Keyboard").
 */
import { sleep } from '../run.js';
import { failure } from '../xfs-client.js';
import type { XfsClient } from '../xfs-client.js';
import { PIN } from './config.js';

/**
 * ReadBasic, then VerifyPin with the PIN typed key by key on the reader's on-screen keypad.
 * `keyMs`, when given, gets each key's latency: from sending its Keyboard.TouchKey to the
 * SSCard.PinDigitsEvent that counts it (the screen's dot for that key, docs/api.md "Keyboard").
 */
export async function apiFlow(c: XfsClient, reader: string | undefined, keyMs?: number[]): Promise<string | undefined> {
  const where = reader === undefined ? {} : { reader };
  const rb = await c.command('SSCard.ReadBasic', where);
  if (rb.header.completionCode !== 'success') return failure('ReadBasic', rb);
  let typing: Promise<string | undefined> | undefined;
  /** When each key's TouchKey was sent (performance.now()), by the digit count it makes. */
  const sentAt: number[] = [];
  const vp = await c.command('SSCard.VerifyPin', where, (m) => {
    if (m.header.name === 'SSCard.PinDigitsEvent') {
      const count = m.payload?.['count'];
      const t0 = typeof count === 'number' ? sentAt[count - 1] : undefined;
      if (keyMs !== undefined && t0 !== undefined) keyMs.push(performance.now() - t0);
      return;
    }
    if (m.header.name !== 'SSCard.PinEntryStartedEvent' || typing !== undefined) return;
    typing = (async () => {
      for (const key of PIN) {
        sentAt.push(performance.now());
        const r = await c.command('Keyboard.TouchKey', { key, ...where });
        if (r.header.completionCode !== 'success') return failure('TouchKey', r);
      }
      return undefined;
    })();
  });
  const typed = typing === undefined ? 'VerifyPin: no PinEntryStartedEvent' : await typing;
  if (vp.header.completionCode !== 'success') return typed ?? failure('VerifyPin', vp);
  const code = (vp.payload?.['result'] as { code?: string } | undefined)?.code;
  if (code !== 'verify.ok') return `VerifyPin: success without verify.ok (${String(code)})`;
  return typed;
}

/** ReadBasic until it succeeds: the daemon has identified the card in that reader (≤ 15 s). */
export async function cardReady(c: XfsClient, reader: string | undefined): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const r = await c.command('SSCard.ReadBasic', reader === undefined ? {} : { reader });
    if (r.header.completionCode === 'success') return;
    if (Date.now() > end) throw new Error(`the daemon did not read the card in ${reader ?? 'its reader'} within 15 s: ${failure('ReadBasic', r)}`);
    await sleep(100);
  }
}
