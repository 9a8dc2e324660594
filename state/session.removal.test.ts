/**
 * Card removal injected before and after each APDU of each flow: the session
 * ends safely (back to idle, a result and card.removed emitted), the outcome is `unknown` only when
 * the removed command was a state-changing one, a removal after a state-changing command is always
 * `unknown`, and no PIN try is ever spent without the holder's attempt (all flows use the right PIN).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Psam } from '../drivers/psam/psam.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import type { SimCommandEvent } from '../drivers/sim/sim-transport.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import type { Rig } from '../testing/services-rig.js';
import { createRig, leakText } from '../testing/services-rig.js';
import type { SessionConfig } from './session.js';
import type { ServiceKind } from './roles.js';

const rigs: Rig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.stop();
});

interface Flow {
  name: string;
  profile: string;
  kind: ServiceKind;
  config: SessionConfig;
  pins: string[];
}

const FLOWS: Flow[] = [
  { name: 'verify (2.0, T=0)', profile: 'card-2.0', kind: 'verify', config: { role: 'kiosk' }, pins: ['123456'] },
  { name: 'change (3.0)', profile: 'card-3.0', kind: 'change', config: { role: 'kiosk' }, pins: ['246810', '802461', '802461'] },
  { name: 'reset PBOC (2.0)', profile: 'card-2.0', kind: 'reset', config: { role: 'counter' }, pins: ['802461', '802461'] },
  { name: 'reset 3.0 form', profile: 'card-3.0', kind: 'reset', config: { role: 'counter' }, pins: ['802461', '802461'] },
  { name: 'unblock (locked)', profile: 'card-locked', kind: 'unblock', config: { role: 'counter' }, pins: ['802461', '802461'] },
  { name: 'activate (not activated)', profile: 'card-not-activated', kind: 'activate', config: { role: 'counter' }, pins: ['802461', '802461'] },
];

/** VERIFY with data, CHANGE/RELOAD PIN, PIN UNBLOCK / 3.0 RELOAD, APPLICATION UNBLOCK. */
function stateChanging(c: Buffer): boolean {
  const ins = c[1];
  if (ins === 0x20) return c.length > 5;
  return ins === 0x5e || ins === 0x24 || (ins === 0x18 && c[0] === 0x84);
}

async function start(flow: Flow, hook?: (e: SimCommandEvent, t: SimTransport, rig: () => Rig) => void) {
  const profile = await loadCardProfile(cardFixture(flow.profile));
  const vcard = new VirtualSsCard(profile);
  const ref: { rig?: Rig } = {};
  const commands: Buffer[] = [];
  const transport: SimTransport = new SimTransport(vcard, {
    onCommand: (e) => {
      if (e.phase === 'before') commands.push(Buffer.from(e.command));
      hook?.(e, transport, () => ref.rig!);
    },
  });
  const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
  await psam.open();
  const rig = await createRig({ transport: () => transport, psam, config: flow.config, idNumber: profile.holder.socialSecurityNumber, operatorId: 'op-1' });
  ref.rig = rig;
  rigs.push(rig);
  return { rig, vcard, commands, profile };
}

describe.each(FLOWS)('$name', (flow) => {
  it('removal before and after every APDU of the flow', async () => {
    // Baseline: which commands the flow sends after identification.
    const base = await start(flow);
    base.rig.actor.send({ type: 'CARD_INSERTED' });
    await base.rig.settle('identified');
    const first = base.commands.length;
    base.rig.pins.push(...flow.pins);
    base.rig.actor.send({ type: 'SELECT_SERVICE', kind: flow.kind });
    const end = await base.rig.settle('done');
    expect(end.context.result?.outcome).toBe('ok');
    const serviceCommands = base.commands.slice(first);
    expect(serviceCommands.some(stateChanging)).toBe(true);
    const firstChanging = serviceCommands.findIndex(stateChanging);
    const initialTries = (await loadCardProfile(cardFixture(flow.profile))).pinTriesLeft;

    let cases = 0;
    for (let i = 0; i < serviceCommands.length; i++) {
      for (const phase of ['before', 'after'] as const) {
        const target = first + i;
        let fired = false;
        const run = await start(flow, (e, t, rig) => {
          if (fired || e.index !== target || e.phase !== phase) return;
          fired = true;
          t.remove();
          queueMicrotask(() => rig().actor.send({ type: 'CARD_REMOVED' }));
        });
        run.rig.actor.send({ type: 'CARD_INSERTED' });
        await run.rig.settle('identified');
        run.rig.pins.push(...flow.pins);
        run.rig.actor.send({ type: 'SELECT_SERVICE', kind: flow.kind });
        await run.rig.settle('idle');
        const label = `${phase} command #${i} (${serviceCommands[i]!.subarray(0, 4).toString('hex')})`;
        expect(fired, label).toBe(true);
        const emittedTypes = run.rig.emitted.map((e) => e.type);
        expect(emittedTypes.slice(-2), label).toEqual(['result', 'card.removed']);
        const result = run.rig.emitted.filter((e) => e.type === 'result').at(-1) as { result: { outcome: string } };
        const changing = stateChanging(serviceCommands[i]!);
        if (result.result.outcome === 'unknown') expect(changing, `${label}: unknown only for a state-changing command`).toBe(true);
        if (changing && phase === 'after') expect(result.result.outcome, `${label}: the card changed, its answer was lost`).toBe('unknown');
        if (i < firstChanging) expect(result.result.outcome, `${label}: nothing was done`).not.toBe('ok');
        // No try spent without an attempt: every flow here enters the right PIN.
        expect(run.vcard.pinTriesLeft, label).toBeGreaterThanOrEqual(initialTries);
        for (const p of flow.pins) expect(leakText(run.rig), label).not.toContain(p);
        run.rig.stop();
        cases++;
      }
    }
    expect(cases).toBe(serviceCommands.length * 2);
  });
});
