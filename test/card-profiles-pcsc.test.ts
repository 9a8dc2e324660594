/**
 * Card-make profiles reach a real terminal (docs/card-conventions.md "Card-make profiles", docs/config.md
 * `cardProfiles`): `sscard daemon` at a counter over the real pcscd + vpcd with a card of a second
 * make (fixtures/cards/card-make-b.json: its diversification factor at the start of the 卡识别码,
 * INTERNAL AUTHENTICATE in the integrators' challenge form, docs/domain.md §4, the 3.0 RELOAD on a
 * 3DES card, a RELOAD that sets a blocked PIN; its PIN blocked). Configured with the make's profile
 * (chosen by the ATR), the daemon reads it, finds it genuine and resets its blocked PIN at the
 * window; with no profile (every setting at its default) the same card is not identified, and the
 * status says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../testing/api-test-client.js';
import { CounterDevices, operatorClient } from './helpers/counter-devices.js';
import { DaemonProcess } from './helpers/daemon.js';
import { requireStack } from './helpers/stack.js';

const PASSPHRASE = 'card-profiles-op';
const MAKE_B = { name: 'make-b', atr: '3B 6C 00 00 53 53 43 2D 4D 4B 42', factorOffset: 0, internalAuth: 'challenge', reload: 'ssse3', reloadOnBlockedPin: true };

let devices: CounterDevices | undefined;
let daemon: DaemonProcess | undefined;
const clients: TestClient[] = [];

function start(cardProfiles: unknown[]): Promise<DaemonProcess> {
  return DaemonProcess.start({
    config: devices!.counterConfig(PASSPHRASE, { terminalId: 'E2E-PROFILES-1', cardProfiles }),
  });
}

beforeAll(async () => {
  await requireStack();
  devices = await CounterDevices.open('card-make-b', 'id-card-2.0');
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await devices?.close();
});

describe('a second card make at a counter (pcscd + vpcd)', () => {
  it('with its profile: ReadBasic names the profile and the card is genuine; its blocked PIN is reset at the window with the make\'s 3.0 RELOAD', async () => {
    daemon = await start([{ name: 'other', atr: '3B 8F' }, MAKE_B]);
    await daemon.waitIdentified();
    const c = await operatorClient(daemon.port, PASSPHRASE);
    clients.push(c);
    const rb = await c.command('SSCard.ReadBasic', {}, {}, 15_000);
    expect(rb.completion.payload).toMatchObject({ cardProfile: 'make-b', authentic: true, cardState: 'pinBlocked', triesLeft: 0 });
    let entries = 0;
    const r = await c.command('SSCard.ResetPin', {}, { timeout: 60_000 }, 70_000, (m) => {
      if (m.header.name !== 'SSCard.PinEntryStartedEvent' || entries++ >= 2) return;
      void (async () => {
        for (const key of '864209') await c.command('Keyboard.TouchKey', { key });
      })();
    });
    expect((r.completion.payload as { result: { code: string; triesLeft: number } }).result).toMatchObject({ code: 'reset.ok', triesLeft: 6 });
    await daemon.stop();
    daemon = undefined;
  }, 120_000);

  it('without it (the defaults): the card is not identified — its INTERNAL AUTHENTICATE takes no random block', async () => {
    daemon = await start([]);
    // The identification fails once and is logged; the card stays in, unidentified.
    const end = Date.now() + 20_000;
    while (!/card\.unreadable/.test(daemon.stderr) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(daemon.stderr).toMatch(/card\.unreadable/);
    const card = ((await (await daemon.fetch('/status')).json()) as { card?: { present?: boolean; identified?: boolean } }).card;
    expect(card).toMatchObject({ present: true, identified: false });
  }, 60_000);
});
