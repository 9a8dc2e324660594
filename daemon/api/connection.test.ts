/**
 * One client's connection (connection.ts): cancel, timeouts, sequencing of card operations,
 * disconnects, and operators (login, privileged calls, the role decides first).
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';
import { apiPerTest, login, until } from '../../testing/api-test-client.js';

const PIN = '147258';

const start = apiPerTest();

describe('cancel, timeout, sequencing, disconnect', () => {
  it('Common.Cancel cancels the listed commands (canceled) and reports ids not running', async () => {
    const api = await start();
    const c = await api.connect();
    const id = c.send('SSCard.VerifyPin');
    await c.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const cancel = await c.command('Common.Cancel', { requestIds: [id, 999] });
    expect(cancel.completion.header.completionCode).toBe('success');
    expect(cancel.completion.payload).toEqual({ sscardCanceled: [id], sscardNotRunning: [999] });
    const r = await c.result(id);
    expect(r.completion.header.completionCode).toBe('canceled');
    expect(r.completion.header.errorDescription).toBe('命令已取消 / the command was cancelled');
    expect(api.terminal.last('runService').signal.aborted).toBe(true);
  });

  it('Common.Cancel naming only ids that are not running: commandErrorCode noMatchingRequestIDs (Common/Completions/Cancel_g.cs)', async () => {
    const api = await start();
    const c = await api.connect();
    const none = await c.command('Common.Cancel', { requestIds: [41, 42] });
    expect(none.completion.header.completionCode).toBe('commandErrorCode');
    expect(none.completion.payload).toEqual({ errorCode: 'noMatchingRequestIDs', sscardErrorCode: 'noMatchingRequestIDs', sscardCanceled: [], sscardNotRunning: [41, 42] });
  });

  it('Common.Cancel without ids cancels all of this client’s commands, not another client’s', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    const pin = a.send('Keyboard.PinEntry', { minLen: 4, maxLen: 6 });
    await until(() => api.terminal.calls.some((x) => x.method === 'pinEntry'));
    const fromB = await b.command('Common.Cancel');
    expect(fromB.completion.payload).toEqual({ sscardCanceled: [], sscardNotRunning: [] });
    expect(api.terminal.last('pinEntry').signal.aborted).toBe(false);
    const fromA = await a.command('Common.Cancel');
    expect(fromA.completion.payload).toEqual({ sscardCanceled: [pin], sscardNotRunning: [] });
    expect((await a.result(pin)).completion.header.completionCode).toBe('canceled');
  });

  it('a header timeout cancels the command: timeOut, the terminal signal aborted', async () => {
    const api = await start();
    const c = await api.connect();
    const t0 = Date.now();
    const r = await c.command('SSCard.VerifyPin', {}, { timeout: 150 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(r.completion.header.completionCode).toBe('timeOut');
    expect(r.completion.header.errorDescription).toContain('timed out after 150 ms');
    expect(api.terminal.last('runService').signal.aborted).toBe(true);
    expect(api.terminal.last('runService').signal.reason).toMatchObject({ name: 'TimeoutError' });
  });

  it('one card operation at a time per reader: a second from another client is sequenceError at once; Status runs alongside', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    const id = a.send('SSCard.VerifyPin');
    await a.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    for (const [name, payload] of [
      ['SSCard.ReadBasic', {}],
      ['SSCard.ChangePin', {}],
    ] as const) {
      const r = await b.command(name, payload);
      expect(r.completion.header.completionCode, name).toBe('sequenceError');
      expect(r.completion.payload).toEqual({ sscardErrorCode: 'api.sequenceError' });
    }
    expect(api.terminal.calls.filter((x) => x.method !== 'runService')).toEqual([]);
    expect((await b.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect((await b.command('Operator.Logout')).completion.header.completionCode).toBe('success');
    for (const k of [...PIN, 'enter']) expect((await b.command('Keyboard.TouchKey', { key: k })).completion.header.completionCode).toBe('success');
    expect((await a.result(id)).completion.header.completionCode).toBe('success');
  });

  it('a card operation on another reader is not held back by the API (the terminal decides per slot)', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    const id = a.send('SSCard.VerifyPin');
    await a.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const r = await b.command('SSCard.ReadBasic', { reader: 'Other Reader 01' });
    expect(r.completion.payload?.['errorCode']).not.toBe('api.sequenceError');
    expect(api.terminal.calls.some((x) => x.method === 'readBasic')).toBe(true);
    for (const k of [...PIN, 'enter']) await b.command('Keyboard.TouchKey', { key: k });
    expect((await a.result(id)).completion.header.completionCode).toBe('success');
  });

  it('the terminal’s own Flow_Busy is sequenceError too', async () => {
    const api = await start();
    const c = await api.connect();
    api.terminal.failNext = { method: 'readBasic', error: new SsCardError(ErrorCode.Flow_Busy, { zh: '读卡器正忙', en: 'the reader is busy' }) };
    const r = await c.command('SSCard.ReadBasic');
    expect(r.completion.header.completionCode).toBe('sequenceError');
    expect(r.completion.payload).toEqual({ sscardErrorCode: 'flow.busy' });
  });

  it('a client that disconnects mid-flow has its commands aborted; the lock is free for the next', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    a.send('SSCard.VerifyPin');
    await a.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const signal = api.terminal.last('runService').signal;
    a.close();
    await until(() => signal.aborted);
    await until(() => api.logger.entries.some((e) => e.message === 'API client disconnected' && e.meta?.['aborted'] === 1));
    await until(() => !api.terminal.status().readers[0]!.busy);
    expect((await b.command('SSCard.ReadBasic')).completion.header.completionCode).toBe('success');
  });

  it('a terminal that does not stop is given up on after the grace period; the lock stays until it lets go', async () => {
    const api = await start({ abortGraceMs: 100 });
    api.terminal.ignoreAbort = true;
    api.terminal.hold();
    const c = await api.connect();
    const r = await c.command('SSCard.ReadBasic', {}, { timeout: 50 });
    expect(r.completion.header.completionCode).toBe('timeOut');
    expect(r.completion.header.errorDescription).toContain('has not confirmed it stopped');
    expect((await c.command('SSCard.ReadBasic')).completion.header.completionCode).toBe('sequenceError');
    api.terminal.release();
    await until(() => api.logger.entries.some((e) => e.message === 'API command stopped late'));
    expect((await c.command('SSCard.ReadBasic')).completion.header.completionCode).toBe('success');
  });
});

describe('operators', () => {
  it('login binds the session to the connection (not to others); the passphrase buffer is wiped; logout ends it', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter' }) });
    const c = await api.connect();
    const other = await api.connect();
    const r = await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'correct horse battery staple' });
    expect(r.completion.payload).toEqual({ token: expect.any(String), operatorId: 'op1', expiresAt: expect.any(Number) });
    expect(api.auth.received.length).toBe(1);
    expect(api.auth.received[0]!.every((b) => b === 0)).toBe(true);
    expect((await c.command('CardReader.ChipPower', { chipPower: 'warm' })).completion.header.completionCode).toBe('success');
    expect((await other.command('CardReader.ChipPower', { chipPower: 'warm' })).completion.header.completionCode).toBe('authorisationRequired');
    const token = r.completion.payload!['token'] as string;
    expect((await other.command('CardReader.ChipPower', { chipPower: 'warm', token })).completion.header.completionCode).toBe('success');
    expect((await c.command('Operator.Logout')).completion.payload).toEqual({ loggedOut: true });
    const after = await c.command('CardReader.ChipPower', { chipPower: 'warm' });
    expect(after.completion.payload).toEqual({ sscardErrorCode: 'auth.required' });
    const stale = await other.command('CardReader.ChipPower', { chipPower: 'warm', token });
    expect(stale.completion).toMatchObject({ header: { completionCode: 'authorisationRequired' }, payload: { sscardErrorCode: 'auth.invalidToken' } });
  });

  it('bad credentials and a locked operator are commandErrorCode; the passphrase never appears', async () => {
    const api = await start({ auth: new FakeOperatorAuth({ maxFailures: 2 }) });
    const c = await api.connect();
    const bad = await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'hunter2-wrong' });
    expect(bad.completion.header.completionCode).toBe('commandErrorCode');
    expect(bad.completion.payload).toEqual({ errorCode: 'auth.badCredentials', sscardErrorCode: 'auth.badCredentials' });
    await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'hunter2-wrong' });
    const locked = await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'correct horse battery staple' });
    expect(locked.completion.payload).toEqual({ errorCode: 'auth.locked', sscardErrorCode: 'auth.locked' });
    expect(api.auth.received.every((b) => b.every((x) => x === 0))).toBe(true);
    const bad2 = await c.command('Operator.Login', { operatorId: 'op 1!', passphrase: 'hunter2-wrong' });
    expect(bad2.completion.header.errorDescription).toContain('payload.operatorId must be an operator id');
    expect(c.frames.join('\n')).not.toContain('hunter2');
    expect(api.logger.text()).not.toContain('hunter2');
  });

  it('an expired session is authorisationRequired with auth.sessionExpired', async () => {
    let now = 1_700_000_000_000;
    const api = await start({ terminal: new FakeTerminal({ role: 'counter', triesLeft: 0 }), auth: new FakeOperatorAuth({ ttlMs: 60_000, now: () => now }) });
    const c = await api.connect();
    const token = await login(c);
    now += 61_000;
    const r = await c.command('SSCard.UnblockPin');
    expect(r.completion).toMatchObject({ header: { completionCode: 'authorisationRequired' }, payload: { sscardErrorCode: 'auth.sessionExpired' } });
    expect(r.completion.header.errorDescription).toContain('expired');
    expect(api.terminal.calls).toEqual([]);
    // still expired (the operator is told to log in again), also for a token given in the payload
    const again = await c.command('SSCard.UnblockPin');
    expect(again.completion.payload).toEqual({ sscardErrorCode: 'auth.sessionExpired' });
    const other = await api.connect();
    const viaPayload = await other.command('SSCard.UnblockPin', { token });
    expect(viaPayload.completion.payload).toEqual({ sscardErrorCode: 'auth.sessionExpired' });
    expect(api.journal.map((j) => j.outcome)).toEqual(['authorisationRequired:auth.sessionExpired', 'authorisationRequired:auth.sessionExpired', 'authorisationRequired:auth.sessionExpired']);
  });

  it('a kiosk refuses SSCard.UnblockPin even with a valid operator token, before touching the terminal', async () => {
    const api = await start();
    const c = await api.connect();
    const token = await login(c);
    const r = await c.command('SSCard.UnblockPin', { token });
    expect(r.completion.header.completionCode).toBe('commandErrorCode');
    expect(r.completion.payload).toEqual({ errorCode: 'serviceNotOffered', sscardErrorCode: 'serviceNotOffered' });
    expect(r.completion.header.errorDescription).toContain('cannot unblock');
    expect(api.terminal.calls).toEqual([]);
    expect(api.journal).toEqual([{ operatorId: '', command: 'SSCard.UnblockPin', requestId: r.completion.header.requestId, outcome: 'commandErrorCode:serviceNotOffered' }]);
    const act = await c.command('SSCard.Activate', { token });
    expect(act.completion.payload).toEqual({ errorCode: 'serviceNotOffered', sscardErrorCode: 'serviceNotOffered' });
    expect(api.terminal.calls).toEqual([]);
  });

  it('counter roles need an operator for the services capabilities() lists; verify does not', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter' }) });
    const c = await api.connect();
    const r = await c.command('SSCard.ResetPin');
    expect(r.completion.header.completionCode).toBe('authorisationRequired');
    api.terminal.holderTypes(PIN);
    expect((await c.command('SSCard.VerifyPin')).completion.header.completionCode).toBe('success');
    expect(api.terminal.last('runService').request).toEqual({ kind: 'verify' });
    const badToken = await c.command('SSCard.VerifyPin', { token: 'nope' });
    expect(badToken.completion.payload).toEqual({ sscardErrorCode: 'auth.invalidToken' });
  });
});
