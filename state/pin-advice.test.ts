/**
 * The advice after a PIN was set (state/pin-advice.ts), each piece against the seed line it comes
 * from (docs/service-items/), and which result carries which (state/results.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AFTER_CHANGE_ADVICE, AFTER_NEW_PIN_ADVICE, AFTER_RESET_ADVICE, PIN_RULES, UNCHECKED_CHANGE_NOTE } from './pin-advice.js';
import { results } from './results.js';

const seedLines = (file: string): string[] =>
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'service-items', file), 'utf8').split('\n');
const SEED_000 = seedLines('000_1700379f35991b5f.txt');
const SEED_001 = seedLines('001_bf9ce8a90a3e7ce5.txt');
/** Lines `from`–`to` (1-based) joined, without the layout's empty lines. */
const joined = (lines: string[], from: number, to: number): string => lines.slice(from - 1, to).join('').replace(/\s/g, '');

describe('where the advice comes from', () => {
  it('seed 001 line 85: the after-reset advice is the seed’s own words (修改或重置后 … 医院或药店测试密码)', () => {
    expect(SEED_001[84]).toContain(AFTER_RESET_ADVICE.zh);
    expect(SEED_001[84]).toContain('医院或药店测试密码');
  });

  it('seed 000 lines 325–327: 怀疑密码泄露时，要及时修改密码 — in the advice after a change, an unblock, an activation', () => {
    const faq = joined(SEED_000, 321, 327);
    expect(faq).toContain('怀疑密码泄露时，要及时修改密码');
    for (const a of [AFTER_CHANGE_ADVICE, AFTER_NEW_PIN_ADVICE]) expect(a.zh).toContain('怀疑密码泄露时，要及时修改密码');
  });

  it('seed 001 line 85 names 修改 too: after a change the holder may try the new PIN at a hospital or pharmacy', () => {
    expect(SEED_001[84]).toMatch(/修改或重置后/);
    expect(AFTER_CHANGE_ADVICE.zh).toContain('医院或药店测试新密码');
    expect(AFTER_NEW_PIN_ADVICE.zh).toContain('医院或药店测试新密码');
  });

  it('seed 000 lines 321–323: the PIN rules a secure change is told about name every rule of the seed', () => {
    const faq = joined(SEED_000, 321, 323);
    for (const rule of ['六位相同数字', '连续数字', '出生日期', '电话号码']) {
      expect(faq).toContain(rule);
      expect(PIN_RULES.zh).toContain(rule);
    }
    expect(UNCHECKED_CHANGE_NOTE.zh).toContain(PIN_RULES.zh);
    expect(UNCHECKED_CHANGE_NOTE.en).toContain(PIN_RULES.en);
  });
});

describe('which result says what', () => {
  it('change.ok: the change advice; checked by default', () => {
    const r = results.changeOk(6);
    expect(r).toMatchObject({ code: 'change.ok', policyChecked: true, triesLeft: 6 });
    expect(r.nextStep.zh).toBe(`请取回您的社保卡。${AFTER_CHANGE_ADVICE.zh}`);
    expect(r.nextStep.en).toBe(`Please take your card. ${AFTER_CHANGE_ADVICE.en}`);
    expect(r.zh).not.toContain(UNCHECKED_CHANGE_NOTE.zh);
  });

  it('change.ok after a secure change (PC/SC Part 10): policyChecked false, and the text says the PIN was not checked, with the rules', () => {
    const r = results.changeOk(6, false);
    expect(r).toMatchObject({ code: 'change.ok', outcome: 'ok', policyChecked: false });
    expect(r.zh).toBe(`密码修改成功。${UNCHECKED_CHANGE_NOTE.zh}`);
    expect(r.en).toMatch(/could not check it against the PIN rules \(the PIN is 6 digits and must not be six identical digits, consecutive digits, your date of birth or a phone number\)/);
  });

  it('reset.ok: the seed’s after-reset advice; unblock.ok and activate.ok: the new-PIN advice', () => {
    expect(results.resetOk(6).nextStep.zh).toBe(`请取回您的社保卡。${AFTER_RESET_ADVICE.zh}。`);
    expect(results.unblockOk(6).nextStep.zh).toBe(`请取回您的社保卡。${AFTER_NEW_PIN_ADVICE.zh}`);
    expect(results.activateOk(6, { zh: '', en: '', attempted: true }).nextStep.en).toBe(`Please take your card. ${AFTER_NEW_PIN_ADVICE.en}`);
    const bank = { zh: '请到银行网点激活银行账户。', en: 'Activate the bank account at a bank branch.', attempted: false };
    expect(results.activateOk(6, bank).nextStep.zh).toBe(`请取回您的社保卡。${AFTER_NEW_PIN_ADVICE.zh}${bank.zh}`);
    const notRecorded = results.bankNotRecorded(results.activateOk(6, { ...bank, attempted: true }));
    expect(notRecorded.nextStep.zh).toMatch(/^请取回您的社保卡。.*医院或药店.*另行提交银行/);
  });

  it('a refusal or a failure carries no PIN advice and no policyChecked', () => {
    for (const r of [results.pinMismatch('change'), results.identityMismatch('reset'), results.verifyOk(6)]) {
      expect(r.nextStep.zh).not.toContain('医院或药店');
      expect(r.policyChecked).toBeUndefined();
    }
  });
});
