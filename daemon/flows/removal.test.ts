/**
 * A card taken out around a state-changing command, with the daemon's wiring (session machine,
 * daemon/flows actors, the real journal) over the in-process simulator:
 * - taken out before the command went (found by the presence probe right before VERIFY, by the
 *   GET CHALLENGE right before RELOAD PIN, or seen by the session while the pending row was
 *   written): the flow ends card.removed, the pending row is completed failed / card-removed,
 *   nothing is left to reconcile, and no PIN command reached the card;
 * - taken out after the command reached the card: operation.unknown, the row waits for the card
 *   and is reconciled when it is identified again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { Journal } from '../journal/journal.js';
import { SsseCard } from '../../drivers/card/ssse-card.js';
import { TouchPinPad } from '../../drivers/pinpad/touch-pinpad.js';
import { Psam } from '../../drivers/psam/psam.js';
import { cardFixture, loadCardProfile, psamFixture } from '../../drivers/sim/profile.js';
import type { SimCommandEvent } from '../../drivers/sim/sim-transport.js';
import { SimTransport } from '../../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../../drivers/sim/virtual-psam.js';
import type { ServiceKind } from '../../state/roles.js';
import type { SessionConfig, SessionEmitted } from '../../state/session.js';
import { sessionMachine } from '../../state/session.js';
import { fakeIdReader } from '../../testing/services-rig.js';
import { sessionImplementations } from './session-actors.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** VERIFY with the PIN (the presence probe `00 20 00 00` carries none), CHANGE/RELOAD PIN, PIN UNBLOCK, APP UNBLOCK. */
function stateChanging(c: Buffer): boolean {
  const ins = c[1];
  if (ins === 0x20) return c.length > 4;
  return ins === 0x5e || ins === 0x24 || (ins === 0x18 && c[0] === 0x84);
}
const isProbe = (c: Buffer): boolean => c[1] === 0x20 && c.length === 4;

interface Env {
  readonly transport: SimTransport;
  readonly vcard: VirtualSsCard;
  readonly journal: Journal;
  readonly cardId: string;
  readonly commands: Buffer[];
  readonly emitted: SessionEmitted[];
  readonly actor: ReturnType<typeof createActor<typeof sessionMachine>>;
  /** PINs to type, one per PIN prompt. */
  readonly pins: string[];
  /** Take the card out as a person does: the transport fails at once, the session hears of it `afterMs` later (pcscd's poll). */
  pull(afterMs?: number): void;
}

