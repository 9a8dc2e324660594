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
        'Common.StatusChangedEvent',
        'SSCard.CardInsertedEvent',
        'SSCard.CardIdentifiedEvent',
        'Common.StatusChangedEvent',
        'Common.ErrorEvent',
        'CardReader.MediaRemovedEvent',
        'Common.StatusChangedEvent',
        'SSCard.CardRemovedEvent',
      ]);
      const [ins, , ident, dev, error, removed, out] = c.unsolicited();
      // StatusChangedEvent 3.0: what changed, in Status's shape; our report whole as sscard.
      expect(ins!.header).toMatchObject({ type: 'unsolicited', version: '3.0' });
      expect(ins!.header.requestId).toBeUndefined();
      expect(ins!.payload).toMatchObject({ cardReader: { media: 'present', chipPower: 'online' }, sscard: { terminalId: 'T0001' } });
      expect(ident!.payload).toEqual({ reader: FAKE_READER, cardNumberMasked: 'X0****019', name: '张三', specVersion: '3.00', triesLeft: 6, cardState: 'active', authentic: true, expiryDate: '2030-01-01', expired: false });
      expect(dev!.payload).toMatchObject({ sscardDevice: { component: 'pinPad', connected: false, problem: { en: 'the PIN pad is disconnected' } } });
      expect(dev!.payload?.['cardReader']).toBeUndefined();
      // Common/Events/ErrorEvent_g.cs
      expect(error!.payload).toEqual({ eventId: 'hardware', action: 'maintenance', vendorDescription: '密码键盘已断开 / the PIN pad is disconnected', sscardComponent: 'pinPad' });
      // CardReader/Events/MediaRemovedEvent_g.cs has no payload.
      expect(removed!.payload).toBeUndefined();
      expect(removed!.header.version).toBe('2.0');
      expect(out!.payload).toMatchObject({ cardReader: { media: 'notPresent', chipPower: 'noCard' } });
      expect(c.frames.join('\n')).not.toContain('410402199001011234');
      expect(c.frames.join('\n')).not.toContain('X00000019');
    }
    expect(pub.messages).toEqual([]);
  });

  it('a card inserted while a service waits for it is that command\'s CardReader.MediaInsertedEvent (an event, not unsolicited)', async () => {
    const api = await start({ terminal: new FakeTerminal({ card: null }) });
    const a = await api.connect();
    const b = await api.connect();
    api.terminal.holderTypes(PIN);
    const id = a.send('SSCard.VerifyPin', { waitForCardMs: 10_000 });
    await until(() => api.terminal.calls.some((x) => x.method === 'runService'));
    api.terminal.insertCard();
    const r = await a.result(id);
    const inserted = r.events.filter((e) => e.header.name === 'CardReader.MediaInsertedEvent');
    expect(inserted).toHaveLength(1);
    expect(inserted[0]!.header).toMatchObject({ type: 'event', requestId: id, version: '2.0' });
    // CardReader/Events/MediaInsertedEvent_g.cs has no payload.
    expect(inserted[0]!.payload).toBeUndefined();
    expect([...a.unsolicited(), ...b.unsolicited()].some((m) => m.header.name === 'CardReader.MediaInsertedEvent')).toBe(false);
  });

  it("a client of one reader's endpoint gets that reader's events and the terminal's, not another reader's", async () => {
    const api = await start();
    const shared = await api.connect();
    const mine = await api.connect(`/xfs4iot/v1.0/sscard/reader/${encodeURIComponent(FAKE_READER)}`);
    const OTHER = 'Other Reader 01';
    api.terminal.emit({ type: 'session', reader: OTHER, event: { type: 'pin.digits', count: 1 } });
    api.terminal.emit({ type: 'mediaRemoved', reader: OTHER });
    api.terminal.emit({ type: 'device', component: 'pinPad', connected: false, problem: { zh: '密码键盘已断开', en: 'the PIN pad is disconnected' } });
    api.terminal.emit({ type: 'session', reader: FAKE_READER, event: { type: 'pin.digits', count: 2 } });
    api.terminal.emit({ type: 'mediaRemoved', reader: FAKE_READER });
    await until(() => shared.unsolicited().length === 8 && mine.unsolicited().length >= 6);
    expect(names(shared.unsolicited())).toEqual([
      'SSCard.PinDigitsEvent',
      'CardReader.MediaRemovedEvent',
      'Common.StatusChangedEvent',
      'Common.StatusChangedEvent',
      'Common.ErrorEvent',
      'SSCard.PinDigitsEvent',
      'CardReader.MediaRemovedEvent',
      'Common.StatusChangedEvent',
    ]);
    // The terminal's Status changes and device errors, and this reader's events: the other reader's digits and removal not.
    expect(names(mine.unsolicited())).toEqual(['Common.StatusChangedEvent', 'Common.StatusChangedEvent', 'Common.ErrorEvent', 'SSCard.PinDigitsEvent', 'CardReader.MediaRemovedEvent', 'Common.StatusChangedEvent']);
    expect(mine.unsolicited().find((m) => m.header.name === 'SSCard.PinDigitsEvent')!.payload).toEqual({ reader: FAKE_READER, count: 2 });
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
