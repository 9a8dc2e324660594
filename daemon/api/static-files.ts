/**
 * The built pages of web/ (dist/web), served by the daemon on its own origin (docs/api.md, docs/security.md
 * "The daemon's own origins are always allowed, for the pages it will serve").
 *
 * - The whole tree is read once at start into memory (it is small): only paths that exist in it are
 *   ever answered, so no request path reaches the file system and traversal has nothing to walk.
 *   A target that tries anyway (`..`, encoded dots or slashes, backslashes, NUL) is refused (400).
 * - `/` is `index.html`; `/kiosk` and `/kiosk/` are `kiosk/index.html` (every folder with an index).
 * - Content types by extension, UTF-8 for text; `X-Content-Type-Options: nosniff`.
 * - Caching: `/assets/…` carries a content hash in its name (Vite) → immutable for a year; everything
 *   else (HTML) → `no-cache` with an ETag, so a new build is picked up at the next load.
 * - Security headers: a strict Content-Security-Policy — only the page's own origin for scripts,
 *   styles, images and fonts; for connections itself and the daemon's own WebSocket origins; no
 *   framing (`frame-ancestors 'none'`, X-Frame-Options DENY: a PIN screen is never put in a frame);
 *   `Referrer-Policy: no-referrer`; same-origin resource and opener policies.
 * - GET and HEAD only (405 with `Allow` otherwise).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, SsCardError } from '../../core/errors.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

/** Where content-hashed build output lives (Vite's `build.assetsDir`). */
const ASSETS = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A path we would serve: letters, digits, `._-` and `/`; nothing encoded. */
const SAFE_PATH = /^\/[A-Za-z0-9._\-/]*$/;
/** What a traversal attempt looks like in the raw request target. */
const TRAVERSAL = /\.\.|%2e|%2f|%5c|\\|%00|\0/i;

export interface StaticSiteOptions {
  /** The built pages (dist/web). */
  readonly root: string;
  /**
   * The daemon's own WebSocket origins for `connect-src` (`ws://127.0.0.1:5846`, `wss://…` with TLS).
   * CSP Level 3 lets 'self' match them too; they are listed for browsers that do not.
   */
  readonly socketOrigins: readonly string[];
}

interface Entry {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly cache: string;
}

