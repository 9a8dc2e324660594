import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import type { OperatorAuthPort } from '../terminal/port.js';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FakeTerminal, FAKE_READER } from '../../testing/fake-terminal.js';
import { startApi } from './server.js';
import { TestClient, captureLogger, startTestApi } from '../../testing/api-test-client.js';
import type { Msg, TestApi } from '../../testing/api-test-client.js';

const PIN = '147258';
let t: TestApi | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function start(...args: Parameters<typeof startTestApi>): Promise<TestApi> {
  t = (await startTestApi(...args)) as TestApi;
  return t;
}

const until = async (f: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

async function login(c: TestClient, operatorId = 'op1', passphrase = 'correct horse battery staple'): Promise<string> {
  const r = await c.command('Operator.Login', { operatorId, passphrase });
  expect(r.completion.header.completionCode).toBe('success');
  return r.completion.payload!['token'] as string;
}

const names = (ms: Msg[]) => ms.map((m) => m.header.name);

describe('endpoints', () => {
  it('the publisher lists the service, which answers; unknown paths are 404 on upgrade; interface paths are aliases', async () => {
    const api = await start();
    const pub = await api.connect('/xfs4iot/v1.0');
    const r = await pub.command('ServicePublisher.GetServices');
    expect(r.ack.header).toMatchObject({ type: 'acknowledge', status: null, name: 'ServicePublisher.GetServices' });
    expect(r.completion.header).toMatchObject({ type: 'completion', completionCode: 'success', errorDescription: null, version: '2.0' });
    const uri = (r.completion.payload!['services'] as { serviceURI: string }[])[0]!.serviceURI;
    expect(uri).toBe(api.serviceUrl);
    const other = await pub.command('Common.Status');
    expect(other.completion.header.completionCode).toBe('unsupportedCommand');
    expect(other.completion.header.errorDescription).toContain('GetServices');

    const svc = await TestClient.connect(uri);
    expect((await svc.command('Common.Status')).completion.header.completionCode).toBe('success');
    svc.close();
    const alias = await api.connect('/xfs4iot/v1.0/SSCard');
    expect((await alias.command('Common.Capabilities')).completion.header.completionCode).toBe('success');
    await expect(api.connect('/xfs4iot/v1.0/Printer')).rejects.toThrow('HTTP 404');
    await expect(api.connect('/elsewhere')).rejects.toThrow('HTTP 404');
  });

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

  it('serves on a Unix socket, and removes it on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sscard-api-'));
    const socket = join(dir, 'api.sock');
    const terminal = new FakeTerminal();
    const server = await startApi({ terminal, auth: new FakeOperatorAuth(), host: 'ignored', port: 1, socket, maxFrameBytes: 4096, maxClients: 2, logger: captureLogger(), version: 'x' });
    expect(server.address).toBe(socket);
    const ws = new WebSocket(`ws+unix:${socket}:/xfs4iot/v1.0`);
    const c = await new Promise<Msg>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ header: { type: 'command', name: 'ServicePublisher.GetServices', requestId: 1 } })));
      ws.on('message', (d: Buffer) => {
        const m = JSON.parse(d.toString()) as Msg;
        if (m.header.type === 'completion') resolve(m);
      });
      ws.on('error', reject);
    });
    expect((c.payload!['services'] as { serviceURI: string }[])[0]!.serviceURI).toBe(`ws+unix:${socket}:/xfs4iot/v1.0/sscard`);
    ws.close();
    await server.close();
    expect(existsSync(socket)).toBe(false);
  });

  it('validates its options eagerly, naming the option', async () => {
    const base = { terminal: new FakeTerminal(), auth: new FakeOperatorAuth(), host: '127.0.0.1', port: 0, maxFrameBytes: 4096, maxClients: 2, logger: captureLogger(), version: 'x' };
    await expect(startApi({ ...base, port: 70000 })).rejects.toThrow(/API option port/);
    await expect(startApi({ ...base, maxClients: 0 })).rejects.toThrow(/maxClients/);
    await expect(startApi({ ...base, maxFrameBytes: 10 })).rejects.toThrow(/maxFrameBytes/);
    await expect(startApi({ ...base, auth: {} as OperatorAuthPort })).rejects.toThrow(/auth/);
    const api = await start();
    await expect(startApi({ ...base, port: api.server.port })).rejects.toMatchObject({ code: ErrorCode.Config_Invalid });
  });

  it('closes its clients with 1001 on close', async () => {
    const api = await start();
    const c = await api.connect();
    await api.server.close();
    expect((await c.closed).code).toBe(1001);
    expect(api.terminal.subscribers()).toBe(0);
  });
});

