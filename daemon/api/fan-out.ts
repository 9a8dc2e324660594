/**
 * Terminal events to the API's clients (docs/api.md, unsolicited events), in the kinds and payloads
 * of XFS4IoT (docs/domain.md §7; xfs-spec.ts): a card inserted is the `CardReader.MediaInsertedEvent`
 * of the card operation waiting for it (an event of that command) and, for everyone, a
 * `Common.StatusChangedEvent` with the changed `cardReader.media`; a card taken out is the
 * unsolicited `CardReader.MediaRemovedEvent`; a device change is a `Common.StatusChangedEvent` with
 * what changed in Status, and a device failing also a `Common.ErrorEvent`. The card session's
 * events go to every client of the service endpoint as unsolicited messages — except a flow's own
 * events, which its caller gets as the command's events. A client of one reader's endpoint
 * (gate.ts) gets that reader's card and session events, not the other readers'; Status changes
 * and device errors are the terminal's, for everyone.
 */
import type { Logger } from '../../core/logger.js';
import { oneLine } from '../../core/text.js';
import type { TerminalEvent, TerminalPort } from '../terminal/port.js';
import { sessionEvent } from './commands.js';
import { statusChangedPayload, statusPayload } from './status-payload.js';
import type { ApiConnection } from './registry.js';
import type { Sequencer } from './context.js';
import { unsolicited } from './protocol.js';
import type { OutMessage } from './protocol.js';

/** Session events that belong to a running service flow. */
const FLOW_EVENTS: ReadonlySet<string> = new Set(['service.started', 'idCard.requested', 'idCard.read', 'pin.entryStarted', 'pin.digits', 'result']);

export interface FanOutDeps {
  readonly connections: ReadonlySet<ApiConnection>;
  readonly sequencer: Sequencer;
  readonly terminal: TerminalPort;
  readonly logger: Logger;
}

/** The listener to subscribe to the terminal: it never throws (a failure is logged). */
export function terminalEventFanOut({ connections, sequencer, terminal, logger }: FanOutDeps): (e: TerminalEvent) => void {
  const broadcast = (msg: OutMessage) => {
    for (const c of connections) if (c.endpoint === 'service') c.send(msg);
  };
  /** To the shared endpoint's clients and `reader`'s own, except `skip`'s. */
  const toReader = (reader: string, msg: OutMessage, skip?: ReadonlySet<string>) => {
    for (const c of connections) if (c.endpoint === 'service' && (c.reader === null || c.reader === reader) && skip?.has(c.id) !== true) c.send(msg);
  };
  /** The Status last told to the clients, for what changed. */
  let told: Record<string, unknown> | null = null;
  const statusNow = (): Record<string, unknown> | null => {
    try {
      return statusPayload(terminal.status());
    } catch (err) {
      logger.warn('terminal.status() failed while reporting a change', { error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  };
  /** Tell what changed in Status; `media`: the event's word on the card, which the report may not have caught up with. */
  const statusChanged = (media: 'present' | 'notPresent' | undefined, device?: Extract<TerminalEvent, { type: 'device' }>): void => {
    const now = statusNow();
    if (now === null) return;
    if (media !== undefined) now['cardReader'] = { ...(now['cardReader'] as Record<string, unknown>), media, chipPower: media === 'present' ? 'online' : 'noCard' };
    const payload = statusChangedPayload(now, told, device);
    told = now;
    broadcast(unsolicited('Common.StatusChangedEvent', payload));
  };
  return (e: TerminalEvent) => {
    try {
      switch (e.type) {
        case 'mediaInserted':
          // CardReader/Events/MediaInsertedEvent_g.cs has no payload (nor has MediaRemovedEvent): the reader is in SSCard.CardInsertedEvent.
          for (const h of sequencer.holdersFor(e.reader)) if (h.service) h.event?.('CardReader.MediaInsertedEvent', {});
          return statusChanged('present');
        case 'mediaRemoved':
          toReader(e.reader, unsolicited('CardReader.MediaRemovedEvent', {}));
          return statusChanged('notPresent');
        case 'session': {
          // A flow started through the API sends its own events (service started, PIN entry,
          // digit counts, result) to its caller as the command's events; every other client (a
          // technician watching, a second UI) sees them as unsolicited, and so does everyone when
          // the terminal started the flow itself. Card and session events always fan out.
          const m = sessionEvent(e.event);
          const msg = unsolicited(m.name, { reader: e.reader, ...m.payload });
          return toReader(e.reader, msg, FLOW_EVENTS.has(e.event.type) ? sequencer.serviceConnections() : undefined);
        }
        case 'device': {
          statusChanged(undefined, e);
          // A device that failed (Common/Events/ErrorEvent_g.cs): hardware, for maintenance.
          if (!e.connected && e.problem !== null) broadcast(unsolicited('Common.ErrorEvent', { eventId: 'hardware', action: 'maintenance', vendorDescription: oneLine(e.problem), sscardComponent: e.component }));
          return;
        }
      }
    } catch (err) {
      logger.error('API could not fan out a terminal event', { type: (e as { type?: unknown }).type, error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
    }
  };
}
