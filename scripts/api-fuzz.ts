/**
 * Hostile traffic against the daemon's local API (docs/security.md, "A hostile client costs
 * nothing"; docs/api.md): fast-check arbitraries that describe WebSocket frames, WebSocket upgrades
 * and HTTP requests, and a runner that sends them to a running daemon on loopback and sorts every
 * answer it gets. test/api-fuzz.test.ts runs a few thousand messages with a fixed seed,
 * scripts/bench-fuzz.ts (`npm run bench:fuzz`) at least 100 000; the figures are in
 * docs/benchmarks.md.
 *
 * What is sent (a message is one WebSocket frame, one HTTP request or one upgrade request):
 *
 * - **WebSocket frames** on a few connections of an authenticated native client (a client token):
 *   valid-looking envelopes with wrong types, unknown commands, huge / negative / fractional /
 *   duplicate requestIds, names given twice, deep nesting, unicode (and text frames that are not
 *   UTF-8), binary frames, fragmented messages, frames just under and over `api.maxFrameBytes`,
 *   truncated JSON, command storms (past the 32 running commands of a client), Cancel of unknown
 *   ids, PIN-entry starts (Keyboard.PinEntry, SSCard.VerifyPin) and the connection closed under
 *   them;
 * - **touch keys** (Keyboard.TouchKey floods) on one more connection, in order, through
 *   {@link KeypadModel}, which never lets 6 digits be pending: the card's PINs have 6 digits
 *   (daemon/flows/session-actors.ts asks for minLength = maxLength = 6), so no flow started by the
 *   traffic can ever send a VERIFY and spend one of the holder's tries;
 * - **upgrades** as that client, as browser pages of refused origins (null, foreign), and without
 *   or with a bad credential; to unknown paths; without a key or with the wrong version; in bursts
 *   past the per-client connection limit;
 * - **HTTP requests** with random methods and targets (`//[`, percent-encoding, absolute form,
 *   long paths), huge and many headers, missing / wrong / duplicate content types, form bodies to
 *   /sscard/*, bodies over the limit (declared or chunked), foreign and malformed Host, Origin
 *   null / foreign, missing / invalid / valid tokens, malformed request lines, pipelined requests,
 *   and bodies trickled then cut off.
 *
 * Nothing leaves loopback, everything is bounded in count and time. Each request knows what the
 * daemon must answer where access is concerned (docs/api.md "Who may talk to the daemon"): one it
 * must refuse (foreign Host, refused Origin, no or a bad credential) and that is let through, or one
 * from the admitted client that is refused as if it had no credential, is an **anomaly**, as are a
 * 500, an `internalError`, a frame the server did not answer on an open connection, a message that is
 * not JSON and a close with 1011. The callers assert there are none.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';

// ---------------------------------------------------------------- what the traffic is made of

/** Service commands (docs/api.md "Commands"); Keyboard.TouchKey only through {@link KeypadModel}. */
export const SERVICE_COMMANDS = [
  'Common.Status',
  'Common.Capabilities',
  'Common.Cancel',
  'CardReader.ChipIO',
  'CardReader.ChipPower',
  'CardReader.Reset',
  'Keyboard.PinEntry',
  'SSCard.ReadBasic',
  'SSCard.VerifyPin',
  'SSCard.ChangePin',
  'SSCard.ResetPin',
  'SSCard.UnblockPin',
  'SSCard.Activate',
  'SSCard.End',
  'Operator.Login',
  'Operator.Logout',
] as const;

/** Keys of Keyboard.TouchKey (docs/api.md "Keyboard"). */
export const TOUCH_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'enter', 'backspace', 'clear', 'cancel'] as const;
const DIGITS = new Set<string>(TOUCH_KEYS.slice(0, 10));

/** A WebSocket frame to send. `sized` frames are built at send time from `api.maxFrameBytes`. */
export type Frame =
  | { readonly t: 'text'; readonly kind: string; readonly text: string }
  | { readonly t: 'bytes'; readonly kind: string; readonly bytes: Uint8Array; readonly binary: boolean }
  | { readonly t: 'sized'; readonly kind: 'nearLimit' | 'overLimit'; readonly delta: number; readonly fill: 'whitespace' | 'string' | 'nesting' }
  | { readonly t: 'fragments'; readonly kind: string; readonly parts: readonly string[] };

/** A touch key: `reader` absent, the card slot's name, or one that names no slot. */
export interface TouchKeySpec {
  readonly key: string;
  readonly reader: 'none' | 'slot' | 'bogus';
}

export type Cred = 'token' | 'tokenLowerScheme' | 'none' | 'badToken' | 'operatorJunk' | 'basic' | 'emptyBearer' | 'tokenInQuery';
export type HostKind = 'ip' | 'localhost' | 'ipv6' | 'trailingDot' | 'noPort' | 'foreign' | 'foreignIp' | 'missing' | 'malformed';
export type OriginKind = 'none' | 'own' | 'null' | 'foreign' | 'ownOtherPort' | 'withPath' | 'file';

export interface UpgradeSpec {
  readonly kind: string;
  readonly path: string;
  readonly cred: Cred;
  readonly host: HostKind;
  readonly origin: OriginKind;
  readonly key: 'ok' | 'missing' | 'bad';
  readonly version: '13' | '8' | 'missing';
  /** The token offered as a subprotocol instead of a header (never a credential: docs/api.md). */
  readonly tokenAsProtocol: boolean;
  /** Upgrades sent at once (past api.maxConnectionsPerClient for a burst). */
  readonly burst: number;
}

export type BodyKind =
  | 'none'
  | 'vendorOk'
  | 'vendorBad'
  | 'notJson'
  | 'duplicateKeys'
  | 'form'
  | 'deep'
  | 'overLimitDeclared'
  | 'overLimitChunked'
  | 'nearLimit'
  | 'unicode';

export interface HttpSpec {
  readonly kind: string;
  readonly method: string;
  /** The request target as sent (`/health`, `//[`, `http://…`); `{port}` is replaced. */
  readonly target: string;
  readonly host: HostKind;
  readonly origin: OriginKind;
  readonly cred: Cred;
  readonly contentType: readonly string[];
  readonly body: BodyKind;
  readonly bodyText: string;
  /** Extra header lines ("Name: value"). */
  readonly headers: readonly string[];
  /** One huge header of about this many bytes (0: none); Node's limit is 16 KiB (api server maxHeaderSize). */
  readonly hugeHeader: number;
  /** A malformed request instead of a well-formed one (the whole head), or null. */
  readonly raw: string | null;
  /** Send part of the body, wait this long, cut the connection (null: send it all). */
  readonly cutAfterMs: number | null;
  /** The same request this many times on one keep-alive connection (the last one closes). */
  readonly pipeline: number;
  readonly expect100: boolean;
}

export type Action =
  | { readonly ch: 'ws'; readonly conn: number; readonly frames: readonly Frame[] }
  | { readonly ch: 'wsClose'; readonly conn: number }
  | { readonly ch: 'keys'; readonly keys: readonly TouchKeySpec[] }
  | { readonly ch: 'upgrade'; readonly spec: UpgradeSpec }
  | { readonly ch: 'http'; readonly spec: HttpSpec };

export interface TrafficShape {
  /** The card slot's reader name (for `reader` fields). */
  readonly reader: string;
  /** api.maxFrameBytes of the daemon (also its HTTP body limit). */
  readonly maxFrameBytes: number;
  /** WebSocket connections of the authenticated client the frames are spread over. */
  readonly connections: number;
}

// ---------------------------------------------------------------- arbitraries

const json = (v: unknown): string => JSON.stringify(v);
const envelope = (name: string, requestId: string, payload?: string, header = ''): string =>
  `{"header":{"type":"command","name":${json(name)},"requestId":${requestId},"version":"2.0"${header}}${payload === undefined ? '' : `,"payload":${payload}`}}`;

/** requestId literals, as they appear in the text: valid ones, and every way to get one wrong. */
const requestIdLiteral: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 2_000_000_000 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '0',
      '-1',
      '-0',
      '1.5',
      '1e400',
      '-1e400',
      '9007199254740991',
      '9007199254740992',
      '18446744073709551616',
      '-9007199254740991',
      '1.0',
      '1E2',
      '0.1e1',
      '"1"',
      '"\\u0031"',
      'null',
      'true',
      '[]',
      '{}',
      '[1]',
      `1${'0'.repeat(400)}`,
      `0.${'0'.repeat(300)}1`,
    ),
  },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String) },
);

