/**
 * fast-check arbitraries of the WebSocket traffic (scripts/api-fuzz.ts): frames of an authenticated
 * native client — valid-looking envelopes gone wrong in every way docs/api.md allows a client to
 * get them wrong, storms, sized and fragmented frames — and the touch keys of the keypad channel.
 */
import fc from 'fast-check';
import { SERVICE_COMMANDS, TOUCH_KEYS } from './spec.js';
import type { Action, Frame, TouchKeySpec, TrafficShape } from './spec.js';

export const json = (v: unknown): string => JSON.stringify(v);
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
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e', '\ufeff', '社保卡', '１２３４５６', '123456', '__proto__', 'constructor', 'toString', '%s%s%n', '${jndi:ldap://x}', '../../etc/passwd', 'a'.repeat(300)),
);

/** A JSON string literal, sometimes with escapes that are not plain (lone surrogates, \u0000, escaped quotes). */
export const nastyStringLiteral: fc.Arbitrary<string> = fc.oneof(
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
          maxLen: opt(fc.integer({ min: 0, max: 12 })),
          autoEnd: opt(fc.boolean()),
          // Keyboard.PinEntry 2.0: key name → { terminate } (docs/api.md "Keyboard").
          activeKeys: opt(
            fc
              .subarray(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'enter', 'cancel', 'clear', 'backspace'])
              .chain((keys) => fc.tuple(...keys.map((k) => opt(fc.boolean()).map((t) => [k, t === undefined ? {} : { terminate: t }] as const))))
              .map((pairs) => Object.fromEntries(pairs)),
          ),
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

export const notJson: fc.Arbitrary<string> = fc.oneof(
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
export function wsAction(shape: TrafficShape): fc.Arbitrary<Action> {
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

export const keysAction: fc.Arbitrary<Action> = fc.array(touchKey, { minLength: 1, maxLength: 40 }).map((keys): Action => ({ ch: 'keys', keys }));
