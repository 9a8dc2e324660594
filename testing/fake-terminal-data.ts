/**
 * What FakeTerminal (fake-terminal.ts) starts from and records: its reader, ATR and card, the ID
 * card on its ID reader, its options, and the shape of its recorded calls.
 */
import type { Role, ServiceKind } from '../state/roles.js';
import type { CardBasicInfo, IdCardReadRequest, PinEntryRequest, ServiceRequest } from '../daemon/terminal/port.js';
import type { FakeIdCard } from './fake-id-card.js';

export const FAKE_READER = 'Fake Reader 00';
export const FAKE_ATR = '3B6D000080318065B08701000083009000';

export const FAKE_CARD: CardBasicInfo = Object.freeze({
  region: '410402',
  socialSecurityNumber: '410402199001011234',
  cardNumber: 'X00000019',
  cardId: '410402D156000005AAAAAAAAAAAAAAAA',
  name: '张三',
  sex: '1',
  nation: '01',
  birthDate: '19900101',
  atrHistorical: '0080318065B08701000083',
  specVersion: '3.00',
  issueDate: '20200101',
  expiryDate: '20300101',
  expired: false,
  terminalId: 'T0001',
  deviceId: 'D0001',
  triesLeft: 6,
  cardState: 'active',
  authentic: true,
  undecodable: [],
  cardProfile: 'default',
});

export interface FakeTerminalOptions {
  readonly role?: Role;
  /** The services configured (default: the role's, state/roles.ts defaultServices). */
  readonly services?: readonly ServiceKind[];
  /** The card in the slot at start (default {@link FAKE_CARD}); null = empty slot. */
  readonly card?: Partial<CardBasicInfo> | null;
  /** The card's PIN (default 147258). */
  readonly cardPin?: string;
  readonly maxTries?: number;
  /** Tries left at start (default maxTries; 0 = PIN locked). */
  readonly triesLeft?: number;
  /** A touchscreen pad (touchKey works; default true). */
  readonly touchKeys?: boolean;
  readonly version?: string;
  /** An ID reader (default true). */
  readonly idReader?: boolean;
  /** The ID card on the ID reader at start (default: the default card's holder's, {@link FAKE_ID_CARD}); null = none. */
  readonly idCard?: FakeIdCard | null;
}

export const FAKE_ID_CARD: FakeIdCard = Object.freeze({ name: '张三', idNumber: '410402199001011234', validFrom: '2015-01-01', validTo: '2035-01-01' });

export type SignalMethod = 'readBasic' | 'readRecords' | 'writeRecords' | 'chipIo' | 'chipPower';
export type FakeCall =
  | { readonly method: SignalMethod; readonly signal: AbortSignal; readonly reader?: string | undefined }
  | { readonly method: 'pinEntry'; readonly request: PinEntryRequest; readonly signal: AbortSignal }
  | { readonly method: 'runService'; readonly request: ServiceRequest; readonly signal: AbortSignal }
  | { readonly method: 'endSession' | 'touchKey' }
  | { readonly method: 'readIdCard'; readonly request: IdCardReadRequest; readonly signal: AbortSignal };
/** The recorded call of `M`. */
export type FakeCallOf<M extends FakeCall['method']> = M extends 'runService'
  ? { readonly method: 'runService'; readonly request: ServiceRequest; readonly signal: AbortSignal }
  : M extends 'readIdCard'
  ? { readonly method: 'readIdCard'; readonly request: IdCardReadRequest; readonly signal: AbortSignal }
  : M extends 'pinEntry'
  ? { readonly method: 'pinEntry'; readonly request: PinEntryRequest; readonly signal: AbortSignal }
  : M extends SignalMethod
    ? { readonly method: M; readonly signal: AbortSignal }
    : { readonly method: M };
