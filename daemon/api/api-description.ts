/**
 * Machine-readable descriptions of the local API, generated from its own schemas (docs/api.md):
 * AsyncAPI 3.0 for the WebSocket API (each command's payload from its zod schema, the envelope's
 * headers, the versions and error codes of xfs-spec.ts) and OpenAPI 3.1 for the HTTP routes
 * (`/health`, `/status`, the SSCardDriver calls). `npm run docs:api` writes them to
 * docs/asyncapi.json and docs/openapi.json; api-description.test.ts fails when the files differ from
 * what this renders, and validates both against the specifications' own JSON Schemas.
 */
import { z } from 'zod';
import { EVENTS, PUBLISHER_COMMANDS, SERVICE_COMMANDS } from './commands.js';
import type { CommandDef } from './commands.js';
import { COMPLETION_CODES, MAX_RUNNING_PER_CLIENT } from './protocol.js';
import { HSM_STEP1_BODY, HSM_STEP2_BODY, READ_CARD_BODY, READ_CARD_HSM_STEP1_BODY, READER_INFO_BODY, VENDOR_BODY, WRITE_CARD_BODY } from './vendor-calls.js';
import { VENDOR_FUNCTIONS, VENDOR_NOT_PROVIDED } from './vendor.js';
import { VENDOR_WS_PATH } from './vendor-ws.js';
import { COMMAND_ERROR_CODES, commandVersion, eventVersion, isStandard } from './xfs-spec.js';

type Json = Record<string, unknown>;

/** A payload schema as JSON Schema (draft-07 for AsyncAPI's schema format, 2020-12 for OpenAPI 3.1). */
function jsonSchema(schema: z.ZodType, target: 'draft-7' | 'draft-2020-12'): Json {
  const out = z.toJSONSchema(schema, { target, io: 'input', unrepresentable: 'any' }) as Json;
  delete out['$schema'];
  return out;
}

/** A command's payload as the daemon reads it: its schema, plus what the envelope takes out first (protocol.ts payloadParts). */
function commandPayload(d: CommandDef): Json {
  const s = jsonSchema(d.payload, 'draft-7');
  const props = (s['properties'] ?? {}) as Json;
  return {
    ...s,
    properties: { ...props, timeout: { type: 'integer', minimum: 0, maximum: 2_147_483_647, description: 'ms, 0 = none; where XFS4IoT 2021-1 put it (the header\'s wins)' } },
    patternProperties: { '^sscard[A-Z0-9]': { description: 'a vendor field: accepted and ignored' } },
  };
}

/** What the completion payload says about errors (the rest of each payload: docs/api.md "Commands"). */
function completionPayload(name: string): Json {
  const own = isStandard(name) ? COMMAND_ERROR_CODES[name] : undefined;
  return {
    type: 'object',
    properties: {
      errorCode: own === undefined ? { type: 'string', description: isStandard(name) ? 'never: this command has no error codes of its own' : 'one of this command\'s own codes; only with completionCode commandErrorCode' } : { type: 'string', enum: [...own], description: 'only with completionCode commandErrorCode' },
      sscardErrorCode: { type: 'string', description: 'the terminal\'s detailed code (docs/api.md "Completion codes"), on every completion but success' },
    },
  };
}

const key = (name: string): string => name.replace(/[^A-Za-z0-9.\-_]/g, '_');

const HEADER_SCHEMAS: Json = {
  commandHeader: {
    type: 'object',
    required: ['type', 'name', 'requestId'],
    additionalProperties: false,
    properties: {
      type: { const: 'command' },
      name: { type: 'string', pattern: '^[A-Z][A-Za-z0-9]{0,39}\\.[A-Z][A-Za-z0-9]{0,59}$' },
      requestId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
      version: { type: 'string', pattern: '^\\d{1,3}\\.\\d{1,3}$' },
      timeout: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
    },
  },
  acknowledgeHeader: {
    type: 'object',
    required: ['type', 'name', 'requestId', 'version'],
    properties: {
      type: { const: 'acknowledge' },
      name: { type: ['string', 'null'] },
      requestId: { type: ['integer', 'null'] },
      version: { type: 'string' },
      status: { enum: ['invalidMessage', 'invalidRequestID', 'tooManyRequests'], description: 'absent: accepted' },
      errorDescription: { type: 'string', description: 'zh / en, with a status' },
    },
  },
  completionHeader: {
    type: 'object',
    required: ['type', 'name', 'requestId', 'version', 'completionCode'],
    properties: {
      type: { const: 'completion' },
      name: { type: 'string' },
      requestId: { type: 'integer' },
      version: { type: 'string' },
      completionCode: { enum: [...COMPLETION_CODES] },
      errorDescription: { type: 'string', description: 'zh / en; absent on success' },
    },
  },
  eventHeader: {
    type: 'object',
    required: ['type', 'name', 'requestId', 'version'],
    properties: { type: { const: 'event' }, name: { type: 'string' }, requestId: { type: 'integer' }, version: { type: 'string' } },
  },
  unsolicitedHeader: {
    type: 'object',
    required: ['type', 'name', 'version'],
    properties: { type: { const: 'unsolicited' }, name: { type: 'string' }, version: { type: 'string' } },
  },
};

