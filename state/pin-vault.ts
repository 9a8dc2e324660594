/**
 * Where entered PIN digits wait between the PIN pad and the card command, outside the machine: the
 * session machine only ever sees a slot name and a digit count (README "PIN secrecy": digits never
 * in context snapshots, events, logs, errors or results). The wiring (daemon/flows) creates one
 * vault per session and closes the PIN-entry and card-operation actors over it.
 *
 * Ownership: {@link PinVault.put} takes the Buffer (wiping any previous one in that slot);
 * {@link PinVault.take} hands it to the caller, who wipes it (the card operations do).
 */
import { wipe } from '../apdu/pin.js';

/** Which PIN a slot holds. */
export type PinSlot = 'pin' | 'oldPin' | 'newPin' | 'confirmPin';

export const PIN_SLOTS: readonly PinSlot[] = ['pin', 'oldPin', 'newPin', 'confirmPin'];

export interface PinVault {
  put(slot: PinSlot, digits: Buffer): void;
  /** Remove and return the digits; the caller wipes them. */
  take(slot: PinSlot): Buffer | undefined;
  /** Read without taking (for comparisons and the policy check); do not keep the reference. */
  peek(slot: PinSlot): Buffer | undefined;
  has(slot: PinSlot): boolean;
  /** Wipe one slot, or all of them. */
  wipe(slot?: PinSlot): void;
}

export function createPinVault(): PinVault {
  const slots = new Map<PinSlot, Buffer>();
  const drop = (slot: PinSlot): void => {
    wipe(slots.get(slot));
    slots.delete(slot);
  };
  return {
    put(slot, digits) {
      drop(slot);
      slots.set(slot, digits);
    },
    take(slot) {
      const b = slots.get(slot);
      slots.delete(slot);
      return b;
    },
    peek: (slot) => slots.get(slot),
    has: (slot) => slots.has(slot),
    wipe(slot) {
      if (slot !== undefined) drop(slot);
      else for (const s of [...slots.keys()]) drop(s);
    },
    // A vault that ends up in a log or a snapshot shows nothing but its slot names.
    toJSON: () => ({ slots: [...slots.keys()] }),
  } as PinVault;
}
