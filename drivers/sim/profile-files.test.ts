import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import { cardFixture, fixturesDir, psamFixture, readJson, writeJsonAtomic } from './profile-files.js';

describe('profile files', () => {
  it('the shipped fixtures are found, with or without .json', () => {
    expect(existsSync(path.join(fixturesDir(), 'cards'))).toBe(true);
    expect(cardFixture('card-2.0')).toBe(cardFixture('card-2.0.json'));
    expect(existsSync(cardFixture('card-2.0'))).toBe(true);
    expect(existsSync(psamFixture('psam-test'))).toBe(true);
  });

  it('writes JSON atomically, readable by its owner only, and nothing else is left in the folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sscard-profile-'));
    try {
      const file = path.join(dir, 'p.json');
      await writeJsonAtomic(file, { a: 1 });
      await writeJsonAtomic(file, { a: 2 });
      expect(await readdir(dir)).toEqual(['p.json']);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(file, 'utf8')).toBe('{\n  "a": 2\n}\n');
      expect(await readJson(file, '卡片配置文件', 'Card profile')).toEqual({ a: 2 });
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('an unreadable file is Sim_BadProfile naming the file and the kind of profile', async () => {
    const e = await readJson('/nonexistent/c.json', 'PSAM 配置文件', 'PSAM profile').catch((x: unknown) => x);
    expect(isSsCardError(e, ErrorCode.Sim_BadProfile)).toBe(true);
    expect((e as Error).message).toMatch(/无法读取PSAM 配置文件 \/nonexistent\/c\.json/);
    expect((e as Error).message).toMatch(/Cannot read the psam profile \/nonexistent\/c\.json: .*Check the path/);
  });
});
