/**
 * House rule: a PIN (or passphrase, or operator token) is never logged, echoed in an API message
 * or put in an error text. This runs every flow and every event kind through the API over the fake
 * terminal — PINs typed by the holder and through Keyboard.TouchKey frames — and scans every frame
 * any client received, every HTTP body and every log line.
 */
import { describe, expect, it } from 'vitest';
import { FakeOperatorAuth } from '../../testing/fake-operator-auth.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';
import { startTestApi } from '../../testing/api-test-client.js';
import type { TestClient } from '../../testing/api-test-client.js';

const CARD_PIN = '739146';
const PINS = [CARD_PIN, '582047', '940372', '615283', '367109', '80514'];
const PASSPHRASE = 'plum-orchard-quietly-42';

async function typeByTouch(c: TestClient, digits: string): Promise<void> {
  for (const k of [...digits, 'enter']) {
    const r = await c.command('Keyboard.TouchKey', { key: k });
    expect(r.completion.header.completionCode).toBe('success');
  }
}

describe('no PIN, passphrase or token leaves the API', () => {
  it('across every flow, event kind, error path and log line', async () => {
    const terminal = new FakeTerminal({ role: 'counter', cardPin: CARD_PIN, triesLeft: 1, card: null });
    const auth = new FakeOperatorAuth({ operators: { op7: PASSPHRASE }, now: () => 1_700_000_000_000 });
    const api = await startTestApi({ terminal, auth });
    try {
      const ui = await api.connect();
      const observer = await api.connect();
      const httpBodies: string[] = [];

      terminal.insertCard();
      const login = await ui.command('Operator.Login', { operatorId: 'op7', passphrase: PASSPHRASE });
      const token = login.completion.payload!['token'] as string;
      const bad = await ui.command('Operator.Login', { operatorId: 'op7', passphrase: `${PASSPHRASE}x` });
      expect(bad.completion.payload).toEqual({ errorCode: 'auth.badCredentials', sscardErrorCode: 'auth.badCredentials' });

      // verify with a wrong PIN typed on the touchscreen: the card locks (tries 1 → 0)
      const v = ui.send('SSCard.VerifyPin');
      await ui.waitFor((m) => m.header.requestId === v && m.header.name === 'SSCard.PinEntryStartedEvent');
      await typeByTouch(ui, '582047');
      expect((await ui.result(v)).completion.payload).toMatchObject({ result: { code: 'verify.locked' } });

      // unblock (new PIN twice), change, reset, activate — typed by the holder
      terminal.holderTypes('940372', '940372');
      expect((await ui.command('SSCard.UnblockPin')).completion.payload).toMatchObject({ result: { code: 'unblock.ok' } });
      terminal.holderTypes('940372', '582047', '582047');
      expect((await ui.command('SSCard.ChangePin', { token, phones: ['13800138000'] })).completion.payload).toMatchObject({ result: { code: 'change.ok' } });
      terminal.holderTypes('615283', '615283');
      expect((await ui.command('SSCard.ResetPin')).completion.payload).toMatchObject({ result: { code: 'reset.ok' } });
      terminal.holderTypes('367109', '367109');
      expect((await ui.command('SSCard.Activate')).completion.payload).toMatchObject({ result: { code: 'activate.ok' } });
      // mismatching new PINs, a wrong old PIN
      terminal.holderTypes('615283', '582047');
      expect((await ui.command('SSCard.ResetPin')).completion.payload).toMatchObject({ result: { code: 'pin.mismatch' } });
      terminal.holderTypes('582047', '940372', '940372');
      expect((await ui.command('SSCard.ChangePin')).completion.payload).toMatchObject({ result: { code: 'change.wrongPin' } });

      // a plain PIN entry, keys from the touchscreen, then one cancelled midway, then one timed out
      const pe = ui.send('Keyboard.PinEntry', { minLen: 4, maxLen: 6 });
      await new Promise((r) => setTimeout(r, 20));
      await typeByTouch(ui, '80514');
      expect((await ui.result(pe)).completion.payload).toEqual({ digits: 5, completion: 'enter' });
      const pe2 = ui.send('Keyboard.PinEntry', {});
      await new Promise((r) => setTimeout(r, 20));
      for (const k of '3671') await ui.command('Keyboard.TouchKey', { key: k });
      await ui.command('Common.Cancel', { requestIds: [pe2] });
      expect((await ui.result(pe2)).completion.header.completionCode).toBe('canceled');
      const pe3 = ui.send('Keyboard.PinEntry', {}, { timeout: 80 });
      await new Promise((r) => setTimeout(r, 20));
      for (const k of '9403') await ui.command('Keyboard.TouchKey', { key: k });
      expect((await ui.result(pe3)).completion.header.completionCode).toBe('timeOut');

      // the SSCardDriver side
      terminal.holderTypes('367109');
      const hv = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', { 'content-type': 'application/json' });
      expect(hv.headers['x-sscard-return']).toBe('0');
      httpBodies.push(hv.text);
      terminal.holderTypes('615283');
      const hw = await api.http('POST', '/sscard/iVerifyPIN', '{"iType":1}', { 'content-type': 'application/json' });
      expect(hw.headers['x-sscard-return']).toBe('-51');
      httpBodies.push(hw.text);
      terminal.holderTypes('615283', '615283');
      const hr = await api.http('POST', '/sscard/iReloadPIN', JSON.stringify({ iType: 1, cardInfo: '410402D156000005AAAAAAAAAAAAAAAA|X00000019|' }), {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      });
      expect(hr.headers['x-sscard-return']).toBe('0');
      httpBodies.push(hr.text);
      httpBodies.push((await api.http('GET', '/status')).text);

      // a flow cut short: SSCard.End, then the card removed while PIN entry waits
      const cut = ui.send('SSCard.VerifyPin');
      await ui.waitFor((m) => m.header.requestId === cut && m.header.name === 'SSCard.PinEntryStartedEvent');
      for (const k of '7391') await ui.command('Keyboard.TouchKey', { key: k });
      await observer.command('SSCard.End');
      await ui.result(cut);
      const gone = ui.send('SSCard.VerifyPin');
      await ui.waitFor((m) => m.header.requestId === gone && m.header.name === 'SSCard.PinEntryStartedEvent');
      for (const k of '1467') await ui.command('Keyboard.TouchKey', { key: k });
      terminal.removeCard();
      expect((await ui.result(gone)).completion.payload).toMatchObject({ result: { code: 'card.removed' } });
      // a PIN typed into the wrong place
      await ui.command('SSCard.VerifyPin', { pin: CARD_PIN });
      await ui.command('Keyboard.TouchKey', { key: CARD_PIN });
      ui.sendRaw(`{"header":{"type":"command","name":"SSCard.VerifyPin","requestId":"${CARD_PIN}"}}`);
      ui.sendRaw(`{"header":{"type":"command","name":"SSCard.VerifyPin","requestId":77,"${CARD_PIN}":1}}`);
      ui.sendRaw(`${CARD_PIN}`);
      await observer.command('Operator.Logout', { token: `${CARD_PIN}-not-a-token` });
      await observer.command('Common.Status');
      await ui.command('Common.Status');

      // every event kind was seen
      const seen = new Set([...ui.messages, ...observer.messages].map((m) => m.header.name));
      for (const n of [
        'Common.StatusChangedEvent',
        'CardReader.MediaRemovedEvent',
        'SSCard.CardInsertedEvent',
        'SSCard.CardIdentifiedEvent',
        'SSCard.ServiceStartedEvent',
        'SSCard.PinEntryStartedEvent',
        'SSCard.PinDigitsEvent',
        'SSCard.ResultEvent',
        'SSCard.SessionEndedEvent',
        'SSCard.CardRemovedEvent',
        'Keyboard.KeyEvent',
      ]) {
        expect(seen.has(n), n).toBe(true);
      }

      const frames = [...ui.frames, ...observer.frames];
      const everything = [...frames, ...httpBodies].join('\n');
      const logs = api.logger.text();
      for (const pin of PINS) {
        expect(everything.includes(pin), `PIN ${pin} in a message`).toBe(false);
        expect(logs.includes(pin), `PIN ${pin} in the log`).toBe(false);
      }
      expect(everything).not.toContain(PASSPHRASE);
      expect(logs).not.toContain(PASSPHRASE);
      expect(logs).not.toContain(token);
      expect(frames.filter((f) => f.includes(token))).toEqual([JSON.stringify(login.completion)]);
      expect(auth.received.every((b) => b.every((x) => x === 0))).toBe(true);
      // key events carry no digit
      for (const m of [...ui.messages, ...observer.messages].filter((x) => x.header.name === 'Keyboard.KeyEvent')) expect(m.payload!['digit']).toBeNull();
    } finally {
      await api.close();
    }
  });
});
