/**
 * What every command module of the API builds its commands with (docs/api.md "Commands"): `def`,
 * which types a command's payload from its schema, and the payload pieces several commands share
 * (`token`, `reader`). It imports only types from commands.ts, so the command modules
 * (commands.ts, counter-commands.ts, log-commands.ts) load without a cycle.
 */
import { z } from 'zod';
import type { CommandDef, RunContext } from './commands.js';
import type { Outcome } from './protocol.js';

/** A command definition whose `run` gets the payload as its schema types it. */
export function def<S extends z.ZodType<Record<string, unknown>>>(d: Omit<CommandDef, 'payload' | 'run'> & { payload: S; run(ctx: RunContext, p: z.infer<S>): Promise<Outcome> }): CommandDef {
  return d;
}

/** An operator token given in the payload (docs/api.md "Operators"). */
export const token = z.string().min(1).max(1024).optional();

/** The reader a command is for: an exact name or a unique substring (docs/api.md "Sequencing"). */
export const reader = z.string().min(1, { error: 'fmt.reader' }).max(200, { error: 'fmt.reader' }).optional();