const ref = (path: string): Json => ({ $ref: path });

/** The WebSocket API as AsyncAPI 3.0 (asyncapi.com/docs/reference/specification/v3.0.0). */
export function renderAsyncApi(version: string): Json {
  const channels: Json = {};
  const operations: Json = {};
  const ack = { name: 'acknowledge', headers: ref('#/components/schemas/acknowledgeHeader'), summary: 'The command accepted (no status) or refused (status, errorDescription); no payload.' };
  for (const [channel, address, commands] of [
    ['service', '/xfs4iot/v1.0/sscard', SERVICE_COMMANDS],
    ['publisher', '/xfs4iot/v1.0', PUBLISHER_COMMANDS],
  ] as const) {
    const messages: Json = { acknowledge: ack };
    for (const d of commands) {
      const k = key(d.name);
      messages[`${k}.command`] = {
        name: d.name,
        title: `${d.name} (command ${commandVersion(d.name, 'command')})`,
        summary: `${isStandard(d.name) ? 'XFS4IoT' : 'sscard'} command${d.cardOp ? '; a card operation (one at a time per reader)' : ''}${d.privilege === 'always' ? '; privileged' : d.privilege === 'byService' ? '; privileged where the role says so' : ''}`,
        headers: ref('#/components/schemas/commandHeader'),
        payload: commandPayload(d),
      };
      messages[`${k}.completion`] = { name: d.name, title: `${d.name} (completion ${commandVersion(d.name, 'completion')})`, headers: ref('#/components/schemas/completionHeader'), payload: completionPayload(d.name) };
      operations[k] = {
        action: 'receive',
        channel: ref(`#/channels/${channel}`),
        summary: `${d.name}: the client sends the command; the daemon answers acknowledge, events, completion`,
        messages: [ref(`#/channels/${channel}/messages/${k}.command`)],
        reply: { channel: ref(`#/channels/${channel}`), messages: [ref(`#/channels/${channel}/messages/acknowledge`), ref(`#/channels/${channel}/messages/${k}.completion`)] },
      };
    }
    if (channel === 'service') {
      for (const name of Object.values(EVENTS).flat()) {
        const k = key(name);
        messages[`${k}.event`] = { name, title: `${name} (${eventVersion(name)})`, summary: 'an event of a command (header type event) or unsolicited (type unsolicited, no requestId)', headers: { oneOf: [ref('#/components/schemas/eventHeader'), ref('#/components/schemas/unsolicitedHeader')] }, payload: { type: 'object' } };
      }
      operations['events'] = {
        action: 'send',
        channel: ref('#/channels/service'),
        summary: 'events of running commands and unsolicited events to every client of the service endpoint',
        messages: Object.values(EVENTS)
          .flat()
          .map((n) => ref(`#/channels/service/messages/${key(n)}.event`)),
      };
    }
    channels[channel] = { address, messages };
  }
  // One card reader's service (gate.ts): the service's messages, on that reader.
  const serviceMessages = Object.keys((channels['service'] as { messages: Json }).messages);
  channels['reader'] = {
    address: '/xfs4iot/v1.0/sscard/reader/{reader}',
    description: "One card reader's service: the service's commands, those that take `reader` on this one; this reader's unsolicited events and the terminal's (docs/api.md).",
    parameters: { reader: { description: "the card reader's full name as Common.Status lists it, percent-encoded" } },
    messages: Object.fromEntries(serviceMessages.map((k) => [k, ref(`#/channels/service/messages/${k}`)])),
  };
  operations['readerCommands'] = {
    action: 'receive',
    channel: ref('#/channels/reader'),
    summary: "the service's commands on one card reader; the daemon answers acknowledge, events, completion",
    messages: serviceMessages.filter((k) => k.endsWith('.command')).map((k) => ref(`#/channels/reader/messages/${k}`)),
  };
  // The vendors' local JSON socket (vendor-ws.ts): the SSCardDriver functions by name.
  const vendorFunctions = [...VENDOR_FUNCTIONS, 'iGetReaderInfo', 'iReadCard', 'iReadCardBas_HSM_Step1', 'iReadCardBas_HSM_Step2', 'iReadCard_HSM_Step1', 'iReadCard_HSM_Step2', 'iWriteCard', ...VENDOR_NOT_PROVIDED];
  channels['vendor'] = {
    address: VENDOR_WS_PATH,
    messages: {
      call: {
        name: 'call',
        summary: "an SSCardDriver function with its arguments by name, as POST /sscard/<function>'s body (docs/api.md)",
        payload: { type: 'object', required: ['function'], properties: { function: { type: 'string', enum: vendorFunctions } }, additionalProperties: true },
      },
      answer: {
        name: 'answer',
        summary: 'the call\'s output (functionName null when the message named no function)',
        payload: { type: 'object', required: ['functionName', 'success', 'pOutInfo', 'sscardReturn'], properties: { functionName: { type: ['string', 'null'] }, success: { type: 'boolean' }, pOutInfo: { type: 'string' }, sscardReturn: { type: ['integer', 'null'] } }, additionalProperties: false },
      },
    },
  };
  operations['vendorCall'] = {
    action: 'receive',
    channel: ref('#/channels/vendor'),
    summary: 'one SSCardDriver function per message, one at a time per connection',
    messages: [ref('#/channels/vendor/messages/call')],
    reply: { channel: ref('#/channels/vendor'), messages: [ref('#/channels/vendor/messages/answer')] },
  };
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'sscard local API (XFS4IoT over WebSocket)',
      version,
      description: `The terminal daemon's WebSocket API in the XFS4IoT envelope (docs/api.md). Generated from the daemon's schemas (daemon/api/api-description.ts). At most ${MAX_RUNNING_PER_CLIENT} commands of one client run at once.`,
    },
    defaultContentType: 'application/json',
    servers: { local: { host: '127.0.0.1:5846', protocol: 'ws', description: 'the daemon on this terminal (api.host, api.port; wss with api.tls)' } },
    channels,
    operations,
    components: { schemas: HEADER_SCHEMAS },
  };
}

