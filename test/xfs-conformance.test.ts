/**
 * XFS4IoT conformance of the daemon (docs/api.md "Envelope"; docs/domain.md §7), against the real
 * simulating daemon (counter role: pcscd + vpcd with the project's virtual card and PSAM). Every
 * command is built from the fields the specification defines and every answer is checked field by
 * field against the definitions in public: KAL's generated classes
 * (KAL-ATM-Software/KAL_XFS4IoT_SP-Dev, Framework/Core/…; each row of SPEC names its file). A
 * field of ours in a standard message must be `sscard`-prefixed; every enum value must be one the
 * definition lists; `errorCode` only with `commandErrorCode` and from the command's own enum.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassphrase } from '../daemon/auth/passphrase.js';
import type { Msg, TestClient } from '../testing/api-test-client.js';
import { simControl } from './helpers/browser-daemon.js';
import { connectClient, DaemonProcess } from './helpers/daemon.js';
import { ROOT, settleAfterRemoval } from './helpers/stack.js';

const PASSPHRASE = 'conformance passphrase';
const dir = mkdtempSync(path.join(tmpdir(), 'sscard-xfs-'));
let daemon: DaemonProcess;
let client: TestClient;

/** What a definition allows: the payload's fields, and the enum of some of them (dotted paths). */
interface Definition {
  /** The KAL file it is read from (Framework/Core/…). */
  readonly file: string;
  readonly version: string;
  /** Top-level payload fields the definition has. */
  readonly fields: readonly string[];
  /** Fields of nested objects (path → allowed fields). */
  readonly nested?: Readonly<Record<string, readonly string[]>>;
  /** Enumerated values (path → allowed values). */
  readonly enums?: Readonly<Record<string, readonly string[]>>;
}

const STATUS_TOP = ['common', 'cardReader', 'cashAcceptor', 'cashDispenser', 'cashManagement', 'check', 'mixedMedia', 'keyManagement', 'keyboard', 'textTerminal', 'printer', 'barcodeReader', 'biometric', 'camera', 'lights', 'banknoteNeutralization', 'auxiliaries', 'deposit', 'vendorMode', 'vendorApplication', 'powerManagement'];
const STATUS_NESTED = {
  // CommonSchemas_g.cs StatusPropertiesClass
  common: ['device', 'devicePosition', 'powerSaveRecoveryTime', 'antiFraudModule', 'exchange', 'endToEndSecurity', 'persistentDataStore'],
  // CardReaderSchemas_g.cs StatusClass
  cardReader: ['media', 'security', 'chipPower', 'chipModule', 'magWriteModule', 'frontImageModule', 'backImageModule'],
  // KeyboardSchemas_g.cs StatusClass
  keyboard: ['autoBeepMode'],
  'keyboard.autoBeepMode': ['activeAvailable', 'inactiveAvailable'],
};
const STATUS_ENUMS = {
  'common.device': ['online', 'offline', 'powerOff', 'noDevice', 'hardwareError', 'userError', 'deviceBusy', 'fraudAttempt', 'potentialFraud', 'starting'],
  'cardReader.media': ['unknown', 'present', 'notPresent', 'jammed', 'entering', 'latched'],
  'cardReader.chipPower': ['unknown', 'online', 'busy', 'poweredOff', 'noDevice', 'hardwareError', 'noCard'],
  'cardReader.chipModule': ['ok', 'inoperable', 'unknown'],
};
const INTERFACE_NAMES = ['Common', 'CardReader', 'CashAcceptor', 'CashDispenser', 'CashManagement', 'PinPad', 'Crypto', 'KeyManagement', 'Keyboard', 'TextTerminal', 'Printer', 'BarcodeReader', 'Camera', 'Lights', 'Auxiliaries', 'VendorMode', 'VendorApplication', 'Storage', 'Biometric', 'Check', 'MixedMedia', 'Deposit', 'German', 'BanknoteNeutralization', 'PowerManagement'];
const ENTRY_COMPLETION = ['auto', 'enter', 'cancel', 'continue', 'clear', 'backspace', 'fdk', 'help', 'fk', 'contFdk'];

