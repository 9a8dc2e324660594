/**
 * fast-check arbitraries of the HTTP traffic (scripts/api-fuzz.ts): WebSocket upgrades and plain
 * requests with every Host, Origin and credential docs/api.md "Who may talk to the daemon" sorts,
 * malformed heads, huge and many headers, bodies over the limit, pipelined and cut-off requests.
 */
import fc from 'fast-check';
import { hostOk, isJsonType } from './access.js';
import type { Action, BodyKind, Cred, HostKind, HttpSpec, OriginKind, TrafficShape, UpgradeSpec } from './spec.js';
import { json, nastyString, nastyStringLiteral, notJson } from './ws-arbitraries.js';

const credArb: fc.Arbitrary<Cred> = fc.constantFrom('token', 'token', 'token', 'tokenLowerScheme', 'none', 'none', 'badToken', 'operatorJunk', 'basic', 'emptyBearer', 'tokenInQuery');
const hostArb: fc.Arbitrary<HostKind> = fc.constantFrom('ip', 'ip', 'ip', 'ip', 'localhost', 'ipv6', 'trailingDot', 'noPort', 'foreign', 'foreignIp', 'missing', 'malformed');
const originArb: fc.Arbitrary<OriginKind> = fc.constantFrom('none', 'none', 'none', 'none', 'own', 'null', 'null', 'foreign', 'foreign', 'ownOtherPort', 'withPath', 'file');

/** Who a request or upgrade claims to be: mostly the admitted client (so that the routes behind access are fuzzed too), else anything. */
const accessArb: fc.Arbitrary<{ host: HostKind; origin: OriginKind; cred: Cred }> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ host: fc.constantFrom<HostKind>('ip', 'ip', 'ip', 'localhost', 'ipv6', 'trailingDot', 'noPort'), origin: fc.constantFrom<OriginKind>('none', 'none', 'none', 'own'), cred: fc.constantFrom<Cred>('token', 'token', 'tokenLowerScheme') }) },
  { weight: 4, arbitrary: fc.record({ host: hostArb, origin: originArb, cred: credArb }) },
);

export const upgradeAction: fc.Arbitrary<Action> = fc
  .record({
    path: fc.constantFrom('/xfs4iot/v1.0/sscard', '/xfs4iot/v1.0/sscard', '/xfs4iot/v1.0', '/xfs4iot/v1.0/SSCard', '/xfs4iot/v1.0/sscard/', '/xfs4iot/v1.0/nope', '/', '//[', '/xfs4iot/v1.0/%73scard', '/xfs4iot/v1.0/sscard?x=1'),
    access: accessArb,
    key: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'missing', 'bad'),
    version: fc.constantFrom('13', '13', '13', '13', '8', 'missing'),
    tokenAsProtocol: fc.boolean(),
    burst: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 12 }) }),
  })
  .map(({ access, ...rest }): Action => {
    const u = { ...rest, ...access };
    return { ch: 'upgrade', spec: { ...u, kind: upgradeKind(u) } };
  });

function upgradeKind(u: Omit<UpgradeSpec, 'kind'>): string {
  if (u.origin === 'null') return 'originNull';
  if (u.origin !== 'none' && u.origin !== 'own') return 'originForeign';
  if (u.host !== 'ip' && u.host !== 'localhost' && u.host !== 'ipv6' && u.host !== 'trailingDot' && u.host !== 'noPort') return 'badHost';
  if (u.burst > 1) return 'burst';
  if (u.cred === 'token' || u.cred === 'tokenLowerScheme') return u.key !== 'ok' || u.version !== '13' ? 'badHandshake' : 'token';
  if (u.cred === 'badToken') return 'badToken';
  return u.origin === 'own' ? 'ownOrigin' : 'unauthenticated';
}

const targetArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/health', '/status', '/sscard/iReadCardBas', '/sscard/iReadCardBas', '/sscard/iVerifyPIN', '/sscard/iChangePIN', '/sscard/iReloadPIN', '/sscard/iUnblockPIN') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '/',
      '/health/',
      '/HEALTH',
      '/health?x=1',
      '/status/',
      '/sscard/',
      '/sscard/nope',
      '/sscard/iReadCardBas/',
      '/sscard/%69ReadCardBas',
      '/sscard/iReadCardBas%00',
      '/sscard//iReadCardBas',
      '//[',
      '//[::1]',
      'http://[x/',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..;/status',
      '/xfs4iot/v1.0',
      '/xfs4iot/v1.0/sscard',
      'http://127.0.0.1:{port}/health',
      'http://evil.example/status',
      '*',
      '/%',
      '/%zz',
      `/${'a'.repeat(8000)}`,
      `/?${'q=1&'.repeat(1000)}`,
      '/\u00e9',
      '/sscard/iReadCardBas?iType=1',
    ),
  },
  { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
);

const methodArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'HEAD', 'OPTIONS') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'FOO', 'M-SEARCH', 'PURGE') },
);

const contentTypeArb: fc.Arbitrary<readonly string[]> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(['application/json']) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      [],
      ['application/json; charset=utf-8'],
      ['APPLICATION/JSON'],
      ['application/x-www-form-urlencoded'],
      ['multipart/form-data; boundary=x'],
      ['text/plain'],
      ['text/plain; charset=application/json'],
      ['application/json', 'text/plain'],
      ['text/plain', 'application/json'],
      ['application/jsonp'],
      ['application/json;'],
      [' application/json'],
      ['application/ json'],
      ['*/*'],
      [''],
    ),
  },
);

function bodyArb(shape: TrafficShape): fc.Arbitrary<{ body: BodyKind; bodyText: string }> {
  const iType = fc.constantFrom('1', '1', '1', '3', '4', '2', '0', '-1', '"1"', '" 1 "', '1.5', '2147483648', '"abc"', 'null', '[]', '1e3', '"0x1"');
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant({ body: 'none' as const, bodyText: '' }) },
    { weight: 5, arbitrary: iType.map((t) => ({ body: 'vendorOk' as const, bodyText: `{"iType":${t}}` })) },
    {
      weight: 3,
      arbitrary: fc.tuple(iType, nastyString, fc.option(nastyString)).map(([t, info, extra]) => ({
        body: 'vendorBad' as const,
        bodyText: extra === null ? `{"iType":${t},"cardInfo":${json(info)}}` : `{"iType":${t},${json(extra)}:1}`,
      })),
    },
    { weight: 2, arbitrary: fc.constantFrom('{"iType":2,"iType":1}', '{"iType":1,"i\\u0054ype":2}', '{"iType":1,"cardInfo":"a","cardInfo":"b"}').map((b) => ({ body: 'duplicateKeys' as const, bodyText: b })) },
    { weight: 2, arbitrary: notJson.map((b) => ({ body: 'notJson' as const, bodyText: b })) },
    { weight: 3, arbitrary: fc.constantFrom('iType=1', 'iType=1&cardInfo=x%7Cy%7C', '--x\r\nContent-Disposition: form-data; name="iType"\r\n\r\n1\r\n--x--\r\n', '{"iType":1}').map((b) => ({ body: 'form' as const, bodyText: b })) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: Math.max(2, Math.floor(shape.maxFrameBytes / 2) - 20) }).map((d) => ({ body: 'deep' as const, bodyText: `{"iType":${'['.repeat(d)}${']'.repeat(d)}}` })) },
    { weight: 1, arbitrary: fc.constantFrom('overLimitDeclared' as const, 'overLimitChunked' as const, 'nearLimit' as const).map((body) => ({ body, bodyText: '' })) },
    { weight: 1, arbitrary: nastyStringLiteral.map((s) => ({ body: 'unicode' as const, bodyText: `{"iType":1,"cardInfo":${s}}` })) },
  );
}