const idArb = fc.integer({ min: 1, max: 2_000_000_000 });

/** Strings a hostile client puts where a name or a value goes. */
const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e', '\ufeff', '社保卡', '１２３４５６', '123456', '__proto__', 'constructor', 'toString', '%s%s%n', '${jndi:ldap://x}', '../../etc/passwd', 'a'.repeat(300)),
);

/** A JSON string literal, sometimes with escapes that are not plain (lone surrogates, \u0000, escaped quotes). */
const nastyStringLiteral: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: nastyString.map(json) },
  { weight: 1, arbitrary: fc.constantFrom('"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"a\\"b"', '"\\\\"', '"\\/"', '"\\uFFFF"', '"\\u202E"') },
);

const readerValue = (reader: string): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(reader) },
    { weight: 1, arbitrary: fc.constant(reader.slice(0, Math.max(1, reader.length - 3))) },
    { weight: 1, arbitrary: fc.constantFrom('Virtual', 'nope', 'PCD', 'x'.repeat(201), '') },
    { weight: 1, arbitrary: nastyString },
  );

/** A payload that the command's schema accepts (or nearly), as JSON text. */
function payloadFor(name: string, reader: string): fc.Arbitrary<string | undefined> {
  const r = readerValue(reader);
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
  const obj = (o: Record<string, unknown>): string => json(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
  switch (name) {
    case 'Common.Cancel':
      return opt(fc.array(fc.oneof(idArb, fc.integer({ min: 1, max: 40 })), { maxLength: 12 })).map((ids) => obj({ requestIds: ids }));
    case 'SSCard.ReadBasic':
    case 'SSCard.End':
      return opt(r).map((reader) => obj({ reader }));
    case 'SSCard.VerifyPin':
      return fc.record({ reader: opt(r), waitForCardMs: opt(fc.integer({ min: 0, max: 1500 })) }).map(obj);
    case 'SSCard.ChangePin':
    case 'SSCard.ResetPin':
    case 'SSCard.UnblockPin':
    case 'SSCard.Activate':
      return fc.record({ phones: opt(fc.array(fc.stringMatching(/^[0-9+\- ]{1,32}$/), { maxLength: 3 })), token: opt(nastyString) }).map(obj);
    case 'Keyboard.PinEntry':
      return fc
        .record({
          minLen: opt(fc.integer({ min: 0, max: 12 })),
          maxLen: opt(fc.integer({ min: 1, max: 12 })),
          autoEnd: opt(fc.boolean()),
          activeKeys: opt(fc.subarray(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'enter', 'cancel', 'clear', 'backspace'])),
        })
        .map(obj);
    case 'CardReader.ChipIO':
      return fc.record({ chipData: fc.uint8Array({ minLength: 4, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')), reader: opt(r) }).map(obj);
    case 'CardReader.ChipPower':
      return fc.record({ chipPower: fc.constantFrom('cold', 'warm', 'off') }).map(obj);
    case 'CardReader.Reset':
      return fc.record({ to: opt(fc.constantFrom('currentPosition', 'auto')) }).map(obj);
    case 'Operator.Login':
      return fc.record({ operatorId: fc.oneof(fc.constant('op1'), fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/)), passphrase: fc.string({ minLength: 1, maxLength: 64 }) }).map(obj);
    case 'Operator.Logout':
      return opt(nastyString).map((token) => obj({ token }));
    default:
      return fc.constantFrom(undefined, '{}');
  }
}

/** A command the schema accepts (or nearly): what storms are made of. PIN entries get a short timeout, mostly. */
function validCommand(shape: TrafficShape, names: readonly string[] = SERVICE_COMMANDS): fc.Arbitrary<{ name: string; text: (id: number) => string }> {
  return fc.constantFrom(...names).chain((name) =>
    fc
      .record({
        payload: payloadFor(name, shape.reader),
        timeout: fc.oneof(
          { weight: 3, arbitrary: fc.constant(name === 'Keyboard.PinEntry' || name === 'SSCard.VerifyPin' ? 2000 : 0) },
          { weight: 2, arbitrary: fc.integer({ min: 1, max: 3000 }) },
          { weight: 1, arbitrary: fc.constant(0) },
        ),
      })
      .map(({ payload, timeout }) => ({ name, text: (id: number) => envelope(name, String(id), payload, timeout > 0 ? `,"timeout":${timeout}` : '') })),
  );
}

/** One header field mutated, one field added or removed, the header or payload of the wrong type. */
const wrongTypes: fc.Arbitrary<string> = fc
  .record({
    type: fc.constantFrom('"command"', '"command"', '"event"', '"completion"', '"acknowledge"', '"unsolicited"', '"Command"', '""', '1', 'null', '[]', '{}'),
    name: fc.oneof(fc.constantFrom(...SERVICE_COMMANDS).map(json), fc.constantFrom('""', '"SSCard."', '".X"', '"a.b"', '1', 'null', '["Common.Status"]', json('X'.repeat(200))), nastyStringLiteral),
    requestId: requestIdLiteral,
    version: fc.constantFrom(undefined, '"2.0"', '"1.0"', '"2"', '"99.99"', '"2.0.0"', '2.0', 'null', '"v2"'),
    timeout: fc.constantFrom(undefined, '0', '1', '-1', '1.5', '2147483648', '"1000"', 'null'),
    extraHeader: fc.option(fc.tuple(nastyString, fc.constantFrom('1', 'null', '"x"', '{}')), { freq: 4 }),
    drop: fc.constantFrom(undefined, undefined, undefined, 'type', 'name', 'requestId'),
    headerAs: fc.constantFrom('object', 'object', 'object', 'object', 'array', 'string', 'null', 'missing'),
    payload: fc.constantFrom(undefined, '{}', 'null', '[]', '"x"', '1', 'true', '{"reader":1}'),
    extraTop: fc.option(fc.constantFrom('"foo":1', '"Header":{}', '"payload2":{}'), { freq: 5 }),
  })
  .map((g) => {
    const fields: string[] = [];
    if (g.drop !== 'type') fields.push(`"type":${g.type}`);
    if (g.drop !== 'name') fields.push(`"name":${g.name}`);
    if (g.drop !== 'requestId') fields.push(`"requestId":${g.requestId}`);
    if (g.version !== undefined) fields.push(`"version":${g.version}`);
    if (g.timeout !== undefined) fields.push(`"timeout":${g.timeout}`);
    if (g.extraHeader) fields.push(`${json(g.extraHeader[0])}:${g.extraHeader[1]}`);
    const header = g.headerAs === 'object' ? `{${fields.join(',')}}` : g.headerAs === 'array' ? `[${fields.map((f) => f.slice(f.indexOf(':') + 1)).join(',')}]` : g.headerAs === 'string' ? json(`{${fields.join(',')}}`) : 'null';
    const top: string[] = [];
    if (g.headerAs !== 'missing') top.push(`"header":${header}`);
    if (g.payload !== undefined) top.push(`"payload":${g.payload}`);
    if (g.extraTop) top.push(g.extraTop);
    return `{${top.join(',')}}`;
  });

const unknownCommand: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,12}\.[A-Z][A-Za-z0-9]{0,16}$/),
      fc.constantFrom('SSCard.readBasic', 'Sscard.ReadBasic', 'SSCard.ReadBasic2', 'Common.Shutdown', 'Keyboard.TouchKeys', 'ServicePublisher.GetServices', 'Storage.GetStorage', 'Common.SetVersions'),
    ),
    idArb,
  )
  .filter(([n]) => !(SERVICE_COMMANDS as readonly string[]).includes(n) && n !== 'Keyboard.TouchKey')
  .map(([n, id]) => envelope(n, String(id), '{}'));

