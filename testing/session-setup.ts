/**
 * The session machine over the simulator, as the state/ tests drive it: machine.provide with the
 * daemon/flows wiring, SimTransport + VirtualSsCard + VirtualPsam, the development touchscreen pad.
 */
import { Psam } from '../drivers/psam/psam.js';
import type { CardProfile } from '../drivers/sim/profile.js';
import { cardFixture, loadCardProfile, psamFixture } from '../drivers/sim/profile.js';
import type { SimCommandEvent } from '../drivers/sim/sim-transport.js';
import { SimTransport } from '../drivers/sim/sim-transport.js';
import type { PhoneAccess } from '../drivers/sim/virtual-card.js';
import { VirtualSsCard } from '../drivers/sim/virtual-card.js';
import { VirtualPsam } from '../drivers/sim/virtual-psam.js';
import type { ServiceKind } from '../state/roles.js';
import type { SessionConfig, SessionEvent } from '../state/session.js';
import type { Rig, RigOptions } from './services-rig.js';
import { createRig } from './services-rig.js';

const rigs: Rig[] = [];

/** Stop every rig {@link setup} made (a test file's afterEach). */
export function stopRigs(): void {
  for (const r of rigs.splice(0)) r.stop();
}

export interface Setup {
  profile: string;
  change?: Partial<CardProfile>;
  /** Who may read the card's phone (the virtual card's default: a verified PIN). */
  phoneAccess?: PhoneAccess;
  bankRequests?: RigOptions['bankRequests'];
  config: SessionConfig;
  /** An ID number, or 'holder' for the card holder's own. */
  idNumber?: string;
  /** That ID card's 有效期截止 (default 长期). */
  idValidTo?: string;
  operatorId?: string;
  autoType?: boolean;
  hook?: (e: SimCommandEvent) => void;
  journal?: RigOptions['journal'];
  idReader?: RigOptions['idReader'];
  cardOptions?: RigOptions['cardOptions'];
}

export async function setup(s: Setup) {
  const profile = { ...(await loadCardProfile(cardFixture(s.profile))), ...s.change };
  const vcard = new VirtualSsCard(profile, s.phoneAccess === undefined ? {} : { phoneAccess: s.phoneAccess });
  const commands: Buffer[] = [];
  const transport = new SimTransport(vcard, {
    onCommand: (e) => {
      if (e.phase === 'before') commands.push(Buffer.from(e.command));
      s.hook?.(e);
    },
  });
  const psam = new Psam(new SimTransport(await VirtualPsam.fromFile(psamFixture('psam-test'))));
  await psam.open();
  const rig = await createRig({
    transport: () => transport,
    psam,
    config: s.config,
    ...(s.idNumber === undefined ? {} : { idNumber: s.idNumber === 'holder' ? profile.holder.socialSecurityNumber : s.idNumber }),
    ...(s.idValidTo === undefined ? {} : { idValidTo: s.idValidTo }),
    ...(s.operatorId === undefined ? {} : { operatorId: s.operatorId }),
    ...(s.autoType === undefined ? {} : { autoType: s.autoType }),
    ...(s.bankRequests === undefined ? {} : { bankRequests: s.bankRequests }),
    ...(s.journal === undefined ? {} : { journal: s.journal }),
    ...(s.idReader === undefined ? {} : { idReader: s.idReader }),
    ...(s.cardOptions === undefined ? {} : { cardOptions: s.cardOptions }),
  });
  rigs.push(rig);
  return { rig, vcard, transport, profile, commands };
}

export async function run(rig: Rig, kind: ServiceKind, pins: string[], extra: Omit<Extract<SessionEvent, { type: 'SELECT_SERVICE' }>, 'type' | 'kind'> = {}) {
  rig.actor.send({ type: 'CARD_INSERTED' });
  await rig.settle('identified', 'ended');
  rig.pins.push(...pins);
  rig.actor.send({ type: 'SELECT_SERVICE', kind, ...extra });
  const s = await rig.settle('done', 'ended');
  return s.context.result!;
}

