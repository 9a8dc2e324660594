/**
 * The words of a card activation's bank-account part (seed 000, docs/service-items/
 * 000_1700379f35991b5f.txt lines 60–66: 非金融窗口无法办理银行账户激活；金融窗口可以办理银行账户激活),
 * by what really happened: at a financial window the request is recorded and goes to the bank via
 * the provincial platform (queued) — never "submitted to the bank"; when it could not be recorded,
 * the operator submits it by hand; at any other window the holder is sent to a financial window.
 */
import { describe, expect, it } from 'vitest';
import { results } from './results.js';
import { bankAccountActivation } from './roles.js';

const activated = (role: 'financial-counter' | 'counter' | 'kiosk') => results.activateOk(6, bankAccountActivation(role));

describe('activation result: the bank account (seed 000_1700379f35991b5f.txt lines 60–66)', () => {
  it('financial window, request recorded (line 64–66 金融窗口可以办理银行账户激活): recorded, to the bank via the platform, queued — not submitted', () => {
    const r = results.bankRecorded(activated('financial-counter'));
    expect(r).toMatchObject({ code: 'activate.ok', outcome: 'ok', triesLeft: 6, bank: { attempted: true, recorded: true } });
    expect(r.bank!.zh).toBe('金融窗口可以办理银行账户激活：银行账户激活申请已登记，将经省级平台转送银行办理（排队发送中）。');
    expect(r.bank!.en).toBe('A financial window can activate the bank account: the bank-account activation request is recorded and will be sent to the bank via the provincial platform (queued).');
    for (const t of [r.bank!.zh, r.bank!.en, r.zh, r.en, r.nextStep.zh, r.nextStep.en]) expect(t).not.toMatch(/已.*提交银行|已发送|has been sent|submitted to the bank/);
    expect(r.nextStep).toEqual(activated('financial-counter').nextStep);
  });

  it('financial window, request not recorded: the existing bankNotRecorded text — the operator submits it to the bank', () => {
    const r = results.bankNotRecorded(activated('financial-counter'));
    expect(r.bank).toMatchObject({ attempted: true, recorded: false });
    expect(r.bank!.zh).toBe('银行账户激活申请未能登记，请经办人员另行提交银行办理。');
    expect(r.nextStep.en).toContain('the operator must submit it to the bank separately');
  });

  it.each(['counter', 'kiosk'] as const)('%s (line 60–62 非金融窗口无法办理银行账户激活): not attempted, the holder goes to a financial window', (role) => {
    const r = activated(role);
    expect(r.bank).toMatchObject({ attempted: false });
    expect(r.bank!.recorded).toBeUndefined();
    expect(r.bank!.zh).toMatch(/^非金融窗口无法办理银行账户激活.*到金融窗口/);
    expect(r.nextStep.zh).toContain('非金融窗口无法办理银行账户激活');
    expect(r.nextStep.en).toContain('take your social security card and resident ID card to a financial window');
  });

  it('before the request is recorded, a financial window’s text claims nothing happened at the bank', () => {
    const b = bankAccountActivation('financial-counter');
    expect(b.zh).not.toMatch(/已.*提交|已登记/);
    expect(b.en).not.toMatch(/sent|submitted|recorded/);
  });
});
