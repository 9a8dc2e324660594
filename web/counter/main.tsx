/**
 * /counter: a clerk with an operator account at a counter terminal (docs/api.md "Operators",
 * "Counter"; the page is the daemon's own origin). The holder types PINs on the terminal's PIN pad;
 * this screen offers no digit keypad.
 */
import { render } from 'preact';
import { htmlLang } from '../common/i18n.js';
import { startCounter } from './controller.js';
import type { CounterState, Msg } from './model.js';
import { Counter } from './view.js';
import './counter.css';

const root = document.getElementById('app');
if (root === null) throw new Error('#app missing');

let latest: CounterState | null = null;
// Set once the controller exists (it reports its first state while starting).
let dispatch: (m: Msg) => void = () => undefined;
let login: (operatorId: string, passphrase: string) => void = () => undefined;
const paint = (): void => {
  if (latest === null) return;
  document.documentElement.lang = htmlLang(latest.lang);
  render(<Counter state={latest} now={Date.now()} dispatch={(m) => dispatch(m)} onLogin={(id, p) => login(id, p)} />, root);
};
const controller = startCounter({
  location,
  onChange(s) {
    latest = s;
    paint();
  },
});
dispatch = controller.dispatch;
login = controller.login;
paint();