describe('Common', () => {
  it('Status maps the report to common/cardReader/keyboard and carries it as sscard', async () => {
    const api = await start();
    const c = await api.connect();
    const r = await c.command('Common.Status');
    expect(r.completion.payload).toMatchObject({
      common: { device: 'online' },
      cardReader: { media: 'present' },
      keyboard: { device: 'online' },
      sscard: { terminalId: 'T0001', role: 'kiosk', card: { present: true, cardNumberMasked: 'X0****019' } },
    });
    api.terminal.removeCard();
    expect((await c.command('Common.Status')).completion.payload).toMatchObject({ cardReader: { media: 'notPresent' } });
  });

  it('Capabilities lists every interface with its commands and events, and the terminal capabilities', async () => {
    const api = await start();
    const c = await api.connect();
    const p = (await c.command('Common.Capabilities')).completion.payload as { common: { serviceVersion: string; interfaces: { name: string; commands: Record<string, unknown>; events: Record<string, unknown> }[] }; sscard: { services: string[] } };
    expect(p.common.serviceVersion).toBe('9.9.9-test');
    const ssc = p.common.interfaces.find((i) => i.name === 'SSCard')!;
    expect(Object.keys(ssc.commands)).toEqual(expect.arrayContaining(['SSCard.VerifyPin', 'SSCard.UnblockPin', 'SSCard.End']));
    expect(Object.keys(p.common.interfaces.find((i) => i.name === 'CardReader')!.events)).toEqual(['CardReader.MediaInsertedEvent', 'CardReader.MediaRemovedEvent']);
    expect(p.sscard.services).toEqual(['verify', 'change']);
  });

  it('an unexpected exception in the terminal is internalError; the stack is logged, not sent', async () => {
    const api = await start();
    const c = await api.connect();
    api.terminal.failNext = { method: 'status', error: new Error('kaboom at line 42') };
    const r = await c.command('Common.Status');
    expect(r.completion.header.completionCode).toBe('internalError');
    expect(r.completion.header.errorDescription).toContain('internal error');
    expect(JSON.stringify(r.completion)).not.toContain('kaboom');
    const logged = api.logger.entries.find((e) => e.level === 'error');
    expect(logged?.meta?.['stack']).toContain('kaboom');
    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
  });
});

