/**
 * The PIN pad and ID reader as xstate v5 actor logic, for the service machines (state/), which get
 * them passed in by name (`machine.provide({ actors: { verifyPin: verifyPinActor(pad, card) } })`)
 * and so never import a driver.
 *
 * - Input: the entry options (no callbacks: key events are emitted instead).
 * - Emitted: `pinpad.key` events ({@link PinKeyEvent}: count and mask only) — listen with `actor.on`.
 * - Output: the card's SW ({@link PadPinResult}) — digits never reach machine context or output.
 * - Stopping the actor (leaving the state) aborts its signal: the entry ends with PinPad_Cancelled /
 *   IdCard_Cancelled and what was typed is wiped. Errors are SsCardError (`onError` with a code guard).
 *
 * {@link pinEntryActor} returns the digits themselves (a Buffer); only for flows that must build
 * the command elsewhere, and then the machine must wipe it in the very next action.
 */
import { fromPromise } from 'xstate';
import type { IdCardInfo } from '../idcard/info.js';
import type { IdCardReader, WaitForCardOptions } from '../idcard/reader.js';
import type { CardTransport } from '../transport.js';
import type { PinEntryOptions, PinEntryResult, PinKeyEvent, PinPad, SecurePinOptions } from './pinpad.js';
import type { PadPinResult } from './verify.js';
import { changePinWithPad, verifyPinWithPad } from './verify.js';

export type PinEntryInput = Omit<PinEntryOptions, 'onKey'> | undefined;
export type PadPinInput = (SecurePinOptions & { readonly preferPlain?: boolean }) | undefined;

export function pinEntryActor(pad: PinPad) {
  return fromPromise<PinEntryResult, PinEntryInput, PinKeyEvent>(({ input, signal, emit }) => pad.enterPin({ ...(input ?? {}), onKey: (e) => emit(e) }, signal));
}

export function verifyPinActor(pad: PinPad, card: CardTransport) {
  return fromPromise<PadPinResult, PadPinInput, PinKeyEvent>(({ input, signal, emit }) =>
    verifyPinWithPad(pad, card, { ...(input ?? {}), onKey: ({ prompt: _p, ...e }) => emit(e) }, signal),
  );
}

export function changePinActor(pad: PinPad, card: CardTransport) {
  return fromPromise<PadPinResult, PadPinInput, PinKeyEvent>(({ input, signal, emit }) =>
    changePinWithPad(pad, card, { ...(input ?? {}), onKey: ({ prompt: _p, ...e }) => emit(e) }, signal),
  );
}

export function readIdCardActor(reader: IdCardReader) {
  return fromPromise<IdCardInfo, WaitForCardOptions | undefined>(({ input, signal }) => reader.waitForCard(input ?? {}, signal));
}
