/**
 * Someone applying for the holder (state/agents.ts) through the session machine over the
 * simulator. The seeds allow it for neither of their services — seed 000 申请材料 (lines 244–264)
 * and FAQ (lines 333–337: an agent only for 补换卡; lines 347–353: PIN reset and unblock with
 * 本人社保卡、身份证), seed 001 申请材料 (lines 59–60) — so the shipped catalog refuses an agent; a
 * hall whose catalog lists agent materials gets the agent's flow, at a counter only.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, SsCardError } from '../core/errors.js';
import { hallCatalogJson, shippedCatalogJson } from '../testing/hall-catalog.js';
import { openTestJournal, tempJournalDir } from '../testing/journal.js';
import { fakeIdCardInfo, sequenceIdReader } from '../testing/services-rig.js';
import { run, setup, stopRigs } from '../testing/session-setup.js';
import { parseCatalog } from './catalog.js';
import type { AgentRequest } from './agents.js';
import type { SessionConfig } from './session.js';

afterEach(() => stopRigs());

const HOLDER = '410102200111230054'; // fixtures/cards/card-not-activated.json's holder
const HOLDER_2 = '411082198503120038'; // fixtures/cards/card-2.0.json's
const AGENT = '410402199001010013';
const TODAY = new Date(2026, 11, 2, 10, 0, 0);

/** The test hall's catalog, its activation item allowing an attorney and a guardian, its PIN item a guardian for reset. */
function agentCatalog() {
  const c = hallCatalogJson();
  const [act, pin] = c.items as [Record<string, unknown>, Record<string, unknown>];
  act['agents'] = [
    { basis: 'powerOfAttorney', kinds: ['activate'], materials: ['socialSecurityCard', 'residentIdCard', 'agentIdCard', 'powerOfAttorney'] },
    { basis: 'guardianship', kinds: ['activate'], materials: ['socialSecurityCard', 'householdRegister', 'agentIdCard'] },
  ];
  pin['agents'] = [{ basis: 'guardianship', kinds: ['reset'], materials: ['socialSecurityCard', 'householdRegister', 'agentIdCard'] }];
  return parseCatalog(c);
}

const counter = (catalog = agentCatalog()): SessionConfig => ({ role: 'counter', catalog, now: () => TODAY });
const ATTORNEY: AgentRequest = { basis: 'powerOfAttorney', presented: ['powerOfAttorney'] };
const GUARDIAN: AgentRequest = { basis: 'guardianship', presented: ['householdRegister'] };
const MINOR = { holder: { socialSecurityNumber: HOLDER_2, name: '王小明', gender: '1', nation: '01', birthPlace: '411082', birthDate: '2015-06-01' } };

function journalInTemp() {
  const dir = tempJournalDir();
  const journal = openTestJournal(dir, () => Date.now());
  return { journal, close: () => { journal.close(); rmSync(dir, { recursive: true, force: true }); } };
}

describe('an agent with the shipped catalog (the seeds): refused, saying why and where', () => {
  it('activation by an attorney at a counter: agent.notAllowed, the hall\'s window named, nothing read or sent (seed 000 lines 244–264, 333–337)', async () => {
    const { rig, vcard, commands } = await setup({ profile: 'card-not-activated', config: counter(parseCatalog(shippedCatalogJson())), operatorId: 'op-1', idNumber: 'holder' });
    const r = await run(rig, 'activate', [], { agent: ATTORNEY });
    expect(r).toMatchObject({ code: 'agent.notAllowed', outcome: 'refused' });
    expect(r.zh).toContain('本厅服务目录未列此业务的代办材料');
    expect(r.en).toContain('lists no materials for an attorney');
    expect(r.where?.office).toBeTruthy();
    expect(rig.emitted.some((e) => e.type === 'idCard.requested' || e.type === 'pin.entryStarted')).toBe(false);
    expect(vcard.cardState).toBe('notActivated');
    expect(commands.some((c) => c[1] === 0x24 || c[1] === 0x5e || c[1] === 0x18)).toBe(false);
  });

  it('PIN reset and unblock by an agent: refused, 须持本人社保卡、身份证 (seed 000 FAQ lines 347–353)', async () => {
    for (const kind of ['reset', 'unblock'] as const) {
      const { rig } = await setup({ profile: kind === 'reset' ? 'card-2.0' : 'card-locked', config: counter(parseCatalog(shippedCatalogJson())), operatorId: 'op-1', idNumber: 'holder' });
      const r = await run(rig, kind, [], { agent: GUARDIAN });
      expect(r.code, kind).toBe('agent.notAllowed');
      expect(r.zh).toContain('请持卡人本人携带社保卡和本人身份证件办理');
    }
  });
});

