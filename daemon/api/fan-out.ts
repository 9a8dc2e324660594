/**
 * Terminal events to the API's clients (docs/api.md, unsolicited events): card inserted / removed,
 * the card session's events and device changes go to every client of the service endpoint as
 * unsolicited messages — except a flow's own events, which its caller gets as the command's events.
 */
import type { Logger } from '../../core/logger.js';
import type { TerminalEvent, TerminalPort } from '../terminal/port.js';
import { sessionEvent, statusChangedPayload } from './commands.js';
import type { Connection } from './connection.js';
import type { Sequencer } from './context.js';
import { unsolicited } from './protocol.js';
import type { OutMessage } from './protocol.js';

/** Session events that belong to a running service flow. */
const FLOW_EVENTS: ReadonlySet<string> = new Set(['service.started', 'idCard.requested', 'idCard.read', 'pin.entryStarted', 'pin.digits', 'result']);

export interface FanOutDeps {
  readonly connections: ReadonlySet<Connection>;
  readonly sequencer: Sequencer;
  readonly terminal: TerminalPort;
  readonly logger: Logger;
}

/** The listener to subscribe to the terminal: it never throws (a failure is logged). */
export function terminalEventFanOut({ connections, sequencer, terminal, logger }: FanOutDeps): (e: TerminalEvent) => void {
  const broadcast = (msg: OutMessage) => {
    for (const c of connections) if (c.endpoint === 'service') c.send(msg);
  };
  return (e: TerminalEvent) => {
    try {
      switch (e.type) {
        case 'mediaInserted':
          return broadcast(unsolicited('CardReader.MediaInsertedEvent', { reader: e.reader, atr: e.atr }));
        case 'mediaRemoved':
          return broadcast(unsolicited('CardReader.MediaRemovedEvent', { reader: e.reader }));
        case 'session': {
          // A flow started through the API sends its own events (service started, PIN entry,
          // digit counts, result) to its caller as the command's events; every other client (a
          // technician watching, a second UI) sees them as unsolicited, and so does everyone when
          // the terminal started the flow itself. Card and session events always fan out.
          const m = sessionEvent(e.event);
          const msg = unsolicited(m.name, { reader: e.reader, ...m.payload });
          if (!FLOW_EVENTS.has(e.event.type)) return broadcast(msg);
          const callers = sequencer.serviceConnections();
          for (const c of connections) if (c.endpoint === 'service' && !callers.has(c.id)) c.send(msg);
          return;
        }
        case 'device': {
          let status = null;
          try {
            status = terminal.status();
          } catch (err) {
            logger.warn('terminal.status() failed while reporting a device change', { error: err instanceof Error ? err.message : String(err) });
          }
          return broadcast(unsolicited('Common.StatusChangedEvent', statusChangedPayload(e, status)));
        }
      }
    } catch (err) {
      logger.error('API could not fan out a terminal event', { type: (e as { type?: unknown }).type, error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined });
    }
  };
}
