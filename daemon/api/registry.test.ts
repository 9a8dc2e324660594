/**
 * The clients and their limits (registry.ts): maxClients, and the heartbeat that drops a
 * half-open client and aborts its flow.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { WebSocket as WsSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { ClientRegistry as ClientCredentialsRegistry } from '../auth/clients.js';
import { apiPerTest, captureLogger, until } from '../../testing/api-test-client.js';
import { ClientRegistry, type ApiConnection } from './registry.js';
import { LogThrottle } from './throttle.js';

const start = apiPerTest();

describe('client registry', () => {
  it('refuses clients over maxClients with 503 and takes them again when one leaves', async () => {
    const api = await start({ maxClients: 2 });
    const a = await api.connect();
    await api.connect();
    await expect(api.connect()).rejects.toThrow('HTTP 503');
    expect(api.server.clients()).toBe(2);
    a.close();
    await until(() => api.server.clients() === 1);
    await api.connect();
    expect(api.logger.entries.some((e) => e.level === 'warn' && e.message.includes('too many clients'))).toBe(true);
  });

  it('a half-open client (no pong) is dropped by the heartbeat and its flow aborted; answering clients stay', async () => {
    const api = await start({ heartbeatMs: 100 });
    const good = await api.connect();
    const dead = new WebSocket(`ws://127.0.0.1:${api.server.port}/xfs4iot/v1.0/sscard`, { autoPong: false });
    await new Promise((r) => dead.once('open', r));
    const closed = new Promise<void>((r) => dead.once('close', () => r()));
    dead.send(JSON.stringify({ header: { type: 'command', name: 'SSCard.VerifyPin', requestId: 1, version: '2.0' }, payload: {} }));
    await until(() => api.terminal.calls.some((c) => c.method === 'runService'));
    const signal = api.terminal.last('runService').signal;
    await closed;
    await until(() => signal.aborted);
    expect(api.logger.entries.some((e) => e.message.includes('heartbeat'))).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    expect((await good.command('Common.Status')).completion.header.completionCode).toBe('success');
  });
});

describe('an idle API has no timer (docs/benchmarks.md "Idle")', () => {
  it('the registry\'s heartbeat and clients-file look run only while a WebSocket client is connected', () => {
    const reg = new ClientRegistry({ maxClients: 4, maxConnectionsPerClient: 2, heartbeatMs: 100, clients: ClientCredentialsRegistry.of([]), clientsRefreshMs: 100, logger: captureLogger() });
    expect(reg.ticking).toBe(false);
    const socket = new EventEmitter() as unknown as Duplex;
    const ws = new EventEmitter() as unknown as WsSocket;
    const admitted = reg.admit('client:a', socket);
    if (typeof admitted === 'string') throw new Error(admitted);
    expect(reg.ticking).toBe(false);
    admitted.opened(ws, () => ({ id: 'c1', identity: 'client:a', clientHash: null, endpoint: 'service' }) as unknown as ApiConnection);
    expect(reg.ticking).toBe(true);
    (ws as unknown as EventEmitter).emit('close');
    expect(reg.ticking).toBe(false);
    reg.stop();
  });

  it('the log throttle\'s timer runs only while a window is open', async () => {
    const t = new LogThrottle(captureLogger(), { windowMs: 100 });
    expect(t.ticking).toBe(false);
    t.log('client:a', 'warn', 'refused', {}, 'origin');
    expect(t.ticking).toBe(true);
    await until(() => !t.ticking, 2000);
    t.close();
  });
});
