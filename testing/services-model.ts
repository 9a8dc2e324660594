/**
 * The PIN lifecycle as an abstract xstate model: a card starts not activated;
 * activate sets a PIN with 6 tries; VERIFY ok restores 6, a failure spends one, the 6th locks it;
 * a locked card is only unblocked; change and reset (forgotten PIN) restore the tries.
 * @xstate/graph generates the paths; each path is run step by step against the real session
 * machine and a virtual card behind any transport, and after every step the machine's tries left,
 * the card's and the model's must agree.
 */
import { createTestModel } from '@xstate/graph';
import { assign, setup } from 'xstate';
import type { ServiceKind } from '../state/roles.js';
import type { Rig } from './services-rig.js';

export const TRY_LIMIT = 6;

export type LifecycleEvent = { type: 'ACTIVATE' } | { type: 'VERIFY_OK' } | { type: 'VERIFY_FAIL' } | { type: 'CHANGE' } | { type: 'RESET' } | { type: 'UNBLOCK' };

export const lifecycleModel = setup({
  types: { context: {} as { tries: number }, events: {} as LifecycleEvent },
}).createMachine({
  id: 'pinLifecycle',
  context: { tries: TRY_LIMIT },
  initial: 'notActivated',
  states: {
    notActivated: { on: { ACTIVATE: { target: 'active', actions: assign({ tries: TRY_LIMIT }) } } },
    active: {
      always: { guard: ({ context }) => context.tries === 0, target: 'locked' },
      on: {
        VERIFY_OK: { actions: assign({ tries: TRY_LIMIT }) },
        VERIFY_FAIL: { target: 'active', reenter: true, actions: assign({ tries: ({ context }) => context.tries - 1 }) },
        CHANGE: { actions: assign({ tries: TRY_LIMIT }) },
        RESET: { actions: assign({ tries: TRY_LIMIT }) },
      },
    },
    locked: { on: { UNBLOCK: { target: 'active', actions: assign({ tries: TRY_LIMIT }) } } },
  },
});

/** Paths through the lifecycle: every simple path from the not-activated card (no state visited twice). */
export function lifecyclePaths() {
  const model = createTestModel(lifecycleModel);
  const all: LifecycleEvent[] = [{ type: 'ACTIVATE' }, { type: 'VERIFY_OK' }, { type: 'VERIFY_FAIL' }, { type: 'CHANGE' }, { type: 'RESET' }, { type: 'UNBLOCK' }];
  // Only the events the model accepts in a state: an ignored event is not a step.
  return model.getSimplePaths({ events: (state) => all.filter((e) => state.can(e)) });
}

const NEW_PINS = ['802461', '975318', '402953', '613870', '530972', '704185'];

export interface LifecycleHarness {
  readonly rig: Rig;
  /** The virtual card's tries left (read from the device, not through the session). */
  readonly cardTries: () => number;
}

/**
 * Run one generated path: the card is inserted once; each event is one service in the same
 * session (done → next service). `check` runs after every step with the model's tries.
 */
export async function runPath(h: LifecycleHarness, events: readonly LifecycleEvent[], check: (modelTries: number, step: string) => void): Promise<void> {
  const { rig } = h;
  let pin = '123456';
  let next = 0;
  const newPin = (): string => NEW_PINS[next++ % NEW_PINS.length]!;
  let tries = TRY_LIMIT;
  rig.actor.send({ type: 'CARD_INSERTED' });
  await rig.settle('identified', 'ended');
  for (const e of events) {
    let kind: ServiceKind;
    switch (e.type) {
      case 'ACTIVATE':
        kind = 'activate';
        pin = newPin();
        rig.pins.push(pin, pin);
        tries = TRY_LIMIT;
        break;
      case 'VERIFY_OK':
        kind = 'verify';
        rig.pins.push(pin);
        tries = TRY_LIMIT;
        break;
      case 'VERIFY_FAIL':
        kind = 'verify';
        rig.pins.push(pin === '000000' ? '999999' : '000000');
        tries -= 1;
        break;
      case 'CHANGE': {
        kind = 'change';
        const p = newPin();
        rig.pins.push(pin, p, p);
        pin = p;
        tries = TRY_LIMIT;
        break;
      }
      case 'RESET':
        kind = 'reset';
        pin = newPin();
        rig.pins.push(pin, pin);
        tries = TRY_LIMIT;
        break;
      case 'UNBLOCK':
        kind = 'unblock';
        pin = newPin();
        rig.pins.push(pin, pin);
        tries = TRY_LIMIT;
        break;
    }
    rig.actor.send({ type: 'SELECT_SERVICE', kind });
    await rig.settle('done', 'ended');
    check(tries, e.type);
  }
}

/** The events of a generated path (the graph also lists the machine's own `xstate.init` as a first step). */
export function pathEvents(path: { steps: readonly { event: LifecycleEvent }[] }): LifecycleEvent[] {
  return path.steps.map((s) => s.event).filter((e) => (e.type as string) !== 'xstate.init');
}