describe('an agent where the hall\'s catalog lists agent materials', () => {
  it('never at a kiosk, whatever the catalog: a kiosk cannot see a paper or a person', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'kiosk', offered: ['verify', 'change', 'reset'], catalog: agentCatalog(), now: () => TODAY }, idNumber: 'holder' });
    const r = await run(rig, 'reset', [], { agent: GUARDIAN });
    expect(r.code).toBe('agent.notAllowed');
    expect(r.zh).toContain('自助终端不能代办');
  });

  it('an attorney activates: the holder\'s ID, then the agent\'s; the journal keeps the agent encrypted and masked', async () => {
    const j = journalInTemp();
    try {
      const idReader = sequenceIdReader([fakeIdCardInfo(HOLDER), fakeIdCardInfo(AGENT, '2035-01-01', '赵代办')]);
      const { rig, vcard } = await setup({ profile: 'card-not-activated', config: counter(), operatorId: 'op-1', idReader, journal: j.journal });
      const r = await run(rig, 'activate', ['802461', '802461'], { agent: ATTORNEY });
      expect(r.code).toBe('activate.ok');
      expect(vcard.cardState).toBe('active');
      expect(rig.emitted.filter((e) => e.type === 'idCard.requested')).toEqual([
        { type: 'idCard.requested', whose: 'holder' },
        { type: 'idCard.requested', whose: 'agent' },
      ]);
      expect(rig.emitted.filter((e) => e.type === 'idCard.read')).toEqual([
        { type: 'idCard.read', whose: 'holder', read: true, matches: true, expired: false },
        { type: 'idCard.read', whose: 'agent', read: true, matches: false, expired: false },
      ]);
      // Never the agent's number or name in an event or a result.
      const seen = JSON.stringify({ emitted: rig.emitted, r });
      expect(seen).not.toContain(AGENT);
      expect(seen).not.toContain('赵代办');
      const row = j.journal.get(r.operationId!);
      expect(row.materials).toEqual(['socialSecurityCard', 'powerOfAttorney', 'residentIdCard', 'agentIdCard']);
      expect(row.agent).toEqual({ basis: 'powerOfAttorney', idNumber: '410402********0013', name: '赵**' });
      expect(j.journal.revealAgent(r.operationId!)).toEqual({ basis: 'powerOfAttorney', idNumber: AGENT, name: '赵代办' });
    } finally {
      j.close();
    }
  });

  it('an attorney without the power of attorney and without the holder\'s ID: every missing material at once (seed 001 line 75, 一次性告知), the refusal journaled with the agent', async () => {
    const j = journalInTemp();
    try {
      const idReader = sequenceIdReader([new SsCardError(ErrorCode.IdCard_Timeout, { zh: '超时', en: 'timeout' }), fakeIdCardInfo(AGENT, '长期', '赵代办')]);
      const { rig } = await setup({ profile: 'card-not-activated', config: counter(), operatorId: 'op-1', idReader, journal: j.journal });
      const r = await run(rig, 'activate', [], { agent: { basis: 'powerOfAttorney', presented: [] } });
      expect(r).toMatchObject({ code: 'materials.missing', missing: ['residentIdCard', 'powerOfAttorney'] });
      expect(r.zh).toContain('授权委托书');
      expect(r.zh).toContain('居民身份证');
      const rows = j.journal.list({});
      expect(rows.at(-1)).toMatchObject({ outcome: 'refused', reason: 'materials-missing', missing: ['residentIdCard', 'powerOfAttorney'], agent: { basis: 'powerOfAttorney' } });
      // The refusal is a 办件 too: its row id is on the result, for a receipt.
      expect(r.operationId).toBe(rows.at(-1)!.id);
    } finally {
      j.close();
    }
  });

  it('the holder\'s document still on the reader when the agent\'s is asked for: the terminal waits for another (drivers/idcard: a card lying there is read again)', async () => {
    const idReader = sequenceIdReader([fakeIdCardInfo(HOLDER), fakeIdCardInfo(HOLDER), fakeIdCardInfo(HOLDER), fakeIdCardInfo(AGENT)]);
    const { rig } = await setup({ profile: 'card-not-activated', config: counter(), operatorId: 'op-1', idReader });
    const r = await run(rig, 'activate', ['802461', '802461'], { agent: ATTORNEY });
    expect(r.code).toBe('activate.ok');
    expect(rig.emitted.filter((e) => e.type === 'idCard.read').map((e) => e.type === 'idCard.read' && [e.whose, e.matches])).toEqual([['holder', true], ['agent', false]]);
  });

  it('a guardian\'s "own" document that is the holder\'s: agent.isHolder, nothing sent', async () => {
    const idReader = sequenceIdReader([fakeIdCardInfo(HOLDER_2)]);
    const { rig, vcard } = await setup({ profile: 'card-2.0', change: MINOR, config: counter(), operatorId: 'op-1', idReader });
    const r = await run(rig, 'reset', [], { agent: GUARDIAN });
    expect(r.code).toBe('agent.isHolder');
    expect(vcard.toProfile().pin.toString()).toBe('123456');
  });

  it('the agent\'s document expired: identity.expired naming the agent\'s document (受理标准 材料真实有效, seed 000 lines 278–280)', async () => {
    const idReader = sequenceIdReader([fakeIdCardInfo(HOLDER), fakeIdCardInfo(AGENT, '2026-12-01')]);
    const { rig } = await setup({ profile: 'card-not-activated', config: counter(), operatorId: 'op-1', idReader });
    const r = await run(rig, 'activate', [], { agent: ATTORNEY });
    expect(r).toMatchObject({ code: 'identity.expired', missing: ['agentIdCard'] });
    expect(r.zh).toContain('代办人的证件');
    expect(rig.emitted.filter((e) => e.type === 'idCard.read').at(-1)).toMatchObject({ whose: 'agent', expired: true });
  });

  it('a guardian resets a minor\'s PIN with the household register: no ID card of the holder needed', async () => {
    const idReader = sequenceIdReader([fakeIdCardInfo(AGENT, '长期', '王监护')]);
    const { rig, vcard } = await setup({ profile: 'card-2.0', change: MINOR, config: counter(), operatorId: 'op-1', idReader });
    const r = await run(rig, 'reset', ['802461', '802461'], { agent: GUARDIAN });
    expect(r.code).toBe('reset.ok');
    expect(vcard.toProfile().pin.toString()).toBe('802461');
    expect(rig.emitted.filter((e) => e.type === 'idCard.requested')).toEqual([{ type: 'idCard.requested', whose: 'agent' }]);
  });

  it('a guardian for an adult holder: agent.notAllowed (民法典 第十七条: 18 and over is an adult)', async () => {
    const { rig } = await setup({ profile: 'card-2.0', config: counter(), operatorId: 'op-1', idReader: sequenceIdReader([fakeIdCardInfo(AGENT)]) });
    const r = await run(rig, 'reset', [], { agent: GUARDIAN });
    expect(r.code).toBe('agent.notAllowed');
    expect(r.zh).toContain('已满 18 周岁');
  });

  it('an agent for a service the hall did not list (change by a guardian): refused', async () => {
    const { rig } = await setup({ profile: 'card-2.0', change: MINOR, config: counter(), operatorId: 'op-1', idReader: sequenceIdReader([fakeIdCardInfo(AGENT)]) });
    const r = await run(rig, 'change', [], { agent: GUARDIAN });
    expect(r.code).toBe('agent.notAllowed');
  });
});

