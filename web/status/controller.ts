/**
 * The technician page's moving parts: one ApiClient, the page's state, and the reads it makes —
 * `Common.Capabilities` and `Common.Status` when the connection opens and after card and device
 * events (debounced, refresh.ts), `SSCard.RecentLog` for a logged-in operator after a warning
 * (`SSCard.LogChangedEvent`) or a status change. No timer reads anything while nothing happens.
 *
 * Secrets: the operator's passphrase goes from the form into one `Operator.Login` frame and is not
 * kept; the token is held here, in memory only (never rendered, never stored), and sent in the
 * `RecentLog` payload so a reconnect needs no new login. PIN pad test keys go into one
 * `Keyboard.TouchKey` frame each and nowhere else.
 */
import { ApiClient, isApiError, type Completion, type ConnectionState, type SocketFactory } from '../client/api-client.js';
import { serviceUrl } from '../client/messages.js';
import type { BilingualText } from '../../core/text.js';
import type { Lang } from '../common/i18n.js';
import { LOG_LIMIT, linesOf, needsLogin, type LogLevel, type LogLine } from './log.js';
import { PAD_IDLE, PAD_TEST_REQUEST, PAD_TEST_TIMEOUT_MS, padStep, type PadMsg, type PadState, type TestKey } from './pad.js';
import { Debounced, refreshFor } from './refresh.js';
import { padCapabilitiesOf, reportOf, type PadCapabilities, type StatusReport } from './report.js';
import { T } from './text.js';

export interface PageState {
  readonly lang: Lang;
  readonly connection: ConnectionState;
  readonly report: StatusReport | null;
  /** When the report was read (ms since the epoch). */
  readonly readAt: number | null;
  readonly padCaps: PadCapabilities | null;
  readonly pad: PadState;
  /** The logged-in operator's id (the token is not in the state). */
  readonly operator: string | null;
  readonly loginBusy: boolean;
  readonly loginError: BilingualText | null;
  readonly log: readonly LogLine[] | null;
  readonly logError: BilingualText | null;
  readonly logMinLevel: LogLevel;
}

export const INITIAL: PageState = {
  lang: 'zh',
  connection: 'connecting',
  report: null,
  readAt: null,
  padCaps: null,
  pad: PAD_IDLE,
  operator: null,
  loginBusy: false,
  loginError: null,
  log: null,
  logError: null,
  logMinLevel: 'info',
};

export interface StatusController {
  toggleLang(): void;
  refresh(): void;
  padStart(): void;
  padStop(): void;
  padKey(key: TestKey): void;
  login(operatorId: string, passphrase: string): void;
  logout(): void;
  setMinLevel(level: LogLevel): void;
  stop(): void;
}

export interface StatusOptions {
  readonly location: { readonly protocol: string; readonly host: string };
  readonly socket?: SocketFactory;
  readonly now?: () => number;
  readonly onChange: (s: PageState) => void;
}

const describe = (c: Completion): BilingualText => c.description ?? { zh: c.errorCode ?? c.code, en: c.errorCode ?? c.code };