/** The HTTP routes as OpenAPI 3.1 (spec.openapis.org/oas/v3.1.0). */
export function renderOpenApi(version: string): Json {
  const text = (description: string): Json => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } });
  const bilingualError: Json = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, zh: { type: 'string' }, en: { type: 'string' } }, required: ['code', 'zh', 'en'] } } };
  const paths: Json = {
    '/health': {
      get: {
        summary: 'Whether the daemon is live and ready, and why not',
        security: [],
        responses: {
          '200': { description: 'ready', content: { 'application/json': { schema: { type: 'object', properties: { live: { type: 'boolean' }, ready: { type: 'boolean' }, reasons: { type: 'array' } } } } } },
          '503': { description: 'not ready: reasons [{ component, zh, en }]', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    '/status': {
      get: {
        summary: "The terminal's status report (Common.Status' sscard)",
        responses: { '200': { description: 'the report', content: { 'application/json': { schema: { type: 'object' } } } }, '401': { description: 'no credential', content: { 'application/json': { schema: bilingualError } } } },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (docs/api.md "Metrics"): flows, APDU latency, devices, journal, sync, hotlist, process',
        responses: { '200': { description: 'the exposition, text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': { description: 'no credential', content: { 'application/json': { schema: bilingualError } } } },
      },
    },
  };
  for (const fn of VENDOR_FUNCTIONS) {
    paths[`/sscard/${fn}`] = {
      post: {
        summary: `SSCardDriver ${fn} (docs/domain.md §4)`,
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(VENDOR_BODY, 'draft-2020-12') } } },
        responses: {
          '200': { ...text("the function's output string; X-SSCard-Return is its return code"), headers: { 'X-SSCard-Return': { schema: { type: 'integer' }, description: 'the `long` return code (docs/api.md "SSCardDriver return codes")' } } },
          '400': text('malformed request'),
          '401': { ...text('no operator where one is needed (return code -24)'), headers: { 'X-SSCard-Return': { schema: { type: 'integer' } } } },
          '403': { ...text('a service this terminal does not offer (-13)'), headers: { 'X-SSCard-Return': { schema: { type: 'integer' } } } },
          '409': { ...text('another card operation is running (-12)'), headers: { 'X-SSCard-Return': { schema: { type: 'integer' } } } },
          '413': text('body too large'),
          '415': text('not application/json'),
        },
      },
    };
  }
  paths['/sscard/iGetReaderInfo'] = {
    post: {
      summary: 'SSCardDriver iGetReaderInfo(pReaderSN, pPsamTermNo): the device number and the PSAM\'s terminal number',
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(READER_INFO_BODY, 'draft-2020-12') } } },
      responses: {
        '200': { ...text('<pReaderSN>|<pPsamTermNo>|; X-SSCard-Return 0, or -2201 without a PSAM'), headers: { 'X-SSCard-Return': { schema: { type: 'integer' } } } },
        '400': text('malformed request'),
        '415': text('not application/json'),
      },
    },
  };
  const returnCode = { 'X-SSCard-Return': { schema: { type: 'integer' }, description: 'the `long` return code (docs/api.md "SSCardDriver return codes")' } };
  const cardRead = (summary: string, body: z.ZodType, output: string): Json => ({
    post: {
      summary,
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(body, 'draft-2020-12') } } },
      responses: {
        '200': { ...text(output), headers: returnCode },
        '400': { ...text('malformed request (-14)'), headers: returnCode },
        '409': { ...text('another card operation is running (-12)'), headers: returnCode },
        '413': text('body too large'),
        '415': text('not application/json'),
      },
    },
  });
  paths['/sscard/iReadCard'] = cardRead('SSCardDriver iReadCard(iType, iAuthType, pCardInfo, pFileAddr, pOutInfo): EF05/EF06 records by file address', READ_CARD_BODY, "each record's value followed by |, in the order of the file address; else the bilingual error");
  paths['/sscard/iReadCardBas_HSM_Step1'] = cardRead("SSCardDriver iReadCardBas_HSM_Step1(iType, pOutInfo): the card's data for the online encryption machine", HSM_STEP1_BODY, '区划|ATR|算法标识|卡识别码|内认证过程因子|内认证原始数据|外认证过程因子|外认证原始数据|终端号|');
  paths['/sscard/iReadCardBas_HSM_Step2'] = cardRead("SSCardDriver iReadCardBas_HSM_Step2(pKey, pOutInfo): the machine's answer → iReadCardBas's output", HSM_STEP2_BODY, "iReadCardBas's output string; -25 when the machine disagrees with the card, -41/-42 for a malformed key, -12 without Step1");
  paths['/sscard/iReadCard_HSM_Step1'] = cardRead("SSCardDriver iReadCard_HSM_Step1(iType, pCardInfo, pFileAddr, pOutInfo): iReadCard through the online encryption machine", READ_CARD_HSM_STEP1_BODY, "as iReadCardBas_HSM_Step1's output");
  paths['/sscard/iReadCard_HSM_Step2'] = cardRead("SSCardDriver iReadCard_HSM_Step2(pKey, pOutInfo): the machine's answer → iReadCard's output for Step1's address", HSM_STEP2_BODY, "iReadCard's output; -25, -41/-42, -12 as iReadCardBas_HSM_Step2");
  paths['/sscard/iWriteCard'] = cardRead("SSCardDriver iWriteCard(iType, pCardInfo, pFileAddr, pWriteData, pOutInfo): EF06 records written at a counter by its operator (Authorization: Bearer <operator token>)", WRITE_CARD_BODY, 'the number of records written; -24 without an operator, -13 at a kiosk, -22 another card, -4 outcome unknown');
  for (const fn of VENDOR_NOT_PROVIDED) {
    paths[`/sscard/${fn}`] = { post: { summary: `SSCardDriver ${fn}: not provided by this terminal (docs/api.md)`, responses: { '200': { ...text('-13 and the bilingual reason'), headers: returnCode }, '415': text('not application/json') } } };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'sscard local API (HTTP routes)', version, description: 'The HTTP routes of the terminal daemon (docs/api.md "HTTP"). Generated from the daemon\'s schemas (daemon/api/api-description.ts).' },
    servers: [{ url: 'http://127.0.0.1:5846', description: 'the daemon on this terminal (https with api.tls)' }],
    security: [{ clientToken: [] }],
    components: { securitySchemes: { clientToken: { type: 'http', scheme: 'bearer', description: 'a client token (sscard client add) or a live operator token; browser pages are admitted by their origin instead (docs/security.md)' } } },
    paths,
  };
}

/** The checked-in files and what each holds, for the daemon's version (package.json): scripts/api-docs.ts writes them; the test compares. */
export const API_DESCRIPTION_FILES: readonly (readonly [string, (version: string) => string])[] = [
  ['docs/asyncapi.json', (v) => `${JSON.stringify(renderAsyncApi(v), null, 2)}\n`],
  ['docs/openapi.json', (v) => `${JSON.stringify(renderOpenApi(v), null, 2)}\n`],
];
