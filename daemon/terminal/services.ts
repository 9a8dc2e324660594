/**
 * The card services through a slot's session: an API request for a service sends SELECT_SERVICE
 * and waits for the session's `result` event; aborting the request sends CANCEL, which the machine
 * ignores once the state-changing command is on its way (it then runs to its end). Ending a
 * session cancels its flow and waits for it to end — on the slot's release, not on a tick.
 */
import type { Logger } from '../../core/logger.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import type { ServiceResult } from '../../state/results.js';
import { results } from '../../state/results.js';
import type { SessionEmitted } from '../../state/session.js';
import type { CardSlot } from './card-slot.js';
import type { CardSlots } from './card-slots.js';
import type { ServiceRequest } from './port.js';

/** How long ending a session waits for its flow to end (ms). */
export const END_SESSION_WAIT_MS = 15_000;

/** Run one service on its slot to its result (TerminalPort.runService). */
export async function runService(slots: CardSlots, log: Logger, request: ServiceRequest, onEvent: (event: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult> {
  const slot = slots.slotFor(request.reader);
  const unlock = slot.lock(request.kind);
  try {
    if (slot.dirty && slot.present) await slot.reidentify(() => slots.connect(slot));
    const snap = await slot.identified(request.waitForCardMs ?? 0, signal);
    if (snap.matches('ended')) {
      // A session that ended (timeout, unreadable card) keeps the card until it is taken out.
      const r = snap.context.result;
      if (r?.code === 'psam.unavailable') {
        throw new SsCardError(ErrorCode.Psam_Missing, bi('终端的 PSAM 卡暂不可用，无法读取此卡：请联系技术人员', 'the terminal\'s PSAM is not available, so the card cannot be read: call a technician'), { reader: slot.name });
      }
      if (r?.code === 'card.unreadable') {
        throw new SsCardError(ErrorCode.Card_NotSsse, bi('无法读取此卡：请确认插入的是社会保障卡，并正确插卡', 'the card cannot be read: check that it is a social security card, inserted the right way'), { reader: slot.name });
      }
      throw new SsCardError(ErrorCode.Flow_Refused, bi('本次办理已结束：请取出社保卡后重新插入', 'this session has ended: take the card out and insert it again'), { reader: slot.name });
    }
    slot.operatorId = request.operatorId;
    return await serviceResult(slot, log, request, onEvent, signal);
  } finally {
    slot.operatorId = undefined;
    unlock();
  }
}

function serviceResult(slot: CardSlot, log: Logger, request: ServiceRequest, onEvent: (event: SessionEmitted) => void, signal: AbortSignal): Promise<ServiceResult> {
  return new Promise<ServiceResult>((resolve) => {
    let started = false;
    const sub = slot.actor.on('*', (e) => {
      if (e.type === 'service.started') started = true;
      if (!started) return;
      try {
        onEvent(e);
      } catch (x) {
        log.error('event callback failed', { message: x instanceof Error ? x.message : String(x) });
      }
      if (e.type === 'result') finish(e.result);
    });
    const onAbort = (): void => slot.actor.send({ type: 'CANCEL' });
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (r: ServiceResult): void => {
      sub.unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    log.info('service requested', { reader: slot.name, kind: request.kind, operator: request.operatorId, ...(request.agent === undefined ? {} : { agent: request.agent.basis }) });
    slot.actor.send({
      type: 'SELECT_SERVICE',
      kind: request.kind,
      ...(request.phones === undefined ? {} : { phones: request.phones }),
      ...(request.agent === undefined ? {} : { agent: request.agent }),
    });
    const snap = slot.actor.getSnapshot();
    if (!started && !snap.matches('service') && !snap.matches('removed')) {
      // The machine did not take the request (e.g. its card went in the meantime).
      finish(snap.context.result ?? results.cardRemoved(request.kind));
    }
    if (signal.aborted) onAbort();
  });
}

/** End the slot's session: cancel its flow and wait (at most {@link END_SESSION_WAIT_MS}) for it to end. */
export async function endSession(slots: CardSlots, reader: string | undefined): Promise<void> {
  const slot = slots.slotFor(reader);
  if (slot.busy !== undefined) slot.actor.send({ type: 'CANCEL' });
  await slots.whenFree(END_SESSION_WAIT_MS, [slot]);
}