export interface StaticSite {
  /** The paths served (for tests and the access check's "open" paths). */
  readonly paths: readonly string[];
  /** The daemon's WebSocket origins once its port is known (see `daemonSocketOrigins`); validated like the option. */
  setSocketOrigins(origins: readonly string[]): void;
  /** Whether this request target is one of the site's (or a traversal attempt it will refuse). */
  owns(target: string | undefined): boolean;
  /** Answers the request when it is the site's; returns false (nothing sent) when it is not. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The Content-Security-Policy of the pages. */
export function pageCsp(socketOrigins: readonly string[]): string {
  const connect = ["'self'", ...socketOrigins].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const ORIGIN = /^wss?:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;

function checkOrigins(origins: readonly string[]): void {
  for (const o of origins) {
    if (!ORIGIN.test(o)) {
      throw new SsCardError(ErrorCode.Config_Invalid, { zh: `选项 socketOrigins 无效：${JSON.stringify(o)} 不是 ws://主机:端口 形式`, en: `option socketOrigins is invalid: ${JSON.stringify(o)} is not ws://host:port` }, { option: 'socketOrigins' });
    }
  }
}

/**
 * `ws://<name>:<port>` (`wss://` with TLS) for each of the daemon's names — the loopback names and
 * `api.host` / `api.hostNames` (docs/api.md "Who may talk to the daemon"). IPv6 literals are left
 * out: CSP's host-source grammar has none (Chromium drops `ws://[::1]:…` as invalid); a page on
 * such an origin is still covered by 'self' (CSP Level 3). Wildcard addresses are no names.
 */
export function daemonSocketOrigins(names: readonly string[], port: number, tls: boolean): string[] {
  const out = new Set<string>();
  for (const n of ['127.0.0.1', 'localhost', ...names]) {
    if (n.includes(':') || n === '0.0.0.0') continue;
    out.add(`${tls ? 'wss' : 'ws'}://${n}:${port}`);
  }
  return [...out];
}

/**
 * The folder of the built pages: `dist/web` of the package this module belongs to, found by walking
 * up to its package.json — the same from source (tsx) and from dist/.
 */
export function defaultPagesRoot(moduleUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'web');
    const up = dirname(dir);
    if (up === dir) return join(dirname(fileURLToPath(moduleUrl)), 'web');
    dir = up;
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function extOf(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash ? path.slice(dot).toLowerCase() : '';
}

/**
 * Reads the built pages under `root` into memory. Throws SsCardError Config_Invalid naming the
 * option when the folder cannot be read or holds no index.html (pages not built: `npm run build`).
 */
export async function openStaticSite(opts: StaticSiteOptions): Promise<StaticSite> {
  checkOrigins(opts.socketOrigins);
  let files: string[];
  try {
    files = await walk(opts.root);
  } catch (e) {
    throw new SsCardError(ErrorCode.Config_Invalid, { zh: `页面目录 ${opts.root} 无法读取：请先运行 npm run build`, en: `the pages folder ${opts.root} cannot be read: run npm run build first` }, { option: 'root', cause: e instanceof Error ? e.message : String(e) });
  }
  const table = new Map<string, Entry>();
  for (const file of files) {
    const path = '/' + relative(opts.root, file).split(sep).join('/');
    if (!SAFE_PATH.test(path)) continue;
    const body = await readFile(file);
    const entry: Entry = {
      body,
      type: TYPES[extOf(path)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cache: path.startsWith(ASSETS) ? IMMUTABLE : 'no-cache',
    };
    table.set(path, entry);
    if (path.endsWith('/index.html')) {
      const dir = path.slice(0, -'index.html'.length);
      table.set(dir, entry);
      if (dir !== '/') table.set(dir.slice(0, -1), entry);
    }
  }
  if (!table.has('/')) {
    throw new SsCardError(ErrorCode.Config_Invalid, { zh: `页面目录 ${opts.root} 中没有 index.html：请先运行 npm run build`, en: `the pages folder ${opts.root} has no index.html: run npm run build first` }, { option: 'root' });
  }
  let headers = {
    'content-security-policy': pageCsp(opts.socketOrigins),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-resource-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
  };

  const pathOfTarget = (target: string | undefined): string => {
    const t = target ?? '/';
    const q = t.search(/[?#]/);
    return q < 0 ? t : t.slice(0, q);
  };

  const send = (res: ServerResponse, status: number, extra: Record<string, string | number>, body?: Buffer | string): void => {
    res.writeHead(status, { ...headers, ...extra });
    res.end(body);
  };

  return {
    paths: [...table.keys()].sort(),
    setSocketOrigins(origins) {
      checkOrigins(origins);
      headers = { ...headers, 'content-security-policy': pageCsp(origins) };
    },
    owns(target) {
      const path = pathOfTarget(target);
      return table.has(path) || TRAVERSAL.test(path);
    },
    handle(req, res) {
      const path = pathOfTarget(req.url);
      if (TRAVERSAL.test(path) || !SAFE_PATH.test(path)) {
        if (!TRAVERSAL.test(path)) return false;
        req.resume();
        send(res, 400, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }, '请求地址无效 / bad request target\n');
        return true;
      }
      const entry = table.get(path);
      if (entry === undefined) return false;
      req.resume();
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, '此地址只支持 GET 和 HEAD / only GET and HEAD here\n');
        return true;
      }
      const common = { 'content-type': entry.type, 'cache-control': entry.cache, etag: entry.etag };
      if (req.headers['if-none-match'] === entry.etag) {
        send(res, 304, common);
        return true;
      }
      send(res, 200, { ...common, 'content-length': entry.body.length }, method === 'HEAD' ? undefined : entry.body);
      return true;
    },
  };
}