/** A known command with a payload its schema refuses: unknown fields (PIN-like names too), wrong types, out of range. */
const badPayload: fc.Arbitrary<string> = (() => {
  const wrong = fc.constantFrom('1', '-1', '1.5', '"x"', 'null', 'true', '[]', '{}', '[[[[]]]]', json('9'.repeat(400)), '1e400');
  return fc
    .record({
      name: fc.constantFrom(...SERVICE_COMMANDS, 'Keyboard.TouchKey'),
      id: idArb,
      mutation: fc.oneof(
        fc.tuple(fc.constant('extra' as const), fc.oneof(nastyString, fc.constantFrom('pin', 'PIN', '123456', '__proto__', 'constructor', 'prototype')), wrong),
        fc.tuple(fc.constant('wrongType' as const), fc.constantFrom('reader', 'waitForCardMs', 'requestIds', 'phones', 'token', 'minLen', 'maxLen', 'activeKeys', 'chipData', 'chipPower', 'operatorId', 'passphrase', 'key', 'to'), wrong),
        fc.tuple(fc.constant('range' as const), fc.constantFrom('waitForCardMs', 'minLen', 'maxLen', 'requestIds', 'phones', 'reader', 'passphrase'), fc.constant('')),
      ),
    })
    .map(({ name, id, mutation }) => {
      const how = mutation[0];
      const field = mutation[1];
      const value = mutation[2];
      let payload: string;
      if (how === 'extra') payload = `{${json(field)}:${value}${name === 'Keyboard.TouchKey' ? ',"key":"clear"' : ''}}`;
      else if (how === 'wrongType') payload = name === 'Keyboard.TouchKey' ? `{"key":${value === '"x"' ? '"x"' : value},"extra":1}` : `{${json(field)}:${value}}`;
      else {
        const range: Record<string, string> = {
          waitForCardMs: '600001',
          minLen: '13',
          maxLen: '0',
          requestIds: json(Array.from({ length: 257 }, (_, i) => i + 1)),
          phones: json(Array.from({ length: 11 }, () => '1')),
          reader: json('r'.repeat(201)),
          passphrase: json('p'.repeat(1025)),
        };
        payload = name === 'Keyboard.TouchKey' ? '{"key":"10"}' : `{${json(field)}:${range[field] ?? '0'}}`;
      }
      return envelope(name, String(id), payload);
    });
})();

/** The same name twice in one object, in the header, the payload or deeper, sometimes escaped (`"requ\u0065stId"`). */
const duplicateKeys: fc.Arbitrary<string> = fc
  .record({
    where: fc.constantFrom('header', 'payload', 'nested', 'top', 'escaped'),
    id: idArb,
    id2: idArb,
  })
  .map(({ where, id, id2 }) => {
    switch (where) {
      case 'header':
        return `{"header":{"type":"command","name":"SSCard.ReadBasic","requestId":${id},"requestId":${id2}}}`;
      case 'payload':
        return `{"header":{"type":"command","name":"Keyboard.PinEntry","requestId":${id},"timeout":500},"payload":{"maxLen":4,"maxLen":12}}`;
      case 'nested':
        return `{"header":{"type":"command","name":"Common.Cancel","requestId":${id}},"payload":{"requestIds":[1,2],"x":{"a":{"b":1,"b":2}}}}`;
      case 'top':
        return `{"header":{"type":"command","name":"Common.Status","requestId":${id}},"header":{"type":"command","name":"SSCard.ReadBasic","requestId":${id2}}}`;
      default:
        return `{"header":{"type":"command","name":"Common.Status","requestId":${id},"requ\\u0065stId":${id2}}}`;
    }
  });

function deepNesting(shape: TrafficShape): fc.Arbitrary<string> {
  const maxDepth = Math.max(2, Math.floor((shape.maxFrameBytes - 200) / 6));
  return fc.record({ depth: fc.integer({ min: 2, max: maxDepth }), shape: fc.constantFrom('array', 'object', 'mixed'), where: fc.constantFrom('payload', 'field', 'name', 'whole'), id: idArb }).map(({ depth, shape: s, where, id }) => {
    const open = s === 'array' ? '[' : s === 'object' ? '{"a":' : '[{"a":';
    const close = s === 'array' ? ']' : s === 'object' ? '}' : '}]';
    const n = s === 'mixed' ? Math.floor(depth / 2) : depth;
    const deep = `${open.repeat(n)}${s === 'array' ? '' : '1'}${close.repeat(n)}`;
    if (where === 'whole') return deep;
    if (where === 'name') return `{"header":{"type":"command","name":${deep},"requestId":${id}}}`;
    if (where === 'field') return envelope('SSCard.ReadBasic', String(id), `{"reader":${deep}}`);
    return envelope('Common.Status', String(id), deep);
  });
}

const unicodeFrames: fc.Arbitrary<Frame> = fc.oneof(
    // Names and values that are not ASCII (and lone surrogates as escapes)
    fc.tuple(nastyStringLiteral, idArb).map(([s, id]): Frame => ({ t: 'text', kind: 'unicode', text: `{"header":{"type":"command","name":${s},"requestId":${id}}}` })),
    fc.tuple(nastyStringLiteral, idArb).map(([s, id]): Frame => ({ t: 'text', kind: 'unicode', text: envelope('SSCard.ReadBasic', String(id), `{"reader":${s}}`) })),
    fc.tuple(nastyString, idArb).map(([s, id]): Frame => ({ t: 'text', kind: 'unicode', text: envelope('Common.Status', String(id), `{${json(s)}:1}`) })),
    // A BOM before the JSON, full-width digits, a name in another script
    idArb.map((id): Frame => ({ t: 'text', kind: 'unicode', text: `\ufeff${envelope('Common.Status', String(id))}` })),
    idArb.map((id): Frame => ({ t: 'text', kind: 'unicode', text: `{"header":{"type":"command","name":"Common.Status","requestId":１２${id % 10}}}` })),
    // A text frame that is not UTF-8 (RFC 6455 §8.1: the server closes with 1007)
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b): Frame => ({ t: 'bytes', kind: 'invalidUtf8', bytes: Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(b)]), binary: false })),
);

function truncated(shape: TrafficShape): fc.Arbitrary<string> {
  return fc.tuple(validCommand(shape), idArb, fc.double({ min: 0, max: 1, noNaN: true })).map(([c, id, at]) => {
    const text = c.text(id);
    return text.slice(0, Math.max(0, Math.min(text.length - 1, Math.floor(text.length * at))));
  });
}

const notJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', 'null', '[]', '"x"', '1', 'true', '{', '}', '{"header":', 'undefined', 'NaN', "{'header':{}}", '{"header":{"type":"command",}}', '/* */{}', '{"a":1}{"b":2}'),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => json(v) ?? 'null'),
);

/** A command storm: 20–60 commands in one burst on one connection (past the 32 running commands of a client). */
function storm(shape: TrafficShape): fc.Arbitrary<Frame[]> {
  return fc
    .record({
      cmd: validCommand(shape, ['Common.Status', 'SSCard.ReadBasic', 'SSCard.VerifyPin', 'Keyboard.PinEntry', 'Common.Capabilities', 'Operator.Login', 'SSCard.End']),
      mixed: fc.array(validCommand(shape), { minLength: 0, maxLength: 20 }),
      n: fc.integer({ min: 20, max: 60 }),
      base: idArb,
    })
    .map(({ cmd, mixed, n, base }) => {
      const frames: Frame[] = [];
      for (let i = 0; i < n; i++) {
        const c = mixed.length > 0 && i % 3 === 2 ? mixed[i % mixed.length]! : cmd;
        frames.push({ t: 'text', kind: 'storm', text: c.text(base + i) });
      }
      return frames;
    });
}

/** A command that waits (a PIN entry), then another one with the same requestId while it runs. */
function duplicateRequestId(shape: TrafficShape): fc.Arbitrary<Frame[]> {
  return fc.tuple(idArb, validCommand(shape), fc.constantFrom('Keyboard.PinEntry', 'SSCard.VerifyPin')).map(([id, second, first]) => [
    { t: 'text', kind: 'pinEntryStart', text: envelope(first, String(id), '{}', ',"timeout":1500') },
    { t: 'text', kind: 'duplicateRequestId', text: second.text(id) },
  ]);
}

