import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchemaDoc, renderConfigDoc } from './docs.js';
import { projectRoot } from './root.js';

const ROOT = projectRoot();

describe('documentation', () => {
  it('docs/config.md carries the generated key reference, unchanged', () => {
    const md = readFileSync(path.join(ROOT, 'docs/config.md'), 'utf8');
    const m = /<!-- BEGIN GENERATED: renderConfigDoc\(\) -->\n([\s\S]*)<!-- END GENERATED -->/.exec(md);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(renderConfigDoc());
  });

  it('documents every key with a default and what is allowed', () => {
    const keys = configSchemaDoc().map((d) => d.key);
    for (const k of [
      'terminalId',
      'deviceId',
      'role',
      'services',
      'simulate',
      'session.denyList',
      'session.requirePinPolicy',
      'readers.card',
      'readers.psam',
      'pinPad.kind',
      'pinPad.allowTouchscreen',
      'idReader.kind',
      'journal.keyFile',
      'sync.endpoint',
      'sync.tls.key',
      'api.allowRemote',
      'operators.accounts[].hash',
      'log.levels.APDU',
      'simulator.idCard',
    ]) {
      expect(keys).toContain(k);
    }
    for (const d of configSchemaDoc()) {
      expect(d.default, d.key).not.toBe('');
      expect(d.allowed, d.key).not.toBe('');
      expect(d.description, d.key).not.toBe('');
    }
  });
});
