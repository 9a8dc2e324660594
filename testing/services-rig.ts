/**
 * A test rig for the card session (state/session.ts) wired by daemon/flows over any card transport:
 * the in-process SimTransport (unit tests) or a PC/SC channel through pcscd + vpcd (e2e). PIN entry
 * goes through the development touchscreen pad, typed from a script when the machine asks.
 * Everything the machine emits and every snapshot is recorded so the tests can scan them for PINs.
 */
import { ErrorCode, SsCardError } from '../core/errors.js';
import { createActor, waitFor } from 'xstate';
import type { Actor, SnapshotFrom } from 'xstate';
import { SsseCard, type CardReadOptions } from '../drivers/card/ssse-card.js';
import type { IdCardInfo } from '../drivers/idcard/info.js';
import type { IdCardReader } from '../drivers/idcard/reader.js';
import { TouchPinPad } from '../drivers/pinpad/touch-pinpad.js';
import type { Psam } from '../drivers/psam/psam.js';
import type { CardTransport } from '../drivers/transport.js';
import { sessionImplementations } from '../daemon/flows/session-actors.js';
import type { Journal } from '../daemon/journal/journal.js';
import type { BankActivationInput } from '../state/actors.js';
import type { SessionConfig, SessionEmitted, SessionMachine } from '../state/session.js';
import { sessionMachine } from '../state/session.js';

export type SessionActor = Actor<SessionMachine>;
export type SessionSnapshot = SnapshotFrom<SessionMachine>;

export interface RigOptions {
  readonly transport: () => CardTransport;
  readonly psam?: Psam;
  readonly config: SessionConfig;
  /** The ID number on the ID card the holder presents (undefined: no ID card). */
  readonly idNumber?: string;
  /** That ID card's 有效期截止 (YYYY-MM-DD or 长期; default 长期). */
  readonly idValidTo?: string;
  /** The ID reader itself, in place of {@link fakeIdReader} over `idNumber` (e.g. several documents in turn). */
  readonly idReader?: IdCardReader;
  /** The card driver's options: a card-make profile's (drivers/card/card-profiles.ts). */
  readonly cardOptions?: CardReadOptions;
  readonly operatorId?: string;
  /** Type PINs automatically from {@link Rig.pins} (default true). */
  readonly autoType?: boolean;
  /** Where bank requests go (default: recorded in {@link Rig.bank}, ids bank-1, bank-2…). */
  readonly bankRequests?: (request: BankActivationInput) => Promise<string>;
  /** Journal every operation here (the daemon's write-ahead journal), as the daemon does. */
  readonly journal?: Journal;
}

export interface Rig {
  readonly actor: SessionActor;
  readonly pad: TouchPinPad;
  /** PINs to type, in order, one per PIN prompt. */
  readonly pins: string[];
  readonly emitted: SessionEmitted[];
  readonly snapshots: SessionSnapshot[];
  readonly bank: BankActivationInput[];
  type(pin: string): void;
  /** Wait until the machine rests in one of `states` (top-level names). */
  settle(...states: string[]): Promise<SessionSnapshot>;
  stop(): void;
}

/** One resident ID card as the fake readers give it: this number, valid until `validTo`, named `name`. */
export function fakeIdCardInfo(idNumber: string, validTo = '长期', name = 'test'): IdCardInfo {
  return { documentType: 'residentId', name, sex: '1', sexText: '男', nation: '01', nationText: '汉', birthDate: '', address: '', idNumber, idNumberValid: true, authority: '', validFrom: '', validTo, photo: Buffer.alloc(0) };
}

/**
 * An ID reader that answers each wait with the next of `answers`: a document, or an error it
 * rejects with (as drivers/idcard/reader.ts would); past the end, no card (IdCard_Timeout).
 */
export function sequenceIdReader(answers: readonly (IdCardInfo | Error)[]): IdCardReader {
  const queue = [...answers];
  const next = (): Promise<IdCardInfo> => {
    const a = queue.shift() ?? new SsCardError(ErrorCode.IdCard_Timeout, { zh: '没有放上身份证', en: 'no ID card was placed' });
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  return { ...fakeIdReader(undefined), readCard: next, waitForCard: next };
}

/** An ID card reader that answers with a card of this number (or none), valid until `validTo` (default 长期). Shared by the service tests. */
export function fakeIdReader(idNumber: string | undefined, validTo = '长期'): IdCardReader {
  const info = (n: string): IdCardInfo => fakeIdCardInfo(n, validTo);
  return {
    name: 'fake ID reader',
    connected: true,
    open: () => Promise.resolve(),
    close: () => Promise.resolve(),
    reset: () => Promise.resolve(),
    status: () => Promise.resolve(),
    samId: () => Promise.resolve('00'),
    // As drivers/idcard/reader.ts rejects when no card is laid on it.
    readCard: () => (idNumber === undefined ? Promise.reject(new SsCardError(ErrorCode.IdCard_NoCard, { zh: '读卡器上没有身份证', en: 'no ID card on the reader' })) : Promise.resolve(info(idNumber))),
    waitForCard: () => (idNumber === undefined ? Promise.reject(new SsCardError(ErrorCode.IdCard_Timeout, { zh: '没有放上身份证', en: 'no ID card was placed' })) : Promise.resolve(info(idNumber))),
    onStatus: () => () => {},
  };
}

export async function createRig(o: RigOptions): Promise<Rig> {
  const pad = new TouchPinPad({ allowTouchscreen: true });
  await pad.open();
  const bank: BankActivationInput[] = [];
  const impl = sessionImplementations({
    card: () => new SsseCard(o.transport(), o.cardOptions),
    ...(o.psam === undefined ? {} : { secureModule: o.psam }),
    ...(o.journal === undefined ? {} : { journal: o.journal }),
    pinPad: pad,
    idReader: o.idReader ?? fakeIdReader(o.idNumber, o.idValidTo),
    authenticateOperator: () => (o.operatorId === undefined ? Promise.reject(new Error('no operator')) : Promise.resolve(o.operatorId)),
    bankRequests: (r) => {
      bank.push(r);
      return o.bankRequests ? o.bankRequests(r) : Promise.resolve(`bank-${bank.length}`);
    },
  });
  const actor = createActor(sessionMachine.provide(impl), { input: o.config });
  const pins: string[] = [];
  const emitted: SessionEmitted[] = [];
  const snapshots: SessionSnapshot[] = [];
  const type = (pin: string): void => {
    for (const c of pin) pad.input(c);
  };
  actor.on('*', (e) => {
    emitted.push(e);
    if (e.type === 'pin.entryStarted' && o.autoType !== false) {
      const next = pins.shift();
      if (next !== undefined) setImmediate(() => type(next));
    }
  });
  actor.subscribe((s) => snapshots.push(s));
  actor.start();
  return {
    actor,
    pad,
    pins,
    emitted,
    snapshots,
    bank,
    type,
    settle: (...states) => waitFor(actor, (s) => states.some((st) => s.matches(st as never)), { timeout: 10_000 }),
    stop: () => actor.stop(),
  };
}

/** Everything a PIN could leak into: snapshots' context, emitted events, results. */
export function leakText(rig: Rig): string {
  return JSON.stringify({ snapshots: rig.snapshots.map((s) => ({ value: s.value, context: s.context })), emitted: rig.emitted });
}
