/**
 * `sscard read`: identify the card (SsseCard.identify): select SSSE, read EF05/EF06, with the PSAM
 * when one is present (external authentication for EF06 on 3.0 cards, internal authentication to
 * tell a genuine card), then the PIN's tries left and the card's state (state/card-state.ts).
 */
import { GENDER_NAMES, NATION_NAMES } from '../apdu/records.js';
import { SsseCard, type CardIdentity } from '../drivers/card/ssse-card.js';
import type { CardState } from '../state/card-state.js';
import type { PcscChannel } from '../drivers/pcsc/channel.js';
import { Psam } from '../drivers/psam/psam.js';
import type { Command } from 'commander';
import { action, chooseCardReader, choosePsamReader, openService } from './cli-util.js';

/** The stable JSON shape of `sscard read --json` (field names are an interface: do not rename). */
export interface ReadReport {
  reader: string;
  psamReader: string | null;
  cardId: string;
  regionCode: string;
  cardNumber: string;
  cardType: string;
  specVersion: string;
  initOrgCode: string;
  issueDate: string;
  expiryDate: string;
  socialSecurityNumber: string;
  name: string;
  gender: string;
  nation: string;
  birthPlace: string;
  birthDate: string;
  algorithm: string;
  activated: boolean;
  authentic: boolean | null;
  /** PIN tries left, when the card says (null: not activated, application locked). */
  triesLeft: number | null;
  /** active | notActivated | appLocked | pinBlocked (state/card-state.ts). */
  cardState: CardState;
}

export function toReport(b: CardIdentity, reader: string, psamReader: string | null): ReadReport {
  return {
    reader,
    psamReader,
    cardId: b.issuer.cardId,
    regionCode: b.issuer.regionCode,
    cardNumber: b.issuer.cardNumber,
    cardType: b.issuer.cardType,
    specVersion: b.issuer.specVersion,
    initOrgCode: b.issuer.initOrgCode,
    issueDate: b.issuer.issueDate,
    expiryDate: b.issuer.expiryDate,
    socialSecurityNumber: b.holder.socialSecurityNumber,
    name: b.holder.name,
    gender: b.holder.gender,
    nation: b.holder.nation,
    birthPlace: b.holder.birthPlace,
    birthDate: b.holder.birthDate,
    algorithm: b.algorithm,
    activated: b.activated,
    authentic: b.authentic ?? null,
    triesLeft: b.triesLeft ?? null,
    cardState: b.cardState,
  };
}

export async function readCommand(opts: { reader?: string; psamReader?: string; json?: boolean }): Promise<number> {
  const service = await openService();
  const channels: PcscChannel[] = [];
  try {
    const reader = chooseCardReader(service, opts.reader);
    await service.waitForCard(reader.name, 1000);
    const cardChannel = await service.connect(reader.name);
    channels.push(cardChannel);
    const card = new SsseCard(cardChannel);

    let psam: Psam | undefined;
    const psamInfo = choosePsamReader(service, opts.psamReader);
    if (psamInfo) {
      const psamChannel = await service.connect(psamInfo.name);
      channels.push(psamChannel);
      psam = new Psam(psamChannel);
      await psam.open();
    }
    const report = toReport(await card.identify(psam), reader.name, psamInfo?.name ?? null);
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      printTable(report);
    }
    return 0;
  } finally {
    for (const c of channels) await c.close();
    await service.stop();
  }
}

function printTable(r: ReadReport): void {
  const yesNo = (v: boolean | null, zh: [string, string, string], en: [string, string, string]): string =>
    v === null ? `${zh[2]} ${en[2]}` : v ? `${zh[0]} ${en[0]}` : `${zh[1]} ${en[1]}`;
  const rows: [string, string][] = [
    ['读卡器 reader', r.reader],
    ['姓名 name', r.name],
    ['社会保障号码 SSN', r.socialSecurityNumber],
    ['性别 gender', `${GENDER_NAMES[r.gender] ?? r.gender}`],
    ['民族 nation', `${NATION_NAMES[r.nation] ?? r.nation}`],
    ['出生日期 birth date', r.birthDate],
    ['出生地 birthplace', r.birthPlace],
    ['卡号 card number', r.cardNumber],
    ['卡识别码 card id', r.cardId],
    ['行政区划 region', r.regionCode],
    ['卡类别 card type', r.cardType],
    ['规范版本 spec', r.specVersion],
    ['发卡日期 issued', r.issueDate],
    ['有效期 expires', r.expiryDate],
    ['算法 algorithm', r.algorithm],
    ['已启用 activated', yesNo(r.activated, ['是', '否', ''], ['yes', 'no (needs activation)', ''])],
    ['真卡验证 genuine', yesNo(r.authentic, ['通过', '未通过', '未验证'], ['yes (PSAM internal auth)', 'NO: internal authentication failed', '(not checked: no PSAM)'])],
    ['密码剩余次数 PIN tries left', r.triesLeft === null ? '— (not told)' : String(r.triesLeft)],
    ['卡状态 card state', `${CARD_STATE_NAMES[r.cardState]} ${r.cardState}`],
  ];
  const width = Math.max(...rows.map(([k]) => displayWidth(k)));
  for (const [k, v] of rows) process.stdout.write(`${k}${' '.repeat(width - displayWidth(k))}  ${v}\n`);
}

const CARD_STATE_NAMES: Readonly<Record<CardState, string>> = { active: '正常', notActivated: '未启用', appLocked: '应用已锁定', pinBlocked: '密码已锁' };

/** Terminal columns: CJK characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

export function register(program: Command): void {
  program
    .command('read')
    .description('读取社会保障卡基本信息（EF05/EF06）、密码剩余次数和卡状态 / read the card basics (EF05/EF06), PIN tries left and card state')
    .option('--reader <name>', 'card reader (name or unique part of it)')
    .option('--psam-reader <name>', 'PSAM reader (default: a reader named *SAM* or Virtual PCD 00 01)')
    .option('--json', 'JSON output with stable field names')
    .action(action((opts: { reader?: string; psamReader?: string; json?: boolean }) => readCommand(opts)));
}
