import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { XfsClient, commandOnce, failure } from './xfs-client.js';

/** A daemon stand-in: acknowledges, sends an event, then completes each command; `Hang` it never answers. */
async function server(): Promise<{ port: number; headers: (string | undefined)[]; sockets: WebSocket[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const headers: (string | undefined)[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws, req) => {
    headers.push(req.headers.authorization);
    sockets.push(ws);
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString('utf8')) as { header: { name: string; requestId: number; timeout?: number } };
      const { name, requestId } = m.header;
      if (name === 'Hang') return;
      const send = (type: string, extra: Record<string, unknown> = {}, payload?: Record<string, unknown>): void => ws.send(JSON.stringify({ header: { type, name, requestId, ...extra }, ...(payload ? { payload } : {}) }));
      send('acknowledge', { status: null });
      send('event', {}, { n: 1 });
      send('completion', { completionCode: name === 'Refused' ? 'unsupportedCommand' : 'success' }, { timeout: m.header.timeout ?? null });
    });
  });
  return { port: (wss.address() as AddressInfo).port, headers, sockets, close: () => new Promise((resolve) => wss.close(() => resolve())) };
}

describe('XfsClient', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('sends the token on the upgrade, hands events to the command and resolves with its completion', async () => {
    const s = await server();
    close = s.close;
    const c = await XfsClient.connect(s.port, 'sscc_token', 12_000);
    const events: unknown[] = [];
    const m = await c.command('Common.Status', {}, (e) => events.push(e.payload));
    expect(s.headers).toEqual(['Bearer sscc_token']);
    expect(m.header.completionCode).toBe('success');
    expect(m.payload).toEqual({ timeout: 12_000 });
    expect(events).toEqual([{ n: 1 }]);
    expect(failure('Status', (await c.command('Refused', {})))).toBe('Status: unsupportedCommand');
    c.close();
  });

  it('answers connectionClosed for a command in flight when the connection closes, and for one sent after', async () => {
    const s = await server();
    close = s.close;
    const c = await XfsClient.connect(s.port, 't');
    const pending = c.command('Hang', {});
    await new Promise((r) => setTimeout(r, 50));
    s.sockets[0]!.close();
    expect((await pending).header.completionCode).toBe('connectionClosed');
    expect((await c.command('Common.Status', {})).header.completionCode).toBe('connectionClosed');
  });

  it('commandOnce: one command on a fresh connection, the client passed to the event listener', async () => {
    const s = await server();
    close = s.close;
    let seen: XfsClient | undefined;
    const m = await commandOnce(s.port, 't', 'SSCard.ReadBasic', {}, (c) => (seen = c), 5000);
    expect(m.header.completionCode).toBe('success');
    expect(m.payload).toEqual({ timeout: 3000 });
    expect(seen).toBeInstanceOf(XfsClient);
    await expect(commandOnce(s.port, 't', 'Hang', {}, undefined, 2500)).rejects.toThrow('Hang: no answer within 2500 ms');
  });
});
