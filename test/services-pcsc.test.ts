/**
 * The model-based PIN lifecycle suite (state/session.model.test.ts) once more, end to end through
 * the real PC/SC stack: pcscd with vsmartcard's vpcd, the virtual card in "Virtual PCD 00 00" and
 * the test PSAM in "Virtual PCD 00 01", both behind PcscService channels. Same generated paths,
 * same check after every step: the machine's tries left equal the card's and the model's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PcscService } from '../drivers/pcsc/pcsc-service.js';
import { Psam } from '../drivers/psam/psam.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import { VPCD_PORT_PSAM, VpcdBridge } from '../drivers/sim/vpcd-bridge.js';
import type { CardTransport } from '../drivers/transport.js';
import { lifecyclePaths, pathEvents, runPath } from '../testing/services-model.js';
import type { Rig } from '../testing/services-rig.js';
import { createRig, leakText } from '../testing/services-rig.js';
import { CARD_READER, PSAM_READER, requireStack } from './helpers/stack.js';

let service: PcscService;
let psamBridge: VpcdBridge;
let psamChannel: CardTransport;
let psam: Psam;

beforeAll(async () => {
  await requireStack();
  service = new PcscService();
  service.start();
  await service.ready(5000);
  psamBridge = new VpcdBridge(await VirtualPsam.fromFile(psamFixture('psam-test')), { port: VPCD_PORT_PSAM });
  await psamBridge.insert();
  await service.waitForCard(PSAM_READER, 5000);
  psamChannel = await service.connect(PSAM_READER);
  psam = new Psam(psamChannel);
  await psam.open();
});

afterAll(async () => {
  await psamChannel?.close();
  await psamBridge?.remove();
  await service?.waitForRemoval(PSAM_READER, 5000).catch(() => undefined);
  await service?.stop();
});

const open: { rigs: Rig[]; bridges: VpcdBridge[]; channels: CardTransport[] } = { rigs: [], bridges: [], channels: [] };
afterEach(async () => {
  for (const r of open.rigs.splice(0)) r.stop();
  for (const c of open.channels.splice(0)) await c.close();
  for (const b of open.bridges.splice(0)) await b.remove();
  await service.waitForRemoval(CARD_READER, 5000);
});

const paths = lifecyclePaths();

describe('PIN lifecycle through pcscd + vpcd', () => {
  it.each(paths.map((p) => [pathEvents(p).map((e) => e.type).join(' → '), p] as const))('%s', async (_name, path) => {
    const profile = await loadCardProfile(cardFixture('card-not-activated'));
    const vcard = new VirtualSsCard(profile);
    const bridge = new VpcdBridge(vcard);
    open.bridges.push(bridge);
    await bridge.insert();
    await service.waitForCard(CARD_READER, 5000);
    const channel = await service.connect(CARD_READER);
    open.channels.push(channel);
    const rig = await createRig({
      transport: () => channel,
      psam,
      config: { role: 'financial-counter' },
      idNumber: profile.holder.socialSecurityNumber,
      operatorId: 'op-e2e',
    });
    open.rigs.push(rig);
    const events = pathEvents(path);
    let steps = 0;
    await runPath({ rig, cardTries: () => vcard.pinTriesLeft }, events, (modelTries, step) => {
      steps++;
      expect(rig.actor.getSnapshot().context.triesLeft, `after ${step}: machine vs card`).toBe(vcard.pinTriesLeft);
      expect(vcard.pinTriesLeft, `after ${step}: card vs model`).toBe(modelTries);
      expect(rig.actor.getSnapshot().context.result?.outcome, `after ${step}`).not.toBe('unknown');
    });
    expect(steps).toBe(events.length);
    for (const p of ['123456', '802461', '975318', '402953', '613870']) expect(leakText(rig)).not.toContain(p);
  });
});
