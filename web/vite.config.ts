/**
 * Builds the pages of web/ into dist/web (docs/architecture.md "web/"): one HTML entry per screen,
 * hashed assets under /assets/ (served immutable by daemon/api/static-files.ts), no inline script
 * or style (the daemon's Content-Security-Policy allows only 'self'), nothing fetched at run time.
 *
 * JSX goes through Vite's own transform with Preact's automatic runtime: no Babel, no plugin.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline polyfill script: Chromium preloads modules itself, and CSP script-src is 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
    rollupOptions: {
      input: {
        start: here('index.html'),
        kiosk: here('kiosk/index.html'),
        counter: here('counter/index.html'),
        status: here('status/index.html'),
      },
    },
  },
});
