/**
 * How the traffic's specs become bytes on the wire (scripts/api-fuzz.ts): the daemon to send to,
 * the Host, Origin and Authorization headers of each kind, and frames of an exact size.
 */
import { randomBytes } from 'node:crypto';
import type { Cred, Frame, HostKind, OriginKind } from './spec.js';

export interface FuzzTarget {
  readonly host: string;
  readonly port: number;
  /** A valid client token (sscard client add). */
  readonly token: string;
  readonly maxFrameBytes: number;
  readonly reader: string;
  /** The daemon's own pages (access.ts daemonPages): open to GET/HEAD without a credential. */
  readonly page?: (target: string) => boolean;
}

export function hostHeader(h: HostKind, port: number): string | null {
  switch (h) {
    case 'ip':
      return `127.0.0.1:${port}`;
    case 'localhost':
      return `localhost:${port}`;
    case 'ipv6':
      return `[::1]:${port}`;
    case 'trailingDot':
      return `localhost.:${port}`;
    case 'noPort':
      return '127.0.0.1';
    case 'foreign':
      return `evil.example:${port}`;
    case 'foreignIp':
      return `10.0.0.1:${port}`;
    case 'missing':
      return null;
    case 'malformed':
      return `127.0.0.1:${port}/x`;
  }
}

export function originHeader(o: OriginKind, port: number): string | null {
  switch (o) {
    case 'none':
      return null;
    case 'own':
      return `http://127.0.0.1:${port}`;
    case 'null':
      return 'null';
    case 'foreign':
      return 'http://evil.example';
    case 'ownOtherPort':
      return `http://127.0.0.1:${port + 1}`;
    case 'withPath':
      return `http://127.0.0.1:${port}/kiosk`;
    case 'file':
      return 'file://';
  }
}

export function authHeader(c: Cred, token: string): string | null {
  switch (c) {
    case 'token':
      return `Bearer ${token}`;
    case 'tokenLowerScheme':
      return `bearer ${token}`;
    case 'badToken':
      return `Bearer sscc_${randomBytes(32).toString('base64url')}`;
    case 'operatorJunk':
      return `Bearer ${randomBytes(24).toString('hex')}`;
    case 'basic':
      return `Basic ${Buffer.from(`e2e:${token}`).toString('base64')}`;
    case 'emptyBearer':
      return 'Bearer ';
    case 'none':
    case 'tokenInQuery':
      return null;
  }
}

/** A sized frame's text: exactly maxFrameBytes + delta bytes of ASCII. */
export function sizedText(f: Extract<Frame, { t: 'sized' }>, max: number, id: number): string {
  const size = Math.max(64, max + f.delta);
  const head = `{"header":{"type":"command","name":"Common.Status","requestId":${id}}`;
  if (f.fill === 'whitespace') return `${head}${' '.repeat(Math.max(0, size - head.length - 1))}}`;
  if (f.fill === 'string') {
    const pre = `${head},"payload":{"pad":"`;
    return `${pre}${'x'.repeat(Math.max(0, size - pre.length - 3))}"}}`;
  }
  const pre = `${head},"payload":{"pad":`;
  const d = Math.max(0, Math.floor((size - pre.length - 2) / 2));
  const text = `${pre}${'['.repeat(d)}${']'.repeat(d)}}}`;
  return text.length < size ? `${text.slice(0, -1)}${' '.repeat(size - text.length)}}` : text;
}
