/**
 * Someone applying for the holder (state/agents.ts), end to end: `sscard daemon` at a counter over
 * the real pcscd + vpcd with a never-activated card (fixtures/cards/card-not-activated.json), the
 * ID card reader simulated on a real pty, and a hall catalog whose activation item lists an
 * attorney's materials (fixtures/catalog/README.md "Agents"). The seeds list none (seed 000
 * 申请材料 lines 244–264; FAQ lines 333–337 allow an agent for 补换卡 only): a hall's own item must.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIdCardFixture } from '../drivers/sim/idcard-fixtures.js';
import type { CommandResult, TestClient } from '../testing/api-test-client.js';
import { hallCatalogJson } from '../testing/hall-catalog.js';
import { CounterDevices, operatorClient } from './helpers/counter-devices.js';
import { DaemonProcess } from './helpers/daemon.js';
import { requireStack } from './helpers/stack.js';

const PASSPHRASE = 'agents-e2e-op';
const AGENT_NUMBER = '410105199001010011'; // fixtures/idcards/id-mismatch-other.json (张伟): someone else, here the attorney

let daemon: DaemonProcess;
let devices: CounterDevices | undefined;
const clients: TestClient[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-agents-'));

async function operator(): Promise<TestClient> {
  const c = await operatorClient(daemon.port, PASSPHRASE);
  clients.push(c);
  return c;
}

interface Seen {
  events: { name: string; payload: unknown }[];
}

/** SSCard.Activate with `payload`; places `agentDocument` when the agent's document is asked for; types `pin` twice. */
function activate(c: TestClient, payload: Record<string, unknown>, agentDocument: string | undefined, pin: string, seen: Seen): Promise<CommandResult> {
  let entries = 0;
  return c.command('SSCard.Activate', payload, { timeout: 90_000 }, 100_000, (m) => {
    seen.events.push({ name: m.header.name ?? '', payload: m.payload });
    if (m.header.name === 'SSCard.IdCardRequestedEvent' && (m.payload as { whose?: string }).whose === 'agent' && agentDocument !== undefined) {
      // The clerk takes the holder's card off the reader and lays the agent's on it.
      devices!.idSim.place(loadIdCardFixture(agentDocument));
    }
    if (m.header.name !== 'SSCard.PinEntryStartedEvent' || entries++ >= 2) return;
    void (async () => {
      for (const key of pin) await c.command('Keyboard.TouchKey', { key });
    })();
  });
}

function resultOf(o: CommandResult): { code: string; outcome: string; zh: string; missing?: string[]; operationId?: string } {
  const r = (o.completion.payload as { result?: { code: string; outcome: string; zh: string } } | undefined)?.result;
  if (r === undefined) throw new Error(`no result in ${JSON.stringify(o.completion)}`);
  return r;
}

beforeAll(async () => {
  await requireStack();
  const catalog = hallCatalogJson();
  (catalog.items[0] as Record<string, unknown>)['agents'] = [
    { basis: 'powerOfAttorney', kinds: ['activate'], materials: ['socialSecurityCard', 'residentIdCard', 'agentIdCard', 'powerOfAttorney'] },
  ];
  writeFileSync(path.join(dir, 'hall.json'), JSON.stringify(catalog));
  devices = await CounterDevices.open('card-not-activated', 'id-card-not-activated');
  daemon = await DaemonProcess.start(
    {
      config: devices.counterConfig(PASSPHRASE, { terminalId: 'E2E-AGENTS-1', catalog: 'hall.json', session: { inactivityMs: 20_000, pinEntryMs: 30_000 } }),
    },
    dir,
  );
  await daemon.waitIdentified();
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await devices?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an agent at a counter (pcscd + vpcd, ID reader on a pty)', () => {
  it('SSCard.Catalog tells the counter who may apply for the holder and with what: the hall\'s rule for activation, none for the PIN services', async () => {
    const c = await operator();
    const r = await c.command('SSCard.Catalog', {});
    const services = (r.completion.payload as { services: { kind: string; agents: { basis: string; materials: { material: string }[] }[] }[] }).services;
    const activate = services.find((s) => s.kind === 'activate')!.agents;
    expect(activate.map((a) => [a.basis, a.materials.map((m) => m.material)])).toEqual([['powerOfAttorney', ['socialSecurityCard', 'residentIdCard', 'agentIdCard', 'powerOfAttorney']]]);
    for (const kind of ['reset', 'unblock', 'change']) expect(services.find((s) => s.kind === kind)?.agents ?? [], kind).toEqual([]);
  });

  it('a guardian for an adult holder, and an agent the hall does not list: agent.notAllowed before any document or PIN', async () => {
    const c = await operator();
    const seen: Seen = { events: [] };
    const r = resultOf(await activate(c, { agent: { basis: 'guardianship', presented: ['householdRegister'] } }, undefined, '', seen));
    expect(r).toMatchObject({ code: 'agent.notAllowed', outcome: 'refused' });
    expect(r.zh).toContain('不能由监护人代办（未成年人）办理');
    expect(seen.events.some((e) => e.name === 'SSCard.IdCardRequestedEvent' || e.name === 'SSCard.PinEntryStartedEvent')).toBe(false);
  });

  it('an attorney without the power of attorney: materials.missing naming it, the card still not activated', async () => {
    const c = await operator();
    const seen: Seen = { events: [] };
    const r = resultOf(await activate(c, { agent: { basis: 'powerOfAttorney' } }, 'id-mismatch-other', '', seen));
    expect(r).toMatchObject({ code: 'materials.missing', missing: ['powerOfAttorney'] });
    expect(r.zh).toContain('授权委托书');
    devices!.idSim.place(loadIdCardFixture('id-card-not-activated'));
  });

  it('an attorney with the power of attorney: the holder\'s ID card, then the attorney\'s; activated; the journal names the agent masked', async () => {
    const c = await operator();
    const seen: Seen = { events: [] };
    const r = resultOf(await activate(c, { agent: { basis: 'powerOfAttorney', presented: ['powerOfAttorney'] } }, 'id-mismatch-other', '246801', seen));
    expect(r).toMatchObject({ code: 'activate.ok', outcome: 'ok' });
    const reads = seen.events.filter((e) => e.name === 'SSCard.IdCardReadEvent').map((e) => e.payload);
    expect(reads).toEqual([
      { whose: 'holder', read: true, matches: true, expired: false },
      { whose: 'agent', read: true, matches: false, expired: false },
    ]);
    expect(JSON.stringify(seen.events)).not.toContain(AGENT_NUMBER);
    const ops = await c.command('SSCard.Operations', { limit: 5 });
    const row = (ops.completion.payload as { operations: { id: string; agent: unknown; outcome: string }[] }).operations.find((o) => o.id === r.operationId);
    expect(row).toMatchObject({ outcome: 'ok', agent: { basis: 'powerOfAttorney', idNumberMasked: '410105********0011' } });
    expect(JSON.stringify(ops.completion.payload)).not.toContain(AGENT_NUMBER);
  });
});
