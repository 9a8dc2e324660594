import { describe, expect, it } from 'vitest';
import { encodeField } from '../../apdu/records.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';
import { apiPerTest } from '../../testing/api-test-client.js';
import type { TestApi } from '../../testing/api-test-client.js';

const PIN = '147258';
const CARD_INFO = '410402D156000005AAAAAAAAAAAAAAAA|X00000019|';
const start = apiPerTest();

const json = { 'content-type': 'application/json' };

async function bearer(api: TestApi): Promise<string> {
  return (await api.auth.login('op1', Buffer.from('correct horse battery staple'))).token;
}

describe('health and status', () => {
  it('GET /health: 200 when ready, 503 with bilingual reasons when not', async () => {
    const api = await start();
    const ok = await api.http('GET', '/health');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ live: true, ready: true, reasons: [] });
    api.terminal.ready = false;
    api.terminal.reasons = [{ component: 'pcsc', zh: 'PC/SC 服务未运行', en: 'the PC/SC service is not running' }];
    const not = await api.http('GET', '/health');
    expect(not.status).toBe(503);
    expect(JSON.parse(not.text)).toEqual({ live: true, ready: false, reasons: [{ component: 'pcsc', zh: 'PC/SC 服务未运行', en: 'the PC/SC service is not running' }] });
    expect(not.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('GET /status is the terminal report as JSON', async () => {
    const api = await start();
    const r = await api.http('GET', '/status');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ terminalId: 'T0001', role: 'kiosk', card: { present: true } });
  });

  it('unknown path 404, wrong method 405 with Allow, WebSocket path over plain HTTP 426 — bilingual JSON, path not echoed', async () => {
    const api = await start();
    const nf = await api.http('GET', '/nope/135790');
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.text)).toMatchObject({ error: { code: 'notFound', zh: expect.stringMatching(/没有这个地址/), en: expect.stringContaining('no such path') } });
    expect(nf.text).not.toContain('135790');
    const m = await api.http('POST', '/health', '{}', json);
    expect(m.status).toBe(405);
    expect(m.headers['allow']).toBe('GET, HEAD');
    const g = await api.http('GET', '/sscard/iReadCardBas');
    expect(g.status).toBe(405);
    expect(g.headers['allow']).toBe('POST');
    expect((await api.http('GET', '/xfs4iot/v1.0/sscard')).status).toBe(426);
    expect((await api.http('POST', '/sscard/iReadCardBasX', '{}', json)).status).toBe(404);
  });

  it('an exception in the terminal answers 500 with a generic text; the server goes on', async () => {
    const api = await start();
    api.terminal.failNext = { method: 'status', error: new Error('secret detail') };
    const r = await api.http('GET', '/status');
    expect(r.status).toBe(500);
    expect(r.text).not.toContain('secret detail');
    expect(api.logger.entries.some((e) => e.level === 'error' && String(e.meta?.['stack']).includes('secret detail'))).toBe(true);
    expect((await api.http('GET', '/status')).status).toBe(200);
  });
});

