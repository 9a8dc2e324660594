/**
 * The fake terminal's resident ID card reader (testing/fake-terminal.ts): the ID card on it and the
 * report IdCard.Read gives, made as daemon/terminal/counter-reads.ts makes it — masked
 * (core/mask.ts), compared by number (drivers/idcard/info.ts `matchesSocialSecurityNumber`), its
 * validity on today's date (state/id-card-validity.ts).
 */
import { maskCardNumber, maskIdNumber, maskName } from '../core/mask.js';
import type { IdDocumentType } from '../drivers/idcard/info.js';
import { isValidIdNumber, matchesSocialSecurityNumber } from '../drivers/idcard/info.js';
import { idCardValidity, terminalDate } from '../state/id-card-validity.js';
import type { IdCardReport } from '../daemon/terminal/port.js';

/** What the fake ID reader reads off an ID card. */
export interface FakeIdCard {
  /** Default the resident ID card (drivers/idcard/info.ts). */
  readonly documentType?: IdDocumentType;
  readonly name: string;
  readonly idNumber: string;
  readonly validFrom: string;
  readonly validTo: string;
}

/** The resident ID card of the fake terminal's default card's holder (same number as its 社会保障号码). */
export const FAKE_ID_CARD: FakeIdCard = Object.freeze({ name: '张三', idNumber: '410402199001011234', validFrom: '2015-01-01', validTo: '2035-01-01' });

/** IdCard.Read's report of `id` (null: none on the reader) against the card identified (null: none). */
export function fakeIdCardReport(id: FakeIdCard | null, card: { readonly cardNumber: string; readonly socialSecurityNumber: string } | null): IdCardReport {
  const cardNumberMasked = card === null ? null : maskCardNumber(card.cardNumber);
  if (id === null) return { read: false, idCard: null, matchesCard: null, cardNumberMasked };
  return {
    read: true,
    idCard: {
      documentType: id.documentType ?? 'residentId',
      nameMasked: maskName(id.name),
      idNumberMasked: maskIdNumber(id.idNumber),
      idNumberValid: id.documentType === 'foreignPermanent2017' || isValidIdNumber(id.idNumber),
      validFrom: id.validFrom,
      validTo: id.validTo,
    },
    matchesCard: card === null ? null : matchesSocialSecurityNumber(id, card.socialSecurityNumber),
    cardNumberMasked,
    ...(idCardValidity(id.validTo, terminalDate(new Date())) === 'valid' ? {} : { expiredOn: id.validTo }),
  };
}
