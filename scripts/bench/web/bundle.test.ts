import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { measureBundle, referencedAssets } from './bundle.js';

describe('bench:web bundle', () => {
  it('finds the scripts and styles a page names, and the chunks its scripts import', () => {
    expect(referencedAssets('<script type="module" crossorigin src="/assets/kiosk-1.js"></script><link rel="stylesheet" href="/assets/kiosk-2.css"><link rel="icon" href="data:,">', 'html')).toEqual(['assets/kiosk-1.js', 'assets/kiosk-2.css']);
    expect(referencedAssets('import{a as b}from"./chunk-3.js";const x=()=>import("./lazy-4.js")', 'js')).toEqual(['assets/chunk-3.js', 'assets/lazy-4.js']);
  });

  it('sums the page, its assets and their imports once each, gzipped at level 9', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bench-web-bundle-'));
    mkdirSync(path.join(root, 'kiosk'));
    mkdirSync(path.join(root, 'assets'));
    const html = '<script src="/assets/k.js"></script><link href="/assets/k.css">';
    const js = 'import"./c.js";import"./c.js";'.repeat(3);
    writeFileSync(path.join(root, 'kiosk', 'index.html'), html);
    writeFileSync(path.join(root, 'assets', 'k.js'), js);
    writeFileSync(path.join(root, 'assets', 'k.css'), 'body{}');
    writeFileSync(path.join(root, 'assets', 'c.js'), 'export const c=1;');
    writeFileSync(path.join(root, 'assets', 'unused.js'), 'x'.repeat(10_000));
    const b = measureBundle(root, 'kiosk');
    expect(b.files.map((f) => f.file)).toEqual([path.join('kiosk', 'index.html'), 'assets/k.js', 'assets/c.js', 'assets/k.css']);
    expect(b.bytes).toBe(html.length + js.length + 'body{}'.length + 'export const c=1;'.length);
    expect(b.gzip).toBe(gzipSync(html, { level: 9 }).length + gzipSync(js, { level: 9 }).length + gzipSync('body{}', { level: 9 }).length + gzipSync('export const c=1;', { level: 9 }).length);
  });
});
