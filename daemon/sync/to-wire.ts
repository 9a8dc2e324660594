/**
 * A journal row as the platform receives it (docs/sync-protocol.md "Push operations"): the
 * terminal's side of the wire, with the card identity in clear, masked (core/mask.ts) or left out.
 */
import { maskIdentity } from '../journal/identity.js';
import type { CardIdentity } from '../journal/identity.js';
import type { RowWithIdentity } from '../journal/journal.js';
import type { IdentityMode, WireCard, WireOperation } from './wire.js';

export function toWire(r: RowWithIdentity, mode: IdentityMode): WireOperation {
  const { row } = r;
  let card: WireCard | null = null;
  if (mode === 'full' && r.identity !== null) card = wireCard(r.identity, false);
  else if (mode === 'masked' && row.card !== null) card = { ...row.card, masked: true };
  return {
    id: row.id,
    terminalId: row.terminalId,
    operatorId: row.operatorId,
    serviceItem: row.serviceItem,
    kind: row.kind,
    role: row.role,
    state: row.state === 'interrupted' ? 'interrupted' : 'completed',
    outcome: row.outcome ?? 'unknown',
    reason: row.reason,
    lastSw: row.lastSw === null ? null : row.lastSw.toString(16).toUpperCase().padStart(4, '0'),
    triesLeft: row.triesLeft,
    cardState: row.cardState,
    materials: row.materials,
    missing: row.missing,
    startedAt: new Date(row.startedAt).toISOString(),
    finishedAt: new Date(row.finishedAt ?? row.startedAt).toISOString(),
    reconciles: row.reconciles,
    card,
  };
}

function wireCard(id: CardIdentity, masked: boolean): WireCard {
  const m = masked ? maskIdentity(id) : undefined;
  return {
    cardId: m?.cardId ?? id.cardId,
    cardNumber: m ? m.cardNumber : (id.cardNumber ?? null),
    socialSecurityNumber: m ? m.socialSecurityNumber : (id.socialSecurityNumber ?? null),
    name: m ? m.name : (id.name ?? null),
    masked,
  };
}

// ---- validation of what comes over the wire ----

