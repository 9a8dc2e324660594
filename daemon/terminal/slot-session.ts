/**
 * A card slot's session: the card session machine (state/session.ts) with its actors wired by
 * daemon/flows/session-actors.ts over the slot's channel, the slot's PIN pad, the ID reader, the
 * journal and the PSAM (read when used: it may come and go while the slot lives). Its events go to
 * the terminal's subscribers; results and identifications are logged (card number masked).
 */
import type { Logger } from '../../core/logger.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { maskCardNumber } from '../../core/mask.js';
import { bi } from '../../core/text.js';
import { createActor } from 'xstate';
import { profileFor, type CardMakeProfile } from '../../drivers/card/card-profiles.js';
import { SsseCard } from '../../drivers/card/ssse-card.js';
import type { IdCardReader } from '../../drivers/idcard/reader.js';
import type { Psam } from '../../drivers/psam/psam.js';
import type { ServiceResult } from '../../state/results.js';
import type { Role, ServiceKind } from '../../state/roles.js';
import type { SessionConfig } from '../../state/session.js';
import { sessionMachine } from '../../state/session.js';
import type { SessionDeps } from '../flows/session-actors.js';
import { pinEntryOf, sessionImplementations } from '../flows/session-actors.js';
import type { Journal } from '../journal/journal.js';
import type { ServiceItem } from '../../state/catalog.js';
import type { CardSlot, SessionActor } from './card-slot.js';
import type { TerminalEvent } from './port.js';

export interface SlotSessionOptions {
  readonly role: Role;
  readonly services: readonly ServiceKind[];
  readonly session: Omit<SessionConfig, 'role' | 'offered'> | undefined;
  readonly idReader: IdCardReader | undefined;
  readonly journal: Journal | undefined;
  /** The service catalog the flows report under (state/catalog.ts). */
  readonly catalog: readonly ServiceItem[];
  /** Card-make profiles; the card's is chosen by its ATR when it is identified (drivers/card/card-profiles.ts). */
  readonly cardProfiles: readonly CardMakeProfile[];
  /** The PSAM now (none: undefined). */
  readonly psam: () => Psam | undefined;
  readonly log: Logger;
  readonly emit: (e: TerminalEvent) => void;
  /** Called after every service result (the simulator saves the virtual card's state). */
  readonly onResult: ((reader: string, result: ServiceResult) => void) | undefined;
  /** The terminal's clock: its local date decides whether a card is past its 卡有效期 (default Date.now). */
  readonly now?: () => number;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The slot's session actor, started. */
export function startSlotSession(slot: CardSlot, o: SlotSessionOptions): SessionActor {
  const name = slot.name;
  const deps: SessionDeps = {
    card: () => {
      if (slot.channel === undefined) throw new SsCardError(ErrorCode.Pcsc_NotConnected, bi('读卡器未连接到卡片', 'the reader is not connected to the card'), { reader: name });
      const profile = profileFor(o.cardProfiles, slot.atr ?? slot.channel.atr);
      return new SsseCard(slot.channel, { ...profile.read, reload: profile.reload });
    },
    pinPad: slot.pad,
    ...(o.idReader === undefined ? {} : { idReader: o.idReader }),
    authenticateOperator: () =>
      slot.operatorId === undefined
        ? Promise.reject(new SsCardError(ErrorCode.Auth_Required, bi('此业务需要经办人员登录', 'this service needs an operator to log in')))
        : Promise.resolve(slot.operatorId),
    ...(o.journal === undefined ? {} : { journal: o.journal }),
    catalog: o.catalog,
    logger: o.log,
    ...(o.now === undefined ? {} : { now: o.now }),
  };
  // Read when used: the PSAM may come and go while the slot lives.
  Object.defineProperty(deps, 'secureModule', { get: o.psam, enumerable: true });
  const session: SessionConfig = { ...o.session, role: o.role, offered: o.services, pinEntry: pinEntryOf(slot.pad) };
  const actor = createActor(sessionMachine.provide(sessionImplementations(deps)), { input: session });
  actor.on('*', (event) => {
    o.emit({ type: 'session', reader: name, event });
    if (event.type === 'result') {
      o.log.info('service result', { reader: name, kind: event.result.kind, code: event.result.code, outcome: event.result.outcome, triesLeft: event.result.triesLeft });
      try {
        o.onResult?.(name, event.result);
      } catch (e) {
        o.log.error('result hook failed', { message: message(e) });
      }
    } else if (event.type === 'card.identified') {
      o.log.info('card identified', { reader: name, card: maskCardNumber(event.cardNumber), profile: event.profile, spec: event.specVersion, triesLeft: event.triesLeft, state: event.cardState, authentic: event.authentic, expired: event.expired });
    }
  });
  actor.subscribe({ error: (e) => o.log.error('card session failed', { reader: name, message: message(e) }) });
  actor.start();
  return actor;
}
