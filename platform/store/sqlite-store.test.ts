import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { platformStoreContract } from '../../testing/platform-store-contract.js';
import { SqliteStore } from './sqlite-store.js';
import type { PlatformStore } from './store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sscard-platform-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = new Map<PlatformStore, string>();
let n = 0;

platformStoreContract('SQLite (the embedded default)', {
  fresh: () => {
    const file = path.join(dir, `platform-${++n}.sqlite`);
    const s = new SqliteStore(file);
    files.set(s, file);
    return Promise.resolve(s);
  },
  again: (s) => Promise.resolve(new SqliteStore(files.get(s))),
});
