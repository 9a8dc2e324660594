/**
 * The vendors' local JSON WebSocket (vendor-ws.ts; docs/api.md "SSCardDriver over WebSocket"):
 * `{"function":…}` in, `{functionName, success, pOutInfo, sscardReturn}` out, the same functions as
 * the HTTP calls, on the API's own port with its access rules.
 */
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { apiPerTest } from '../../testing/api-test-client.js';
import { FakeTerminal } from '../../testing/fake-terminal.js';
import type { TestApi } from '../../testing/api-test-client.js';

const start = apiPerTest();

interface Reply {
  readonly functionName: string | null;
  readonly success: boolean;
  readonly pOutInfo: string;
  readonly sscardReturn: number | null;
}

/** A raw client: `ask` sends and waits for the next reply (replies come in the order they are made, not asked). */
async function open(api: TestApi, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; ask: (m: string | Buffer) => Promise<Reply>; send: (m: string) => void; next: () => Promise<Reply> }> {
  const ws = new WebSocket(`${api.base.replace('http', 'ws')}/sscard`, { headers });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const replies: Reply[] = [];
  const waiters: ((r: Reply) => void)[] = [];
  ws.on('message', (d: Buffer) => {
    const r = JSON.parse(d.toString('utf8')) as Reply;
    const w = waiters.shift();
    if (w) w(r);
    else replies.push(r);
  });
  const next = () => new Promise<Reply>((resolve) => (replies.length > 0 ? resolve(replies.shift()!) : waiters.push(resolve)));
  return {
    ws,
    send: (m) => ws.send(m),
    next,
    ask: (m) => {
      ws.send(m, { binary: Buffer.isBuffer(m) });
      return next();
    },
  };
}

describe('the vendors\' JSON WebSocket at /sscard', () => {
  it('runs a function as the HTTP call does: iReadCardBas, iGetReaderInfo, iReadCard', async () => {
    const api = await start();
    const { ws, ask } = await open(api);
    const bas = await ask(JSON.stringify({ function: 'iReadCardBas', iType: 3 }));
    const http = await api.http('POST', '/sscard/iReadCardBas', '{"iType":3}', { 'content-type': 'application/json' });
    expect(bas).toEqual({ functionName: 'iReadCardBas', success: true, pOutInfo: http.text, sscardReturn: 0 });
    expect(await ask('{"function":"iGetReaderInfo"}')).toMatchObject({ functionName: 'iGetReaderInfo', success: true, sscardReturn: 0 });
    expect(await ask(JSON.stringify({ function: 'iReadCard', iType: 1, iAuthType: 0, cardInfo: '', fileAddr: 'DDF1EF06|09|$' }))).toMatchObject({ success: true, pOutInfo: '张三|' });
    ws.close();
  });

  it('errors as return codes with bilingual text: iType 2 −1, unknown function −13, no function −14, bad JSON −14, binary −14, a field it does not know −14', async () => {
    const api = await start();
    const { ws, ask } = await open(api);
    expect(await ask('{"function":"iReadCardBas","iType":2}')).toMatchObject({ functionName: 'iReadCardBas', success: false, sscardReturn: -1 });
    const unknown = await ask('{"function":"iFormat","iType":1}');
    expect(unknown).toMatchObject({ functionName: 'iFormat', success: false, sscardReturn: -13 });
    expect(unknown.pOutInfo).toMatch(/没有函数 iFormat.* \/ there is no function iFormat/);
    expect(await ask('{"iType":1}')).toMatchObject({ functionName: null, sscardReturn: -14 });
    expect(await ask('{"function":')).toMatchObject({ functionName: null, sscardReturn: -14 });
    expect(await ask('{"function":"iReadCardBas","function":"iVerifyPIN","iType":1}')).toMatchObject({ functionName: null, sscardReturn: -14 });
    expect(await ask(Buffer.from('{"function":"iReadCardBas","iType":1}'))).toMatchObject({ functionName: null, sscardReturn: -14 });
    const extra = await ask('{"function":"iVerifyPIN","iType":1,"pin":"123456"}');
    expect(extra).toMatchObject({ sscardReturn: -14 });
    expect(extra.pOutInfo).not.toContain('123456');
    expect(await ask('{"function":"iWriteCard_HSM_Step2"}')).toMatchObject({ functionName: 'iWriteCard_HSM_Step2', sscardReturn: -13 });
    ws.close();
  });

  it('a privileged function needs an operator, which a WebSocket cannot bring: −24', async () => {
    const api = await start({ terminal: new FakeTerminal({ role: 'counter', triesLeft: 0 }) });
    const { ws, ask } = await open(api);
    const r = await ask(JSON.stringify({ function: 'iUnblockPIN', iType: 1, cardInfo: '410402D156000005AAAAAAAAAAAAAAAA|X00000019|' }));
    expect(r).toMatchObject({ success: false, sscardReturn: -24 });
    ws.close();
  });

  it('one call at a time per connection: a second while the first runs is −12; hanging up aborts the call', async () => {
    const api = await start();
    api.terminal.hold();
    const { ws, send, next } = await open(api);
    send('{"function":"iReadCardBas","iType":1}');
    send('{"function":"iReadCardBas","iType":1}');
    expect(await next()).toMatchObject({ sscardReturn: -12 });
    api.terminal.release();
    expect(await next()).toMatchObject({ success: true });
    api.terminal.hold();
    send('{"function":"iReadCardBas","iType":1}');
    await new Promise((r) => setTimeout(r, 50));
    const call = api.terminal.calls.filter((c) => c.method === 'readBasic').at(-1)!;
    ws.terminate();
    await new Promise<void>((resolve) => {
      const check = () => ('signal' in call && call.signal.aborted ? resolve() : setTimeout(check, 5));
      check();
    });
    api.terminal.release();
  });

  it('the same access rules as every WebSocket: a foreign origin is refused before the handshake', async () => {
    const api = await start();
    await expect(open(api, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });
});
