/**
 * The simulator's profiles on disk: where the shipped fixtures are, reading a profile's JSON (an
 * unreadable file or bad JSON is Sim_BadProfile naming the file) and writing it back atomically
 * (temporary file + rename), so the simulator's persistent state (PIN, tries, life cycle, written
 * records) survives a restart and a crash mid-write leaves the old file.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, fail } from '../../core/errors.js';

/** A profile file's parsed JSON; `kindZh` / `kindEn` name the kind of profile in errors. */
export async function readJson(file: string, kindZh: string, kindEn: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    fail(
      ErrorCode.Sim_BadProfile,
      `无法读取${kindZh} ${file}：${(e as Error).message}。请检查路径`,
      `Cannot read the ${kindEn.toLowerCase()} ${file}: ${(e as Error).message}. Check the path`,
      { source: file },
      e,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    fail(
      ErrorCode.Sim_BadProfile,
      `${kindZh} ${file} 不是有效的 JSON：${(e as Error).message}`,
      `The ${kindEn.toLowerCase()} ${file} is not valid JSON: ${(e as Error).message}`,
      { source: file },
      e,
    );
  }
}

export /** Write JSON atomically: a crash mid-write leaves the old file, never half a profile. */
async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { encoding: 'utf8', mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Directory of the fixtures shipped with the project (`fixtures/`), found from this module both
 * in the source tree (drivers/sim/) and in the build (dist/drivers/sim/).
 */
export function fixturesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../fixtures'), path.resolve(here, '../../../fixtures')];
  return candidates.find((c) => existsSync(path.join(c, 'cards'))) ?? candidates[0]!;
}

/** Path of a shipped card profile: `cardFixture('card-2.0')` → …/fixtures/cards/card-2.0.json. */
export function cardFixture(name: string): string {
  return path.join(fixturesDir(), 'cards', name.endsWith('.json') ? name : `${name}.json`);
}

/** Path of a shipped PSAM profile: `psamFixture('psam-test')`. */
export function psamFixture(name: string): string {
  return path.join(fixturesDir(), 'psam', name.endsWith('.json') ? name : `${name}.json`);
}