/** Completions and events, by message name. */
const SPEC: Readonly<Record<string, Definition>> = {
  'Common.Status': { file: 'Common/Completions/Status_g.cs', version: '3.0', fields: STATUS_TOP, nested: STATUS_NESTED, enums: STATUS_ENUMS },
  'Common.StatusChangedEvent': { file: 'Common/Events/StatusChangedEvent_g.cs', version: '3.0', fields: STATUS_TOP, nested: STATUS_NESTED, enums: STATUS_ENUMS },
  'Common.Capabilities': {
    file: 'Common/Completions/Capabilities_g.cs',
    version: '3.0',
    fields: ['interfaces', 'common', 'cardReader', 'cashAcceptor', 'cashDispenser', 'cashManagement', 'check', 'mixedMedia', 'pinPad', 'crypto', 'keyManagement', 'keyboard', 'textTerminal', 'printer', 'barcodeReader', 'biometric', 'camera', 'german', 'lights', 'banknoteNeutralization', 'auxiliaries', 'deposit', 'vendorApplication', 'powerManagement'],
    nested: {
      // CommonSchemas_g.cs InterfaceClass, CapabilityPropertiesClass, DeviceInformationClass, SoftwareClass
      'interfaces[]': ['name', 'commands', 'events', 'maximumRequests'],
      common: ['serviceVersion', 'deviceInformation', 'powerSaveControl', 'antiFraudModule', 'endToEndSecurity', 'persistentDataStore'],
      'common.deviceInformation[]': ['modelName', 'serialNumber', 'revisionNumber', 'modelDescription', 'firmware', 'software'],
      'common.deviceInformation[].software[]': ['softwareName', 'softwareVersion'],
      // CardReaderSchemas_g.cs CapabilitiesClass
      cardReader: ['type', 'readTracks', 'writeTracks', 'chipProtocols', 'securityType', 'powerOnOption', 'powerOffOption', 'fluxSensorProgrammable', 'readWriteAccessFromExit', 'writeMode', 'chipPower', 'memoryChipProtocols', 'positions', 'cardTakenSensor'],
      'cardReader.chipProtocols': ['chipT0', 'chipT1', 'chipProtocolNotRequired', 'chipTypeAPart3', 'chipTypeAPart4', 'chipTypeB', 'chipTypeNFC'],
      'cardReader.chipPower': ['cold', 'warm', 'off'],
      // KeyboardSchemas_g.cs CapabilitiesClass
      keyboard: ['autoBeep', 'etsCaps'],
      'keyboard.autoBeep': ['activeAvailable', 'activeSelectable', 'inactiveAvailable', 'inactiveSelectable'],
    },
    enums: { 'interfaces[].name': INTERFACE_NAMES, 'cardReader.type': ['motor', 'swipe', 'dip', 'latchedDip', 'contactless', 'intelligentContactless', 'permanent'] },
  },
  'Common.Cancel': { file: 'Common/Completions/Cancel_g.cs', version: '2.0', fields: ['errorCode'], enums: { errorCode: ['noMatchingRequestIDs'] } },
  'Common.SetVersions': { file: 'Common/Completions/SetVersions_g.cs', version: '2.0', fields: [] },
  'CardReader.ChipIO': {
    file: 'CardReader/Completions/ChipIO_g.cs',
    version: '3.0',
    fields: ['errorCode', 'chipProtocol', 'chipData'],
    enums: { errorCode: ['mediaJam', 'noMedia', 'invalidMedia', 'invalidData', 'protocolNotSupported', 'atrNotObtained', 'cardCollision'], chipProtocol: ['chipT0', 'chipT1', 'chipProtocolNotRequired', 'chipTypeAPart3', 'chipTypeAPart4', 'chipTypeB', 'chipTypeNFC'] },
  },
  'CardReader.ChipPower': { file: 'CardReader/Completions/ChipPower_g.cs', version: '3.0', fields: ['errorCode', 'chipData'], enums: { errorCode: ['chipPowerNotSupported', 'mediaJam', 'noMedia', 'invalidMedia', 'invalidData', 'atrNotObtained'] } },
  'CardReader.Reset': { file: 'CardReader/Completions/Reset_g.cs', version: '2.0', fields: ['errorCode'], enums: { errorCode: ['mediaJam', 'shutterFail', 'retainBinFull'] } },
  'CardReader.MediaRemovedEvent': { file: 'CardReader/Events/MediaRemovedEvent_g.cs', version: '2.0', fields: [] },
  'Keyboard.PinEntry': {
    file: 'Keyboard/Completions/PinEntry_g.cs',
    version: '2.0',
    fields: ['errorCode', 'digits', 'completion'],
    enums: { errorCode: ['keyInvalid', 'keyNotSupported', 'noActivekeys', 'noTerminatekeys', 'minimumLength', 'tooManyFrames', 'partialFrame', 'entryTimeout'], completion: ENTRY_COMPLETION },
  },
  'Keyboard.KeyEvent': { file: 'Keyboard/Events/KeyEvent_g.cs', version: '2.0', fields: ['completion', 'digit'], enums: { completion: ENTRY_COMPLETION } },
  'ServicePublisher.GetServices': { file: 'ServicePublisher/Completions/GetServices_g.cs', version: '2.0', fields: ['vendorName', 'services'], nested: { 'services[]': ['serviceURI'] } },
};

