/**
 * `npm run docs:api`: write the machine-readable API descriptions (daemon/api/api-description.ts) to
 * docs/asyncapi.json and docs/openapi.json. daemon/api/api-description.test.ts fails in CI when the
 * files are not what the daemon's schemas render.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_DESCRIPTION_FILES } from '../daemon/api/api-description.js';
import { projectRoot } from '../daemon/config/root.js';

const root = projectRoot();
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
for (const [file, render] of API_DESCRIPTION_FILES) {
  writeFileSync(path.join(root, file), render(version));
  process.stdout.write(`wrote ${file}\n`);
}
