/**
 * What bench:fuzz's hostile traffic is made of (scripts/api-fuzz.ts says what is sent and why): the
 * commands and keys it names, and the shapes of its WebSocket frames, upgrades and HTTP requests.
 * The fast-check arbitraries that make them are in ws-arbitraries.ts and http-arbitraries.ts.
 */

/** Service commands (docs/api.md "Commands"); Keyboard.TouchKey only through {@link KeypadModel}. */
export const SERVICE_COMMANDS = [
  'Common.Status',
  'Common.Capabilities',
  'Common.Cancel',
  'CardReader.ChipIO',
  'CardReader.ChipPower',
  'CardReader.Reset',
  'Keyboard.PinEntry',
  'SSCard.ReadBasic',
  'SSCard.VerifyPin',
  'SSCard.ChangePin',
  'SSCard.ResetPin',
  'SSCard.UnblockPin',
  'SSCard.Activate',
  'SSCard.End',
  'Operator.Login',
  'Operator.Logout',
  'SSCard.RecentLog',
] as const;

/** Keys of Keyboard.TouchKey (docs/api.md "Keyboard"). */
export const TOUCH_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'enter', 'backspace', 'clear', 'cancel'] as const;
export const DIGITS = new Set<string>(TOUCH_KEYS.slice(0, 10));

/** A WebSocket frame to send. `sized` frames are built at send time from `api.maxFrameBytes`. */
export type Frame =
  | { readonly t: 'text'; readonly kind: string; readonly text: string }
  | { readonly t: 'bytes'; readonly kind: string; readonly bytes: Uint8Array; readonly binary: boolean }
  | { readonly t: 'sized'; readonly kind: 'nearLimit' | 'overLimit'; readonly delta: number; readonly fill: 'whitespace' | 'string' | 'nesting' }
  | { readonly t: 'fragments'; readonly kind: string; readonly parts: readonly string[] };

/** A touch key: `reader` absent, the card slot's name, or one that names no slot. */
export interface TouchKeySpec {
  readonly key: string;
  readonly reader: 'none' | 'slot' | 'bogus';
}

export type Cred = 'token' | 'tokenLowerScheme' | 'none' | 'badToken' | 'operatorJunk' | 'basic' | 'emptyBearer' | 'tokenInQuery';
export type HostKind = 'ip' | 'localhost' | 'ipv6' | 'trailingDot' | 'noPort' | 'foreign' | 'foreignIp' | 'missing' | 'malformed';
export type OriginKind = 'none' | 'own' | 'null' | 'foreign' | 'ownOtherPort' | 'withPath' | 'file';

export interface UpgradeSpec {
  readonly kind: string;
  readonly path: string;
  readonly cred: Cred;
  readonly host: HostKind;
  readonly origin: OriginKind;
  readonly key: 'ok' | 'missing' | 'bad';
  readonly version: '13' | '8' | 'missing';
  /** The token offered as a subprotocol instead of a header (never a credential: docs/api.md). */
  readonly tokenAsProtocol: boolean;
  /** Upgrades sent at once (past api.maxConnectionsPerClient for a burst). */
  readonly burst: number;
}

export type BodyKind =
  | 'none'
  | 'vendorOk'
  | 'vendorBad'
  | 'notJson'
  | 'duplicateKeys'
  | 'form'
  | 'deep'
  | 'overLimitDeclared'
  | 'overLimitChunked'
  | 'nearLimit'
  | 'unicode';

export interface HttpSpec {
  readonly kind: string;
  readonly method: string;
  /** The request target as sent (`/health`, `//[`, `http://…`); `{port}` is replaced. */
  readonly target: string;
  readonly host: HostKind;
  readonly origin: OriginKind;
  readonly cred: Cred;
  readonly contentType: readonly string[];
  readonly body: BodyKind;
  readonly bodyText: string;
  /** Extra header lines ("Name: value"). */
  readonly headers: readonly string[];
  /** One huge header of about this many bytes (0: none); Node's limit is 16 KiB (api server maxHeaderSize). */
  readonly hugeHeader: number;
  /** A malformed request instead of a well-formed one (the whole head), or null. */
  readonly raw: string | null;
  /** Send part of the body, wait this long, cut the connection (null: send it all). */
  readonly cutAfterMs: number | null;
  /** The same request this many times on one keep-alive connection (the last one closes). */
  readonly pipeline: number;
  readonly expect100: boolean;
}

export type Action =
  | { readonly ch: 'ws'; readonly conn: number; readonly frames: readonly Frame[] }
  | { readonly ch: 'wsClose'; readonly conn: number }
  | { readonly ch: 'keys'; readonly keys: readonly TouchKeySpec[] }
  | { readonly ch: 'upgrade'; readonly spec: UpgradeSpec }
  | { readonly ch: 'http'; readonly spec: HttpSpec };

export interface TrafficShape {
  /** The card slot's reader name (for `reader` fields). */
  readonly reader: string;
  /** api.maxFrameBytes of the daemon (also its HTTP body limit). */
  readonly maxFrameBytes: number;
  /** WebSocket connections of the authenticated client the frames are spread over. */
  readonly connections: number;
}