const cancelUnknown: fc.Arbitrary<string> = fc
  .tuple(idArb, fc.oneof(fc.constant(undefined), fc.array(fc.oneof(idArb, fc.constantFrom(1, 2, 3, Number.MAX_SAFE_INTEGER)), { maxLength: 256 })))
  .map(([id, ids]) => envelope('Common.Cancel', String(id), ids === undefined ? '{}' : json({ requestIds: ids })));

function pinEntryStart(shape: TrafficShape): fc.Arbitrary<string> {
  return fc.tuple(validCommand(shape, ['Keyboard.PinEntry', 'SSCard.VerifyPin']), idArb).map(([c, id]) => c.text(id));
}

const binary: fc.Arbitrary<Frame> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((b): Frame => ({ t: 'bytes', kind: 'binary', bytes: b, binary: true })),
  idArb.map((id): Frame => ({ t: 'bytes', kind: 'binary', bytes: Buffer.from(envelope('Common.Status', String(id))), binary: true })),
);

function fragments(shape: TrafficShape): fc.Arbitrary<Frame> {
  return fc.tuple(validCommand(shape), idArb, fc.integer({ min: 2, max: 8 }), fc.boolean()).map(([c, id, n, over]): Frame => {
    const text = over ? `${c.text(id).slice(0, -1)},"pad":"${'x'.repeat(shape.maxFrameBytes)}"}` : c.text(id);
    const size = Math.ceil(text.length / n);
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
    return { t: 'fragments', kind: over ? 'fragmentedOverLimit' : 'fragmented', parts };
  });
}

const sized: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ delta: fc.integer({ min: -64, max: 0 }), fill: fc.constantFrom('whitespace', 'string', 'nesting') }).map((r): Frame => ({ t: 'sized', kind: 'nearLimit', ...r })),
  fc.record({ delta: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 70_000 })), fill: fc.constantFrom('whitespace', 'string') }).map((r): Frame => ({ t: 'sized', kind: 'overLimit', ...r })),
);

/** One frame of the mix (text frames carry their kind). */
function frame(shape: TrafficShape): fc.Arbitrary<Frame[]> {
  const text = (kind: string) => (a: fc.Arbitrary<string>) => a.map((t): Frame[] => [{ t: 'text', kind, text: t }]);
  return fc.oneof(
    { weight: 10, arbitrary: text('wrongTypes')(wrongTypes) },
    { weight: 5, arbitrary: text('unknownCommand')(unknownCommand) },
    { weight: 8, arbitrary: text('badPayload')(badPayload) },
    { weight: 4, arbitrary: text('duplicateKeys')(duplicateKeys) },
    { weight: 2, arbitrary: text('deepNesting')(deepNesting(shape)) },
    { weight: 4, arbitrary: unicodeFrames.map((f) => [f]) },
    { weight: 3, arbitrary: binary.map((f) => [f]) },
    { weight: 4, arbitrary: text('truncated')(truncated(shape)) },
    { weight: 4, arbitrary: text('notJson')(notJson) },
    { weight: 4, arbitrary: text('hugeRequestId')(fc.tuple(requestIdLiteral, fc.constantFrom(...SERVICE_COMMANDS)).map(([id, n]) => envelope(n, id, '{}'))) },
    { weight: 3, arbitrary: text('cancelUnknown')(cancelUnknown) },
    { weight: 3, arbitrary: text('pinEntryStart')(pinEntryStart(shape)) },
    { weight: 6, arbitrary: text('valid')(fc.tuple(validCommand(shape), idArb).map(([c, id]) => c.text(id))) },
    { weight: 2, arbitrary: duplicateRequestId(shape) },
    { weight: 1, arbitrary: fragments(shape).map((f) => [f]) },
    { weight: 1, arbitrary: sized.map((f) => [f]) },
  );
}

/** A burst of frames on one connection: mostly a few frames, sometimes a storm. */
function wsAction(shape: TrafficShape): fc.Arbitrary<Action> {
  return fc.record({
    conn: fc.integer({ min: 0, max: Math.max(0, shape.connections - 1) }),
    frames: fc.oneof({ weight: 20, arbitrary: fc.array(frame(shape), { minLength: 1, maxLength: 12 }).map((a) => a.flat()) }, { weight: 1, arbitrary: storm(shape) }),
  }).map(({ conn, frames }): Action => ({ ch: 'ws', conn, frames }));
}

const touchKey: fc.Arbitrary<TouchKeySpec> = fc.record({
  key: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...TOUCH_KEYS.slice(0, 10)) },
    { weight: 4, arbitrary: fc.constantFrom('enter', 'backspace', 'clear', 'cancel') },
    { weight: 1, arbitrary: fc.constantFrom('10', 'a', '', ' 1', '１', 'ENTER', '\u0000', '-1', 'clear ', 'zero') },
  ),
  reader: fc.constantFrom('none', 'none', 'none', 'none', 'slot', 'bogus'),
});

const keysAction: fc.Arbitrary<Action> = fc.array(touchKey, { minLength: 1, maxLength: 40 }).map((keys): Action => ({ ch: 'keys', keys }));

const credArb: fc.Arbitrary<Cred> = fc.constantFrom('token', 'token', 'token', 'tokenLowerScheme', 'none', 'none', 'badToken', 'operatorJunk', 'basic', 'emptyBearer', 'tokenInQuery');
const hostArb: fc.Arbitrary<HostKind> = fc.constantFrom('ip', 'ip', 'ip', 'ip', 'localhost', 'ipv6', 'trailingDot', 'noPort', 'foreign', 'foreignIp', 'missing', 'malformed');
const originArb: fc.Arbitrary<OriginKind> = fc.constantFrom('none', 'none', 'none', 'none', 'own', 'null', 'null', 'foreign', 'foreign', 'ownOtherPort', 'withPath', 'file');

/** Who a request or upgrade claims to be: mostly the admitted client (so that the routes behind access are fuzzed too), else anything. */
const accessArb: fc.Arbitrary<{ host: HostKind; origin: OriginKind; cred: Cred }> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ host: fc.constantFrom<HostKind>('ip', 'ip', 'ip', 'localhost', 'ipv6', 'trailingDot', 'noPort'), origin: fc.constantFrom<OriginKind>('none', 'none', 'none', 'own'), cred: fc.constantFrom<Cred>('token', 'token', 'tokenLowerScheme') }) },
  { weight: 4, arbitrary: fc.record({ host: hostArb, origin: originArb, cred: credArb }) },
);

const upgradeAction: fc.Arbitrary<Action> = fc
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

function httpAction(shape: TrafficShape): fc.Arbitrary<Action> {
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

/** The whole mix: WebSocket bursts most, keys, upgrades and HTTP requests. */
export function trafficArbitrary(shape: TrafficShape): fc.Arbitrary<Action> {
  return fc.oneof(
    { weight: 40, arbitrary: wsAction(shape) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: Math.max(0, shape.connections - 1) }).map((conn): Action => ({ ch: 'wsClose', conn })) },
    { weight: 6, arbitrary: keysAction },
    { weight: 8, arbitrary: upgradeAction },
    { weight: 45, arbitrary: httpAction(shape) },
  );
}

/** The actions of batch `n` of a run with `seed`: the same seed gives the same traffic. */
export function batchOf(arb: fc.Arbitrary<Action>, seed: number, n: number, size = 200): Action[] {
  return fc.sample(arb, { seed: (seed ^ Math.imul(n + 1, 0x9e3779b1)) | 0, numRuns: size });
}

// ---------------------------------------------------------------- the keypad model

/**
 * Keeps the touch keys from ever completing a PIN. The daemon's keypads collect at most 6 digits
 * for a card flow and end the entry when the 6th comes (minLength = maxLength = 6,
 * daemon/flows/session-actors.ts); with at most {@link KeypadModel.MAX_PENDING} digits pending, no
 * flow the traffic starts can reach the card with a PIN, so the holder's tries are never spent.
 *
 * `pending` is an upper bound of the digits any keypad holds: a digit adds one whether or not a
 * keypad took it; only keys sent without a `reader` — the ones the keypad waiting for keys surely
 * gets — lower it: backspace by one (as the keypad does, not below 0), `clear` and `cancel` to 0.
 * A digit that would pass the bound is sent as `clear` instead. (A backspace for a reader that
 * names no slot reaches no keypad: counting it down once let a 6th digit through.)
 */
