/**
 * /kiosk: the holder alone at a touchscreen (docs/api.md; the page is the daemon's own origin).
 * Settings come from the address (config.ts: `shuffle`, `idle`, `countdown`).
 */
import { render } from 'preact';
import { htmlLang } from '../common/i18n.js';
import { startKiosk } from './controller.js';
import { configFromQuery } from './config.js';
import type { KioskState, Msg } from './flow.js';
import { Kiosk } from './screens.js';
import './kiosk.css';

const root = document.getElementById('app');
if (root === null) throw new Error('#app missing');

const config = configFromQuery(location.search);

let latest: KioskState | null = null;
// Set once the controller exists (it reports its first state while starting).
let dispatch: (m: Msg) => void = () => undefined;
const paint = (): void => {
  if (latest === null) return;
  document.documentElement.lang = htmlLang(latest.lang);
  render(<Kiosk state={latest} now={Date.now()} dispatch={(m) => dispatch(m)} />, root);
};
const controller = startKiosk({
  config,
  location,
  onChange(s) {
    latest = s;
    paint();
  },
});
dispatch = controller.dispatch;
paint();
// The countdown's seconds move without a state change.
setInterval(paint, 500);
