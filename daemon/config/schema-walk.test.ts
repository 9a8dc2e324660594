import { describe, expect, it } from 'vitest';
import { docAt, keysAt, schemaAt } from './schema-walk.js';

describe('walking the schema by key path', () => {
  it('keysAt: the keys a table allows, in schema order; none for a leaf or an unknown path', () => {
    expect(keysAt([]).slice(0, 3)).toEqual(['terminalId', 'deviceId', 'role']);
    expect(keysAt(['api']).slice(0, 3)).toEqual(['host', 'port', 'socket']);
    expect(keysAt(['operators', 'accounts', 0])).toEqual(['id', 'name', 'hash']);
    expect(keysAt(['api', 'port'])).toEqual([]);
    expect(keysAt(['nope'])).toEqual([]);
  });

  it('schemaAt: through optional and default wrappers and array elements; a key on a leaf is undefined', () => {
    expect(schemaAt(['api', 'port'])).toBeDefined();
    expect(schemaAt(['operators', 'accounts', 3, 'hash'])).toBeDefined();
    expect(schemaAt(['operators', 'accounts', 'x'])).toBeUndefined();
    expect(schemaAt(['api', 'port', 'x'])).toBeUndefined();
  });

  it('docAt: the registered doc of a key, secret marks included', () => {
    expect(docAt(['api', 'port'])?.default).toBe('5846');
    expect(docAt(['operators', 'accounts', 0, 'hash'])?.secret).toBe(true);
    expect(docAt(['api', 'port'])?.secret).toBeUndefined();
    expect(docAt(['api'])).toBeUndefined();
  });
});
