/**
 * Where the API listens (listen.ts): XFS4IoT's port range (docs/domain.md §7) — a configured port of
 * the range that is taken gives way to the next free one; a port outside it is that port or an error.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SILENT_LOGGER } from '../../core/logger.js';
import { ErrorCode } from '../../core/errors.js';
import type { ApiOptions } from './options.js';
import { XFS4IOT_PORTS, listenOn, portsToTry } from './listen.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** Hold `port` on 127.0.0.1 (false when something else has it already). */
function hold(port: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => {
      servers.push(s);
      resolve(true);
    });
  });
}

const opts = (port: number) => ({ host: '127.0.0.1', port }) as ApiOptions;

describe('the API port', () => {
  it('portsToTry: a port of the range first, then the rest of the range; any other port alone', () => {
    expect(portsToTry(5848)).toEqual([5848, 5846, 5847, 5849, 5850, 5851, 5852, 5853, 5854, 5855, 5856]);
    expect(portsToTry(5846)).toEqual(XFS4IOT_PORTS);
    expect(portsToTry(8080)).toEqual([8080]);
    expect(portsToTry(0)).toEqual([0]);
  });

  it('a configured port of the range that is taken: the server listens on another free port of the range', async () => {
    const taken = XFS4IOT_PORTS[0]!;
    await hold(taken); // held by us or by something else: taken either way
    const server = http.createServer();
    servers.push(server);
    await listenOn(server, opts(taken), SILENT_LOGGER);
    const port = (server.address() as net.AddressInfo).port;
    expect(XFS4IOT_PORTS).toContain(port);
    expect(port).not.toBe(taken);
  });

  it('a port outside the range that is taken: a clear error naming it, no other port tried', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    servers.push(probe);
    const port = (probe.address() as net.AddressInfo).port;
    const server = http.createServer();
    await expect(listenOn(server, opts(port), SILENT_LOGGER)).rejects.toMatchObject({ code: ErrorCode.Config_Invalid, text: { en: expect.stringContaining(`127.0.0.1:${port}: the address is in use`) as unknown } });
    expect(server.listening).toBe(false);
  });
});
