import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';
import { projectRoot } from './root.js';

const ROOT = projectRoot();

describe('defaults', () => {
  it('services follow the role; deviceId follows terminalId', () => {
    expect(parseConfig({ role: 'counter', terminalId: 'W-01' }, 'x').services).toEqual(['activate', 'verify', 'change', 'reset', 'unblock']);
    expect(parseConfig({ role: 'financial-counter' }, 'x').services).toHaveLength(5);
    expect(parseConfig({ terminalId: 'W-01' }, 'x').deviceId).toBe('W-01');
    expect(parseConfig({ role: 'kiosk', services: ['verify', 'reset', 'verify'] }, 'x').services).toEqual(['verify', 'reset']);
  });

  it('the simulated ID card is the one that matches the simulated card', () => {
    const c = parseConfig({ simulator: { card: path.join(ROOT, 'fixtures/cards/card-locked.json') } }, 'x');
    expect(c.simulator.idCard).toBe(path.join(ROOT, 'fixtures/idcards/id-card-locked.json'));
    expect(parseConfig({ simulator: { card: '/somewhere/my-own-card.json' } }, 'x').simulator.idCard).toBeNull();
  });

  it('the project root is the folder with the sscard package.json', () => {
    expect(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))).toMatchObject({ name: 'sscard' });
  });
});