export class KeypadModel {
  public static readonly MAX_PENDING = 5;
  private count = 0;

  public get pending(): number {
    return this.count;
  }

  /** The key to send in place of `k`. */
  public next(k: TouchKeySpec): TouchKeySpec {
    if (DIGITS.has(k.key)) {
      if (this.count >= KeypadModel.MAX_PENDING) {
        this.count = 0;
        return { key: 'clear', reader: 'none' };
      }
      this.count++;
      return k;
    }
    // Only keys without a reader surely reach the keypad that holds the digits (one naming no slot
    // reaches none): those alone may lower the bound.
    if (k.reader !== 'none') return k;
    if (k.key === 'backspace' && this.count > 0) this.count--;
    if (k.key === 'clear' || k.key === 'cancel') this.count = 0;
    return k;
  }
}

/**
 * Whether a frame is a Keyboard.TouchKey with a digit the daemon would take (the only way a frame
 * could type into a PIN entry). Frames outside the keypad channel never are; the runner checks.
 */
export function isDigitTouchKey(text: string): boolean {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return false;
  }
  const h = (m as { header?: { name?: unknown } } | null)?.header;
  const p = (m as { payload?: { key?: unknown } } | null)?.payload;
  return typeof h === 'object' && h !== null && h.name === 'Keyboard.TouchKey' && typeof p === 'object' && p !== null && typeof p.key === 'string' && /^\s*[0-9０-９]\s*$/.test(p.key);
}

// ---------------------------------------------------------------- access expectations

function hostOk(h: HostKind): boolean {
  return h === 'ip' || h === 'localhost' || h === 'ipv6' || h === 'trailingDot' || h === 'noPort';
}

function isJsonType(ct: readonly string[]): boolean {
  return ct.length >= 1 && ct[0]!.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

const GOOD_CRED = new Set<Cred>(['token', 'tokenLowerScheme']);

/** The path the daemon sees for a target (docs/api.md; daemon/api/access.ts pathOf), or null. */
function pathOfTarget(target: string): string | null {
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return null;
  }
}

export interface Expectation {
  /** Access must refuse it: foreign or malformed Host, a refused Origin, a bad token, no credential where one is needed. */
  readonly mustRefuse: boolean;
  /** The admitted client, well-formed: access must let it in (no 421 / 403, no 401 outside /sscard/). */
  readonly mustAdmit: boolean;
}

/** What access control must do with a request (docs/api.md "Who may talk to the daemon"). */
export function expectationOf(r: { readonly host: HostKind; readonly origin: OriginKind; readonly cred: Cred; readonly upgrade: boolean; readonly method?: string; readonly target?: string; readonly raw?: string | null; readonly hugeHeader?: number }): Expectation {
  // A malformed head is sent as it is: its Host, Origin and credential are not the spec's.
  if ((r.raw ?? null) !== null) return { mustRefuse: false, mustAdmit: false };
  const originBad = r.origin !== 'none' && r.origin !== 'own';
  const path = r.target === undefined ? null : pathOfTarget(r.target.replace('{port}', '1'));
  const open = !r.upgrade && path === '/health' && (r.method === 'GET' || r.method === 'HEAD');
  const good = GOOD_CRED.has(r.cred);
  const noCred = !good && r.cred !== 'badToken';
  const mustRefuse = !hostOk(r.host) || originBad || r.cred === 'badToken' || (noCred && r.origin !== 'own' && !open);
  const wellFormed = (r.hugeHeader ?? 0) < 15_000;
  const mustAdmit = !mustRefuse && good && hostOk(r.host) && !originBad && wellFormed;
  return { mustRefuse, mustAdmit };
}

/** Statuses that refuse a request before the API routes it (access, or Node's parser and timeouts). */
const REFUSAL_STATUS = new Set([400, 401, 403, 408, 421, 431, 505]);

// ---------------------------------------------------------------- rendering

export interface FuzzTarget {
  readonly host: string;
  readonly port: number;
  /** A valid client token (sscard client add). */
  readonly token: string;
  readonly maxFrameBytes: number;
  readonly reader: string;
}

function hostHeader(h: HostKind, port: number): string | null {
  switch (h) {
    case 'ip':
      return `127.0.0.1:${port}`;
    case 'localhost':
      return `localhost:${port}`;
    case 'ipv6':
      return `[::1]:${port}`;
    case 'trailingDot':
      return `localhost.:${port}`;
    case 'noPort':
      return '127.0.0.1';
    case 'foreign':
      return `evil.example:${port}`;
    case 'foreignIp':
      return `10.0.0.1:${port}`;
    case 'missing':
      return null;
    case 'malformed':
      return `127.0.0.1:${port}/x`;
  }
}

function originHeader(o: OriginKind, port: number): string | null {
  switch (o) {
    case 'none':
      return null;
    case 'own':
      return `http://127.0.0.1:${port}`;
    case 'null':
      return 'null';
    case 'foreign':
      return 'http://evil.example';
    case 'ownOtherPort':
      return `http://127.0.0.1:${port + 1}`;
    case 'withPath':
      return `http://127.0.0.1:${port}/kiosk`;
    case 'file':
      return 'file://';
  }
}

function authHeader(c: Cred, token: string): string | null {
  switch (c) {
    case 'token':
      return `Bearer ${token}`;
    case 'tokenLowerScheme':
      return `bearer ${token}`;
    case 'badToken':
      return `Bearer sscc_${randomBytes(32).toString('base64url')}`;
    case 'operatorJunk':
      return `Bearer ${randomBytes(24).toString('hex')}`;
    case 'basic':
      return `Basic ${Buffer.from(`e2e:${token}`).toString('base64')}`;
    case 'emptyBearer':
      return 'Bearer ';
    case 'none':
    case 'tokenInQuery':
      return null;
  }
}

/** A sized frame's text: exactly maxFrameBytes + delta bytes of ASCII. */
function sizedText(f: Extract<Frame, { t: 'sized' }>, max: number, id: number): string {
  const size = Math.max(64, max + f.delta);
  const head = `{"header":{"type":"command","name":"Common.Status","requestId":${id}}`;
  if (f.fill === 'whitespace') return `${head}${' '.repeat(Math.max(0, size - head.length - 1))}}`;
  if (f.fill === 'string') {
    const pre = `${head},"payload":{"pad":"`;
    return `${pre}${'x'.repeat(Math.max(0, size - pre.length - 3))}"}}`;
  }
  const pre = `${head},"payload":{"pad":`;
  const d = Math.max(0, Math.floor((size - pre.length - 2) / 2));
  const text = `${pre}${'['.repeat(d)}${']'.repeat(d)}}}`;
  return text.length < size ? `${text.slice(0, -1)}${' '.repeat(size - text.length)}}` : text;
}

// ---------------------------------------------------------------- the report

export interface FuzzReport {
  readonly seed: number;
  /** Messages sent: WebSocket frames, HTTP requests, upgrade requests. */
  readonly messages: number;
  readonly bytesSent: number;
  readonly durationMs: number;
  /** Messages sent by kind ("ws wrongTypes", "http originNull", "upgrade token", …). */
  readonly sent: Record<string, number>;
  /** Every answer by kind: "ws ack invalidMessage", "ws completion success", "ws close 1009", "http 401", "upgrade 101", … */
  readonly answers: Record<string, number>;
  /** The answers that refuse: acknowledge statuses, completion codes other than success / canceled / timeOut, server closes, HTTP ≥ 400, vendor return codes ≠ 0, refused upgrades. */
  readonly refusals: Record<string, number>;
  /** Completions by command and code ("SSCard.ReadBasic success"). */
  readonly completions: Record<string, number>;
  /** Commands the daemon accepted (acknowledge with status null). */
  readonly acceptedCommands: number;
  /** WebSocket connections the daemon accepted (pool and upgrades). */
  readonly connectionsOpened: number;
  /** Of those, the connections that sent frames (the client's pool and its keypad connection, each time it was opened). */
  readonly poolConnections: number;
  /** Answers to well-formed vendor calls (POST /sscard/<function>) by function: "iReadCardBas 200 ret=0", "iVerifyPIN cut by the client". */
  readonly vendor: Record<string, number>;
  /** Frames on a connection the server closed before answering them (after a frame over the limit, e.g.). */
  readonly framesLostToClose: number;
  /** Digits the keypad model turned into `clear` (the traffic would otherwise have completed a PIN). */
  readonly keysReplaced: number;
  readonly anomalies: { readonly count: number; readonly byKind: Record<string, number>; readonly examples: readonly string[] };
}

