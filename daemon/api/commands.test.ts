/**
 * The commands (commands.ts) over the API: card services, the PIN pad, the technician's
 * CardReader commands.
 */
import { UUID_V7_PATTERN } from '../../core/uuid.js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { FAKE_ID_CARD, FakeTerminal } from '../../testing/fake-terminal.js';
import { apiPerTest, login, until } from '../../testing/api-test-client.js';
import type { Msg } from '../../testing/api-test-client.js';

const PIN = '147258';

const names = (ms: Msg[]) => ms.map((m) => m.header.name);

const start = apiPerTest();

describe('card services', () => {
  it('VerifyPin: ack, session events in order, completion success with the result', async () => {
    const api = await start();
    api.terminal.holderTypes(PIN);
    const c = await api.connect();
    const r = await c.command('SSCard.VerifyPin');
    // Accepted: no status at all (docs/domain.md §7), no errorDescription.
    expect(r.ack.header).toEqual({ type: 'acknowledge', name: 'SSCard.VerifyPin', requestId: r.ack.header.requestId, version: '2.0' });
    expect(names(r.events)).toEqual(['SSCard.ServiceStartedEvent', 'SSCard.PinEntryStartedEvent', ...Array<string>(6).fill('SSCard.PinDigitsEvent'), 'SSCard.ResultEvent']);
    expect(r.events.filter((e) => e.header.name === 'SSCard.PinDigitsEvent').map((e) => e.payload!['count'])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.events[1]!.payload).toEqual({ prompt: 'enterPin' });
    expect(r.completion.header).toMatchObject({ completionCode: 'success' });
    expect('errorDescription' in r.completion.header).toBe(false);
    expect(r.completion.payload).toEqual({
      result: { code: 'verify.ok', kind: 'verify', outcome: 'ok', zh: '密码校验成功。', en: 'The PIN is correct.', triesLeft: 6, nextStep: { zh: '请取回您的社保卡。', en: 'Please take your card.' }, operationId: expect.stringMatching(UUID_V7_PATTERN) as string },
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

  it('a service passes who applies for the holder (state/agents.ts); a bad agent is invalidData naming it; a PIN check takes none', async () => {
    const api = await start();
    api.terminal.holderTypes(PIN, '303132', '303132');
    const c = await api.connect();
    await c.command('SSCard.ChangePin', { agent: { basis: 'guardianship', presented: ['householdRegister'] } });
    expect(api.terminal.last('runService').request).toEqual({ kind: 'change', agent: { basis: 'guardianship', presented: ['householdRegister'] } });
    for (const agent of [{ basis: 'friend' }, { basis: 'guardianship', presented: ['agentIdCard'] }, { basis: 'guardianship', idNumber: '410105199001010011' }]) {
      const r = await c.command('SSCard.ResetPin', { agent });
      expect(r.completion.header.completionCode, JSON.stringify(agent)).toBe('invalidData');
      expect(r.completion.header.errorDescription).toContain('agent');
      expect(r.completion.header.errorDescription).not.toContain('410105199001010011');
    }
    expect((await c.command('SSCard.VerifyPin', { agent: { basis: 'powerOfAttorney' } })).completion.header.completionCode).toBe('invalidData');
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
    expect(none.completion.payload).toEqual({ errorCode: 'flow.noCard', sscardErrorCode: 'flow.noCard' });
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

  it('counter: ResetPin with the holder’s expired ID card → commandErrorCode identity.expired naming the date (受理标准 材料真实有效, seed 001 line 59); nothing asked', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter', idCard: { ...FAKE_ID_CARD, validTo: '2016-05-01' } }) });
    const c = await api.connect();
    await login(c);
    const r = await c.command('SSCard.ResetPin');
    expect(r.completion.header.completionCode).toBe('commandErrorCode');
    expect(r.completion.payload).toMatchObject({ errorCode: 'identity.expired', result: { code: 'identity.expired', outcome: 'refused', missing: ['residentIdCard'] } });
    expect(JSON.stringify(r.completion.payload)).toContain('expired on 2016-05-01');
    expect(c.messages.some((m) => m.header.name === 'SSCard.PinEntryStartedEvent')).toBe(false);
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

describe('PIN pad', () => {
  it('Keyboard.PinEntry with touch keys: KeyEvents with digit null, count and mask; completion digits/enter', async () => {
    const api = await start();
    const c = await api.connect();
    const id = c.send('Keyboard.PinEntry', { minLen: 4, maxLen: 6, autoEnd: false, activeKeys: { zero: {}, one: {}, two: {}, three: {}, four: {}, five: {}, six: {}, seven: {}, eight: {}, nine: {}, enter: { terminate: true }, cancel: {} }, echo: '*' }, { timeout: 5000 });
    await until(() => api.terminal.calls.some((x) => x.method === 'pinEntry'));
    for (const k of ['4', '2', 'backspace', '2', '7', '1', 'enter']) expect((await c.command('Keyboard.TouchKey', { key: k })).completion.header.completionCode).toBe('success');
    const r = await c.result(id);
    expect(r.events.map((e) => e.payload)).toEqual([
      { completion: 'continue', digit: null, sscardCount: 1, sscardMask: '*' },
      { completion: 'continue', digit: null, sscardCount: 2, sscardMask: '**' },
      { completion: 'backspace', digit: null, sscardCount: 1, sscardMask: '*' },
      { completion: 'continue', digit: null, sscardCount: 2, sscardMask: '**' },
      { completion: 'continue', digit: null, sscardCount: 3, sscardMask: '***' },
      { completion: 'continue', digit: null, sscardCount: 4, sscardMask: '****' },
      { completion: 'enter', digit: null, sscardCount: 4, sscardMask: '****' },
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

  it('refuses what the pad cannot do, and bad lengths — with PinEntry\'s own errorCodes where the specification has one (Keyboard/Completions/PinEntry_g.cs)', async () => {
    const api = await start();
    const c = await api.connect();
    const pin = async (p: Record<string, unknown>) => (await c.command('Keyboard.PinEntry', p)).completion;
    const keys = await pin({ activeKeys: { one: {}, enter: { terminate: true } } });
    expect(keys.header.completionCode).toBe('unsupportedData');
    expect(keys.header.errorDescription).toContain('cannot disable keys');
    const all = { zero: {}, one: {}, two: {}, three: {}, four: {}, five: {}, six: {}, seven: {}, eight: {}, nine: {} };
    expect((await pin({ activeKeys: { ...all, enter: { terminate: false } }, autoEnd: true })).header.completionCode).toBe('unsupportedData');
    expect((await pin({ activeKeys: { ...all, one: { terminate: true }, enter: { terminate: true } } })).header.completionCode).toBe('unsupportedData');
    const codes: [Record<string, unknown>, string][] = [
      [{ activeKeys: {} }, 'noActivekeys'],
      [{ activeKeys: { ...all, enter: {} } }, 'noTerminatekeys'],
      [{ activeKeys: { ...all, enter: { terminate: true }, fdk01: {} } }, 'keyNotSupported'],
      [{ activeKeys: { ...all, enter: { terminate: true }, bogusKey: {} } }, 'keyInvalid'],
      [{ minLen: 8, maxLen: 4 }, 'minimumLength'],
    ];
    for (const [payload, errorCode] of codes) {
      const r = await pin(payload);
      expect(r.header.completionCode, errorCode).toBe('commandErrorCode');
      expect(r.payload, errorCode).toEqual({ errorCode, sscardErrorCode: errorCode });
    }
    expect((await pin({ activeKeys: { ...all, enter: { terminate: true } }, typo: 1 })).header.errorDescription).toContain('unknown field(s) typo');
    const key = await c.command('Keyboard.TouchKey', { key: '55' });
    expect(key.completion.header.completionCode).toBe('invalidData');
    expect(key.completion.header.errorDescription).not.toContain('55');
    expect(api.terminal.calls).toEqual([]);
  });

  it('maxLen 0 is no maximum (the pad\'s); a timeout in the payload (XFS4IoT 2021-1) is the command\'s timeout; sscard-prefixed fields are accepted', async () => {
    const api = await start();
    const c = await api.connect();
    api.terminal.holderTypes('1234');
    const r = await c.command('Keyboard.PinEntry', { minLen: 4, maxLen: 0, timeout: 30_000, sscardNote: 'ignored' });
    expect(r.completion.header.completionCode).toBe('success');
    expect(api.terminal.last('pinEntry').request).toEqual({ minLength: 4, timeoutMs: 30_000 });
  });

  it('the pad’s own timeout is timeOut when the command had a timeout, else commandErrorCode entryTimeout', async () => {
    const api = await start();
    const c = await api.connect();
    const timeout = () => new SsCardError(ErrorCode.PinPad_Timeout, { zh: '输入密码超时', en: 'PIN entry timed out' });
    api.terminal.failNext = { method: 'pinEntry', error: timeout() };
    const withTimeout = await c.command('Keyboard.PinEntry', {}, { timeout: 60_000 });
    expect(withTimeout.completion.header).toMatchObject({ completionCode: 'timeOut', errorDescription: '输入密码超时 / PIN entry timed out' });
    api.terminal.failNext = { method: 'pinEntry', error: timeout() };
    const without = await c.command('Keyboard.PinEntry', {});
    expect(without.completion).toMatchObject({ header: { completionCode: 'commandErrorCode' }, payload: { errorCode: 'entryTimeout', sscardErrorCode: 'pinPad.timeout' } });
  });

  it('Keyboard.TouchKey without a touchscreen pad is unsupportedCommand with a clear text', async () => {
    const api = await start({ terminal: new FakeTerminal({ touchKeys: false }) });
    const c = await api.connect();
    const r = await c.command('Keyboard.TouchKey', { key: '1' });
    expect(r.completion.header.completionCode).toBe('unsupportedCommand');
    expect(r.completion.header.errorDescription).toContain('not a touchscreen pad');
    expect(r.completion.payload).toEqual({ sscardErrorCode: 'pinPad.unsupported' });
  });
});

describe('technician CardReader commands', () => {
  it('need an operator; with one: ChipIO, ChipPower, Reset, journaled', async () => {
    const api = await start();
    const c = await api.connect();
    const anon = await c.command('CardReader.ChipIO', { chipData: Buffer.from('00A4040000', 'hex').toString('base64') });
    expect(anon.completion.header.completionCode).toBe('authorisationRequired');
    expect(anon.completion.payload).toEqual({ sscardErrorCode: 'auth.required' });
    expect(api.terminal.calls).toEqual([]);
    await login(c);
    api.terminal.chipResponder = (apdu) => Buffer.concat([apdu.subarray(0, 2), Buffer.from([0x90, 0x00])]);
    const io = await c.command('CardReader.ChipIO', { chipProtocol: 'chipT1', chipData: Buffer.from('00A4040000', 'hex').toString('base64') });
    expect(io.completion.payload).toEqual({ chipProtocol: 'chipT1', chipData: Buffer.from('00A49000', 'hex').toString('base64') });
    const pinApdu = await c.command('CardReader.ChipIO', { chipData: Buffer.from('0020000003123456', 'hex').toString('base64') });
    expect(pinApdu.completion.header.completionCode).toBe('invalidData');
    expect(pinApdu.completion.payload).toEqual({ sscardErrorCode: 'input.badApdu' });
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

  it('a client the configuration names (api.chipClients) may use them without an operator, journaled under it; PIN-bearing APDUs stay refused; other clients still need one', async () => {
    const api = await start({ chipClients: ['client:test'], allowUnauthenticatedLoopback: false });
    api.terminal.chipResponder = (apdu) => Buffer.concat([apdu.subarray(0, 2), Buffer.from([0x90, 0x00])]);
    const tool = await api.connect(undefined, { token: api.clientToken });
    const io = await tool.command('CardReader.ChipIO', { chipData: Buffer.from('00A4040000', 'hex').toString('base64') });
    expect(io.completion.header.completionCode).toBe('success');
    const pinApdu = await tool.command('CardReader.ChipIO', { chipData: Buffer.from('0020000003123456', 'hex').toString('base64') });
    expect(pinApdu.completion.payload).toEqual({ sscardErrorCode: 'input.badApdu' });
    expect((await tool.command('CardReader.ChipPower', { chipPower: 'warm' })).completion.header.completionCode).toBe('success');
    // Raw chip access only: a privileged card service still needs an operator.
    expect((await tool.command('SSCard.RecentLog', {})).completion.header.completionCode).toBe('authorisationRequired');
    const page = await api.connect(undefined, { origin: api.base });
    expect((await page.command('CardReader.ChipIO', { chipData: Buffer.from('00A4040000', 'hex').toString('base64') })).completion.header.completionCode).toBe('authorisationRequired');
    expect(api.journal.map((j) => `${j.operatorId}|${j.command}|${j.outcome}`)).toEqual([
      'client:test|CardReader.ChipIO|success',
      'client:test|CardReader.ChipIO|invalidData:input.badApdu',
      'client:test|CardReader.ChipPower|success',
      '|SSCard.RecentLog|authorisationRequired:auth.required',
      '|CardReader.ChipIO|authorisationRequired:auth.required',
    ]);
  });
});