/** The header's fields (Framework/Core/Common/MessageHeader.cs), by message type. */
const HEADER: Readonly<Record<string, readonly string[]>> = {
  acknowledge: ['name', 'requestId', 'type', 'version', 'status', 'errorDescription'],
  completion: ['name', 'requestId', 'type', 'version', 'completionCode', 'errorDescription'],
  event: ['name', 'requestId', 'type', 'version'],
  unsolicited: ['name', 'type', 'version'],
};
const COMPLETION_CODES = ['success', 'commandErrorCode', 'canceled', 'deviceNotReady', 'hardwareError', 'internalError', 'invalidCommand', 'invalidRequestID', 'timeOut', 'unsupportedCommand', 'invalidData', 'userError', 'unsupportedData', 'fraudAttempt', 'sequenceError', 'authorisationRequired', 'noCommandNonce', 'invalidToken', 'invalidTokenNonce', 'invalidTokenHMAC', 'invalidTokenFormat', 'invalidTokenKeyNoValue', 'notEnoughSpace'];

const ours = (k: string): boolean => /^sscard[A-Z0-9]/.test(k) || k === 'sscard';

/** Every place in `v` a path (`a.b`, `a[]`) names. */
function at(v: unknown, p: string): unknown[] {
  let cur: unknown[] = [v];
  for (const part of p.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    cur = cur.flatMap((x) => {
      const y = x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[key] : undefined;
      if (y === undefined) return [];
      return list ? (Array.isArray(y) ? (y as unknown[]) : [y]) : [y];
    });
  }
  return cur;
}

/** Problems of one message against its definition (none: conforms). */
function problems(m: Msg): string[] {
  const out: string[] = [];
  const h = m.header as unknown as Record<string, unknown>;
  const allowed = HEADER[String(h['type'])];
  if (allowed === undefined) return [`header.type ${String(h['type'])}`];
  for (const k of Object.keys(h)) if (!allowed.includes(k)) out.push(`header.${k} is not in MessageHeader.cs`);
  // KAL writes no field without a value (MessageBase.cs: WhenWritingNull): an accepted acknowledge has no
  // status, a success no errorDescription. Only a refusal of a message whose requestId or name could
  // not be read has them null.
  const refusedUnread = h['type'] === 'acknowledge' && h['status'] !== undefined;
  for (const [k, v] of Object.entries(h)) if (v === null && !(refusedUnread && (k === 'requestId' || k === 'name'))) out.push(`header.${k} is null`);
  if (h['type'] === 'unsolicited' && 'requestId' in h) out.push('an unsolicited message has a requestId');
  const payload = (m.payload ?? {}) as Record<string, unknown>;
  if (h['type'] === 'acknowledge') {
    if (m.payload !== undefined) out.push('an acknowledge has a payload');
    return out;
  }
  if (h['type'] === 'completion') {
    if (!COMPLETION_CODES.includes(String(h['completionCode']))) out.push(`completionCode ${String(h['completionCode'])}`);
    if ('errorCode' in payload && h['completionCode'] !== 'commandErrorCode') out.push(`errorCode with ${String(h['completionCode'])}`);
  }
  const d = SPEC[String(h['name'])];
  if (d === undefined) return out;
  if (h['version'] !== d.version) out.push(`version ${String(h['version'])}, ${d.file} has ${d.version}`);
  for (const k of Object.keys(payload)) if (!d.fields.includes(k) && !ours(k)) out.push(`payload.${k} is not in ${d.file}`);
  for (const [p, fields] of Object.entries(d.nested ?? {})) {
    for (const o of at(payload, p)) {
      if (o === null || typeof o !== 'object') continue;
      for (const k of Object.keys(o)) if (!fields.includes(k) && !ours(k)) out.push(`${p}.${k} is not in ${d.file}`);
    }
  }
  for (const [p, values] of Object.entries(d.enums ?? {})) {
    for (const v of at(payload, p)) if (!values.includes(String(v))) out.push(`${p} = ${JSON.stringify(v)} is not in ${d.file}`);
  }
  return out;
}

