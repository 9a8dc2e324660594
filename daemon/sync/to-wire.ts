/**
 * A journal row as the platform receives it (docs/sync-protocol.md "Push operations"): the
 * terminal's side of the wire, with the card identity in clear, masked (core/mask.ts) or left out.
 *
 * The one place the house's words meet the wire's: a role (state/roles.ts) and a material
 * (state/materials.ts) are translated here and nowhere else (docs/architecture.md "Layers": translate
 * at most once, at a wire that needs other words). Kinds, outcomes and card states are the same
 * words on both sides; the types below check that they stay so.
 */
import type { Material } from '../../state/materials.js';
import type { Role } from '../../state/roles.js';
import { maskIdentity } from '../journal/identity.js';
import type { CardIdentity } from '../journal/identity.js';
import type { BankRequestWithIdentity, RowWithIdentity } from '../journal/journal.js';
import type { IdentityMode, WireAgent, WireBankRequest, WireCard, WireMaterial, WireOperation, WireRole } from './wire.js';

/** The wire's word for each role. */
export const ROLE_TO_WIRE: Readonly<Record<Role, WireRole>> = Object.freeze({
  kiosk: 'self-service',
  counter: 'window',
  'financial-counter': 'financial-window',
});

/** The wire's word for each material. */
export const MATERIAL_TO_WIRE: Readonly<Record<Material, WireMaterial>> = Object.freeze({
  socialSecurityCard: 'social-security-card',
  residentIdCard: 'resident-id-card',
  agentIdCard: 'agent-id-card',
  powerOfAttorney: 'power-of-attorney',
  householdRegister: 'household-register',
});

const wireMaterials = (list: readonly Material[]): WireMaterial[] => list.map((m) => MATERIAL_TO_WIRE[m]);

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
    role: ROLE_TO_WIRE[row.role],
    state: row.state === 'interrupted' ? 'interrupted' : 'completed',
    outcome: row.outcome ?? 'unknown',
    reason: row.reason,
    lastSw: row.lastSw === null ? null : row.lastSw.toString(16).toUpperCase().padStart(4, '0'),
    triesLeft: row.triesLeft,
    cardState: row.cardState,
    materials: wireMaterials(row.materials),
    missing: wireMaterials(row.missing),
    startedAt: new Date(row.startedAt).toISOString(),
    finishedAt: new Date(row.finishedAt ?? row.startedAt).toISOString(),
    reconciles: row.reconciles,
    card,
    agent: wireAgent(r, mode),
  };
}

/** The wire's word for an agent's basis (state/agents.ts). */
const BASIS_TO_WIRE = { powerOfAttorney: 'power-of-attorney', guardianship: 'guardianship' } as const;

function wireAgent(r: RowWithIdentity, mode: IdentityMode): WireAgent | null {
  const masked = r.row.agent;
  if (masked === null) return null;
  const basis = BASIS_TO_WIRE[masked.basis];
  if (mode === 'full' && r.agent !== undefined && r.agent !== null) return { basis, idNumber: r.agent.idNumber, name: r.agent.name, masked: false };
  if (mode === 'masked') return { basis, idNumber: masked.idNumber, name: masked.name, masked: true };
  return { basis, idNumber: null, name: null, masked: true };
}

/**
 * A pending bank request as the platform receives it (docs/sync-protocol.md "Push bank requests"):
 * the card and holder in full whatever the `identity` setting of operations — the bank activates the
 * account of that card and holder, and nothing masked can do that. No PIN, key or APDU data: the
 * journal's bank_requests table holds none.
 */
export function bankRequestToWire(r: BankRequestWithIdentity): WireBankRequest {
  const { row } = r;
  return {
    id: row.id,
    operationId: row.operationId,
    terminalId: row.terminalId,
    operatorId: row.operatorId,
    requestedAt: new Date(row.createdAt).toISOString(),
    card: { ...wireCard(r.identity, false), masked: false },
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

