/**
 * The project root (the folder holding the sscard package.json), found from this module's own
 * location so it works from the sources (daemon/config/) and from the build (dist/daemon/config/).
 * The daemon cannot import scripts/cli-util.ts (nothing imports scripts/), hence its own copy.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, SsCardError } from '../../core/errors.js';

let cached: string | undefined;

export function projectRoot(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'sscard') return (cached = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new SsCardError(ErrorCode.Internal, {
    zh: '找不到 sscard 的安装目录（上层目录中没有名为 sscard 的 package.json）：请重新安装',
    en: 'cannot find the sscard installation folder (no package.json named "sscard" above this module): reinstall sscard',
  });
}