function conforms(ms: readonly Msg[]): void {
  for (const m of ms) expect(problems(m), `${m.header.type} ${String(m.header.name)}`).toEqual([]);
}

const SELECT_MF = Buffer.from('00A40000023F00', 'hex').toString('base64');
const ALL_KEYS = { zero: {}, one: {}, two: {}, three: {}, four: {}, five: {}, six: {}, seven: {}, eight: {}, nine: {}, enter: { terminate: true }, cancel: {}, clear: {}, backspace: {} };

beforeAll(async () => {
  daemon = await DaemonProcess.start(
    {
      config: {
        simulate: 'on',
        role: 'counter',
        terminalId: 'E2E-XFS',
        api: { port: 0 },
        log: { level: 'info', file: 'log/sscard.log', console: false },
        simulator: { stateDir: 'var/sim', card: path.join(ROOT, 'fixtures', 'cards', 'card-3.0.json') },
        journal: { path: 'journal.db', keyFile: 'journal.key' },
        operators: { sessionTtlMs: 600_000, accounts: [{ id: 'op1', name: '张三', hash: hashPassphrase(Buffer.from(PASSPHRASE), { N: 1024 }) }] },
      },
      entry: 'sscardd',
    },
    dir,
  );
  await daemon.waitIdentified();
  client = await connectClient(daemon.port);
  const login = await client.command('Operator.Login', { operatorId: 'op1', passphrase: PASSPHRASE });
  expect(login.completion.header.completionCode).toBe('success');
}, 120_000);

afterAll(async () => {
  client?.close();
  await daemon?.stop();
  await settleAfterRemoval();
  rmSync(dir, { recursive: true, force: true });
});

