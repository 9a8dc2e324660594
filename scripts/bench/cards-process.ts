/**
 * The card side of the benches (bench:api, bench:apdu, bench:fuzz; started by cards.ts), in its own
 * process (forked with an IPC channel): one VirtualSsCard (loaded fresh from its profile) per card
 * slot and the VirtualPsam, each a VpcdBridge client of its vpcd port. Running the cards here rather than in the bench process
 * keeps the comparison fair: the driver baseline (in the bench process) and the daemon (its own
 * process) both talk to the same card process over the same pcscd.
 *
 * Messages from the parent:
 *   { type: 'insert', host, cardPorts, psamPort, card, psam }  → { type: 'inserted' } | { type: 'error', message }
 *   { type: 'counts' }                                        → { type: 'counts', card: number, psam: number, errors: number }
 *   { type: 'cardsOut' } / { type: 'cardsIn' }                → { type: 'moved' } once vpcd has the cards out / in again
 *                                                               (the same cards, their state kept; the PSAM stays; bench:web)
 *   { type: 'remove' }                                        → { type: 'removed' }, then the process ends
 * The cards are taken out and the process ends when the parent goes away.
 */
import { loadPsamProfile } from '../../drivers/sim/profile.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import { VpcdBridge } from '../../drivers/sim/vpcd-bridge.js';

export type CardsRequest =
  | { readonly type: 'insert'; readonly host: string; readonly cardPorts: readonly number[]; readonly psamPort: number; readonly card: string; readonly psam: string }
  | { readonly type: 'counts' }
  | { readonly type: 'cardsOut' }
  | { readonly type: 'cardsIn' }
  | { readonly type: 'remove' };

export type CardsReply =
  | { readonly type: 'inserted' }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'counts'; readonly card: number; readonly psam: number; readonly errors: number }
  | { readonly type: 'moved' }
  | { readonly type: 'removed' };

const bridges: VpcdBridge[] = [];
/** The card bridges (not the PSAM's), for cardsOut / cardsIn. */
const cardBridges: VpcdBridge[] = [];
let cardApdus = 0;
let psamApdus = 0;
let errors = 0;

function reply(m: CardsReply): void {
  process.send?.(m);
}

async function removeAll(): Promise<void> {
  await Promise.all(bridges.splice(0).map((b) => b.remove().catch(() => undefined)));
}

async function insert(r: Extract<CardsRequest, { type: 'insert' }>): Promise<void> {
  const psamProfile = await loadPsamProfile(r.psam);
  const psam = new VpcdBridge(new VirtualPsam(psamProfile), { host: r.host, port: r.psamPort, minAbsentMs: 0 });
  psam.on('apdu', () => psamApdus++);
  psam.on('error', () => errors++);
  bridges.push(psam);
  for (const port of r.cardPorts) {
    // A fresh card per slot: its own PIN tries and security state.
    const b = new VpcdBridge(await VirtualSsCard.fromFile(r.card), { host: r.host, port, minAbsentMs: 0 });
    b.on('apdu', () => cardApdus++);
    b.on('error', () => errors++);
    bridges.push(b);
    cardBridges.push(b);
  }
  await Promise.all(bridges.map((b) => b.insert()));
}

process.on('message', (m: CardsRequest) => {
  switch (m.type) {
    case 'insert':
      insert(m).then(
        () => reply({ type: 'inserted' }),
        (e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
      );
      return;
    case 'counts':
      reply({ type: 'counts', card: cardApdus, psam: psamApdus, errors });
      return;
    case 'cardsOut':
    case 'cardsIn':
      Promise.all(cardBridges.map((b) => (m.type === 'cardsOut' ? b.remove() : b.insert()))).then(
        () => reply({ type: 'moved' }),
        (e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
      );
      return;
    case 'remove':
      void removeAll().then(() => {
        reply({ type: 'removed' });
        process.disconnect?.();
        process.exit(0);
      });
      return;
  }
});

// The bench went away (ended, killed): take the cards out and end.
process.on('disconnect', () => {
  void removeAll().then(() => process.exit(0));
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void removeAll().then(() => process.exit(0));
  });
}
