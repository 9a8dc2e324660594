/**
 * The local API server (server.ts and its rooms): endpoints and the Unix socket, options, closing,
 * Common commands and malformed traffic end to end over a real WebSocket.
 */
import { mkdtempSync, existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.js';
import type { OperatorAuthPort } from '../terminal/port.js';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FAKE_READER, FakeTerminal } from '../../testing/fake-terminal.js';
import { startApi } from './server.js';
import { TestClient, apiPerTest, captureLogger, until } from '../../testing/api-test-client.js';
import type { Msg } from '../../testing/api-test-client.js';

const PIN = '147258';

const start = apiPerTest();

describe('endpoints', () => {
  it('the publisher lists the service, which answers; unknown paths are 404 on upgrade; interface paths are aliases', async () => {
    const api = await start();
    const pub = await api.connect('/xfs4iot/v1.0');
    const r = await pub.command('ServicePublisher.GetServices');
    expect(r.ack.header).toEqual({ type: 'acknowledge', requestId: r.ack.header.requestId, version: '2.0', name: 'ServicePublisher.GetServices' });
    expect(r.completion.header).toEqual({ type: 'completion', name: 'ServicePublisher.GetServices', requestId: r.ack.header.requestId, completionCode: 'success', version: '2.0' });
    const uri = (r.completion.payload!['services'] as { serviceURI: string }[])[0]!.serviceURI;
    expect(uri).toBe(api.serviceUrl);
    // Common.Status and Common.Capabilities, which clients send to any service, answer as the service does.
    const status = await pub.command('Common.Status');
    expect(status.completion.header).toMatchObject({ completionCode: 'success', version: '3.0' });
    expect(status.completion.payload).toHaveProperty('common.device');
    expect((await pub.command('Common.Capabilities')).completion.payload).toHaveProperty('interfaces');
    const other = await pub.command('SSCard.ReadBasic');
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

  it("each card reader's own service endpoint: listed by the publisher, its commands on that reader, another reader refused; an unknown or malformed reader 404", async () => {
    const api = await start();
    const pub = await api.connect('/xfs4iot/v1.0');
    const services = (await pub.command('ServicePublisher.GetServices')).completion.payload!['services'] as { serviceURI: string }[];
    const own = `${api.serviceUrl}/reader/${encodeURIComponent(FAKE_READER)}`;
    expect(services.map((s) => s.serviceURI)).toEqual([api.serviceUrl, own]);
    const mine = await TestClient.connect(own);
    // A command that takes `reader` runs on the endpoint's, named or not; Common.Status (no reader) as anywhere.
    expect((await mine.command('SSCard.ReadBasic')).completion.header.completionCode).toBe('success');
    expect((await mine.command('SSCard.ReadBasic', { reader: FAKE_READER })).completion.header.completionCode).toBe('success');
    expect(api.terminal.calls.filter((c) => c.method === 'readBasic').map((c) => ('reader' in c ? c.reader : null))).toEqual([FAKE_READER, FAKE_READER]);
    const other = await mine.command('SSCard.ReadBasic', { reader: 'Other Reader 01' });
    expect(other.completion.header).toMatchObject({ completionCode: 'invalidData' });
    expect(other.completion.header.errorDescription).toContain(`this endpoint serves the reader "${FAKE_READER}" only`);
    expect(api.terminal.calls.filter((c) => c.method === 'readBasic')).toHaveLength(2);
    expect((await mine.command('Common.Status')).completion.header.completionCode).toBe('success');
    mine.close();
    // A name the terminal does not list (a part of one, another reader, a malformed escape) is no endpoint.
    for (const tail of ['Fake', encodeURIComponent('Other Reader 01'), '%E0%A4%A', '%00', '']) {
      await expect(api.connect(`/xfs4iot/v1.0/sscard/reader/${tail}`)).rejects.toThrow('HTTP 404');
    }
    const refused = await api.http('GET', '/xfs4iot/v1.0/sscard/reader/Fake', undefined, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
    expect(refused.status).toBe(404);
    expect((JSON.parse(refused.text) as { error: { en: string } }).error.en).toBe(`no card reader named "Fake" (the full name Common.Status lists; not the PSAM's): card readers present "${FAKE_READER}"`);
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

  it('the driver socket beside TCP: the SSCardDriver calls over HTTP without a credential (its file mode 0660 decides), no WebSocket, removed on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sscard-api-'));
    const driverSocket = join(dir, 'driver.sock');
    const server = await startApi({ terminal: new FakeTerminal(), auth: new FakeOperatorAuth(), host: '127.0.0.1', port: 0, driverSocket, maxFrameBytes: 4096, maxClients: 2, logger: captureLogger(), version: 'x' });
    expect(server.port).toBeGreaterThan(0);
    expect(statSync(driverSocket).mode & 0o777).toBe(0o660);
    const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      new Promise<{ status: number; code: string | undefined; text: string }>((resolve, reject) => {
        const req = request({ socketPath: driverSocket, path, method: 'POST', headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, code: res.headers['x-sscard-return'] as string | undefined, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const read = await post('/sscard/iReadCardBas', '{"iType":1}');
    expect([read.status, read.code]).toEqual([200, '0']);
    expect(read.text).toMatch(/^410402\|/);
    // A browser cannot reach a Unix socket, but a request naming a foreign origin is still refused.
    expect((await post('/sscard/iReadCardBas', '{"iType":1}', { 'content-type': 'application/json', origin: 'http://evil.example' })).status).toBe(403);
    const ws = new WebSocket(`ws+unix:${driverSocket}:/xfs4iot/v1.0`);
    await expect(new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); })).rejects.toThrow();
    // The TCP side still wants a credential.
    const tcp = await fetch(`http://127.0.0.1:${server.port}/sscard/iReadCardBas`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"iType":1}' });
    expect(tcp.status).toBe(401);
    await server.close();
    expect(existsSync(driverSocket)).toBe(false);
    await expect(startApi({ terminal: new FakeTerminal(), auth: new FakeOperatorAuth(), host: '127.0.0.1', port: 0, driverSocket: join(dir, 'x'.repeat(120)), maxFrameBytes: 4096, maxClients: 2, logger: captureLogger(), version: 'x' })).rejects.toThrow(/driverSocket/);
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
    // Common/Completions/Status_g.cs 3.0: CommonSchemas StatusPropertiesClass, CardReaderSchemas and KeyboardSchemas StatusClass.
    expect(r.completion.header.version).toBe('3.0');
    expect(r.completion.payload).toMatchObject({
      common: { device: 'online' },
      cardReader: { media: 'present', chipPower: 'online', chipModule: 'ok' },
      keyboard: { autoBeepMode: { activeAvailable: false, inactiveAvailable: false }, sscardDevice: 'online' },
      sscard: { terminalId: 'T0001', role: 'kiosk', card: { present: true, cardNumberMasked: 'X0****019' } },
    });
    api.terminal.removeCard();
    expect((await c.command('Common.Status')).completion.payload).toMatchObject({ cardReader: { media: 'notPresent', chipPower: 'noCard' } });
  });

  it('Capabilities lists every interface with its commands and events, and the terminal capabilities', async () => {
    const api = await start();
    const c = await api.connect();
    type Iface = { name: string; commands: Record<string, { versions: string[] }>; events: Record<string, { versions: string[] }>; maximumRequests: number };
    const r = (await c.command('Common.Capabilities')).completion;
    expect(r.header.version).toBe('3.0');
    const p = r.payload as { interfaces: Iface[]; common: { serviceVersion: string }; cardReader: Record<string, unknown>; sscard: { services: string[]; interfaces: Iface[] } };
    expect(p.common.serviceVersion).toBe('9.9.9-test');
    // Top-level interfaces: the specification's names and messages only, each with its version (xfs-spec.ts).
    expect(p.interfaces.map((i) => i.name)).toEqual(['Common', 'CardReader', 'Keyboard']);
    expect(p.interfaces.every((i) => i.maximumRequests === 32)).toBe(true);
    const common = p.interfaces.find((i) => i.name === 'Common')!;
    expect(common.commands).toEqual({ 'Common.Status': { versions: ['2.0'] }, 'Common.Capabilities': { versions: ['2.0'] }, 'Common.Cancel': { versions: ['2.0'] }, 'Common.SetVersions': { versions: ['2.0'] } });
    expect(common.events).toEqual({ 'Common.StatusChangedEvent': { versions: ['3.0'] }, 'Common.ErrorEvent': { versions: ['2.0'] } });
    const reader = p.interfaces.find((i) => i.name === 'CardReader')!;
    expect(reader.commands['CardReader.ChipIO']).toEqual({ versions: ['3.0'] });
    expect(Object.keys(reader.events)).toEqual(['CardReader.MediaInsertedEvent', 'CardReader.MediaRemovedEvent']);
    expect(Object.keys(p.interfaces.find((i) => i.name === 'Keyboard')!.commands)).toEqual(['Keyboard.PinEntry']);
    expect(p.cardReader).toMatchObject({ type: 'dip', chipProtocols: { chipT0: true, chipT1: true }, chipPower: { cold: true, warm: true, off: true } });
    // Ours in the vendor block.
    const ssc = p.sscard.interfaces.find((i) => i.name === 'SSCard')!;
    expect(Object.keys(ssc.commands)).toEqual(expect.arrayContaining(['SSCard.VerifyPin', 'SSCard.UnblockPin', 'SSCard.End']));
    expect(Object.keys(p.sscard.interfaces.find((i) => i.name === 'Keyboard')!.commands)).toEqual(['Keyboard.TouchKey']);
    expect(p.sscard.services).toEqual(['verify', 'change']);
  });

  it('SSCard.Catalog: the offered services with what each needs at this role, and the items with their codes, limits and contacts; no card data', async () => {
    const api = await start();
    const c = await api.connect();
    const r = await c.command('SSCard.Catalog');
    expect(r.completion.header.completionCode).toBe('success');
    type Guide = { conditions: { zh: string }[]; materials: { material: string; standard: { zh: string } | null }[]; committedLimitDays: number | null; fee: { free: boolean } | null; window: { office: string; address: { zh: string } | null } | null; consultPhone: string | null };
    type Svc = { kind: string; itemId: string | null; operatorRequired: boolean; materials: { material: string; zh: string }[]; guide: Guide };
    type Item = { id: string; itemCode: string; name: { zh: string }; consultPhone: string | null; address: { zh: string } | null; steps: { timeLimit?: { zh: string } }[]; legalLimitDays: number };
    const p = r.completion.payload as { role: string; services: Svc[]; items: Item[] };
    expect(p.role).toBe('kiosk');
    // The fake kiosk offers verify and change (see Capabilities above), the card alone: change under seed 001's
    // item; a plain PIN check under none (seed 001 line 7 事项名称 社会保障卡密码修改与重置: change and reset).
    expect(p.services.map((s) => s.kind)).toEqual(['verify', 'change']);
    expect(p.services[0]).toMatchObject({ itemId: null, operatorRequired: false, materials: [{ material: 'socialSecurityCard', zh: '中华人民共和国社会保障卡（原件）' }] });
    expect(p.services[1]).toMatchObject({ itemId: 'pin-change-reset', operatorRequired: false, materials: [{ material: 'socialSecurityCard', zh: '中华人民共和国社会保障卡（原件）' }] });
    // The 办事指南 before the service starts (一次性告知, seed 001 line 75): 申请条件 (seed 001 lines 46–48),
    // the materials with their 受理标准 (line 60), the time limit (line 9), no fee (lines 64–68), the window and phone (lines 29, 34).
    const change = p.services[1]!.guide;
    expect(change.conditions.map((c) => c.zh)).toEqual([expect.stringContaining('在我省居住') as unknown, '已办理过我省社会保障卡；', expect.stringContaining('因密码外泄需要修改') as unknown]);
    expect(change.materials).toEqual([expect.objectContaining({ material: 'socialSecurityCard', standard: { zh: '材料真实有效', en: 'Genuine and valid.' } })]);
    expect(change).toMatchObject({ committedLimitDays: 1, fee: { free: true }, window: { office: '西高皇街道办事处', address: { zh: '平顶山市新华区（县）西高皇街道' } }, consultPhone: '0375-6182813' });
    // A PIN check has no item, hence no conditions or limits of its own, but still the window to go to.
    expect(p.services[0]!.guide).toMatchObject({ conditions: [], committedLimitDays: null, fee: null, window: { office: '西高皇街道办事处' }, consultPhone: '0375-6182813' });
    const pin = p.items.find((i) => i.id === 'pin-change-reset')!;
    expect(pin).toMatchObject({ itemCode: '11410402785096902M500201401000601', consultPhone: '0375-6182813', legalLimitDays: 1 });
    expect(pin.name.zh).toBe('社会保障卡密码修改与重置');
    expect(pin.steps[0]!.timeLimit?.zh).toBe('即时');
    expect(p.items.find((i) => i.id === 'card-activation')!.address!.zh).toContain('长葛区');
    // A payload field is refused like anywhere else.
    expect((await c.command('SSCard.Catalog', { reader: 'x' })).completion.header.completionCode).toBe('invalidData');
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
    expect(unknownField.ack.header.status).toBeUndefined();
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
    expect(unknown.ack.header.status).toBeUndefined();
    expect(unknown.completion.header).toMatchObject({ completionCode: 'unsupportedCommand', name: 'SSCard.FlyToTheMoon' });

    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect((await other.command('Common.Status')).completion.header.completionCode).toBe('success');
    expect(other.messages.every((m) => m.header.type !== 'acknowledge' || m.header.status === undefined)).toBe(true);
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
      ['acknowledge', undefined],
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
