/**
 * The kiosk's moving parts: one ApiClient, the flow's step function, a clock. API messages and the
 * holder's touches become flow messages (api-map.ts); the flow's effects become commands. The page
 * renders whatever state comes out. The PIN never passes here: a touched key goes straight into one
 * `Keyboard.TouchKey` frame (docs/api.md "Keyboard").
 */
import { ApiClient, isApiError, type SocketFactory } from '../client/api-client.js';
import { serviceUrl } from '../client/messages.js';
import { cardOfStatus, msgOfCapabilities, msgOfCatalog, msgOfEvent, msgOfServiceCompletion, msgOfServiceError, msgOfStatus } from './api-map.js';
import { SERVICE_COMMAND } from '../client/read.js';
import { initialState, step, type Effect, type KioskConfig, type KioskState, type Msg } from './flow.js';
import { startLoop } from '../common/loop.js';

/** How long a service may wait for the holder at most (the header timeout; the pad has its own). */
const SERVICE_TIMEOUT_MS = 5 * 60_000;

export interface KioskController {
  readonly dispatch: (m: Msg) => void;
  readonly stop: () => void;
}

export interface KioskOptions {
  readonly config: KioskConfig;
  readonly location: { readonly protocol: string; readonly host: string };
  readonly socket?: SocketFactory;
  readonly now?: () => number;
  readonly onChange: (s: KioskState) => void;
}

export function startKiosk(o: KioskOptions): KioskController {
  const now = o.now ?? Date.now;
  const client = new ApiClient({ url: serviceUrl(o.location), ...(o.socket === undefined ? {} : { socket: o.socket }) });
  // perform is defined below; the loop calls it only once messages flow.
  const loop = startLoop<KioskState, Msg, Effect>({ initial: initialState(o.config), step, now, perform: (e) => perform(e), onChange: o.onChange });
  const dispatch = loop.dispatch;

  const perform = (e: Effect): void => {
    switch (e.type) {
      case 'runService':
        client
          .command(SERVICE_COMMAND[e.kind], {}, {
            timeoutMs: SERVICE_TIMEOUT_MS,
            onEvent: (name, payload) => {
              const m = msgOfEvent(name, payload);
              if (m !== null) dispatch(m);
            },
          })
          .then(
            (c) => dispatch(msgOfServiceCompletion(c)),
            (err: unknown) => {
              if (isApiError(err)) dispatch(msgOfServiceError(err));
              else throw err;
            },
          );
        return;
      case 'touchKey':
        // Fire and forget: the count comes back as SSCard.PinDigitsEvent.
        client.command('Keyboard.TouchKey', { key: e.key }).catch(() => undefined);
        return;
      case 'endSession':
        client.command('SSCard.End').catch(() => undefined);
        return;
    }
  };

  const refresh = async (): Promise<void> => {
    try {
      const caps = msgOfCapabilities(await client.command('Common.Capabilities'));
      if (caps !== null) dispatch(caps);
      const catalog = msgOfCatalog(await client.command('SSCard.Catalog'));
      if (catalog !== null) dispatch(catalog);
      const status = await client.command('Common.Status');
      dispatch(msgOfStatus(status));
      const card = cardOfStatus(status);
      if (card !== null) dispatch(card);
    } catch (e) {
      // The connection went again; the next open refreshes.
      if (!isApiError(e)) throw e;
    }
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
    const m = msgOfEvent(name, payload);
    if (m !== null) dispatch(m);
  });
  const tick = setInterval(() => dispatch({ type: 'tick' }), 250);
  client.start();
  o.onChange(loop.state());

  return {
    dispatch,
    stop: () => {
      loop.stop();
      clearInterval(tick);
      client.stop();
    },
  };
}

