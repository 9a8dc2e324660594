/**
 * The counter's own commands (docs/api.md "Counter"): `IdCard.Read` — the resident ID card,
 * masked, compared with the card in the slot — and `SSCard.Operations` — this terminal's journal
 * rows, masked. Both expose personal data (an ID card, journal rows), so both are privileged: a live
 * operator, and journaled with the operator like every privileged call (docs/security.md; docs/api.md
 * "Operators"). Each is bounded: the ID card wait by `waitMs` (≤ 60 s), the rows by `limit` (≤ 200).
 *
 * Built with command-kit.ts; only types come from commands.ts (it lists these in SERVICE_COMMANDS),
 * so the two modules never wait for each other when they load.
 */
import { z } from 'zod';
import { idCardExpiredText } from '../../state/id-card-validity.js';
import { IDENTITY_MISMATCH } from '../../state/results.js';
import { MAX_ID_WAIT_MS, MAX_OPERATIONS } from '../terminal/counter-reads.js';
import { def, reader, token } from './command-kit.js';
import type { CommandDef } from './commands.js';
import { idDocumentText } from '../../drivers/idcard/info.js';


/** Default number of rows SSCard.Operations answers. */
export const DEFAULT_OPERATIONS = 50;

export const COUNTER_COMMANDS: readonly CommandDef[] = [
  def({
    name: 'IdCard.Read',
    payload: z.strictObject({ waitMs: z.int().min(0).max(MAX_ID_WAIT_MS).optional(), reader, token }),
    cardOp: false,
    privilege: 'always',
    async run(ctx, p) {
      const r = await ctx.api.terminal.readIdCard({ ...(p.waitMs === undefined ? {} : { waitMs: p.waitMs }), ...(p.reader === undefined ? {} : { reader: p.reader }) }, ctx.signal);
      const stop = ctx.stopped();
      if (stop !== null) return stop;
      const payload: Record<string, unknown> = {
        read: r.read,
        idCard:
          r.idCard === null
            ? null
            : { documentType: r.idCard.documentType, nameMasked: r.idCard.nameMasked, idNumberMasked: r.idCard.idNumberMasked, idNumberValid: r.idCard.idNumberValid, validFrom: r.idCard.validFrom, validTo: r.idCard.validTo },
        matchesCard: r.matchesCard,
        cardNumberMasked: r.cardNumberMasked,
      };
      if (r.matchesCard === false) payload['mismatch'] = { zh: IDENTITY_MISMATCH.zh, en: IDENTITY_MISMATCH.en };
      // The words a service gives for it (identity.expired): 受理标准 材料真实有效, seed 001 line 59.
      if (r.expiredOn !== undefined) payload['expired'] = { ...idCardExpiredText(r.expiredOn, r.idCard === null ? undefined : idDocumentText(r.idCard.documentType)) };
      return { code: 'success', payload };
    },
  }),
  def({
    name: 'SSCard.Operations',
    payload: z.strictObject({ since: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(), limit: z.int().min(1).max(MAX_OPERATIONS).optional(), token }),
    cardOp: false,
    privilege: 'always',
    run(ctx, p) {
      const rows = ctx.api.terminal.operations({ limit: p.limit ?? DEFAULT_OPERATIONS, ...(p.since === undefined ? {} : { since: p.since }) });
      return Promise.resolve({
        code: 'success',
        payload: {
          operations: rows.map((r) => ({
            id: r.id,
            kind: r.kind,
            itemCode: r.itemCode,
            state: r.state,
            outcome: r.outcome,
            reason: r.reason,
            startedAt: r.startedAt,
            endedAt: r.endedAt,
            cardNumberMasked: r.cardNumberMasked,
            synced: r.syncState === 'synced',
            syncState: r.syncState,
            operatorId: r.operatorId,
            bankRequest: r.bankRequest,
            agent: r.agent,
          })),
        },
      });
    },
  }),
];
