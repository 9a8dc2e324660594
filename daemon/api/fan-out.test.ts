/**
 * Terminal events to the clients (fan-out.ts): media, session and device events as unsolicited
 * messages; a flow's own events to its caller.
 */
import { describe, expect, it } from 'vitest';
import { FakeTerminal, FAKE_READER } from '../../testing/fake-terminal.js';
import { apiPerTest, until } from '../../testing/api-test-client.js';
import type { Msg } from '../../testing/api-test-client.js';

const PIN = '147258';

const names = (ms: Msg[]) => ms.map((m) => m.header.name);

const start = apiPerTest();

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
      expect(ident!.payload).toEqual({ reader: FAKE_READER, cardNumberMasked: 'X0****019', name: '张三', specVersion: '3.00', triesLeft: 6, cardState: 'active', authentic: true, expiryDate: '2030-01-01', expired: false });
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