describe('SSCardDriver calls', () => {
  it('iGetReaderInfo: the device number and the PSAM\'s terminal number as <pReaderSN>|<pPsamTermNo>|; no PSAM → −2201; a field → 400; a form → 415', async () => {
    const api = await start();
    const r = await api.http('POST', '/sscard/iGetReaderInfo', '{}', json);
    expect(r.status).toBe(200);
    expect(r.headers['x-sscard-return']).toBe('0');
    expect(r.text).toBe('D0001|000000000001|');
    const status = api.terminal.status.bind(api.terminal);
    api.terminal.status = () => ({ ...status(), psam: { ...status().psam, connected: false, terminalNumber: null } });
    const none = await api.http('POST', '/sscard/iGetReaderInfo', '{}', json);
    expect([none.headers['x-sscard-return'], none.text]).toEqual(['-2201', 'D0001||']);
    const field = await api.http('POST', '/sscard/iGetReaderInfo', '{"iType":1}', json);
    expect(field.status).toBe(400);
    expect(field.text).toContain('iType');
    expect((await api.http('POST', '/sscard/iGetReaderInfo', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await api.http('GET', '/sscard/iGetReaderInfo')).status).toBe(405);
    expect(api.terminal.calls).toEqual([]);
  });

  it('iReadCardBas: the vendor output string, X-SSCard-Return 0, text/plain utf-8', async () => {
    const api = await start();
    for (const [body, headers] of [
      ['{"iType":1}', json],
      ['{"iType":"3"}', { 'content-type': 'application/json; charset=utf-8' }],
    ] as const) {
      const r = await api.http('POST', '/sscard/iReadCardBas', body, headers);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(r.headers['x-sscard-return']).toBe('0');
      expect(r.text).toBe('410402|410402199001011234|X00000019|410402D156000005AAAAAAAAAAAAAAAA|张三|0080318065B08701000083|3.00|20200101|20300101|T0001|D0001|');
    }
  });

  it('iType 2 (contactless) is −1; no card −2; a card SW −SW; the body is the bilingual message', async () => {
    const api = await start();
    const two = await api.http('POST', '/sscard/iReadCardBas', '{"iType":2}', json);
    expect(two.headers['x-sscard-return']).toBe('-1');
    expect(two.text).toContain(' / card type not supported');
    expect(api.terminal.calls).toEqual([]);
    api.terminal.failNext = { method: 'readBasic', error: new SsCardError(ErrorCode.Card_Status, { zh: '读取失败：6A82', en: 'read failed: 6A82' }, { sw: 0x6a82 }) };
    const sw = await api.http('POST', '/sscard/iReadCardBas', '{"iType":1}', json);
    expect(sw.headers['x-sscard-return']).toBe('-27266');
    expect(sw.text).toBe('读取失败：6A82 / read failed: 6A82');
    api.terminal.removeCard();
    const none = await api.http('POST', '/sscard/iReadCardBas', '{"iType":1}', json);
    expect(none.headers['x-sscard-return']).toBe('-2');
  });

  it('malformed requests: 400 naming the field with −14 (parameter error), 415 for forms and other bodies, 413 over maxFrameBytes', async () => {
    const api = await start({ maxFrameBytes: 2048 });
    const missing = await api.http('POST', '/sscard/iVerifyPIN', '{}', json);
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('body.iType is missing');
    expect(missing.headers['x-sscard-return']).toBe('-14');
    const extra = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1,"pin":"123456"}', json);
    expect(extra.status).toBe(400);
    expect(extra.text).toContain('unknown field(s) pin');
    expect(extra.text).not.toContain('123456');
    expect((await api.http('POST', '/sscard/iVerifyPIN', '{"iType":', json)).status).toBe(400);
    expect((await api.http('POST', '/sscard/iVerifyPIN', '{"iType":"x"}', json)).status).toBe(400);
    // a field given twice is malformed, whichever value would win
    const dup = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":2,"iType":1}', json);
    expect([dup.status, dup.headers['x-sscard-return']]).toEqual([400, '-14']);
    expect(dup.text).toMatch(/字段 iType 出现了不止一次.* \/ field iType appears more than once/);
    const dupPin = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1,"123456":1,"\\u0031\\u0032\\u0033\\u0034\\u0035\\u0036":2}', json);
    expect(dupPin.status).toBe(400);
    expect(dupPin.text).not.toContain('123456');
    // forms (and anything but JSON) are 415, read or not: a web page can post a form without a preflight
    for (const [body, type] of [
      ['iType=1', 'application/x-www-form-urlencoded'],
      ['iType=2&iType=1', 'application/x-www-form-urlencoded'],
      ['iType=1', 'text/plain'],
      ['--x\r\nContent-Disposition: form-data; name="iType"\r\n\r\n1\r\n--x--', 'multipart/form-data; boundary=x'],
      ['<iType>1</iType>', 'text/xml'],
      ['{"iType":1}', ''],
    ] as const) {
      const r = await api.http('POST', '/sscard/iVerifyPIN', body, type === '' ? {} : { 'content-type': type });
      expect([r.status, r.headers['x-sscard-return']], type).toEqual([415, undefined]);
      expect(r.text).toContain('application/json');
    }
    const big = await api.http('POST', '/sscard/iVerifyPIN', JSON.stringify({ iType: 1, cardInfo: 'x'.repeat(4000) }), json);
    expect(big.status).toBe(413);
    expect(api.terminal.calls).toEqual([]);
    expect((await api.http('GET', '/health')).status).toBe(200);
  });

  it('iVerifyPIN / iChangePIN run the service: 0 on success, −51 wrong PIN, −34 new PINs differ', async () => {
    const api = await start();
    api.terminal.holderTypes(PIN);
    const ok = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', json);
    expect([ok.headers['x-sscard-return'], ok.text]).toEqual(['0', '密码校验成功。请取回您的社保卡。 / The PIN is correct. Please take your card.']);
    api.terminal.holderTypes('999999');
    const wrong = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', json);
    expect(wrong.headers['x-sscard-return']).toBe('-51');
    expect(wrong.text).toContain('5 tries left');
    api.terminal.holderTypes(PIN, '202122', '202123');
    const differ = await api.http('POST', '/sscard/iChangePIN', '{"iType":1}', json);
    expect(differ.headers['x-sscard-return']).toBe('-34');
    api.terminal.holderTypes(PIN, '202122', '202122');
    expect((await api.http('POST', '/sscard/iChangePIN', '{"iType":4}', json)).headers['x-sscard-return']).toBe('0');
  });

  it('a native client\'s own client token is its access credential, not an operator token: verify runs, a privileged call still needs the operator (−24)', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter' }), allowUnauthenticatedLoopback: false });
    const client = { ...json, authorization: `Bearer ${api.clientToken}` };
    api.terminal.holderTypes(PIN);
    const ok = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', client);
    expect([ok.status, ok.headers['x-sscard-return']]).toEqual([200, '0']);
    expect(api.terminal.last('runService').request).toEqual({ kind: 'verify' });
    const reload = await api.http('POST', '/sscard/iReloadPIN', JSON.stringify({ iType: 1, cardInfo: CARD_INFO }), client);
    expect([reload.status, reload.headers['x-sscard-return']]).toEqual([401, '-24']);
  });

  it('iReloadPIN at a counter: Bearer required (401 −24), cardInfo must be 卡识别码|卡号| (−20) and name the card in the reader (−22)', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter' }) });
    const anon = await api.http('POST', '/sscard/iReloadPIN', JSON.stringify({ iType: 1, cardInfo: CARD_INFO }), json);
    expect([anon.status, anon.headers['x-sscard-return'], anon.headers['www-authenticate']]).toEqual([401, '-24', 'Bearer']);
    const token = await bearer(api);
    const auth = { ...json, authorization: `Bearer ${token}` };
    const other = await api.http('POST', '/sscard/iReloadPIN', JSON.stringify({ iType: 1, cardInfo: '410402D156000005BBBBBBBBBBBBBBBB|X00000019|' }), auth);
    expect([other.status, other.headers['x-sscard-return']]).toEqual([200, '-22']);
    expect(api.terminal.calls.map((c) => c.method)).toEqual(['readBasic']);
    const noInfo = await api.http('POST', '/sscard/iReloadPIN', '{"iType":1}', auth);
    expect(noInfo.headers['x-sscard-return']).toBe('-20');
    const garbled = await api.http('POST', '/sscard/iReloadPIN', JSON.stringify({ iType: 1, cardInfo: 'abc' }), auth);
    expect(garbled.headers['x-sscard-return']).toBe('-20');
    api.terminal.holderTypes('369258', '369258');
    const ok = await api.http('POST', '/sscard/iReloadPIN', JSON.stringify({ iType: 1, cardInfo: CARD_INFO }), auth);
    expect([ok.status, ok.headers['x-sscard-return']]).toEqual([200, '0']);
    expect(api.terminal.last('runService').request).toEqual({ kind: 'reset', operatorId: 'op1' });
    expect(api.journal.map((j) => [j.operatorId, j.command, j.requestId, j.outcome])).toEqual([
      ['', 'iReloadPIN', null, '-24:auth.required'],
      ['op1', 'iReloadPIN', null, '-22:cardInfoMismatch'],
      ['op1', 'iReloadPIN', null, '-20:badCardInfo'],
      ['op1', 'iReloadPIN', null, '-20:badCardInfo'],
      ['op1', 'iReloadPIN', null, '0:reset.ok'],
    ]);
  });

  it('iUnblockPIN: expired token 401; at a counter with an operator 0; at a kiosk 403 −13 (not supported here) even with a valid token', async () => {
    let now = 1_700_000_000_000;
    const { FakeOperatorAuth } = await import('../../testing/fake-operator-auth.js');
    const api = await start({ terminal: new FakeTerminal({ role: 'counter', triesLeft: 0 }), auth: new FakeOperatorAuth({ ttlMs: 1000, now: () => now }) });
    const token = await bearer(api);
    const body = json;
    const b = JSON.stringify({ iType: 1, cardInfo: CARD_INFO });
    api.terminal.holderTypes('369258', '369258');
    const ok = await api.http('POST', '/sscard/iUnblockPIN', b, { ...body, authorization: `Bearer ${token}` });
    expect([ok.status, ok.headers['x-sscard-return']]).toEqual([200, '0']);
    now += 2000;
    const expired = await api.http('POST', '/sscard/iUnblockPIN', b, { ...body, authorization: `Bearer ${token}` });
    expect([expired.status, expired.headers['x-sscard-return']]).toEqual([401, '-24']);
    expect(expired.text).toContain('expired');
    expect(expired.text).not.toContain(token);
    await api.close();

    const kiosk = await start();
    const kt = await bearer(kiosk);
    const refused = await kiosk.http('POST', '/sscard/iUnblockPIN', b, { ...body, authorization: `Bearer ${kt}` });
    expect([refused.status, refused.headers['x-sscard-return']]).toEqual([403, '-13']);
    expect(refused.text).toContain('cannot unblock');
    expect(kiosk.terminal.calls).toEqual([]);
    expect(kiosk.journal).toEqual([{ operatorId: '', command: 'iUnblockPIN', requestId: null, outcome: '-13:serviceNotOffered' }]);
  });

  it('shares the one-card-operation lock with the WebSocket side: 409 −12 while a flow runs', async () => {
    const api = await start();
    const c = await api.connect();
    const id = c.send('SSCard.VerifyPin');
    await c.waitFor((m) => m.header.name === 'SSCard.PinEntryStartedEvent');
    const busy = await api.http('POST', '/sscard/iReadCardBas', '{"iType":1}', json);
    expect([busy.status, busy.headers['x-sscard-return']]).toEqual([409, '-12']);
    await c.command('Common.Cancel', { requestIds: [id] });
    await c.result(id);
    expect((await api.http('POST', '/sscard/iReadCardBas', '{"iType":1}', json)).headers['x-sscard-return']).toBe('0');
  });

  it('an HTTP client that goes away mid-call aborts the terminal call', async () => {
    const api = await start();
    const http = await import('node:http');
    const req = http.request(`${api.base}/sscard/iVerifyPIN`, { method: 'POST', headers: json, agent: false });
    req.on('error', () => {});
    req.end('{"iType":1}');
    const c = await api.connect();
    await new Promise<void>((resolve) => {
      const check = () => (api.terminal.calls.some((x) => x.method === 'runService') ? resolve() : setTimeout(check, 5));
      check();
    });
    req.destroy();
    const signal = api.terminal.last('runService').signal;
    await new Promise<void>((resolve) => {
      const check = () => (signal.aborted ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(signal.aborted).toBe(true);
    expect((await c.command('Common.Status')).completion.header.completionCode).toBe('success');
  });

  it('iReadCard: records by file address in the order asked; cardInfo empty or naming the card; a bad address −14, an unread file −13', async () => {
    const api = await start();
    const call = (body: object) => api.http('POST', '/sscard/iReadCard', JSON.stringify(body), json);
    const ok = await call({ iType: 1, iAuthType: 0, cardInfo: '', fileAddr: 'DDF1EF06|09|08|$DDF1EF05|07|01|$' });
    expect([ok.status, ok.headers['x-sscard-return'], ok.text]).toEqual([200, '0', '张三|410402199001011234|X00000019|410402D156000005AAAAAAAAAAAAAAAA|']);
    const named = await call({ iType: 3, iAuthType: 1, cardInfo: '410402d156000005aaaaaaaaaaaaaaaa|X00000019|', fileAddr: '3F00EF06|08|$' });
    expect([named.headers['x-sscard-return'], named.text]).toEqual(['0', '410402199001011234|']);
    const other = await call({ iType: 1, iAuthType: 0, cardInfo: '410402D156000005BBBBBBBBBBBBBBBB|X00000019|', fileAddr: 'DDF1EF06|08|$' });
    expect([other.headers['x-sscard-return'], other.text]).toEqual(['-22', expect.not.stringContaining('410402199001011234')]);
    expect((await call({ iType: 1, iAuthType: 0, cardInfo: 'nonsense', fileAddr: 'DDF1EF06|08|$' })).headers['x-sscard-return']).toBe('-20');
    expect((await call({ iType: 2, iAuthType: 0, cardInfo: '', fileAddr: 'DDF1EF06|08|$' })).headers['x-sscard-return']).toBe('-1');
    const bad = await call({ iType: 1, iAuthType: 0, cardInfo: '', fileAddr: 'DDF1EF06|8|$' });
    expect([bad.headers['x-sscard-return'], bad.text]).toEqual(['-14', expect.stringContaining('"8" is not a two-digit hex record tag')]);
    expect((await call({ iType: 1, iAuthType: 0, cardInfo: '', fileAddr: 'DDF1EF07|01|$' })).headers['x-sscard-return']).toBe('-13');
    expect((await call({ iType: 1, fileAddr: 'DDF1EF06|08|$' })).headers['x-sscard-return']).toBe('-14');
  });

  it('functions of the vendors\' library the terminal does not provide answer −13 saying so; unknown names are 404', async () => {
    const api = await start();
    for (const fn of ['iWriteCard_HSM_Step1', 'iReloadPIN_HSM_Step1', 'iUnblockPIN_HSM_Step3', 'iWriteCard_HSM_Step2']) {
      const r = await api.http('POST', `/sscard/${fn}`, '{"iType":1}', json);
      expect([r.status, r.headers['x-sscard-return']], fn).toEqual([200, '-13']);
      expect(r.text).toContain(`does not provide ${fn}`);
    }
    expect((await api.http('POST', '/sscard/iWriteCard_HSM_Step1', 'iType=1', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await api.http('POST', '/sscard/iFormatDisk', '{}', json)).status).toBe(404);
  });

  it('iReadCardBas_HSM_Step2 checks the machine\'s answer before the card: illegal characters −41, wrong length −42; without Step1 −12', async () => {
    const api = await start();
    const step2 = (key: string) => api.http('POST', '/sscard/iReadCardBas_HSM_Step2', JSON.stringify({ key }), json);
    expect((await step2('00112233445566GG|0011223344556677|')).headers['x-sscard-return']).toBe('-41');
    expect((await step2('0011|0011223344556677|')).headers['x-sscard-return']).toBe('-42');
    expect((await step2('0011223344556677|')).headers['x-sscard-return']).toBe('-42');
    expect((await step2('0011223344556677|0011223344556677|')).headers['x-sscard-return']).toBe('-12');
    const records = (key: string) => api.http('POST', '/sscard/iReadCard_HSM_Step2', JSON.stringify({ key }), json);
    expect((await records('xyz')).headers['x-sscard-return']).toBe('-41');
    expect((await records('0011223344556677|0011223344556677|')).headers['x-sscard-return']).toBe('-12');
    const step1 = (body: object) => api.http('POST', '/sscard/iReadCard_HSM_Step1', JSON.stringify(body), json);
    expect((await step1({ iType: 1, cardInfo: '', fileAddr: 'DDF1EF06|8|$' })).headers['x-sscard-return']).toBe('-14');
    expect((await step1({ iType: 1, cardInfo: 'x', fileAddr: 'DDF1EF06|08|$' })).headers['x-sscard-return']).toBe('-20');
    expect((await step1({ iType: 2, cardInfo: '', fileAddr: 'DDF1EF06|08|$' })).headers['x-sscard-return']).toBe('-1');
  });

  it('iWriteCard: a counter\'s operator only; EF06 records but the number; values checked against their fields; the card must be the one named', async () => {
    const kiosk = await start();
    const k = await kiosk.http('POST', '/sscard/iWriteCard', JSON.stringify({ iType: 1, cardInfo: CARD_INFO, fileAddr: 'DDF1EF06|09|$', writeData: '李四|' }), json);
    expect([k.status, k.headers['x-sscard-return']]).toEqual([403, '-13']);
    await kiosk.close();

    const api = await start({ terminal: new FakeTerminal({ role: 'counter' }) });
    const write = (body: object, headers: Record<string, string>) => api.http('POST', '/sscard/iWriteCard', JSON.stringify({ iType: 1, cardInfo: CARD_INFO, fileAddr: 'DDF1EF06|09|0D|$', writeData: '李四|19900101|', ...body }), headers);
    const anon = await write({}, json);
    expect([anon.status, anon.headers['x-sscard-return']]).toEqual([401, '-24']);
    const auth = { ...json, authorization: `Bearer ${await bearer(api)}` };
    const code = async (body: object) => (await write(body, auth)).headers['x-sscard-return'];
    expect(await code({ cardInfo: 'x' })).toBe('-20');
    expect(await code({ fileAddr: 'DDF1EF05|07|$', writeData: 'X1|' })).toBe('-13');
    expect(await code({ fileAddr: 'DDF1EF06|08|$', writeData: '410402199001011234|' })).toBe('-13');
    expect(await code({ writeData: '李四|' })).toBe('-14');
    expect(await code({ fileAddr: 'DDF1EF06|09|09|$', writeData: '李四|王五|' })).toBe('-14');
    expect(await code({ writeData: '李四|1990-01-01|' })).toBe('-23');
    expect(await code({ writeData: `${'李'.repeat(16)}|19900101|` })).toBe('-23');
    expect(api.terminal.writes).toEqual([]);
    expect(await code({ cardInfo: '410402D156000005BBBBBBBBBBBBBBBB|X00000019|' })).toBe('-22');
    const ok = await write({}, auth);
    expect([ok.status, ok.headers['x-sscard-return'], ok.text]).toEqual([200, '0', '已写入 2 条记录 / 2 record(s) written']);
    expect(api.terminal.writes).toEqual([{ cardId: '410402D156000005AAAAAAAAAAAAAAAA', cardNumber: 'X00000019', operatorId: 'op1', writes: [{ tag: 0x09, value: encodeField(0x09, '李四') }, { tag: 0x0d, value: encodeField(0x0d, '1990-01-01') }] }]);
    expect(api.journal.map((j) => [j.operatorId, j.command, j.outcome])).toEqual([
      ['', 'iWriteCard', '-24:auth.required'],
      ['op1', 'iWriteCard', '-20:badCardInfo'],
      ['op1', 'iWriteCard', '-13:badArguments'],
      ['op1', 'iWriteCard', '-13:badArguments'],
      ['op1', 'iWriteCard', '-14:badArguments'],
      ['op1', 'iWriteCard', '-14:badArguments'],
      ['op1', 'iWriteCard', '-23:badArguments'],
      ['op1', 'iWriteCard', '-23:badArguments'],
      ['op1', 'iWriteCard', '-22:mismatch'],
      ['op1', 'iWriteCard', '0:written'],
    ]);
  });
});