export function startStatusPage(o: StatusOptions): StatusController {
  const now = o.now ?? Date.now;
  const client = new ApiClient({ url: serviceUrl(o.location), ...(o.socket === undefined ? {} : { socket: o.socket }) });
  let state: PageState = INITIAL;
  let token: string | null = null;
  let padAbort: AbortController | null = null;

  const set = (patch: Partial<PageState>): void => {
    state = { ...state, ...patch };
    o.onChange(state);
  };
  const pad = (m: PadMsg): void => {
    const next = padStep(state.pad, m);
    if (next !== state.pad) set({ pad: next });
  };
  const quietly = (e: unknown): void => {
    // The connection went; the next open reads again.
    if (!isApiError(e)) throw e;
  };

  const readStatus = async (): Promise<void> => {
    try {
      const c = await client.command('Common.Status');
      const report = c.ok ? reportOf(c.payload) : null;
      if (report !== null) set({ report, readAt: now() });
    } catch (e) {
      quietly(e);
    }
  };

  const readLog = async (): Promise<void> => {
    if (token === null) return;
    try {
      const c = await client.command('SSCard.RecentLog', { limit: LOG_LIMIT, minLevel: state.logMinLevel, token });
      if (c.ok) set({ log: linesOf(c.payload), logError: null });
      else if (needsLogin(c.errorCode)) {
        token = null;
        set({ operator: null, log: null, logError: T.sessionEnded });
      } else set({ logError: describe(c) });
    } catch (e) {
      quietly(e);
    }
  };

  const status = new Debounced(readStatus);
  const log = new Debounced(readLog);

  const readAll = async (): Promise<void> => {
    try {
      const caps = await client.command('Common.Capabilities');
      if (caps.ok) set({ padCaps: padCapabilitiesOf(caps.payload) });
    } catch (e) {
      quietly(e);
    }
    await readStatus();
    await readLog();
  };

  client.onState((s) => {
    set({ connection: s });
    if (s === 'open') void readAll();
  });
  client.onUnsolicited((name) => {
    const r = refreshFor(name);
    if (r === 'status') {
      status.poke();
      // Card and device changes are logged at info: the log shows them too.
      if (token !== null) log.poke();
    } else if (r === 'log') log.poke();
  });
  client.start();
  o.onChange(state);

  return {
    toggleLang: () => set({ lang: state.lang === 'zh' ? 'en' : 'zh' }),
    refresh: () => {
      void readStatus();
      void readLog();
    },
    padStart() {
      if (state.pad.phase === 'running') return;
      pad({ type: 'start' });
      const abort = new AbortController();
      padAbort = abort;
      client
        .command('Keyboard.PinEntry', { ...PAD_TEST_REQUEST }, {
          timeoutMs: PAD_TEST_TIMEOUT_MS,
          signal: abort.signal,
          onEvent: (name, payload) => {
            if (name === 'Keyboard.KeyEvent') pad({ type: 'key', count: payload['sscardCount'] });
          },
        })
        .then(
          (c) => {
            if (c.ok) pad({ type: 'completed', digits: c.payload['digits'], completion: c.payload['completion'] });
            else pad({ type: 'failed', text: c.code === 'canceled' ? T.padStopped : describe(c) });
          },
          (e: unknown) => {
            if (isApiError(e)) pad({ type: 'failed', text: e.text });
            else throw e;
          },
        )
        .finally(() => {
          if (padAbort === abort) padAbort = null;
          if (token !== null) log.poke();
        });
    },
    padStop() {
      padAbort?.abort();
    },
    padKey(key) {
      if (state.pad.phase !== 'running') return;
      // Fire and forget: the count comes back as Keyboard.KeyEvent.
      client.command('Keyboard.TouchKey', { key }).catch(() => undefined);
    },
    login(operatorId, passphrase) {
      if (state.loginBusy) return;
      set({ loginBusy: true, loginError: null });
      client.command('Operator.Login', { operatorId, passphrase }).then(
        (c) => {
          const t = c.payload['token'];
          if (c.ok && typeof t === 'string') {
            token = t;
            set({ loginBusy: false, operator: typeof c.payload['operatorId'] === 'string' ? c.payload['operatorId'] : operatorId, logError: null });
            void readLog();
          } else set({ loginBusy: false, loginError: describe(c) });
        },
        (e: unknown) => {
          if (isApiError(e)) set({ loginBusy: false, loginError: e.text });
          else throw e;
        },
      );
    },
    logout() {
      const t = token;
      token = null;
      log.cancel();
      set({ operator: null, log: null, logError: null });
      if (t !== null) client.command('Operator.Logout', { token: t }).catch(() => undefined);
    },
    setMinLevel(level) {
      set({ logMinLevel: level });
      void readLog();
    },
    stop() {
      status.cancel();
      log.cancel();
      client.stop();
    },
  };
}
