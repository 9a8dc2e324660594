/**
 * The counter's moving parts: one ApiClient (web/client/api-client.ts), the model's step function, a
 * clock. API answers become model messages; the model's effects become commands. The passphrase
 * goes from the form straight into the one `Operator.Login` frame (the form field is cleared before
 * the frame is sent) and is kept nowhere; the operator token stays bound to this page's connection
 * (docs/api.md "Operators": later privileged commands on it need no token), so the page never holds it.
 */
import { bi } from '../../core/text.js';
import { ApiClient, isApiError, type Completion, type SocketFactory } from '../client/api-client.js';
import { serviceUrl, type Payload } from '../client/messages.js';
import { initialState, isAuthLost, step, type CounterState, type Effect, type Msg } from './model.js';
import { idCardReportOf, operationsOf } from './wire.js';
import { catalogOf } from '../client/catalog.js';
import { KINDS, PROMPTS, serviceResultOf, SERVICE_COMMAND } from '../client/read.js';
import { startLoop } from '../common/loop.js';

/** How long a service may wait for the holder at most (the header timeout; the pad has its own). */
const SERVICE_TIMEOUT_MS = 5 * 60_000;
/** How long IdCard.Read waits for an ID card to be laid on the reader (docs/api.md "Counter": ≤ 60 s). */
const ID_CARD_WAIT_MS = 10_000;
const TICK_MS = 1000;

export interface CounterController {
  readonly dispatch: (m: Msg) => void;
  /** Send Operator.Login. The caller has already cleared the passphrase field. */
  readonly login: (operatorId: string, passphrase: string) => void;
  readonly stop: () => void;
}

export interface CounterOptions {
  readonly location: { readonly protocol: string; readonly host: string };
  readonly socket?: SocketFactory;
  readonly now?: () => number;
  readonly onChange: (s: CounterState) => void;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): x is string => typeof x === 'string';
const intOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : null);
const FAILED = bi('终端未能完成此操作，请稍后重试', 'the terminal could not do this; try again shortly');

/** A card or flow event (unsolicited, or a command's event) as a model message. */
export function msgOfEvent(name: string, p: Payload): Msg | null {
  switch (name) {
    case 'SSCard.CardIdentifiedEvent':
      if (!str(p['cardNumberMasked']) || !str(p['name']) || !str(p['cardState'])) return null;
      return { type: 'cardIdentified', name: p['name'], nameIsMasked: false, cardNumberMasked: p['cardNumberMasked'], triesLeft: intOrNull(p['triesLeft']), cardState: p['cardState'] };
    case 'SSCard.CardRemovedEvent':
      return { type: 'cardRemoved' };
    case 'SSCard.PinEntryStartedEvent': {
      const prompt = PROMPTS.find((x) => x === p['prompt']);
      return prompt === undefined ? null : { type: 'pinEntryStarted', prompt };
    }
    case 'SSCard.IdCardRequestedEvent':
      return p['whose'] === 'agent' || p['whose'] === 'holder' ? { type: 'idCardRequested', whose: p['whose'] } : { type: 'idCardRequested', whose: 'holder' };
    case 'SSCard.PinDigitsEvent': {
      const count = intOrNull(p['count']);
      return count === null ? null : { type: 'pinDigits', count };
    }
    default:
      return null;
  }
}

/** `Common.Status`'s card (masked by the daemon), or none. */
export function msgOfStatus(c: Completion): Msg | null {
  const ss = isObj(c.payload['sscard']) ? c.payload['sscard'] : null;
  const card = ss !== null && isObj(ss['card']) ? ss['card'] : null;
  if (!c.ok || card === null) return null;
  if (card['identified'] !== true || !str(card['cardNumberMasked']) || !str(card['nameMasked']) || !str(card['cardState'])) return card['present'] === false ? { type: 'cardRemoved' } : null;
  return { type: 'cardIdentified', name: card['nameMasked'], nameIsMasked: true, cardNumberMasked: card['cardNumberMasked'], triesLeft: intOrNull(card['triesLeft']), cardState: card['cardState'] };
}

