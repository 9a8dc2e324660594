/**
 * The API's options are checked eagerly (options.ts): each bad value is Input_BadOption naming the
 * option, before anything listens.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import { SILENT_LOGGER } from '../../core/logger.js';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';
import { assertSsCardError } from '../../testing/util.js';
import type { OperatorAuthPort, TerminalPort } from '../terminal/port.js';
import { checkOptions } from './options.js';
import type { ApiOptions } from './options.js';

const base: ApiOptions = { terminal: new FakeTerminal(), auth: new FakeOperatorAuth(), host: '127.0.0.1', port: 0, maxFrameBytes: 4096, maxClients: 2, logger: SILENT_LOGGER, version: 'x' };

describe('checkOptions', () => {
  it('accepts good options, TCP or a Unix socket', () => {
    expect(() => checkOptions(base)).not.toThrow();
    expect(() => checkOptions({ ...base, socket: '/run/sscard/api.sock', host: '', port: -1 })).not.toThrow();
  });

  it.each<[string, Partial<ApiOptions>]>([
    ['terminal', { terminal: {} as TerminalPort }],
    ['auth', { auth: {} as OperatorAuthPort }],
    ['socket', { socket: '' }],
    ['host', { host: '' }],
    ['port', { port: 70000 }],
    ['maxFrameBytes', { maxFrameBytes: 10 }],
    ['maxClients', { maxClients: 0 }],
    ['logger', { logger: {} as ApiOptions['logger'] }],
    ['abortGraceMs', { abortGraceMs: -1 }],
    ['heartbeatMs', { heartbeatMs: 1.5 }],
    ['maxConnectionsPerClient', { maxConnectionsPerClient: 0 }],
    ['headersTimeoutMs', { headersTimeoutMs: 10 }],
    ['allowedOrigins', { allowedOrigins: [1 as unknown as string] }],
    ['tls', { tls: { cert: 'x' } as ApiOptions['tls'] }],
    ['requestTimeoutMs', { headersTimeoutMs: 5000, requestTimeoutMs: 1000 }],
  ])('%s', (option, bad) => {
    const e = assertSsCardError(() => checkOptions({ ...base, ...bad }), ErrorCode.Input_BadOption);
    expect(e.message).toContain(`API option ${option}`);
  });
});