describe('what the ID reader could not read is said as it is', () => {
  it('a document of a kind the terminal cannot check: identity.unsupported, not "materials missing"', async () => {
    const idReader = sequenceIdReader([new SsCardError(ErrorCode.IdCard_UnsupportedDocument, { zh: '不支持的证件', en: 'unsupported document' })]);
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'counter', now: () => TODAY }, operatorId: 'op-1', idReader });
    const r = await run(rig, 'reset', []);
    expect(r).toMatchObject({ code: 'identity.unsupported', outcome: 'refused' });
    expect(r.nextStep.zh).toContain('港澳台居民居住证');
    expect(rig.emitted.filter((e) => e.type === 'idCard.read')).toEqual([{ type: 'idCard.read', whose: 'holder', read: false, matches: null, expired: null, reason: 'unsupported' }]);
  });

  it('a failed reader: idReader.fault, the holder told to ask the staff', async () => {
    const idReader = sequenceIdReader([new SsCardError(ErrorCode.IdCard_Disconnected, { zh: '断开', en: 'disconnected' })]);
    const { rig } = await setup({ profile: 'card-2.0', config: { role: 'counter', now: () => TODAY }, operatorId: 'op-1', idReader });
    const r = await run(rig, 'reset', []);
    expect(r).toMatchObject({ code: 'idReader.fault', outcome: 'refused' });
    expect(r.nextStep.zh).toContain('工作人员');
  });
});
