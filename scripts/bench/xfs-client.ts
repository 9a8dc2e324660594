/**
 * A lean XFS4IoT client of the daemon's local API (docs/api.md) for the benches: one WebSocket of a
 * native client (a client token), commands matched to their completion by requestId, events handed
 * to the command's listener (test/helpers/daemon.ts's XfsClient without the message log).
 */
import WebSocket from 'ws';
import { SERVICE_PATH } from '../../daemon/api/gate.js';
import { step } from './run.js';

/** The command timeout the client asks of the daemon unless told otherwise. */
const CMD_TIMEOUT_MS = 30_000;

export interface Msg {
  readonly header: { readonly type: string; readonly name: string; readonly requestId: number | null; readonly status?: string | null; readonly completionCode?: string; readonly errorDescription?: string | null };
  readonly payload?: Record<string, unknown>;
}

/** One WebSocket connection of a native client; commands in flight matched by requestId. */
export class XfsClient {
  private nextId = 1;
  private readonly waiters = new Map<number, { done: (m: Msg) => void; onEvent?: ((m: Msg) => void) | undefined }>();

  private constructor(
    private readonly ws: WebSocket,
    private readonly commandTimeoutMs: number,
  ) {
    ws.on('message', (data: Buffer) => {
      let m: Msg;
      try {
        m = JSON.parse(data.toString('utf8')) as Msg;
      } catch {
        return;
      }
      const id = m.header.requestId;
      const w = id === null ? undefined : this.waiters.get(id);
      if (!w) return; // unsolicited, or not ours
      if (m.header.type === 'event') w.onEvent?.(m);
      else if (m.header.type === 'completion' || (m.header.type === 'acknowledge' && m.header.status != null)) {
        this.waiters.delete(id!);
        w.done(m);
      }
    });
    ws.on('close', () => {
      for (const [id, w] of [...this.waiters]) {
        this.waiters.delete(id);
        w.done({ header: { type: 'completion', name: '', requestId: id, completionCode: 'connectionClosed' } });
      }
    });
  }

  /**
   * `token`: a client token (docs/api.md "Who may talk to the daemon"), sent on the upgrade as a
   * native client does. `commandTimeoutMs`: the timeout each command asks of the daemon (30 s).
   * `path`: the endpoint, the shared service's unless given (a reader's: readerServicePath).
   */
  static async connect(port: number, token: string, commandTimeoutMs = CMD_TIMEOUT_MS, path = SERVICE_PATH): Promise<XfsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new XfsClient(ws, commandTimeoutMs);
  }

  command(name: string, payload: Record<string, unknown>, onEvent?: (m: Msg) => void): Promise<Msg> {
    const requestId = this.nextId++;
    const closed: Msg = { header: { type: 'completion', name, requestId, completionCode: 'connectionClosed' } };
    // ws drops a send on a closed socket silently: answer it here instead of waiting for ever.
    if (this.ws.readyState !== WebSocket.OPEN) return Promise.resolve(closed);
    return new Promise((resolve) => {
      // The daemon times the command out after commandTimeoutMs; this is for a daemon that no longer answers.
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        resolve({ header: { type: 'completion', name, requestId, completionCode: 'noAnswer' } });
      }, this.commandTimeoutMs + 5000);
      this.waiters.set(requestId, {
        done: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        onEvent,
      });
      this.ws.send(JSON.stringify({ header: { type: 'command', name, requestId, version: '2.0', timeout: this.commandTimeoutMs }, payload }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** "ReadBasic: invalidData E123": what a refusing acknowledge or a failed completion says. */
export function failure(what: string, m: Msg): string {
  const code = m.header.status ?? m.header.completionCode ?? '?';
  const detail = m.payload?.['sscardErrorCode'] ?? m.payload?.['errorCode'];
  const errorCode = typeof detail === 'string' ? ` ${detail}` : '';
  return `${what}: ${code}${errorCode}`;
}

/**
 * One command over a fresh connection of the client: its completion (or the refusing acknowledge),
 * or an error naming the step after `ms`. `onEvent` gets the client, to answer an event (type the
 * PIN on SSCard.PinEntryStartedEvent, e.g.).
 */
export async function commandOnce(port: number, token: string, name: string, payload: Record<string, unknown>, onEvent?: (c: XfsClient, m: Msg) => void, ms = 20_000): Promise<Msg> {
  const c = await step('WebSocket open', 10_000, XfsClient.connect(port, token, ms - 2000));
  try {
    return await step(name, ms, c.command(name, payload, onEvent === undefined ? undefined : (m) => onEvent(c, m)));
  } finally {
    c.close();
  }
}
