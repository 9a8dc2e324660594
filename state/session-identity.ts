/**
 * 收件 of the identity documents (state/session.ts `materials` and `agentDocument`): what one read
 * of the ID reader adds to the session — a material presented, or a refusal — and the event a
 * screen shows. Seed 001 line 59 and seed 000 lines 278–280 (受理标准 材料真实有效): a document
 * counts only while valid; seed 000 FAQ lines 349–353: the holder's own; state/agents.ts: an agent's
 * document is valid and not the holder's.
 */
import type { IdCardOwner, ReadIdCardOutput } from './actors.js';
import { agentRulesFor } from './catalog.js';
import { decideAgent, type AgentDecision } from './agents.js';
import { idCardValidity, terminalDate } from './id-card-validity.js';
import type { Material } from './materials.js';
import { results } from './results.js';
import { capability } from './roles.js';
import type { SessionContext, SessionEmitted } from './session-context.js';

/** The materials this flow checks at 收件: the agent rule's when someone applies for the holder, else the role's. */
export function requiredMaterials(ctx: SessionContext): readonly Material[] {
  if (ctx.agent !== undefined) {
    const d = agentDecision(ctx);
    if (d.allowed) return d.rule.materials;
  }
  return capability(ctx.config.role, ctx.kind!, ctx.config.offered).materials;
}

/** Whether the agent of this request may apply here (state/agents.ts); undefined without an agent. */
export function agentDecision(ctx: SessionContext): AgentDecision {
  return decideAgent({
    role: ctx.config.role,
    kind: ctx.kind!,
    basis: ctx.agent!.basis,
    rules: agentRulesFor(ctx.config.catalog, ctx.kind!),
    birthDate: ctx.card?.birthDate ?? '',
    today: ctx.config.now(),
  });
}

type IdUpdate = Pick<SessionContext, 'materials' | 'idRefusal' | 'agentIdentity'>;

/** What one read of the ID reader for `whose` adds to the context. */
export function applyIdRead(ctx: SessionContext, o: ReadIdCardOutput, whose: IdCardOwner): IdUpdate {
  const kind = ctx.kind!;
  const same = { materials: ctx.materials, idRefusal: ctx.idRefusal, agentIdentity: ctx.agentIdentity };
  if (!o.read) {
    if (o.reason === 'unsupported') return { ...same, idRefusal: results.identityUnsupported(kind) };
    if (o.reason === 'fault') return { ...same, idRefusal: results.idReaderFault(kind) };
    return same; // none placed: the material is missing (一次性告知 at materialsCheck)
  }
  if (whose === 'holder' && !o.matches) return { ...same, idRefusal: results.identityMismatch(kind) };
  if (whose === 'agent' && o.matches) return { ...same, idRefusal: results.agentIsHolder(kind) };
  if (idCardValidity(o.validTo, terminalDate(ctx.config.now())) !== 'valid') {
    return { ...same, idRefusal: results.identityExpired(kind, o.validTo, o.document, whose) };
  }
  if (whose === 'holder') return { ...same, materials: [...ctx.materials, 'residentIdCard'] };
  return {
    ...same,
    materials: [...ctx.materials, 'agentIdCard'],
    ...(o.person === undefined ? {} : { agentIdentity: { basis: ctx.agent!.basis, idNumber: o.person.idNumber, name: o.person.name } }),
  };
}

/** The `idCard.read` event of one read: never the number or the name. */
export function idReadEvent(ctx: SessionContext, o: ReadIdCardOutput, whose: IdCardOwner): Extract<SessionEmitted, { type: 'idCard.read' }> {
  if (!o.read) return { type: 'idCard.read', whose, read: false, matches: null, expired: null, ...(o.reason === undefined ? {} : { reason: o.reason }) };
  return { type: 'idCard.read', whose, read: true, matches: o.matches, expired: idCardValidity(o.validTo, terminalDate(ctx.config.now())) !== 'valid' };
}