async function setup(o: { profile: string; config: SessionConfig; hook?: (e: SimCommandEvent, env: Env) => void; journalHook?: (env: Env) => void }): Promise<Env> {
  const profile = await loadCardProfile(cardFixture(o.profile));
  const vcard = new VirtualSsCard(profile);
  const dir = mkdtempSync(path.join(tmpdir(), 'sscard-removal-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const journal = Journal.open({ path: path.join(dir, 'journal.sqlite'), keyFile: path.join(dir, 'journal.key'), terminalId: 'kiosk-01' });
  cleanups.push(() => journal.close());
  const ref: { env?: Env } = {};
  const commands: Buffer[] = [];
  const transport = new SimTransport(vcard, {
    onCommand: (e) => {
      if (e.phase === 'before') commands.push(Buffer.from(e.command));
      if (ref.env !== undefined) o.hook?.(e, ref.env);
    },
  });
  const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
  await psam.open();
  const pad = new TouchPinPad({ allowTouchscreen: true });
  await pad.open();
  // The journal as the wiring sees it; a hook may act right after the pending row is written.
  const watched = new Proxy(journal, {
    get(target, key, receiver) {
      if (key !== 'beginOperation') return Reflect.get(target, key, receiver) as unknown;
      return (...args: Parameters<Journal['beginOperation']>) => {
        const id = target.beginOperation(...args);
        if (ref.env !== undefined) o.journalHook?.(ref.env);
        return id;
      };
    },
  });
  const impl = sessionImplementations({
    card: () => new SsseCard(transport),
    secureModule: psam,
    pinPad: pad,
    idReader: fakeIdReader(profile.holder.socialSecurityNumber),
    authenticateOperator: () => Promise.resolve('op-1'),
    journal: watched,
  });
  const actor = createActor(sessionMachine.provide(impl), { input: o.config });
  const emitted: SessionEmitted[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  cleanups.push(() => actor.stop());
  const pins: string[] = [];
  actor.on('pin.entryStarted', () => {
    const pin = pins.shift();
    if (pin !== undefined) setImmediate(() => [...pin].forEach((k) => pad.input(k)));
  });
  const env: Env = {
    transport,
    vcard,
    journal,
    cardId: profile.issuer.cardId,
    commands,
    emitted,
    actor,
    pins,
    pull: (afterMs = 30) => {
      transport.remove();
      setTimeout(() => actor.send({ type: 'CARD_REMOVED' }), afterMs);
    },
  };
  ref.env = env;
  return env;
}

/** Identify the card and run `kind`; every case here takes the card out, so the session ends back in idle. */
async function runService(env: Env, kind: ServiceKind, pins: string[]) {
  env.actor.send({ type: 'CARD_INSERTED' });
  await waitFor(env.actor, (s) => s.matches('identified'), { timeout: 10_000 });
  env.pins.push(...pins);
  const first = env.commands.length;
  env.actor.send({ type: 'SELECT_SERVICE', kind });
  await waitFor(env.actor, (s) => s.matches('idle'), { timeout: 10_000 });
  const result = env.emitted.filter((e) => e.type === 'result').at(-1) as { result: { code: string; outcome: string } } | undefined;
  return { result: result?.result, sent: env.commands.slice(first) };
}

describe('taken out before the state-changing command went: card.removed, nothing to reconcile', () => {
  it('verify: the presence probe right before VERIFY finds the card gone (the session not told yet)', async () => {
    let armed = true;
    const env = await setup({
      profile: 'card-2.0',
      config: { role: 'kiosk' },
      hook: (e, x) => {
        if (armed && e.phase === 'before' && isProbe(e.command) && x.actor.getSnapshot().matches({ service: 'sendVerify' })) {
          armed = false;
          x.pull();
        }
      },
    });
    const { result, sent } = await runService(env, 'verify', ['123456']);
    expect(result).toMatchObject({ code: 'card.removed', outcome: 'cancelled' });
    expect(env.emitted.slice(-2).map((e) => e.type)).toEqual(['result', 'card.removed']);
    expect(sent.some(stateChanging)).toBe(false);
    expect(env.vcard.pinTriesLeft).toBe(6);
    const rows = env.journal.list();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'verify', state: 'completed', outcome: 'failed', reason: 'card-removed' });
    expect(env.journal.findUnreconciled(env.cardId)).toEqual([]);
  });

  it('verify: the session hears of the removal while the pending row is written; nothing more is even tried', async () => {
    const tried: Buffer[] = [];
    const env = await setup({
      profile: 'card-2.0',
      config: { role: 'kiosk' },
      journalHook: (x) => {
        x.transport.remove();
        x.actor.send({ type: 'CARD_REMOVED' });
        const transmit = x.transport.transmit.bind(x.transport);
        vi.spyOn(x.transport, 'transmit').mockImplementation((c, o) => {
          tried.push(Buffer.from(c));
          return transmit(c, o);
        });
      },
    });
    const { result, sent } = await runService(env, 'verify', ['123456']);
    expect(result).toMatchObject({ code: 'card.removed' });
    expect(sent.some(stateChanging)).toBe(false);
    expect(tried).toEqual([]);
    expect(env.journal.list()[0]).toMatchObject({ state: 'completed', outcome: 'failed', reason: 'card-removed' });
    expect(env.journal.findUnreconciled(env.cardId)).toEqual([]);
  });

  it('change: the probe before CHANGE PIN finds the card gone', async () => {
    let armed = true;
    const env = await setup({
      profile: 'card-3.0',
      config: { role: 'kiosk' },
      hook: (e, x) => {
        if (armed && e.phase === 'before' && isProbe(e.command) && x.actor.getSnapshot().matches({ service: 'sendChange' })) {
          armed = false;
          x.pull();
        }
      },
    });
    const { result, sent } = await runService(env, 'change', ['246810', '802461', '802461']);
    expect(result).toMatchObject({ code: 'card.removed' });
    expect(sent.some(stateChanging)).toBe(false);
    expect(env.vcard.toProfile().pin.toString()).toBe('246810');
    expect(env.journal.list()[0]).toMatchObject({ kind: 'change', outcome: 'failed', reason: 'card-removed' });
    expect(env.journal.findUnreconciled(env.cardId)).toEqual([]);
  });

  it('reset: the GET CHALLENGE right before RELOAD PIN finds the card gone (no probe needed)', async () => {
    let armed = true;
    const env = await setup({
      profile: 'card-2.0',
      config: { role: 'counter' },
      hook: (e, x) => {
        if (armed && e.phase === 'before' && e.command[1] === 0x84 && x.actor.getSnapshot().matches({ service: 'sendReload' })) {
          armed = false;
          x.pull();
        }
      },
    });
    const { result, sent } = await runService(env, 'reset', ['802461', '802461']);
    expect(result).toMatchObject({ code: 'card.removed' });
    expect(sent.some(stateChanging)).toBe(false);
    expect(sent.some(isProbe)).toBe(false);
    expect(env.journal.list()[0]).toMatchObject({ kind: 'reset', outcome: 'failed', reason: 'card-removed' });
    expect(env.journal.findUnreconciled(env.cardId)).toEqual([]);
  });
});

describe('taken out after the command reached the card: unknown, reconciled when the card is back', () => {
  it('verify: the answer lost, the try spent; re-identified, the row is reconciled from the card', async () => {
    let armed = true;
    const env = await setup({
      profile: 'card-2.0',
      config: { role: 'kiosk' },
      hook: (e, x) => {
        if (armed && e.phase === 'after' && stateChanging(e.command)) {
          armed = false;
          x.pull();
        }
      },
    });
    const { result } = await runService(env, 'verify', ['111111']);
    expect(result).toMatchObject({ code: 'operation.unknown', outcome: 'unknown' });
    expect(env.vcard.pinTriesLeft).toBe(5);
    const [row] = env.journal.list();
    expect(row).toMatchObject({ state: 'completed', outcome: 'unknown' });
    expect(env.journal.findUnreconciled(env.cardId).map((r) => r.id)).toEqual([row!.id]);
    // The card comes back: identification re-reads it and reconciles the row first.
    env.transport.insert();
    env.actor.send({ type: 'CARD_INSERTED' });
    await waitFor(env.actor, (s) => s.matches('identified'), { timeout: 10_000 });
    expect(env.journal.findUnreconciled(env.cardId)).toEqual([]);
    expect(env.journal.list().find((r) => r.reconciles === row!.id)).toMatchObject({ state: 'completed', triesLeft: 5 });
  });
});