export function startCounter(o: CounterOptions): CounterController {
  const now = o.now ?? Date.now;
  const client = new ApiClient({ url: serviceUrl(o.location), ...(o.socket === undefined ? {} : { socket: o.socket }) });
  // perform is defined below; the loop calls it only once messages flow.
  const loop = startLoop<CounterState, Msg, Effect>({ initial: initialState(), step, now, perform: (e) => perform(e), onChange: o.onChange });
  const dispatch = loop.dispatch;
  let service: AbortController | null = null;


  /**
   * A privileged command's answer: the session slid (success, or any answer past the operator check),
   * or it is gone (auth.*: back to the login form). Returns false when the session is gone.
   */
  const privileged = (c: Completion): boolean => {
    if (c.code === 'authorisationRequired' || isAuthLost(c.errorCode)) {
      dispatch({ type: 'authLost', errorCode: c.errorCode ?? 'auth.required' });
      return false;
    }
    dispatch({ type: 'privilegedOk' });
    return true;
  };

  const describe = (e: unknown) => (isApiError(e) ? e.text : FAILED);

  const refreshStatus = async (): Promise<void> => {
    try {
      const m = msgOfStatus(await client.command('Common.Status'));
      if (m !== null) dispatch(m);
    } catch (e) {
      if (!isApiError(e)) throw e;
    }
  };

  const perform = (e: Effect): void => {
    switch (e.type) {
      case 'logout':
        client.command('Operator.Logout').catch(() => undefined);
        return;
      case 'readIdCard':
        client.command('IdCard.Read', { waitMs: ID_CARD_WAIT_MS }, { timeoutMs: ID_CARD_WAIT_MS + 15_000 }).then(
          (c) => {
            if (!privileged(c)) return;
            const report = c.ok ? idCardReportOf(c.payload) : null;
            dispatch(report === null ? { type: 'idCardFailed', text: c.description ?? FAILED } : { type: 'idCardRead', report });
          },
          (err: unknown) => dispatch({ type: 'idCardFailed', text: describe(err) }),
        );
        return;
      case 'runService': {
        const ac = new AbortController();
        service = ac;
        client
          .command(SERVICE_COMMAND[e.kind], { ...(e.phones === undefined ? {} : { phones: [...e.phones] }), ...(e.agent === undefined ? {} : { agent: { basis: e.agent.basis, presented: [...e.agent.presented] } }) }, {
            timeoutMs: SERVICE_TIMEOUT_MS,
            signal: ac.signal,
            onEvent: (name, payload) => {
              const m = msgOfEvent(name, payload);
              if (m !== null) dispatch(m);
            },
          })
          .then(
            (c) => {
              if (!privileged(c)) return;
              const result = serviceResultOf(c.payload['result']);
              dispatch(result !== null ? { type: 'serviceResult', result } : { type: 'serviceFailed', text: c.description ?? FAILED });
            },
            (err: unknown) => dispatch({ type: 'serviceFailed', text: describe(err) }),
          )
          .finally(() => {
            if (service === ac) service = null;
          });
        return;
      }
      case 'cancelService':
        service?.abort();
        return;
      case 'loadOperations':
        client.command('SSCard.Operations', { since: e.since, limit: 200 }).then(
          (c) => {
            if (!privileged(c)) return;
            const rows = c.ok ? operationsOf(c.payload) : null;
            dispatch(rows === null ? { type: 'operationsFailed', text: c.description ?? FAILED } : { type: 'operations', rows });
          },
          (err: unknown) => dispatch({ type: 'operationsFailed', text: describe(err) }),
        );
        return;
      case 'refreshStatus':
        void refreshStatus();
        return;
    }
  };

  const refresh = async (): Promise<void> => {
    try {
      const caps = await client.command('Common.Capabilities');
      const ss = isObj(caps.payload['sscard']) ? caps.payload['sscard'] : null;
      if (caps.ok && ss !== null && str(ss['role'])) {
        const services = Array.isArray(ss['services']) ? KINDS.filter((k) => (ss['services'] as unknown[]).includes(k)) : [];
        dispatch({ type: 'capabilities', role: ss['role'], services, idReader: ss['idReader'] === true });
      }
      const cat = await client.command('SSCard.Catalog');
      const catalog = cat.ok ? catalogOf(cat.payload) : null;
      dispatch(catalog === null ? { type: 'catalog', catalog: null, ...(cat.description === null ? {} : { problem: cat.description }) } : { type: 'catalog', catalog });
      await refreshStatus();
    } catch (e) {
      // The connection went again; the next open refreshes.
      if (!isApiError(e)) throw e;
    }
  };

  const login = (operatorId: string, passphrase: string): void => {
    const state = loop.state();
    if (state.login.busy || state.operator !== null) return;
    dispatch({ type: 'loginSent' });
    client.command('Operator.Login', { operatorId, passphrase }).then(
      (c) => {
        const p = c.payload;
        if (c.ok && str(p['operatorId']) && typeof p['expiresAt'] === 'number') dispatch({ type: 'loginOk', operatorId: p['operatorId'], expiresAt: p['expiresAt'] });
        else dispatch({ type: 'loginFailed', text: c.description ?? FAILED });
      },
      (err: unknown) => dispatch({ type: 'loginFailed', text: describe(err) }),
    );
  };

  client.onState((s) => {
    if (s === 'open') {
      dispatch({ type: 'connection', open: true });
      void refresh();
    } else if (s === 'unavailable') {
      dispatch({ type: 'connection', open: false });
    }
  });
  client.onUnsolicited((name, payload) => {
    // A service's own flow events come as its command's events; unsolicited ones are the card's.
    if (name === 'SSCard.CardIdentifiedEvent' || name === 'SSCard.CardRemovedEvent') {
      const m = msgOfEvent(name, payload);
      if (m !== null) dispatch(m);
    }
  });
  const tick = setInterval(() => dispatch({ type: 'tick' }), TICK_MS);
  client.start();
  o.onChange(loop.state());

  return {
    dispatch,
    login,
    stop: () => {
      loop.stop();
      clearInterval(tick);
      client.stop();
    },
  };
}
