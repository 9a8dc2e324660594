import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, splitDescription, type SocketFactory, type SocketHandlers } from './api-client.js';

/** Sockets the client opened, driven by the test as the daemon would. */
class FakeSockets {
  readonly opened: { url: string; on: SocketHandlers; sent: string[]; closed: boolean }[] = [];
  readonly factory: SocketFactory = (url, on) => {
    const s = { url, on, sent: [] as string[], closed: false };
    this.opened.push(s);
    return { send: (t) => void s.sent.push(t), close: () => void (s.closed = true) };
  };
  get last() {
    return this.opened[this.opened.length - 1]!;
  }
  sent(i = this.opened.length - 1): { header: Record<string, unknown>; payload: Record<string, unknown> }[] {
    return this.opened[i]!.sent.map((t) => JSON.parse(t) as { header: Record<string, unknown>; payload: Record<string, unknown> });
  }
  deliver(msg: unknown): void {
    this.last.on.message(JSON.stringify(msg));
  }
}

const URL = 'ws://127.0.0.1:5846/xfs4iot/v1.0/sscard';

describe('ApiClient', () => {
  let sockets: FakeSockets;
  let client: ApiClient;
  beforeEach(() => {
    vi.useFakeTimers();
    sockets = new FakeSockets();
    // random 0 → the shortest delay of each backoff step: half of base · 2^(n-1)
    client = new ApiClient({ url: URL, socket: sockets.factory, random: () => 0 });
  });
  afterEach(() => {
    client.stop();
    vi.useRealTimers();
  });

  function openClient(): void {
    client.start();
    sockets.last.on.open();
  }

  it('sends commands in the XFS4IoT envelope with increasing request ids and the timeout in the header', () => {
    openClient();
    // left running: stop() in afterEach rejects them
    client.command('Common.Status').catch(() => undefined);
    client.command('SSCard.VerifyPin', { waitForCardMs: 0 }, { timeoutMs: 30_000 }).catch(() => undefined);
    expect(sockets.sent()).toEqual([
      { header: { type: 'command', name: 'Common.Status', requestId: 1 }, payload: {} },
      { header: { type: 'command', name: 'SSCard.VerifyPin', requestId: 2, timeout: 30_000 }, payload: { waitForCardMs: 0 } },
    ]);
  });

  it('correlates acknowledge, events and completion by requestId, whatever the order of two commands', async () => {
    openClient();
    const events: [string, unknown][] = [];
    const a = client.command('SSCard.VerifyPin', {}, { onEvent: (n, p) => events.push([n, p]) });
    const b = client.command('Common.Status');
    sockets.deliver({ header: { type: 'acknowledge', name: 'SSCard.VerifyPin', requestId: 1 } });
    sockets.deliver({ header: { type: 'acknowledge', name: 'Common.Status', requestId: 2 } });
    sockets.deliver({ header: { type: 'event', name: 'SSCard.PinDigitsEvent', requestId: 1 }, payload: { count: 1 } });
    sockets.deliver({ header: { type: 'completion', name: 'Common.Status', requestId: 2, completionCode: 'success' }, payload: { common: { device: 'online' } } });
    sockets.deliver({ header: { type: 'event', name: 'SSCard.PinDigitsEvent', requestId: 1 }, payload: { count: 2 } });
    sockets.deliver({ header: { type: 'completion', name: 'SSCard.VerifyPin', requestId: 1, completionCode: 'success' }, payload: { result: { code: 'verify.ok' } } });
    await expect(b).resolves.toMatchObject({ requestId: 2, ok: true, payload: { common: { device: 'online' } } });
    await expect(a).resolves.toMatchObject({ requestId: 1, ok: true, code: 'success', errorCode: null, description: null, payload: { result: { code: 'verify.ok' } } });
    expect(events).toEqual([
      ['SSCard.PinDigitsEvent', { count: 1 }],
      ['SSCard.PinDigitsEvent', { count: 2 }],
    ]);
  });

  it('maps a failed completion: errorCode from the payload, the description split into zh and en', async () => {
    openClient();
    const c = client.command('SSCard.VerifyPin');
    sockets.deliver({
      header: { type: 'completion', name: 'SSCard.VerifyPin', requestId: 1, completionCode: 'commandErrorCode', errorDescription: '密码错误 / wrong PIN' },
      payload: { errorCode: 'verify.wrongPin', result: { code: 'verify.wrongPin', triesLeft: 2 } },
    });
    await expect(c).resolves.toMatchObject({ ok: false, code: 'commandErrorCode', errorCode: 'verify.wrongPin', description: { zh: '密码错误', en: 'wrong PIN' } });
  });

  it('a completion as the daemon sends it on a success — no errorDescription, no empty payload — resolves ok with no description', async () => {
    openClient();
    const c = client.command('Common.SetVersions', { commands: { 'Common.Status': 2 } });
    sockets.deliver({ header: { type: 'acknowledge', name: 'Common.SetVersions', requestId: 1, version: '2.0' } });
    sockets.deliver({ header: { type: 'completion', name: 'Common.SetVersions', requestId: 1, version: '2.0', completionCode: 'success' } });
    await expect(c).resolves.toMatchObject({ ok: true, code: 'success', errorCode: null, description: null, payload: {} });
  });

  it('a failed completion without an errorCode carries its completion code as the errorCode', async () => {
    openClient();
    const c = client.command('SSCard.ReadBasic');
    sockets.deliver({ header: { type: 'completion', name: 'SSCard.ReadBasic', requestId: 1, completionCode: 'canceled', errorDescription: '命令已取消 / the command was cancelled' } });
    await expect(c).resolves.toMatchObject({ ok: false, code: 'canceled', errorCode: 'canceled', description: { zh: '命令已取消', en: 'the command was cancelled' } });
  });

  it('a refused acknowledge rejects with ApiError refused and its status; a later completion for that id is ignored', async () => {
    openClient();
    const c = client.command('SSCard.VerifyPin');
    sockets.deliver({ header: { type: 'acknowledge', name: 'SSCard.VerifyPin', requestId: 1, status: 'tooManyRequests', errorDescription: '请求过多 / too many requests' } });
    const e = await c.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ kind: 'refused', status: 'tooManyRequests', text: { zh: '请求过多', en: 'too many requests' } });
  });

  it('without a connection a command is not sent and rejects notConnected', async () => {
    client.start();
    await expect(client.command('Common.Status')).rejects.toMatchObject({ kind: 'notConnected' });
    expect(sockets.last.sent).toEqual([]);
  });

  it('aborting the signal sends Common.Cancel for that request; the command still ends with its own completion', async () => {
    openClient();
    const ac = new AbortController();
    const c = client.command('SSCard.VerifyPin', {}, { signal: ac.signal });
    ac.abort();
    expect(sockets.sent()[1]).toEqual({ header: { type: 'command', name: 'Common.Cancel', requestId: 2 }, payload: { requestIds: [1] } });
    sockets.deliver({ header: { type: 'completion', name: 'SSCard.VerifyPin', requestId: 1, completionCode: 'canceled', errorDescription: '命令已取消 / the command was cancelled' } });
    await expect(c).resolves.toMatchObject({ code: 'canceled' });
  });

  it('delivers unsolicited messages to listeners, not to a command', () => {
    openClient();
    const seen: [string, unknown][] = [];
    client.onUnsolicited((n, p) => seen.push([n, p]));
    sockets.deliver({ header: { type: 'unsolicited', name: 'SSCard.CardRemovedEvent' }, payload: { reader: 'vpcd 0' } });
    expect(seen).toEqual([['SSCard.CardRemovedEvent', { reader: 'vpcd 0' }]]);
  });

  it('ignores frames that are not JSON or have no header, and completions for ids it does not know', async () => {
    openClient();
    const c = client.command('Common.Status');
    sockets.last.on.message('not json');
    sockets.deliver({ nope: 1 });
    sockets.deliver({ header: { type: 'completion', name: 'Common.Status', requestId: 99, completionCode: 'success' } });
    sockets.deliver({ header: { type: 'completion', name: 'Common.Status', requestId: 1, completionCode: 'success' } });
    await expect(c).resolves.toMatchObject({ requestId: 1, ok: true });
  });

  it('connection lost: running commands reject connectionLost and are not resent; the client reconnects with backoff and says so', async () => {
    const states: string[] = [];
    client.onState((s) => states.push(s));
    openClient();
    const c = client.command('SSCard.VerifyPin');
    sockets.last.on.closed();
    await expect(c).rejects.toMatchObject({ kind: 'connectionLost' });
    expect(client.state).toBe('unavailable');
    expect(sockets.opened).toHaveLength(1);
    // failure 1: between 125 and 250 ms (random 0 → 125)
    vi.advanceTimersByTime(124);
    expect(sockets.opened).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets.opened).toHaveLength(2);
    // the daemon is still down: failure 2 → 250 ms, failure 3 → 500 ms
    sockets.last.on.closed();
    vi.advanceTimersByTime(250);
    expect(sockets.opened).toHaveLength(3);
    sockets.last.on.closed();
    vi.advanceTimersByTime(499);
    expect(sockets.opened).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(sockets.opened).toHaveLength(4);
    sockets.last.on.open();
    expect(client.state).toBe('open');
    expect(states).toEqual(['connecting', 'open', 'unavailable', 'connecting', 'unavailable', 'connecting', 'unavailable', 'connecting', 'open']);
    // nothing was resent on any new socket
    expect(sockets.opened.slice(1).flatMap((s) => s.sent)).toEqual([]);
    // after a good open the backoff starts again from the first step
    sockets.last.on.closed();
    vi.advanceTimersByTime(125);
    expect(sockets.opened).toHaveLength(5);
  });

  it('the backoff stops growing at its ceiling (5 s by default)', () => {
    client.start();
    for (let i = 0; i < 12; i++) {
      sockets.last.on.closed();
      vi.advanceTimersByTime(5000);
    }
    const before = sockets.opened.length;
    sockets.last.on.closed();
    vi.advanceTimersByTime(2499);
    expect(sockets.opened).toHaveLength(before);
    vi.advanceTimersByTime(1);
    expect(sockets.opened).toHaveLength(before + 1);
  });

  it('a connection that does not open in time is dropped and tried again', () => {
    const c2 = new ApiClient({ url: URL, socket: sockets.factory, random: () => 0, openTimeoutMs: 1000 });
    c2.start();
    vi.advanceTimersByTime(1000);
    expect(sockets.opened[0]!.closed).toBe(true);
    expect(c2.state).toBe('unavailable');
    vi.advanceTimersByTime(125);
    expect(sockets.opened).toHaveLength(2);
    c2.stop();
  });

  it('events of an old socket are ignored after it was replaced', () => {
    openClient();
    const first = sockets.last;
    first.on.closed();
    vi.advanceTimersByTime(125);
    const seen: string[] = [];
    client.onUnsolicited((n) => seen.push(n));
    first.on.message(JSON.stringify({ header: { type: 'unsolicited', name: 'SSCard.CardInsertedEvent' }, payload: {} }));
    first.on.open();
    first.on.closed();
    expect(seen).toEqual([]);
    expect(client.state).toBe('connecting');
  });

  it('stop() rejects running commands with stopped, closes the socket, and reconnects no more', async () => {
    openClient();
    const c = client.command('SSCard.VerifyPin');
    client.stop();
    await expect(c).rejects.toMatchObject({ kind: 'stopped' });
    expect(sockets.last.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sockets.opened).toHaveLength(1);
    await expect(client.command('Common.Status')).rejects.toMatchObject({ kind: 'stopped' });
  });
});

describe('splitDescription', () => {
  it.each([
    ['zh / en', '卡已锁定 / card locked', { zh: '卡已锁定', en: 'card locked' }],
    ['only the first separator splits', '甲 / a / b', { zh: '甲', en: 'a / b' }],
    ['no separator: the same text for both', 'internal', { zh: 'internal', en: 'internal' }],
    ['null', null, null],
    ['empty', '', null],
  ])('%s', (_what, text, expected) => {
    expect(splitDescription(text)).toEqual(expected);
  });
});