describe('XFS4IoT messages as KAL\'s definitions have them (simulating daemon, counter)', () => {
  /** Each command built from its definition's fields (Framework/Core/<I>/Commands/<C>_g.cs), with the answer expected. */
  const rows: readonly (readonly [string, string, Record<string, unknown>, string])[] = [
    ['Common/Commands/Status_g.cs', 'Common.Status', {}, 'success'],
    ['Common/Commands/Capabilities_g.cs', 'Common.Capabilities', {}, 'success'],
    ['Common/Commands/SetVersions_g.cs', 'Common.SetVersions', { commands: { 'CardReader.ChipIO': 3, 'Common.Status': 2 }, events: { 'Common.StatusChangedEvent': 3 } }, 'success'],
    ['Common/Commands/SetVersions_g.cs (a version not here)', 'Common.SetVersions', { commands: { 'CardReader.ChipIO': 2 } }, 'unsupportedData'],
    ['Common/Commands/Cancel_g.cs (no such request)', 'Common.Cancel', { requestIds: [987_654] }, 'commandErrorCode'],
    ['CardReader/Commands/ChipIO_g.cs', 'CardReader.ChipIO', { chipProtocol: 'chipT1', chipData: SELECT_MF }, 'success'],
    ['CardReader/Commands/ChipIO_g.cs (contactless)', 'CardReader.ChipIO', { chipProtocol: 'chipTypeB', chipData: SELECT_MF }, 'unsupportedData'],
    ['CardReader/Commands/ChipPower_g.cs', 'CardReader.ChipPower', { chipPower: 'warm' }, 'success'],
    ['CardReader/Commands/Reset_g.cs', 'CardReader.Reset', { to: 'currentPosition' }, 'success'],
    ['Keyboard/Commands/PinEntry_g.cs (no active keys)', 'Keyboard.PinEntry', { minLen: 4, maxLen: 6, autoEnd: false, echo: '*', activeKeys: {} }, 'commandErrorCode'],
    ['Keyboard/Commands/PinEntry_g.cs (minLen over maxLen)', 'Keyboard.PinEntry', { minLen: 8, maxLen: 4, activeKeys: ALL_KEYS }, 'commandErrorCode'],
  ];
  for (const [file, name, payload, code] of rows) {
    it(`${name} — ${file}: ${code}`, async () => {
      const r = await client.command(name, payload, { timeout: 30_000 });
      expect(r.completion.header.completionCode).toBe(code);
      conforms([r.ack, ...r.events, r.completion]);
    });
  }

  it('Keyboard.PinEntry with the touchscreen pad: the KeyEvents and the completion as Keyboard/Events/KeyEvent_g.cs and Completions/PinEntry_g.cs have them', async () => {
    const id = client.send('Keyboard.PinEntry', { minLen: 4, maxLen: 0, autoEnd: false, echo: '*', activeKeys: ALL_KEYS }, { timeout: 30_000 });
    await client.waitFor((m) => m.header.type === 'acknowledge' && m.header.requestId === id);
    const pad = await connectClient(daemon.port);
    try {
      for (const k of ['1', '3', '5', '7', 'enter']) {
        // The first key may reach the pad before the entry has started: wait for it to be taken.
        for (let i = 0; i < 100; i++) {
          if ((await pad.command('Keyboard.TouchKey', { key: k })).completion.header.completionCode === 'success') break;
          await new Promise((res) => setTimeout(res, 20));
        }
      }
    } finally {
      pad.close();
    }
    const r = await client.result(id);
    expect(r.completion.header.completionCode).toBe('success');
    expect(r.completion.payload).toEqual({ digits: 4, completion: 'enter' });
    expect(r.events.map((e) => e.header.name)).toEqual(Array(5).fill('Keyboard.KeyEvent'));
    conforms([r.ack, ...r.events, r.completion]);
  });

  it('ServicePublisher.GetServices on the publisher — ServicePublisher/Completions/GetServices_g.cs', async () => {
    const pub = await connectClient(daemon.port, '/xfs4iot/v1.0');
    try {
      const r = await pub.command('ServicePublisher.GetServices', {});
      expect(r.completion.header.completionCode).toBe('success');
      conforms([r.ack, r.completion]);
      // The shared service, then one per card reader of Status (docs/api.md "WebSocket endpoints"): each answers, on its reader.
      const paths = (r.completion.payload!['services'] as { serviceURI: string }[]).map((s) => new URL(s.serviceURI).pathname);
      const status = (await client.command('Common.Status', {})).completion.payload!['sscard'] as { readers: { name: string; slot: string }[] };
      const cardReaders = status.readers.filter((x) => x.slot !== 'psam').map((x) => x.name);
      expect(cardReaders.length).toBeGreaterThan(0);
      expect(paths).toEqual(['/xfs4iot/v1.0/sscard', ...cardReaders.map((n) => `/xfs4iot/v1.0/sscard/reader/${encodeURIComponent(n)}`)]);
      const own = await connectClient(daemon.port, paths[1]);
      try {
        const rb = await own.command('SSCard.ReadBasic', {});
        expect(rb.completion.header.completionCode).toBe('success');
        conforms([rb.ack, ...rb.events, rb.completion]);
      } finally {
        own.close();
      }
    } finally {
      pub.close();
    }
  });

  it('a timeout in the payload (XFS4IoT 2021-1) is accepted, and so are sscard-prefixed fields; another unknown field is invalidData', async () => {
    expect((await client.command('Common.Status', { timeout: 5000, sscardTrace: 'x' })).completion.header.completionCode).toBe('success');
    const bad = await client.command('Common.Status', { bogus: 1 });
    expect(bad.completion.header.completionCode).toBe('invalidData');
    conforms([bad.ack, bad.completion]);
  });

  it('a refused message: an acknowledge with status and no payload, as MessageHeader.cs has it', async () => {
    client.sendRaw('{"header":{"type":"command","name":"Common.Status"}}');
    const ack = await client.waitFor((m) => m.header.type === 'acknowledge' && m.header.status === 'invalidMessage');
    conforms([ack]);
    expect(ack.header.errorDescription).toContain('requestId');
  });

  it('the card taken out and put back: MediaRemovedEvent and StatusChangedEvents as their definitions have them', async () => {
    const before = client.messages.length;
    await simControl(daemon, 'remove');
    await client.waitFor((m) => m.header.name === 'CardReader.MediaRemovedEvent');
    await simControl(daemon, 'insert');
    await daemon.waitIdentified();
    const seen = client.messages.slice(before).filter((m) => m.header.type === 'unsolicited');
    const changed = seen.filter((m) => m.header.name === 'Common.StatusChangedEvent');
    expect(changed.some((m) => (m.payload as { cardReader?: { media?: string } }).cardReader?.media === 'notPresent')).toBe(true);
    expect(changed.some((m) => (m.payload as { cardReader?: { media?: string } }).cardReader?.media === 'present')).toBe(true);
    conforms(seen);
  });
});
