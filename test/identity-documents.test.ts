/**
 * The identity documents of the holders seed 000_1700379f35991b5f.txt 申请条件 一 names (line 222;
 * 001_bf9ce8a90a3e7ce5.txt line 46): 「在我省居住的中国公民，以及在我省就业或参保的港澳台居民、华侨和外国人」.
 * End to end: `sscard daemon` at a counter over the real pcscd + vpcd with the card of a Hong Kong
 * resident (fixtures/cards/card-hk-resident.json, its 社会保障号码 the number of her 港澳台居民居住证),
 * the ID card reader simulated on a real pty with her residence permit or another document on it
 * (fixtures/idcards/, drivers/idcard/info.ts reads each layout), and a PIN reset — the service whose
 * 收件 reads the identity document (seed 000 FAQ line 353: 须持本人社保卡、身份证).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import type { CommandResult, TestClient } from '../testing/api-test-client.js';
import { DaemonProcess } from './helpers/daemon.js';
import { CounterDevices, operatorClient } from './helpers/counter-devices.js';
import { requireStack } from './helpers/stack.js';

const PASSPHRASE = 'identity-documents-op';

let daemon: DaemonProcess;
let devices: CounterDevices | undefined;
const clients: TestClient[] = [];

async function operator(): Promise<TestClient> {
  const c = await operatorClient(daemon.port, PASSPHRASE);
  clients.push(c);
  return c;
}

/** A PIN reset, typing the new PIN twice on the touchscreen pad when asked. */
function reset(c: TestClient, pin: string): Promise<CommandResult> {
  let entries = 0;
  return c.command('SSCard.ResetPin', {}, { timeout: 60_000 }, 70_000, (m) => {
    if (m.header.name !== 'SSCard.PinEntryStartedEvent' || entries++ >= 2) return;
    void (async () => {
      for (const key of pin) await c.command('Keyboard.TouchKey', { key });
    })();
  });
}

function resultOf(o: CommandResult): { code: string; outcome: string } {
  const r = (o.completion.payload as { result?: { code: string; outcome: string } } | undefined)?.result;
  if (r === undefined) throw new Error(`no result in ${JSON.stringify(o.completion)}`);
  return r;
}

beforeAll(async () => {
  await requireStack();
  devices = await CounterDevices.open('card-hk-resident', 'id-permit-hk');
  daemon = await DaemonProcess.start({
    config: devices.counterConfig(PASSPHRASE, { terminalId: 'E2E-DOCS-1' }),
  });
  await daemon.waitIdentified();
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await devices?.close();
});

describe('identity documents other than the resident ID card, at a counter (pcscd + vpcd, ID reader on a pty)', () => {
  it('IdCard.Read names the residence permit and matches it with the Hong Kong resident’s card', async () => {
    const c = await operator();
    const r = await c.command('IdCard.Read', {}, {}, 15_000);
    expect(r.completion.header.completionCode).toBe('success');
    expect(r.completion.payload).toMatchObject({ read: true, matchesCard: true, idCard: { documentType: 'residencePermit', nameMasked: '陈**', idNumberMasked: '810000********0021' } });
    expect(JSON.stringify(r.completion.payload)).not.toContain('810000199408230021');
  });

  it('ResetPin with her 港澳台居民居住证 on the reader: the document is read, its number matches the card’s 社会保障号码, the PIN is reset', async () => {
    const c = await operator();
    expect(resultOf(await reset(c, '864209'))).toMatchObject({ code: 'reset.ok', outcome: 'ok' });
  });

  it.each([
    ['a foreigner’s permanent residence card (2017 edition)', 'id-foreign-2017'],
    ['a foreigner’s permanent residence card (2023 edition)', 'id-foreign-2023'],
    ['a resident ID card of someone else', 'id-mismatch-other'],
  ])('ResetPin with %s on the reader: read, another number, identity.mismatch before any PIN is asked', async (_what, fixture) => {
    devices!.idSim.place(loadIdCardFixture(fixture));
    const c = await operator();
    let asked = false;
    const r = await c.command('SSCard.ResetPin', {}, { timeout: 60_000 }, 70_000, (m) => {
      if (m.header.name === 'SSCard.PinEntryStartedEvent') asked = true;
    });
    expect(resultOf(r)).toMatchObject({ code: 'identity.mismatch', outcome: 'refused' });
    expect(asked).toBe(false);
  });
});