const extraHeaders: fc.Arbitrary<readonly string[]> = fc.oneof(
  { weight: 6, arbitrary: fc.constant([]) },
  {
    weight: 3,
    arbitrary: fc.subarray([
      'X-Forwarded-For: 10.0.0.1',
      'X-Forwarded-Host: evil.example',
      'Forwarded: for=10.0.0.1;host=evil.example',
      'X-SSCard-Return: 0',
      'Access-Control-Request-Method: POST',
      'Access-Control-Request-Private-Network: true',
      'Cookie: a=b',
      'Accept: */*',
      'Accept-Encoding: gzip, deflate, br',
      'Content-Encoding: gzip',
      'Transfer-Encoding: gzip',
      'Upgrade: h2c',
      'Connection: Upgrade, HTTP2-Settings',
      'Range: bytes=0-1',
      'If-None-Match: *',
      'Max-Forwards: 0',
      'Sec-Fetch-Site: cross-site',
      'Sec-Fetch-Mode: no-cors',
      'User-Agent: \u00ff\u00fe',
    ]),
  },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 150 }).map((n) => Array.from({ length: n }, (_, i) => `X-Many-${i}: ${i}`)) },
);

/** Malformed heads (`{port}` is replaced); Node's parser refuses most with 400 before the API sees them. */
const rawHead: fc.Arbitrary<string> = fc.constantFrom(
  'GET / HTTP/1.1\nHost: 127.0.0.1:{port}\n\n',
  'GET  /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n',
  'GET /health\r\n\r\n',
  'GET /health HTTP/2.0\r\nHost: 127.0.0.1:{port}\r\n\r\n',
  'GET /health HTTP/1.0\r\n\r\n',
  'GET /status HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nNoColon\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n Folded: x\r\n\r\n',
  'GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX: a\u0000b\r\n\r\n',
  'POST /sscard/iReadCardBas HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 11\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /sscard/iReadCardBas HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 11\r\nContent-Length: 12\r\n\r\n{"iType":1}',
  'POST /sscard/iReadCardBas HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n',
  'POST /sscard/iReadCardBas HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  'GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\n\r\n',
  'get /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n',
  '\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
  'GET /\u0000 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n',
  'CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n',
);

export function httpAction(shape: TrafficShape): fc.Arbitrary<Action> {
  return fc
    .record({
      method: methodArb,
      target: targetArb,
      access: accessArb,
      contentType: contentTypeArb,
      body: bodyArb(shape),
      headers: extraHeaders,
      hugeHeader: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 8_000, max: 16_200 }) }, { weight: 1, arbitrary: fc.integer({ min: 16_400, max: 40_000 }) }),
      raw: fc.oneof({ weight: 14, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: rawHead }),
      cutAfterMs: fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) }),
      pipeline: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 3 }) }),
      expect100: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map(({ access, ...r }): Action => {
      const spec: HttpSpec = { ...r, ...access, body: r.body.body, bodyText: r.body.bodyText, kind: '' };
      return { ch: 'http', spec: { ...spec, kind: httpKind(spec) } };
    });
}

function httpKind(s: HttpSpec): string {
  if (s.raw !== null) return 'malformed';
  if (s.hugeHeader > 0) return 'hugeHeaders';
  if (s.headers.length >= 30) return 'manyHeaders';
  if (s.cutAfterMs !== null) return 'slowBodyCut';
  if (s.origin === 'null') return 'originNull';
  if (s.origin !== 'none' && s.origin !== 'own') return 'originForeign';
  if (!hostOk(s.host)) return 'badHost';
  if (s.cred !== 'token' && s.cred !== 'tokenLowerScheme') return s.cred === 'badToken' ? 'badToken' : 'noCredential';
  if (s.body === 'overLimitDeclared' || s.body === 'overLimitChunked') return 'bodyOverLimit';
  if (s.body === 'form' || (s.method === 'POST' && s.target.startsWith('/sscard/') && !isJsonType(s.contentType))) return 'formOrWrongType';
  if (s.pipeline > 1) return 'pipelined';
  if (s.target.startsWith('/sscard/')) return 'vendorCall';
  return 'request';
}