class Tally {
  private readonly m = new Map<string, number>();
  public add(k: string, n = 1): void {
    this.m.set(k, (this.m.get(k) ?? 0) + n);
  }
  public record(): Record<string, number> {
    return Object.fromEntries([...this.m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  }
  public get total(): number {
    let n = 0;
    for (const v of this.m.values()) n += v;
    return n;
  }
}

const STOP_CODES = new Set(['success', 'canceled', 'timeOut']);
const KNOWN_NAMES = new Set<string>([...SERVICE_COMMANDS, 'Keyboard.TouchKey']);
const SERVER_CLOSES = new Set([1002, 1003, 1007, 1008, 1009, 1011]);

// ---------------------------------------------------------------- the runner

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many messages. */
  readonly messages: number;
  /** Stop sending after this long (ms); whatever was sent is still answered and counted. */
  readonly deadlineMs?: number;
  /** Frames sent on one connection and not yet acknowledged before the runner waits (default 64). */
  readonly window?: number;
  /** HTTP requests and upgrades in flight at once (default 16). */
  readonly httpConcurrency?: number;
  /** A complete request that gets no answer within this long is an anomaly (default 15 000 ms). */
  readonly answerTimeoutMs?: number;
  readonly onProgress?: (messages: number) => void;
}

interface Pending {
  resolve: () => void;
}

/** A WebSocket connection of the authenticated client: sends frames, sorts answers. */
class FuzzSocket {
  public ws: WebSocket | null = null;
  private opening: Promise<void> | null = null;
  private sent = 0;
  private acked = 0;
  private waiters: Pending[] = [];

  public constructor(
    private readonly run: Runner,
    private readonly label: string,
  ) {}

  public get unanswered(): number {
    return this.sent - this.acked;
  }

