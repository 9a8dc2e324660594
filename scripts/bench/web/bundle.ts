/**
 * bench:web's bundle figure (docs/benchmarks.md "bench:web"): what a browser downloads to show a
 * page — the HTML, every script and style sheet it names under /assets/, and every chunk those
 * scripts import — each gzipped at level 9 (what a server would send; the daemon itself serves
 * them uncompressed on loopback, daemon/api/static-files.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface BundleFile {
  readonly file: string;
  readonly bytes: number;
  readonly gzip: number;
}

export interface Bundle {
  readonly page: string;
  readonly files: readonly BundleFile[];
  readonly bytes: number;
  readonly gzip: number;
}

/** `/assets/x.js` in the HTML (src, href) and `./y.js` / `/assets/y.js` imported by a script. */
export function referencedAssets(text: string, kind: 'html' | 'js'): string[] {
  const re = kind === 'html' ? /(?:src|href)="\/(assets\/[^"]+)"/g : /(?:from|import)\s*\(?\s*["'](?:\.\/|\/assets\/)([^"']+\.js)["']/g;
  const out: string[] = [];
  for (const m of text.matchAll(re)) out.push(kind === 'html' ? m[1]! : `assets/${m[1]!}`);
  return out;
}

/** The page `<root>/<page>/index.html` and everything it loads, with their sizes. */
export function measureBundle(root: string, page: string): Bundle {
  const seen = new Set<string>();
  const files: BundleFile[] = [];
  const add = (rel: string): void => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const bytes = readFileSync(path.join(root, rel));
    files.push({ file: rel, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
    if (rel.endsWith('.html')) for (const a of referencedAssets(bytes.toString('utf8'), 'html')) add(a);
    else if (rel.endsWith('.js')) for (const a of referencedAssets(bytes.toString('utf8'), 'js')) add(a);
  };
  add(path.join(page, 'index.html'));
  return { page, files, bytes: files.reduce((s, f) => s + f.bytes, 0), gzip: files.reduce((s, f) => s + f.gzip, 0) };
}
