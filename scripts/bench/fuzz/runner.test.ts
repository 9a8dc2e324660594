/**
 * The runner against the real API server over the fake terminal (testing/api-test-client.ts): a run
 * that the server answers correctly reports no anomaly while the holder's tries stay untouched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApi } from '../../../testing/api-test-client.js';
import type { TestApi } from '../../../testing/api-test-client.js';
import { FAKE_READER } from '../../../testing/fake-terminal.js';
import { runFuzz } from './runner.js';

describe('a run against the API over the fake terminal', () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('1500 messages: every refusal kind shows, no anomaly, nothing typed a PIN, every command got its answer', async () => {
    api = await startTestApi({ allowUnauthenticatedLoopback: false, maxFrameBytes: 4096, maxClients: 16, maxConnectionsPerClient: 8, abortGraceMs: 500 });
    const report = await runFuzz({ host: '127.0.0.1', port: api.server.port, token: api.clientToken, maxFrameBytes: 4096, reader: FAKE_READER }, { seed: 1, messages: 1500, deadlineMs: 20_000, answerTimeoutMs: 5000 });
    expect(report.anomalies).toEqual({ count: 0, byKind: {}, examples: [] });
    expect(report.messages).toBe(1500);
    for (const k of ['ws ack invalidMessage', 'ws completion invalidData', 'ws completion unsupportedCommand', 'ws close 1009', 'http 401', 'http 403', 'http 421', 'upgrade 401', 'upgrade 403']) expect(report.refusals[k], k).toBeGreaterThan(0);
    expect(report.acceptedCommands).toBeGreaterThan(0);
    expect(api.terminal.pinTriesLeft).toBe(6);
    expect(api.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  }, 60_000);
});