  public get open(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Open (again) when closed; a refused upgrade is retried with a pause (the per-client limit is shared with the upgrade bursts). */
  public ready(): Promise<void> {
    if (this.open) return Promise.resolve();
    this.opening ??= this.connect().finally(() => (this.opening = null));
    return this.opening;
  }

  private async connect(): Promise<void> {
    const t = this.run.target;
    for (let attempt = 0; ; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://${t.host}:${t.port}/xfs4iot/v1.0/sscard`, { headers: { authorization: `Bearer ${t.token}` }, perMessageDeflate: false });
        ws.on('error', () => {});
        ws.once('unexpected-response', (_req, res) => {
          this.run.answer(`upgrade ${res.statusCode ?? 0}`, true);
          if (res.statusCode !== 503) this.run.anomaly('pool upgrade refused', `${this.label}: HTTP ${res.statusCode ?? 0}`);
          res.resume();
          ws.terminate();
          resolve(false);
        });
        ws.once('open', () => {
          this.run.answer('upgrade 101', false);
          this.run.connectionsOpened++;
          this.run.poolConnections++;
          this.attach(ws);
          resolve(true);
        });
        ws.once('close', () => resolve(false));
      });
      if (ok) return;
      if (attempt >= 100 || this.run.stopping) throw new Error(`${this.label}: cannot open a WebSocket connection to the daemon`);
      await sleep(Math.min(500, 20 * (attempt + 1)));
    }
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    this.sent = 0;
    this.acked = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return this.run.anomaly('binary answer', this.label);
      let m: { header?: { type?: unknown; name?: unknown; status?: unknown; completionCode?: unknown }; payload?: { errorCode?: unknown } };
      try {
        m = JSON.parse(data.toString('utf8')) as typeof m;
      } catch {
        return this.run.anomaly('answer not JSON', data.toString('utf8').slice(0, 120));
      }
      const h = m.header ?? {};
      switch (h.type) {
        case 'acknowledge':
          this.acked++;
          if (h.status === null) this.run.acceptedCommands++;
          else this.run.answer(`ws ack ${typeof h.status === 'string' ? h.status : JSON.stringify(h.status)}`, true);
          break;
        case 'completion': {
          const code = String(h.completionCode);
          const errorCode = typeof m.payload?.errorCode === 'string' ? m.payload.errorCode : null;
          this.run.answer(`ws completion ${code}`, !STOP_CODES.has(code));
          const name = typeof h.name === 'string' && KNOWN_NAMES.has(h.name) ? h.name : '(unknown command)';
          this.run.completions.add(`${name} ${code}${errorCode === null || code === 'success' ? '' : `:${errorCode}`}`);
          if (code === 'internalError') this.run.anomaly('internalError', `${String(h.name)}: ${JSON.stringify(m).slice(0, 200)}`);
          break;
        }
        case 'event':
        case 'unsolicited':
          this.run.answer(`ws ${h.type}`, false);
          break;
        default:
          this.run.anomaly('answer of unknown type', JSON.stringify(m).slice(0, 120));
      }
      this.wake();
    });
    ws.on('close', (code: number) => {
      this.run.answer(`ws close ${code}`, SERVER_CLOSES.has(code));
      if (code === 1011) this.run.anomaly('close 1011', this.label);
      this.run.framesLostToClose += Math.max(0, this.sent - this.acked);
      this.sent = 0;
      this.acked = 0;
      if (this.ws === ws) this.ws = null;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Wait until fewer than `window` frames are unanswered (or the connection went). */
  public async room(window: number): Promise<void> {
    while (this.open && this.unanswered >= window) await new Promise<void>((resolve) => this.waiters.push({ resolve }));
  }

  /** Wait until every frame was answered, the connection closed, or `ms` passed; false when frames are left unanswered on an open connection. */
  public async settle(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.open && this.unanswered > 0 && Date.now() < end) {
      await Promise.race([new Promise<void>((resolve) => this.waiters.push({ resolve })), sleep(50)]);
    }
    return !this.open || this.unanswered === 0;
  }

  /** Send one frame; returns the bytes sent (0 when the connection is gone). */
  public send(f: Frame, kind: string): number {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return 0;
    const noop = (): void => {};
    let bytes = 0;
    switch (f.t) {
      case 'text':
        ws.send(f.text, noop);
        bytes = Buffer.byteLength(f.text);
        break;
      case 'bytes':
        ws.send(f.bytes, { binary: f.binary }, noop);
        bytes = f.bytes.length;
        break;
      case 'sized': {
        const text = sizedText(f, this.run.target.maxFrameBytes, 1 + (this.sent % 1_000_000));
        ws.send(text, noop);
        bytes = text.length;
        break;
      }
      case 'fragments':
        f.parts.forEach((p, i) => ws.send(p, { fin: i === f.parts.length - 1 }, noop));
        bytes = f.parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
        break;
    }
    this.sent++;
    this.run.sentOne(`ws ${kind}`, bytes);
    return bytes;
  }

  public async close(): Promise<void> {
    const ws = this.ws;
    if (ws === null) return;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close(1000);
      await Promise.race([closed, sleep(2000)]);
      ws.terminate();
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Parses pipelined HTTP/1.1 responses well enough to count them: status, return code, body by Content-Length. */
class ResponseReader {
  private buf = Buffer.alloc(0);
  public readonly statuses: { status: number; ret: string | null }[] = [];
  private untilClose = false;

  public constructor(private readonly heads: readonly boolean[]) {}

  public feed(chunk: Buffer): void {
    if (this.untilClose) return;
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(head);
      if (m === null) {
        this.untilClose = true;
        return;
      }
      const status = Number(m[1]);
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const ret = /\r\nx-sscard-return:\s*(-?\d+)/i.exec(head)?.[1] ?? null;
      if (status >= 100 && status < 200 && status !== 101) {
        this.buf = this.buf.subarray(end + 4);
        continue;
      }
      const isHead = this.heads[this.statuses.length] === true;
      if (status === 101 || (len === null && !isHead)) {
        // An upgrade, or a body that lasts until the close: nothing after it is another answer.
        this.statuses.push({ status, ret });
        this.untilClose = true;
        return;
      }
      const bodyLen = isHead ? 0 : Number(len![1]);
      // The body is still coming: wait for it (the head is read again with it).
      if (this.buf.length < end + 4 + bodyLen) return;
      this.statuses.push({ status, ret });
      this.buf = this.buf.subarray(end + 4 + bodyLen);
    }
  }
}

export class Runner {
  public readonly completions = new Tally();
  public acceptedCommands = 0;
  public connectionsOpened = 0;
  public poolConnections = 0;
  public framesLostToClose = 0;
  public readonly vendor = new Tally();
  public keysReplaced = 0;
  public stopping = false;
  private readonly sentByKind = new Tally();
  private readonly answers = new Tally();
  private readonly refusals = new Tally();
  private readonly anomalies = new Tally();
  private readonly examples: string[] = [];
  private messages = 0;
  private bytes = 0;
  private readonly pool: FuzzSocket[];
  private readonly keypadSocket: FuzzSocket;
  private readonly keypad = new KeypadModel();
  private httpInFlight = 0;
  private readonly httpWaiters: (() => void)[] = [];
  private readonly httpDone = new Set<Promise<void>>();

  public constructor(
    public readonly target: FuzzTarget,
    private readonly o: FuzzOptions,
    connections: number,
  ) {
    this.pool = Array.from({ length: connections }, (_, i) => new FuzzSocket(this, `ws#${i}`));
    this.keypadSocket = new FuzzSocket(this, 'keypad');
  }

  public get sentMessages(): number {
    return this.messages;
  }

  public sentOne(kind: string, bytes: number): void {
    this.messages++;
    this.bytes += bytes;
    this.sentByKind.add(kind);
    if (this.messages % 1000 === 0) this.o.onProgress?.(this.messages);
  }

  public answer(kind: string, refusal: boolean): void {
    this.answers.add(kind);
    if (refusal) this.refusals.add(kind);
  }

  public anomaly(kind: string, detail: string): void {
    this.anomalies.add(kind);
    if (this.examples.length < 40) this.examples.push(`${kind}: ${detail}`);
  }

  public async dispatch(a: Action): Promise<void> {
    switch (a.ch) {
      case 'ws': {
        const s = this.pool[a.conn % this.pool.length]!;
        await s.ready();
        await s.room(this.o.window ?? 64);
        for (const f of a.frames) {
          if (this.messages >= this.o.messages) break;
          if (f.t === 'text' && isDigitTouchKey(f.text)) {
            this.anomaly('generator made a digit TouchKey', f.text.slice(0, 120));
            continue;
          }
          if (!s.open) await s.ready();
          s.send(f, f.kind);
        }
        return;
      }
      case 'wsClose':
        return this.pool[a.conn % this.pool.length]!.close();
      case 'keys': {
        const s = this.keypadSocket;
        await s.ready();
        await s.room(this.o.window ?? 64);
        for (const k0 of a.keys) {
          if (this.messages >= this.o.messages) break;
          const k = this.keypad.next(k0);
          if (k !== k0) this.keysReplaced++;
          const payload = k.reader === 'none' ? { key: k.key } : { key: k.key, reader: k.reader === 'slot' ? this.target.reader : 'no such reader' };
          if (!s.open) await s.ready();
          s.send({ t: 'text', kind: 'touchKey', text: JSON.stringify({ header: { type: 'command', name: 'Keyboard.TouchKey', requestId: 1 + (this.messages % 2_000_000_000), version: '2.0' }, payload }) }, DIGITS.has(k.key) ? 'touchKey digit' : 'touchKey other');
        }
        return;
      }
      case 'upgrade':
        for (let i = 0; i < a.spec.burst && this.messages < this.o.messages; i++) await this.spawn(() => this.upgrade(a.spec));
        return;
      case 'http':
        return this.spawn(() => this.http(a.spec));
    }
  }

  /** Run `f` with at most httpConcurrency at once; resolves when it has started. */
  private async spawn(f: () => Promise<void>): Promise<void> {
    const max = this.o.httpConcurrency ?? 16;
    while (this.httpInFlight >= max) await new Promise<void>((resolve) => this.httpWaiters.push(resolve));
    this.httpInFlight++;
    const p: Promise<void> = f()
      .catch((e: unknown) => this.anomaly('runner', e instanceof Error ? e.message : String(e)))
      .finally(() => {
        this.httpInFlight--;
        this.httpDone.delete(p);
        this.httpWaiters.shift()?.();
      });
    this.httpDone.add(p);
  }

  /** One raw TCP exchange: write the parts (with pauses), read what comes back. */
  private exchange(parts: readonly (Buffer | number)[], heads: readonly boolean[], cutAfterMs: number | null, answerTimeoutMs: number): Promise<{ statuses: { status: number; ret: string | null }[]; error: string | null; cut: boolean; timedOut: boolean }> {
    return new Promise((resolve) => {
      const reader = new ResponseReader(heads);
      const s = net.connect(this.target.port, this.target.host);
      let error: string | null = null;
      let cut = false;
      let timedOut = false;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        s.destroy();
        resolve({ statuses: reader.statuses, error, cut, timedOut });
      };
      const timer = setTimeout(
        () => {
          if (cutAfterMs !== null) cut = true;
          else timedOut = true;
          finish();
        },
        cutAfterMs ?? answerTimeoutMs,
      );
      s.on('data', (d: Buffer) => {
        reader.feed(d);
        if (reader.statuses.length >= heads.length) finish();
      });
      s.on('error', (e: NodeJS.ErrnoException) => {
        error ??= e.code ?? e.message;
      });
      s.on('close', finish);
      s.once('connect', () => {
        void (async () => {
          for (const p of parts) {
            if (done || s.destroyed) return;
            if (typeof p === 'number') await sleep(p);
            else s.write(p);
          }
        })();
      });
    });
  }

  private async upgrade(u: UpgradeSpec): Promise<void> {
    const t = this.target;
    const lines = [`GET ${u.path}${u.cred === 'tokenInQuery' ? `${u.path.includes('?') ? '&' : '?'}access_token=${t.token}` : ''} HTTP/1.1`];
    const host = hostHeader(u.host, t.port);
    if (host !== null) lines.push(`Host: ${host}`);
    lines.push('Upgrade: websocket', 'Connection: Upgrade');
    if (u.key === 'ok') lines.push(`Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`);
    if (u.key === 'bad') lines.push('Sec-WebSocket-Key: not-base64!');
    if (u.version !== 'missing') lines.push(`Sec-WebSocket-Version: ${u.version}`);
    const origin = originHeader(u.origin, t.port);
    if (origin !== null) lines.push(`Origin: ${origin}`);
    const auth = authHeader(u.cred, t.token);
    if (auth !== null) lines.push(`Authorization: ${auth}`);
    if (u.tokenAsProtocol) lines.push(`Sec-WebSocket-Protocol: ${t.token}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    this.sentOne(`upgrade ${u.kind}`, head.length);
    const r = await this.exchange([head], [false], null, this.o.answerTimeoutMs ?? 15_000);
    const exp = expectationOf({ host: u.host, origin: u.origin, cred: u.cred, upgrade: true });
    const first = r.statuses[0];
    if (first === undefined) {
      this.answer(r.timedOut ? 'upgrade no answer' : `upgrade closed${r.error === null ? '' : ` ${r.error}`}`, true);
      if (r.timedOut) this.anomaly('upgrade not answered', `${u.kind} ${u.path}`);
      return;
    }
    this.answer(`upgrade ${first.status}`, first.status !== 101);
    if (first.status === 101) this.connectionsOpened++;
    if (first.status === 500) this.anomaly('upgrade 500', `${u.kind} ${u.path}`);
    if (exp.mustRefuse && !REFUSAL_STATUS.has(first.status)) this.anomaly('upgrade let through', `${u.kind} host=${u.host} origin=${u.origin} cred=${u.cred} → ${first.status}`);
    if (exp.mustAdmit && (first.status === 401 || first.status === 403 || first.status === 421)) this.anomaly('admitted client refused', `upgrade ${u.kind} ${u.path} → ${first.status}`);
  }

  private async http(h: HttpSpec): Promise<void> {
    const t = this.target;
    const target = h.target.replace('{port}', String(t.port));
    const exp = expectationOf({ host: h.host, origin: h.origin, cred: h.cred, upgrade: false, method: h.method, target: h.target, raw: h.raw, hugeHeader: h.hugeHeader });
    const max = t.maxFrameBytes;
    const parts: (Buffer | number)[] = [];
    const heads: boolean[] = [];
    if (h.raw !== null) {
      parts.push(Buffer.from(h.raw.replaceAll('{port}', String(t.port)), 'latin1'));
      heads.push(false);
    } else {
      let body = Buffer.from(h.bodyText, 'utf8');
      let chunked = false;
      let declared: number | null = null;
      if (h.body === 'overLimitDeclared') {
        declared = max + 1 + (h.bodyText.length % 1000);
        body = Buffer.alloc(Math.min(declared, max + 1024), 0x20);
      } else if (h.body === 'overLimitChunked') {
        chunked = true;
        body = Buffer.alloc(max + 2048, 0x20);
      } else if (h.body === 'nearLimit') {
        const pre = '{"iType":1,"cardInfo":"';
        body = Buffer.from(`${pre}${'x'.repeat(Math.max(0, max - pre.length - 2))}"}`);
      }
      const n = h.pipeline;
      for (let i = 0; i < n; i++) {
        const lines = [`${h.method} ${target}${h.cred === 'tokenInQuery' ? `${target.includes('?') ? '&' : '?'}token=${t.token}` : ''} HTTP/1.1`];
        const host = hostHeader(h.host, t.port);
        if (host !== null) lines.push(`Host: ${host}`);
        const origin = originHeader(h.origin, t.port);
        if (origin !== null) lines.push(`Origin: ${origin}`);
        const auth = authHeader(h.cred, t.token);
        if (auth !== null) lines.push(`Authorization: ${auth}`);
        for (const ct of h.contentType) lines.push(`Content-Type: ${ct}`);
        lines.push(...h.headers);
        if (h.hugeHeader > 0) lines.push(`X-Huge: ${'h'.repeat(h.hugeHeader)}`);
        if (h.expect100 && body.length > 0) lines.push('Expect: 100-continue');
        const hasBody = body.length > 0 || declared !== null;
        if (chunked) lines.push('Transfer-Encoding: chunked');
        else if (hasBody) lines.push(`Content-Length: ${declared ?? body.length}`);
        lines.push(i === n - 1 ? 'Connection: close' : 'Connection: keep-alive');
        const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
        const payload = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
        if (h.cutAfterMs !== null && i === n - 1) {
          // A slow body: the head, half the body (or less), a trickle, then the connection is cut.
          const declaredLen = Math.max(payload.length, 16);
          const slowHead = hasBody || chunked ? head : Buffer.from(head.toString('utf8').replace('Connection: close', `Content-Length: ${declaredLen}\r\nConnection: close`), 'utf8');
          parts.push(slowHead, payload.subarray(0, Math.floor(payload.length / 2)), 10, Buffer.from(' '));
        } else {
          parts.push(head, payload);
        }
        heads.push(h.method === 'HEAD');
      }
    }
    const bytes = parts.reduce<number>((a, p) => a + (typeof p === 'number' ? 0 : p.length), 0);
    for (let i = 0; i < heads.length; i++) this.sentOne(`http ${h.kind}`, i === 0 ? bytes : 0);
    // An admitted vendor service call waits for the PIN pad: it is cut after a moment, as a client that gives up.
    const blocking = h.raw === null && /^\/sscard\/i(Verify|Change|Reload|Unblock)PIN/i.test(target) && h.method === 'POST';
    const cutAfter = h.cutAfterMs ?? (blocking ? 50 + (bytes % 400) : null);
    const r = await this.exchange(parts, heads, cutAfter, this.o.answerTimeoutMs ?? 15_000);
    const fn = h.raw === null && h.method === 'POST' ? /^\/sscard\/(i[A-Za-z]+)$/.exec(pathOfTarget(target) ?? '')?.[1] : undefined;
    if (fn !== undefined) {
      const s0 = r.statuses[0];
      this.vendor.add(`${fn} ${s0 === undefined ? (r.cut ? 'cut by the client' : 'no answer') : `${s0.status}${s0.ret === null ? '' : ` ret=${s0.ret}`}`}`);
    }
    if (r.statuses.length === 0) {
      this.answer(r.cut ? 'http cut by the client' : r.timedOut ? 'http no answer' : `http closed${r.error === null ? '' : ` ${r.error}`}`, !r.cut);
      if (r.timedOut) this.anomaly('HTTP request not answered', `${h.kind} ${h.method} ${target.slice(0, 60)}`);
      return;
    }
    r.statuses.forEach((s, i) => {
      const ret = s.ret === null ? '' : ` ret=${s.ret}`;
      this.answer(`http ${s.status}${ret}`, s.status >= 400 || (s.ret !== null && s.ret !== '0'));
      if (s.status >= 500 && s.status !== 503 && s.status !== 505) this.anomaly(`HTTP ${s.status}`, `${h.kind} ${h.method} ${target.slice(0, 60)}`);
      if (i > 0) return;
      if (exp.mustRefuse && !REFUSAL_STATUS.has(s.status)) this.anomaly('HTTP request let through', `${h.kind} ${h.method} ${target.slice(0, 60)} host=${h.host} origin=${h.origin} cred=${h.cred} → ${s.status}`);
      if (exp.mustAdmit && (s.status === 421 || s.status === 403 || (s.status === 401 && !pathOfTarget(target)?.startsWith('/sscard/')))) {
        this.anomaly('admitted client refused', `${h.kind} ${h.method} ${target.slice(0, 60)} → ${s.status}`);
      }
    });
  }

  /** Wait for the HTTP requests in flight and the frames not yet answered; then close every connection. */
  public async finish(): Promise<void> {
    await Promise.all([...this.httpDone]);
    for (const s of [...this.pool, this.keypadSocket]) {
      if (!(await s.settle(this.o.answerTimeoutMs ?? 15_000))) this.anomaly('frames not answered', `${s.unanswered} frames on an open connection`);
    }
    this.stopping = true;
    await Promise.all([...this.pool, this.keypadSocket].map((s) => s.close()));
  }

  public report(seed: number, durationMs: number): FuzzReport {
    return {
      seed,
      messages: this.messages,
      bytesSent: this.bytes,
      durationMs: Math.round(durationMs),
      sent: this.sentByKind.record(),
      answers: this.answers.record(),
      refusals: this.refusals.record(),
      completions: this.completions.record(),
      acceptedCommands: this.acceptedCommands,
      connectionsOpened: this.connectionsOpened,
      poolConnections: this.poolConnections,
      vendor: this.vendor.record(),
      framesLostToClose: this.framesLostToClose,
      keysReplaced: this.keysReplaced,
      anomalies: { count: this.anomalies.total, byKind: this.anomalies.record(), examples: [...this.examples] },
    };
  }
}

/**
 * Send `o.messages` messages of the traffic of `o.seed` to the daemon at `target`, then wait for
 * every answer and close every connection. Nothing is thrown for what the daemon answers: it is
 * all in the report (anomalies included).
 */
export async function runFuzz(target: FuzzTarget, o: FuzzOptions & { readonly connections?: number }): Promise<FuzzReport> {
  const connections = o.connections ?? 4;
  const arb = trafficArbitrary({ reader: target.reader, maxFrameBytes: target.maxFrameBytes, connections });
  const run = new Runner(target, o, connections);
  const t0 = performance.now();
  const deadline = o.deadlineMs === undefined ? Infinity : t0 + o.deadlineMs;
  try {
    for (let n = 0; run.sentMessages < o.messages && performance.now() < deadline; n++) {
      for (const a of batchOf(arb, o.seed, n)) {
        if (run.sentMessages >= o.messages || performance.now() >= deadline) break;
        await run.dispatch(a);
      }
    }
  } finally {
    await run.finish();
  }
  return run.report(o.seed, performance.now() - t0);
}