describe('malformed traffic', () => {
  it('answers every bad frame, names the problem, and the client and others go on', async () => {
    const api = await start({ logThrottle: { windowMs: 1000 } });
    const c = await api.connect();
    const other = await api.connect();
    const next = async (send: () => void): Promise<Msg> => {
      const n = c.messages.length;
      send();
      await until(() => c.messages.length > n);
      return c.messages[n]!;
    };
    const bad = async (frame: string) => next(() => c.sendRaw(frame));

    const cases: [string, string, number | null][] = [
      ['{not json', 'not valid JSON', null],
      ['[1,2]', 'JSON object', null],
      ['42', 'JSON object', null],
      ['{"payload":{}}', 'header is missing', null],
      ['{"header":{"type":"event","name":"Common.Status","requestId":900003}}', 'header.type', 900003],
      ['{"header":{"type":"command","name":"Common.Status","requestId":0}}', 'header.requestId must be at least 1', null],
      ['{"header":{"type":"command","name":"Common.Status","requestId":-4}}', 'header.requestId', null],
      ['{"header":{"type":"command","name":"Common.Status","requestId":1.5}}', 'header.requestId must be an integer', null],
      ['{"header":{"type":"command","name":"Common.Status","requestId":"7"}}', 'header.requestId', null],
      ['{"header":{"type":"command","name":"Common.Status"}}', 'header.requestId is missing', null],
      ['{"header":{"type":"command","requestId":900005}}', 'header.name is missing', 900005],
      ['{"header":{"type":"command","name":"status please","requestId":900006}}', 'header.name must be a command name', 900006],
      ['{"header":{"type":"command","name":"Common.Status","requestId":900008,"colour":"red"}}', 'unknown field(s) colour', 900008],
      ['{"header":{"type":"command","name":"Common.Status","requestId":900009,"timeout":-1}}', 'header.timeout', 900009],
      ['{"header":{"type":"command","name":"Common.Status","requestId":900010},"extra":1}', 'unknown field(s) extra', 900010],
    ];
    for (const [frame, text, rid] of cases) {
      const m = await bad(frame);
      expect(m.header, frame).toMatchObject({ type: 'acknowledge', status: 'invalidMessage', requestId: rid });
      expect(m.header.errorDescription, frame).toContain(text);
      expect(m.header.errorDescription, frame).toMatch(/[\u4e00-\u9fff]/); // zh first, then en
    }
    const bin = await next(() => c.sendRaw(Buffer.from('{"header":{}}'), true));
    expect(bin.header).toMatchObject({ status: 'invalidMessage', requestId: null });
    expect(bin.header.errorDescription).toContain('binary');

    // payload problems: acknowledged, completed invalidData naming the field
    const unknownField = await c.command('SSCard.VerifyPin', { pin: '123456' });
    expect(unknownField.ack.header.status).toBeNull();
    expect(unknownField.completion.header.completionCode).toBe('invalidData');
    expect(unknownField.completion.header.errorDescription).toContain('payload has unknown field(s) pin');
    expect(JSON.stringify(unknownField)).not.toContain('123456');
    const wrongType = await c.command('SSCard.ChangePin', { phones: '13800138000' });
    expect(wrongType.completion.header.errorDescription).toContain('payload.phones must be an array');
    expect(JSON.stringify(wrongType)).not.toContain('13800138000');
    const notObject = await c.command('Common.Status', [1]);
    expect(notObject.completion.header.completionCode).toBe('invalidData');
    const digitsKey = await c.command('Common.Status', { '987654': 1 });
    expect(digitsKey.completion.header.errorDescription).toContain('(+1)');
    expect(JSON.stringify(digitsKey)).not.toContain('987654');

    const unknown = await c.command('SSCard.FlyToTheMoon');
    expect(unknown.ack.header.status).toBeNull();
    expect(unknown.completion.header).toMatchObject({ completionCode: 'unsupportedCommand', name: 'SSCard.FlyToTheMoon' });

    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect((await other.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect(other.messages.every((m) => m.header.type !== 'acknowledge' || m.header.status === null)).toBe(true);
    // logged: the first five refusals about this client (both its connections: the budget is per
    // client, not per connection), the rest counted for the summary (throttle.ts)
    expect(api.logger.entries.filter((e) => e.message === 'API message refused').length).toBe(5);
    c.close();
    await until(() => api.logger.entries.some((e) => /refused messages .*from client \S+/.test(e.message)), 5000);
    const summary = api.logger.entries.find((e) => /refused messages .*from client \S+/.test(e.message))!;
    // 16 refused frames and 4 refused payloads: 5 lines, then 15 counted by reason
    expect(summary.meta).toMatchObject({ suppressed: cases.length + 1 + 4 - 5, reasons: { 'payload refused': 4 } });
  });

  it('an oversized frame closes that client with 1009 (logged); the server and other clients go on', async () => {
    const api = await start({ maxFrameBytes: 4096 });
    const big = await api.connect();
    const other = await api.connect();
    big.sendRaw(JSON.stringify({ header: { type: 'command', name: 'Common.Status', requestId: 1 }, payload: { x: 'a'.repeat(8000) } }));
    expect((await big.closed).code).toBe(1009);
    expect((await other.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect(api.logger.entries.some((e) => e.level === 'warn' && e.message.includes('larger than maxFrameBytes'))).toBe(true);
    const again = await api.connect();
    expect((await again.command('Common.Status')).completion.header.completionCode).toBe('success');
  });

  it('a requestId still running is refused with invalidRequestID; once completed it may be reused', async () => {
    const api = await start();
    const c = await api.connect();
    const id = c.send('SSCard.VerifyPin');
    await c.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const dup = await c.command('Common.Status', {}, { requestId: id });
    expect(dup.completion.header).toMatchObject({ type: 'acknowledge', status: 'invalidRequestID', requestId: id });
    api.terminal.holderTypes(PIN);
    for (const k of [...PIN, 'enter']) api.terminal.touchKey(k);
    const done = await c.waitFor((m) => m.header.requestId === id && m.header.type === 'completion');
    expect(done.header.completionCode).toBe('success');
    const n = c.messages.length;
    c.send('Common.Status', {}, { requestId: id });
    await until(() => c.messages.slice(n).some((m) => m.header.type === 'completion'));
    expect(c.messages.slice(n).map((m) => [m.header.type, m.header.type === 'acknowledge' ? m.header.status : m.header.completionCode])).toEqual([
      ['acknowledge', null],
      ['completion', 'success'],
    ]);
  });

  it('more than 32 running commands on one client: tooManyRequests', async () => {
    const never: OperatorAuthPort = { login: () => new Promise(() => {}), check: () => 'x', logout: () => {} };
    const api = await start({ auth: never });
    const c = await api.connect();
    for (let i = 0; i < 32; i++) c.send('Operator.Login', { operatorId: 'op1', passphrase: 'p' }, { requestId: 1000 + i });
    await until(() => c.messages.length === 32);
    const r = await c.command('Common.Status', {}, { requestId: 2000 });
    expect(r.completion.header.status).toBe('tooManyRequests');
  });
});

describe('card services', () => {
  it('VerifyPin: ack, session events in order, completion success with the result', async () => {
    const api = await start();
    api.terminal.holderTypes(PIN);
    const c = await api.connect();
    const r = await c.command('SSCard.VerifyPin');
    expect(r.ack.header.status).toBeNull();
    expect(names(r.events)).toEqual(['SSCard.ServiceStartedEvent', 'SSCard.PinEntryStartedEvent', ...Array<string>(6).fill('SSCard.PinDigitsEvent'), 'SSCard.ResultEvent']);
    expect(r.events.filter((e) => e.header.name === 'SSCard.PinDigitsEvent').map((e) => e.payload!['count'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.events[1]!.payload).toEqual({ prompt: 'enterPin' });
    expect(r.completion.header).toMatchObject({ completionCode: 'success', errorDescription: null });
    expect(r.completion.payload).toEqual({
      result: { code: 'verify.ok', kind: 'verify', outcome: 'ok', zh: '密码校验成功。', en: 'The PIN is correct.', triesLeft: 6, nextStep: { zh: '请取回您的社保卡。', en: 'Please take your card.' } },
    });
    expect(c.messages.indexOf(r.ack)).toBeLessThan(c.messages.indexOf(r.events[0]!));
    expect(api.terminal.last('runService').request).toEqual({ kind: 'verify' });
  });

  it('a wrong PIN is commandErrorCode with the result code and tries left; the result is in the payload', async () => {
    const api = await start();
    api.terminal.holderTypes('000000');
    const c = await api.connect();
    const r = await c.command('SSCard.VerifyPin');
    expect(r.completion.header.completionCode).toBe('commandErrorCode');
    expect(r.completion.header.errorDescription).toBe('密码错误，还可尝试 5 次。 / Wrong PIN: 5 tries left.');
    expect(r.completion.payload).toMatchObject({ errorCode: 'verify.wrongPin', result: { code: 'verify.wrongPin', outcome: 'failed', triesLeft: 5, sw: '63C5' } });
  });

  it('ChangePin passes phones and waitForCardMs; ReadBasic gives the card data', async () => {
    const api = await start();
    api.terminal.holderTypes(PIN, '303132', '303132');
    const c = await api.connect();
    const r = await c.command('SSCard.ChangePin', { phones: ['13800138000'], waitForCardMs: 0 });
    expect(r.completion.header.completionCode).toBe('success');
    expect(r.events.filter((e) => e.header.name === 'SSCard.PinEntryStartedEvent').map((e) => e.payload!['prompt'])).toEqual(['enterOldPin', 'enterNewPin', 'confirmNewPin']);
    expect(api.terminal.last('runService').request).toEqual({ kind: 'change', phones: ['13800138000'], waitForCardMs: 0 });
    const rb = await c.command('SSCard.ReadBasic');
    expect(rb.completion.payload).toMatchObject({ region: '410402', socialSecurityNumber: '410402199001011234', cardNumber: 'X00000019', name: '张三', triesLeft: 6, authentic: true });
    api.terminal.removeCard();
    const none = await c.command('SSCard.ReadBasic');
    expect(none.completion.header.completionCode).toBe('commandErrorCode');
    expect(none.completion.payload).toEqual({ errorCode: 'flow.noCard' });
    expect(none.completion.header.errorDescription).toContain('insert the social security card');
  });

  it('waitForCardMs: the flow waits for the card and sends its insertion events', async () => {
    const api = await start({ terminal: new FakeTerminal({ card: null }) });
    const c = await api.connect();
    api.terminal.holderTypes(PIN);
    const id = c.send('SSCard.VerifyPin', { waitForCardMs: 3000 });
    await until(() => api.terminal.calls.length > 0);
    api.terminal.insertCard();
    const r = await c.result(id);
    expect(r.completion.header.completionCode).toBe('success');
  });

  it('counter: ResetPin, UnblockPin and Activate run with the operator, journaled', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter', triesLeft: 0 }) });
    const c = await api.connect();
    await login(c);
    api.terminal.holderTypes('369258', '369258');
    const un = await c.command('SSCard.UnblockPin', { phones: [] });
    expect(un.completion.payload).toMatchObject({ result: { code: 'unblock.ok' } });
    expect(api.terminal.last('runService').request).toMatchObject({ kind: 'unblock', operatorId: 'op1' });
    api.terminal.holderTypes('258369', '258369');
    expect((await c.command('SSCard.ResetPin')).completion.payload).toMatchObject({ result: { code: 'reset.ok' } });
    api.terminal.holderTypes('147369', '147369');
    const act = await c.command('SSCard.Activate');
    expect(act.completion.payload).toMatchObject({ result: { code: 'activate.ok', bank: { attempted: false } } });
    expect(api.journal.map((j) => [j.operatorId, j.command, j.outcome])).toEqual([
      ['op1', 'SSCard.UnblockPin', 'success'],
      ['op1', 'SSCard.ResetPin', 'success'],
      ['op1', 'SSCard.Activate', 'success'],
    ]);
    expect(api.journal[0]!.requestId).toBe(un.completion.header.requestId);
  });

  it('SSCard.End cancels the running flow (canceled) and ends the session', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    const id = a.send('SSCard.VerifyPin');
    await a.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const end = await b.command('SSCard.End');
    expect(end.completion.header.completionCode).toBe('success');
    const r = await a.result(id);
    expect(r.completion.header.completionCode).toBe('canceled');
    expect(r.completion.payload).toMatchObject({ result: { code: 'cancelled' } });
    expect(api.terminal.calls.some((x) => x.method === 'endSession')).toBe(true);
    await b.waitFor((m) => m.header.name === 'SSCard.SessionEndedEvent');
  });
});

describe('cancel, timeout, sequencing, disconnect', () => {
  it('Common.Cancel cancels the listed commands (canceled) and reports ids not running', async () => {
    const api = await start();
    const c = await api.connect();
    const id = c.send('SSCard.VerifyPin');
    await c.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const cancel = await c.command('Common.Cancel', { requestIds: [id, 999] });
    expect(cancel.completion.header.completionCode).toBe('success');
    expect(cancel.completion.payload).toEqual({ canceled: [id], notRunning: [999] });
    const r = await c.result(id);
    expect(r.completion.header.completionCode).toBe('canceled');
    expect(r.completion.header.errorDescription).toBe('命令已取消 / the command was cancelled');
    expect(api.terminal.last('runService').signal.aborted).toBe(true);
  });

  it('Common.Cancel without ids cancels all of this client’s commands, not another client’s', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    const pin = a.send('Keyboard.PinEntry', { minLen: 4, maxLen: 6 });
    await until(() => api.terminal.calls.some((x) => x.method === 'pinEntry'));
    const fromB = await b.command('Common.Cancel');
    expect(fromB.completion.payload).toEqual({ canceled: [], notRunning: [] });
    expect(api.terminal.last('pinEntry').signal.aborted).toBe(false);
    const fromA = await a.command('Common.Cancel');
    expect(fromA.completion.payload).toEqual({ canceled: [pin], notRunning: [] });
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
      expect(r.completion.payload).toEqual({ errorCode: 'api.sequenceError' });
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
    expect(r.completion.payload).toEqual({ errorCode: 'flow.busy' });
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

describe('unsolicited events', () => {
  it('media, session and device events fan out to every service client; the SSN never', async () => {
    const api = await start({ terminal: new FakeTerminal({ card: null }) });
    const a = await api.connect();
    const b = await api.connect();
    const pub = await api.connect('/xfs4iot/v1.0');
    api.terminal.insertCard();
    api.terminal.emit({ type: 'device', component: 'pinPad', connected: false, problem: { zh: '密码键盘已断开', en: 'the PIN pad is disconnected' } });
    api.terminal.removeCard();
    for (const c of [a, b]) {
      await c.waitFor((m) => m.header.name === 'SSCard.CardRemovedEvent');
      expect(names(c.unsolicited())).toEqual([
        'CardReader.MediaInsertedEvent',
        'SSCard.CardInsertedEvent',
        'SSCard.CardIdentifiedEvent',
        'Common.StatusChangedEvent',
        'CardReader.MediaRemovedEvent',
        'SSCard.CardRemovedEvent',
      ]);
      const [ins, , ident, dev] = c.unsolicited();
      expect(ins!.payload).toEqual({ reader: FAKE_READER, atr: expect.any(String) });
      expect(ins!.header.requestId).toBeUndefined();
      expect(ident!.payload).toEqual({ reader: FAKE_READER, cardNumberMasked: 'X0****019', name: '张三', specVersion: '3.00', triesLeft: 6, cardState: 'active', authentic: true });
      expect(dev!.payload).toMatchObject({ component: 'pinPad', connected: false, problem: { en: 'the PIN pad is disconnected' }, status: { common: { device: 'online' } } });
      expect(c.frames.join('\n')).not.toContain('410402199001011234');
      expect(c.frames.join('\n')).not.toContain('X00000019');
    }
    expect(pub.messages).toEqual([]);
  });

  it('a flow’s own events go to its caller as events and to the other clients as unsolicited', async () => {
    const api = await start();
    const a = await api.connect();
    const b = await api.connect();
    api.terminal.holderTypes(PIN);
    const r = await a.command('SSCard.VerifyPin');
    expect(r.events.length).toBe(9);
    // the other client watches the same flow as unsolicited events; the caller gets each once
    await until(() => b.unsolicited().length === 9);
    expect(names(b.unsolicited())).toEqual(names(r.events));
    expect(a.unsolicited()).toEqual([]);
    b.messages.splice(0);
    // a flow the terminal ran by itself (no API command): its events fan out
    api.terminal.emit({ type: 'session', reader: FAKE_READER, event: { type: 'pin.digits', count: 1 } });
    await api.terminal.endSession();
    await b.waitFor((m) => m.header.name === 'SSCard.SessionEndedEvent');
    expect(names(a.unsolicited())).toEqual(['SSCard.PinDigitsEvent', 'SSCard.SessionEndedEvent']);
    expect(names(b.unsolicited())).toEqual(['SSCard.PinDigitsEvent', 'SSCard.SessionEndedEvent']);
    expect(b.messages.filter((m) => m.header.type === 'event')).toEqual([]);
  });
});

describe('PIN pad', () => {
  it('Keyboard.PinEntry with touch keys: KeyEvents with digit null, count and mask; completion digits/enter', async () => {
    const api = await start();
    const c = await api.connect();
    const id = c.send('Keyboard.PinEntry', { minLen: 4, maxLen: 6, autoEnd: false, activeKeys: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'enter', 'cancel'] }, { timeout: 5000 });
    await until(() => api.terminal.calls.some((x) => x.method === 'pinEntry'));
    for (const k of ['4', '2', 'backspace', '2', '7', '1', 'enter']) expect((await c.command('Keyboard.TouchKey', { key: k })).completion.header.completionCode).toBe('success');
    const r = await c.result(id);
    expect(r.events.map((e) => e.payload)).toEqual([
      { completion: 'continue', digit: null, count: 1, mask: '*' },
      { completion: 'continue', digit: null, count: 2, mask: '**' },
      { completion: 'backspace', digit: null, count: 1, mask: '*' },
      { completion: 'continue', digit: null, count: 2, mask: '**' },
      { completion: 'continue', digit: null, count: 3, mask: '***' },
      { completion: 'continue', digit: null, count: 4, mask: '****' },
      { completion: 'enter', digit: null, count: 4, mask: '****' },
    ]);
    expect(names(r.events).every((n) => n === 'Keyboard.KeyEvent')).toBe(true);
    expect(r.completion.payload).toEqual({ digits: 4, completion: 'enter' });
    expect(api.logger.text()).not.toMatch(/"key"/);
  });

  it('autoEnd completes at maxLen; the holder’s cancel completes with completion cancel', async () => {
    const api = await start();
    const c = await api.connect();
    api.terminal.holderTypes('1234');
    const auto = await c.command('Keyboard.PinEntry', { minLen: 4, maxLen: 4, autoEnd: true });
    expect(auto.completion.payload).toEqual({ digits: 4, completion: 'auto' });
    const id = c.send('Keyboard.PinEntry', {});
    await until(() => api.terminal.calls.filter((x) => x.method === 'pinEntry').length === 2);
    api.terminal.touchKey('5');
    api.terminal.touchKey('cancel');
    const r = await c.result(id);
    expect(r.completion.header.completionCode).toBe('success');
    expect(r.completion.payload).toEqual({ digits: 0, completion: 'cancel' });
  });

  it('refuses what the pad cannot do, and bad lengths', async () => {
    const api = await start();
    const c = await api.connect();
    const keys = await c.command('Keyboard.PinEntry', { activeKeys: ['one', 'enter'] });
    expect(keys.completion.header.completionCode).toBe('unsupportedData');
    expect(keys.completion.header.errorDescription).toContain('cannot disable keys');
    const mm = await c.command('Keyboard.PinEntry', { minLen: 8, maxLen: 4 });
    expect(mm.completion.header).toMatchObject({ completionCode: 'invalidData' });
    expect(mm.completion.header.errorDescription).toContain('minLen must not be greater than maxLen');
    const fdk = await c.command('Keyboard.PinEntry', { activeKeys: ['fdk01'] });
    expect(fdk.completion.header.errorDescription).toContain('payload.activeKeys[0] must be one of');
    const key = await c.command('Keyboard.TouchKey', { key: '55' });
    expect(key.completion.header.completionCode).toBe('invalidData');
    expect(key.completion.header.errorDescription).not.toContain('55');
    expect(api.terminal.calls).toEqual([]);
  });

  it('the pad’s own timeout is timeOut when the command had a timeout, else commandErrorCode pinPad.timeout', async () => {
    const api = await start();
    const c = await api.connect();
    const timeout = () => new SsCardError(ErrorCode.PinPad_Timeout, { zh: '输入密码超时', en: 'PIN entry timed out' });
    api.terminal.failNext = { method: 'pinEntry', error: timeout() };
    const withTimeout = await c.command('Keyboard.PinEntry', {}, { timeout: 60_000 });
    expect(withTimeout.completion.header).toMatchObject({ completionCode: 'timeOut', errorDescription: '输入密码超时 / PIN entry timed out' });
    api.terminal.failNext = { method: 'pinEntry', error: timeout() };
    const without = await c.command('Keyboard.PinEntry', {});
    expect(without.completion).toMatchObject({ header: { completionCode: 'commandErrorCode' }, payload: { errorCode: 'pinPad.timeout' } });
  });

  it('Keyboard.TouchKey without a touchscreen pad is unsupportedCommand with a clear text', async () => {
    const api = await start({ terminal: new FakeTerminal({ touchKeys: false }) });
    const c = await api.connect();
    const r = await c.command('Keyboard.TouchKey', { key: '1' });
    expect(r.completion.header.completionCode).toBe('unsupportedCommand');
    expect(r.completion.header.errorDescription).toContain('not a touchscreen pad');
    expect(r.completion.payload).toEqual({ errorCode: 'pinPad.unsupported' });
  });
});

describe('technician CardReader commands', () => {
  it('need an operator; with one: ChipIO, ChipPower, Reset, journaled', async () => {
    const api = await start();
    const c = await api.connect();
    const anon = await c.command('CardReader.ChipIO', { chipData: Buffer.from('00A4040000', 'hex').toString('base64') });
    expect(anon.completion.header.completionCode).toBe('authorisationRequired');
    expect(anon.completion.payload).toEqual({ errorCode: 'auth.required' });
    expect(api.terminal.calls).toEqual([]);
    await login(c);
    api.terminal.chipResponder = (apdu) => Buffer.concat([apdu.subarray(0, 2), Buffer.from([0x90, 0x00])]);
    const io = await c.command('CardReader.ChipIO', { chipProtocol: 'chipT1', chipData: Buffer.from('00A4040000', 'hex').toString('base64') });
    expect(io.completion.payload).toEqual({ chipProtocol: 'chipT1', chipData: Buffer.from('00A49000', 'hex').toString('base64') });
    const pinApdu = await c.command('CardReader.ChipIO', { chipData: Buffer.from('0020000003123456', 'hex').toString('base64') });
    expect(pinApdu.completion.header.completionCode).toBe('invalidData');
    expect(pinApdu.completion.payload).toEqual({ errorCode: 'input.badApdu' });
    const nfc = await c.command('CardReader.ChipIO', { chipProtocol: 'chipTypeNFC', chipData: 'AKQEAA==' });
    expect(nfc.completion.header.completionCode).toBe('unsupportedData');
    const b64 = await c.command('CardReader.ChipIO', { chipData: 'not base64!' });
    expect(b64.completion.header.errorDescription).toContain('payload.chipData must be a base64-encoded APDU');
    const short = await c.command('CardReader.ChipIO', { chipData: 'AKQ=' });
    expect(short.completion.header.completionCode).toBe('invalidData');
    const cold = await c.command('CardReader.ChipPower', { chipPower: 'cold' });
    expect(Buffer.from(cold.completion.payload!['chipData'] as string, 'base64').toString('hex').toUpperCase()).toBe('3B6D000080318065B08701000083009000');
    expect((await c.command('CardReader.ChipPower', { chipPower: 'off' })).completion.payload).toEqual({ chipData: null });
    expect((await c.command('CardReader.Reset', {})).completion.header.completionCode).toBe('success');
    expect(api.journal.map((j) => `${j.operatorId}|${j.command}|${j.outcome}`)).toEqual([
      '|CardReader.ChipIO|authorisationRequired:auth.required',
      'op1|CardReader.ChipIO|success',
      'op1|CardReader.ChipIO|invalidData:input.badApdu',
      'op1|CardReader.ChipIO|unsupportedData',
      // payload refused before the operator is looked at
      '|CardReader.ChipIO|invalidData:invalidData',
      '|CardReader.ChipIO|invalidData:invalidData',
      'op1|CardReader.ChipPower|success',
      'op1|CardReader.ChipPower|success',
      'op1|CardReader.Reset|success',
    ]);
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
    expect(after.completion.payload).toEqual({ errorCode: 'auth.required' });
    const stale = await other.command('CardReader.ChipPower', { chipPower: 'warm', token });
    expect(stale.completion).toMatchObject({ header: { completionCode: 'authorisationRequired' }, payload: { errorCode: 'auth.invalidToken' } });
  });

  it('bad credentials and a locked operator are commandErrorCode; the passphrase never appears', async () => {
    const api = await start({ auth: new FakeOperatorAuth({ maxFailures: 2 }) });
    const c = await api.connect();
    const bad = await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'hunter2-wrong' });
    expect(bad.completion.header.completionCode).toBe('commandErrorCode');
    expect(bad.completion.payload).toEqual({ errorCode: 'auth.badCredentials' });
    await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'hunter2-wrong' });
    const locked = await c.command('Operator.Login', { operatorId: 'op1', passphrase: 'correct horse battery staple' });
    expect(locked.completion.payload).toEqual({ errorCode: 'auth.locked' });
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
    expect(r.completion).toMatchObject({ header: { completionCode: 'authorisationRequired' }, payload: { errorCode: 'auth.sessionExpired' } });
    expect(r.completion.header.errorDescription).toContain('expired');
    expect(api.terminal.calls).toEqual([]);
    // still expired (the operator is told to log in again), also for a token given in the payload
    const again = await c.command('SSCard.UnblockPin');
    expect(again.completion.payload).toEqual({ errorCode: 'auth.sessionExpired' });
    const other = await api.connect();
    const viaPayload = await other.command('SSCard.UnblockPin', { token });
    expect(viaPayload.completion.payload).toEqual({ errorCode: 'auth.sessionExpired' });
    expect(api.journal.map((j) => j.outcome)).toEqual(['authorisationRequired:auth.sessionExpired', 'authorisationRequired:auth.sessionExpired', 'authorisationRequired:auth.sessionExpired']);
  });

  it('a kiosk refuses SSCard.UnblockPin even with a valid operator token, before touching the terminal', async () => {
    const api = await start();
    const c = await api.connect();
    const token = await login(c);
    const r = await c.command('SSCard.UnblockPin', { token });
    expect(r.completion.header.completionCode).toBe('commandErrorCode');
    expect(r.completion.payload).toEqual({ errorCode: 'serviceNotOffered' });
    expect(r.completion.header.errorDescription).toContain('cannot unblock');
    expect(api.terminal.calls).toEqual([]);
    expect(api.journal).toEqual([{ operatorId: '', command: 'SSCard.UnblockPin', requestId: r.completion.header.requestId, outcome: 'commandErrorCode:serviceNotOffered' }]);
    const act = await c.command('SSCard.Activate', { token });
    expect(act.completion.payload).toEqual({ errorCode: 'serviceNotOffered' });
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
    expect(badToken.completion.payload).toEqual({ errorCode: 'auth.invalidToken' });
  });
});
