/**
 * /status/: the technician page (web/README.md). It shows the terminal's own status report live
 * (docs/api.md `Common.Status` and the unsolicited events), tests the PIN pad, and — for a logged-in
 * operator — the daemon's recent log lines (`SSCard.RecentLog`).
 */
import { render } from 'preact';
import { htmlLang } from '../common/i18n.js';
import { startStatusPage, type PageState } from './controller.js';
import { StatusPage } from './view.js';
import './status.css';

const root = document.getElementById('app');
if (root === null) throw new Error('#app missing');

let latest: PageState | null = null;
let paint = (): void => undefined;
const ctl = startStatusPage({
  location,
  onChange(s) {
    latest = s;
    paint();
  },
});
paint = () => {
  if (latest === null) return;
  document.documentElement.lang = htmlLang(latest.lang);
  render(<StatusPage state={latest} ctl={ctl} />, root);
};
paint();
