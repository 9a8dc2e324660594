/**
 * The commands of the local API (docs/api.md "Commands"): each with its payload schema (strict:
 * an unknown field is invalid data), whether it is a card operation (one at a time), whether it
 * needs an operator, and its handler. Handlers return an {@link Outcome}; a rejection of the
 * terminal is turned into one by the connection (connection.ts), so handlers stay short.
 *
 * Mapping helpers for the terminal's reports (capabilities, session events, results) are here
 * too — Status's in status-payload.ts, Keyboard.PinEntry in pin-entry.ts: what crosses to a client
 * is written out field by field, never spread from a port object, so nothing the port adds later
 * leaks by accident.
 */
import { AGENT_BASES, checkAgentRequest, type AgentBasis } from '../../state/agents.js';
import { PAPER_MATERIALS, type Material } from '../../state/materials.js';
import { maskCardNumber } from '../../core/mask.js';
import { z } from 'zod';
import { ErrorCode, isSsCardError } from '../../core/errors.js';
import type { BilingualText } from '../../core/text.js';
import type { ServiceResult } from '../../state/results.js';
import type { ServiceKind } from '../../state/roles.js';
import type { SessionEmitted } from '../../state/session.js';
import type { Capabilities, ServiceRequest } from '../terminal/port.js';
import { endpointReaders } from './context.js';
import type { ApiContext } from './context.js';
import { catalogPayload } from './catalog-payload.js';
import { def, reader, token } from './command-kit.js';
import { COMMAND_NAME, MAX_RUNNING_PER_CLIENT } from './protocol.js';
import { commandVersion, eventVersion, isStandard } from './xfs-spec.js';
import type { Outcome } from './protocol.js';
import { RECENT_LOG_COMMAND } from './log-commands.js';
import { LOG_CHANGED_EVENT } from './log-events.js';
import { COUNTER_COMMANDS } from './counter-commands.js';
import { PIN_ENTRY_COMMAND } from './pin-entry.js';
import { statusPayload } from './status-payload.js';


/** What a running command may use. */
export interface RunContext {
  readonly api: ApiContext;
  readonly signal: AbortSignal;
  readonly requestId: number;
  /** The header's timeout in ms (0 = none). */
  readonly timeoutMs: number;
  /** The live operator of this command, when there is one. */
  readonly operatorId: string | undefined;
  readonly conn: ConnectionControl;
  /** Send an intermediate event of this command. */
  event(name: string, payload: Record<string, unknown>): void;
  /** canceled / timeOut when this command's signal was fired by us; otherwise null. */
  stopped(): Outcome | null;
}

export interface ConnectionControl {
  /** Cancel this connection's commands (all but `self` when `ids` is undefined). */
  cancel(ids: readonly number[] | undefined, self: number): { canceled: number[]; notRunning: number[] };
  readonly operatorToken: string | null;
  bindOperator(token: string | null): void;
}

/**
 * Whether a command needs an operator (and is journaled with it): never, always, or — for a card
 * service — as the capability check says (state/roles.ts `capability().privileged`).
 */
export type Privilege = 'never' | 'always' | 'byService';

export interface CommandDef {
  readonly name: string;
  readonly payload: z.ZodType<Record<string, unknown>>;
  /** Takes the card-operation lock. */
  readonly cardOp: boolean;
  /** The card service this runs (role check: not offered → serviceNotOffered). */
  readonly service?: ServiceKind;
  readonly privilege: Privilege;
  /** Served on the publisher endpoint instead of the service endpoint. */
  readonly publisher?: boolean;
  run(ctx: RunContext, payload: Record<string, unknown>): Promise<Outcome>;
}

const ok = (payload: Record<string, unknown> = {}): Outcome => ({ code: 'success', payload });

// ---- payload pieces ----

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_APDU = 65544;
const phones = z.array(z.string().regex(/^[0-9+\- ]{1,32}$/, { error: 'fmt.phone' })).max(10).optional();
const waitForCardMs = z.int().min(0).max(600_000).optional();
const chipData = z
  .string()
  .max(Math.ceil(MAX_APDU / 3) * 4)
  .regex(B64, { error: 'fmt.apdu' })
  .refine((s) => Buffer.byteLength(s, 'base64') >= 4, { error: 'fmt.apdu' });

export const TOUCH_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'enter', 'backspace', 'clear', 'cancel'] as const;
const CHIP_PROTOCOLS = ['chipT0', 'chipT1', 'chipProtocolNotRequired', 'chipTypeAPart3', 'chipTypeAPart4', 'chipTypeB', 'chipTypeNFC'] as const;
const CONTACT_PROTOCOLS: readonly string[] = ['chipT0', 'chipT1', 'chipProtocolNotRequired'];

const empty = z.strictObject({});

// ---- mapping helpers ----

const hex4 = (sw: number): string => sw.toString(16).toUpperCase().padStart(4, '0');

/** A ServiceResult as sent: written out field by field. */
export function resultPayload(r: ServiceResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    code: r.code,
    kind: r.kind ?? null,
    outcome: r.outcome,
    zh: r.zh,
    en: r.en,
    triesLeft: r.triesLeft ?? null,
    nextStep: { zh: r.nextStep.zh, en: r.nextStep.en },
  };
  if (r.sw !== undefined) out['sw'] = hex4(r.sw);
  if (r.violations !== undefined) out['violations'] = [...r.violations];
  if (r.missing !== undefined) out['missing'] = [...r.missing];
  if (r.bank !== undefined) out['bank'] = { zh: r.bank.zh, en: r.bank.en, attempted: r.bank.attempted, ...(r.bank.recorded === undefined ? {} : { recorded: r.bank.recorded }) };
  if (r.operationId !== undefined) out['operationId'] = r.operationId;
  if (r.where !== undefined) {
    const w = r.where;
    const t = (x: { zh: string; en: string } | undefined): { zh: string; en: string } | null => (x === undefined ? null : { zh: x.zh, en: x.en });
    out['where'] = { office: w.office, address: t(w.address), hours: t(w.hours), consultPhone: w.consultPhone ?? null, complaintPhone: w.complaintPhone ?? null, zh: w.text.zh, en: w.text.en };
  }
  if (r.policyChecked !== undefined) out['policyChecked'] = r.policyChecked;
  return out;
}

/**
 * A session event as an SSCard.*Event. card.identified carries the masked card number and the
 * holder's name (the kiosk greets the holder) — never the social security number.
 */
export function sessionEvent(e: SessionEmitted): { name: string; payload: Record<string, unknown> } {
  switch (e.type) {
    case 'card.inserted':
      return { name: 'SSCard.CardInsertedEvent', payload: {} };
    case 'card.identified':
      return {
        name: 'SSCard.CardIdentifiedEvent',
        payload: {
          cardNumberMasked: maskCardNumber(e.cardNumber),
          name: e.name,
          specVersion: e.specVersion,
          triesLeft: e.triesLeft ?? null,
          cardState: e.cardState,
          authentic: e.authentic ?? null,
          expiryDate: e.expiryDate,
          expired: e.expired,
        },
      };
    case 'service.started':
      return { name: 'SSCard.ServiceStartedEvent', payload: { kind: e.kind } };
    case 'pin.entryStarted':
      return { name: 'SSCard.PinEntryStartedEvent', payload: { prompt: e.prompt } };
    case 'idCard.requested':
      return { name: 'SSCard.IdCardRequestedEvent', payload: { whose: e.whose } };
    case 'idCard.read':
      return { name: 'SSCard.IdCardReadEvent', payload: { whose: e.whose, read: e.read, matches: e.matches, expired: e.expired, ...(e.reason === undefined ? {} : { reason: e.reason }) } };
    case 'pin.digits':
      return { name: 'SSCard.PinDigitsEvent', payload: { count: e.count } };
    case 'result':
      return { name: 'SSCard.ResultEvent', payload: { result: resultPayload(e.result) } };
    case 'session.ended':
      return { name: 'SSCard.SessionEndedEvent', payload: {} };
    case 'card.removed':
      return { name: 'SSCard.CardRemovedEvent', payload: {} };
  }
}

/** Events by interface: the specification's (xfs-spec.ts EVENT_VERSIONS) and our own. */
export const EVENTS: Readonly<Record<string, readonly string[]>> = {
  Common: ['Common.StatusChangedEvent', 'Common.ErrorEvent'],
  CardReader: ['CardReader.MediaInsertedEvent', 'CardReader.MediaRemovedEvent'],
  Keyboard: ['Keyboard.KeyEvent'],
  SSCard: [
    'SSCard.CardInsertedEvent',
    'SSCard.CardIdentifiedEvent',
    'SSCard.ServiceStartedEvent',
    'SSCard.IdCardRequestedEvent',
    'SSCard.IdCardReadEvent',
    'SSCard.PinEntryStartedEvent',
    'SSCard.PinDigitsEvent',
    'SSCard.ResultEvent',
    'SSCard.SessionEndedEvent',
    'SSCard.CardRemovedEvent',
    LOG_CHANGED_EVENT,
  ],
  Operator: [],
  IdCard: [],
};

/** One interface as Common.Capabilities lists it (CommonSchemas_g.cs InterfaceClass). */
function interfaceEntry(iface: string, standard: boolean): Record<string, unknown> {
  const commands = SERVICE_COMMANDS.filter((d) => d.name.startsWith(`${iface}.`) && isStandard(d.name) === standard);
  const events = EVENTS[iface]!.filter((n) => isStandard(n) === standard);
  return {
    name: iface,
    commands: Object.fromEntries(commands.map((d) => [d.name, { versions: [commandVersion(d.name, 'command')] }])),
    events: Object.fromEntries(events.map((n) => [n, { versions: [eventVersion(n)] }])),
    maximumRequests: MAX_RUNNING_PER_CLIENT,
  };
}

/**
 * Common.Capabilities (3.0; KAL Common/Completions/Capabilities_g.cs): `interfaces` at the top level
 * with the specification's interfaces and messages only (a client's decoder knows no other interface
 * name: CommonSchemas_g.cs InterfaceClass.NameEnum), the `common`, `cardReader` and `keyboard`
 * blocks (CapabilityPropertiesClass, CardReaderSchemas_g.cs and KeyboardSchemas_g.cs
 * CapabilitiesClass), and ours in `sscard` — among it `interfaces`, our own interfaces and commands.
 * No `pinPad` block: the PinPad interface hands PIN blocks to the application, and this terminal
 * never lets a PIN leave it (docs/security.md).
 */
export function capabilitiesPayload(c: Capabilities, version: string): Record<string, unknown> {
  const standard = ['Common', 'CardReader', 'Keyboard'].map((i) => interfaceEntry(i, true));
  const ours = Object.keys(EVENTS)
    .map((i) => interfaceEntry(i, false))
    .filter((e) => Object.keys(e['commands'] as object).length + Object.keys(e['events'] as object).length > 0);
  return {
    interfaces: standard,
    common: {
      serviceVersion: version,
      deviceInformation: [{ modelName: 'sscard terminal', modelDescription: 'PRC social security card terminal (sscard)', software: [{ softwareName: 'sscard', softwareVersion: version }] }],
    },
    cardReader: {
      // A PC/SC contact reader the holder inserts the card into and takes it out of: it cannot move or keep the card.
      type: 'dip',
      readTracks: {},
      writeTracks: {},
      chipProtocols: { chipT0: true, chipT1: true },
      chipPower: { cold: true, warm: true, off: true },
      memoryChipProtocols: {},
      positions: {},
      cardTakenSensor: false,
    },
    keyboard: { autoBeep: { activeAvailable: false, activeSelectable: false, inactiveAvailable: false, inactiveSelectable: false } },
    sscard: {
      role: c.role,
      services: [...c.services],
      operatorRequired: [...c.operatorRequired],
      pinPad: { ...c.pinPad },
      idReader: c.idReader,
      psam: c.psam,
      simulated: c.simulated,
      triesFloor: c.triesFloor,
      interfaces: ours,
    },
  };
}

/** A finished service flow: success when the outcome is ok; otherwise commandErrorCode with the result's code. The result is always in the payload. */
export function resultOutcome(r: ServiceResult, ctx: Pick<RunContext, 'stopped'>): Outcome {
  const payload = { result: resultPayload(r) };
  if (r.outcome === 'ok') return { code: 'success', payload };
  const stop = ctx.stopped();
  if (stop !== null && r.outcome === 'cancelled') return { ...stop, payload };
  return { code: 'commandErrorCode', payload, errorCode: r.code, description: { zh: r.zh, en: r.en } };
}

const TOUCH_UNSUPPORTED: BilingualText = {
  zh: '本终端的密码键盘不是触摸屏键盘，Keyboard.TouchKey 不可用：请在密码键盘上按键',
  en: 'this terminal’s PIN pad is not a touchscreen pad, so Keyboard.TouchKey is not available: use the keys of the PIN pad',
};

// ---- the commands ----

const serviceSchema = z.strictObject({ waitForCardMs, token, reader });
/**
 * Someone applying for the holder (state/agents.ts): the basis and the paper materials the clerk
 * saw. The session decides whether the hall allows it (a kiosk never does).
 */
const agent = z
  .strictObject({
    basis: z.enum(AGENT_BASES as [AgentBasis, ...AgentBasis[]]),
    presented: z.array(z.enum(PAPER_MATERIALS as [Material, ...Material[]])).max(PAPER_MATERIALS.length).optional(),
  })
  .optional();
const serviceWithPhones = z.strictObject({ phones, waitForCardMs, token, reader, agent });

function serviceCommand(name: string, kind: ServiceKind) {
  const schema = kind === 'verify' ? serviceSchema : serviceWithPhones;
  return def({
    name,
    payload: schema,
    cardOp: true,
    service: kind,
    privilege: 'byService',
    async run(ctx, p: z.infer<typeof serviceWithPhones>) {
      const request: ServiceRequest = {
        kind,
        ...(ctx.operatorId === undefined ? {} : { operatorId: ctx.operatorId }),
        ...(p.phones === undefined ? {} : { phones: p.phones }),
        ...(p.waitForCardMs === undefined ? {} : { waitForCardMs: p.waitForCardMs }),
        ...(p.reader === undefined ? {} : { reader: p.reader }),
        ...(p.agent === undefined ? {} : { agent: checkAgentRequest(p.agent) }),
      };
      const result = await ctx.api.terminal.runService(
        request,
        (e) => {
          const m = sessionEvent(e);
          ctx.event(m.name, m.payload);
        },
        ctx.signal,
      );
      return resultOutcome(result, ctx);
    },
  });
}

const loginSchema = z.strictObject({
  operatorId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'fmt.operatorId' }),
  passphrase: z.string().min(1).max(1024),
});

export const SERVICE_COMMANDS: readonly CommandDef[] = [
  def({
    name: 'Common.Status',
    payload: empty,
    cardOp: false,
    privilege: 'never',
    run: (ctx) => Promise.resolve(ok(statusPayload(ctx.api.terminal.status()))),
  }),
  def({
    name: 'Common.Capabilities',
    payload: empty,
    cardOp: false,
    privilege: 'never',
    run: (ctx) => Promise.resolve(ok(capabilitiesPayload(ctx.api.terminal.capabilities(), ctx.api.version))),
  }),
  def({
    name: 'Common.Cancel',
    payload: z.strictObject({ requestIds: z.array(z.int().min(1).max(Number.MAX_SAFE_INTEGER)).max(256).optional() }),
    cardOp: false,
    privilege: 'never',
    run(ctx, p) {
      const r = ctx.conn.cancel(p.requestIds, ctx.requestId);
      const payload = { sscardCanceled: r.canceled, sscardNotRunning: r.notRunning };
      // Common/Completions/Cancel_g.cs: ids named, none of them running → noMatchingRequestIDs.
      if (p.requestIds !== undefined && p.requestIds.length > 0 && r.canceled.length === 0) {
        return Promise.resolve({ code: 'commandErrorCode', errorCode: 'noMatchingRequestIDs', payload, description: { zh: '没有正在执行的、与所给请求号相符的命令', en: 'no running command matches the requestIds given' } });
      }
      return Promise.resolve(ok(payload));
    },
  }),
  def({
    name: 'Common.SetVersions',
    // Common/Commands/SetVersions_g.cs: message name → major version.
    payload: z.strictObject({ commands: z.record(z.string().max(100), z.int().min(1).max(999)).optional(), events: z.record(z.string().max(100), z.int().min(1).max(999)).optional() }),
    cardOp: false,
    privilege: 'never',
    run(_ctx, p) {
      return Promise.resolve(setVersions(p.commands ?? {}, p.events ?? {}));
    },
  }),
  def({
    name: 'CardReader.ChipIO',
    payload: z.strictObject({ chipProtocol: z.enum(CHIP_PROTOCOLS).optional(), chipData, reader, token }),
    cardOp: true,
    privilege: 'always',
    async run(ctx, p) {
      if (p.chipProtocol !== undefined && !CONTACT_PROTOCOLS.includes(p.chipProtocol)) {
        return { code: 'unsupportedData', description: { zh: `本终端只有接触式读卡器，不支持 ${p.chipProtocol}`, en: `this terminal has a contact reader only; ${p.chipProtocol} is not supported` } };
      }
      const res = await ctx.api.terminal.chipIo(Buffer.from(p.chipData, 'base64'), p.reader, ctx.signal);
      return ok({ ...(p.chipProtocol === undefined ? {} : { chipProtocol: p.chipProtocol }), chipData: res.toString('base64') });
    },
  }),
  def({
    name: 'CardReader.ChipPower',
    payload: z.strictObject({ chipPower: z.enum(['cold', 'warm', 'off']), reader, token }),
    cardOp: true,
    privilege: 'always',
    async run(ctx, p) {
      const r = await ctx.api.terminal.chipPower(p.chipPower, p.reader, ctx.signal);
      return ok({ chipData: r.atr === null ? null : r.atr.toString('base64') });
    },
  }),
  def({
    name: 'CardReader.Reset',
    payload: z.strictObject({ to: z.enum(['currentPosition', 'auto']).optional(), reader, token }),
    cardOp: true,
    privilege: 'always',
    async run(ctx, p) {
      const r = await ctx.api.terminal.chipPower('warm', p.reader, ctx.signal);
      // CardReader/Completions/Reset_g.cs has no data: the ATR of the warm reset is ours.
      return ok({ sscardChipData: r.atr === null ? null : r.atr.toString('base64') });
    },
  }),
  PIN_ENTRY_COMMAND,
  def({
    name: 'Keyboard.TouchKey',
    payload: z.strictObject({ key: z.enum(TOUCH_KEYS), reader }),
    cardOp: false,
    privilege: 'never',
    run(ctx, p) {
      try {
        ctx.api.terminal.touchKey(p.key, p.reader);
      } catch (e) {
        if (isSsCardError(e, ErrorCode.PinPad_Unsupported)) return Promise.resolve({ code: 'unsupportedCommand', description: TOUCH_UNSUPPORTED, errorCode: 'pinPad.unsupported' });
        throw e;
      }
      return Promise.resolve(ok());
    },
  }),
  def({
    name: 'SSCard.ReadBasic',
    payload: z.strictObject({ reader }),
    cardOp: true,
    privilege: 'never',
    async run(ctx, p) {
      const i = await ctx.api.terminal.readBasic(ctx.signal, p.reader);
      return ok({
        region: i.region,
        socialSecurityNumber: i.socialSecurityNumber,
        cardNumber: i.cardNumber,
        cardId: i.cardId,
        name: i.name,
        sex: i.sex,
        nation: i.nation,
        birthDate: i.birthDate,
        atrHistorical: i.atrHistorical,
        specVersion: i.specVersion,
        issueDate: i.issueDate,
        expiryDate: i.expiryDate,
        expired: i.expired,
        terminalId: i.terminalId,
        deviceId: i.deviceId,
        triesLeft: i.triesLeft,
        cardState: i.cardState,
        authentic: i.authentic,
        undecodable: i.undecodable,
        cardProfile: i.cardProfile,
      });
    },
  }),
  def({
    name: 'SSCard.Catalog',
    payload: empty,
    cardOp: false,
    privilege: 'never',
    run: (ctx) => {
      const caps = ctx.api.terminal.capabilities();
      return Promise.resolve(ok(catalogPayload(caps.role, caps.services, ctx.api.terminal.catalog())));
    },
  }),
  serviceCommand('SSCard.VerifyPin', 'verify'),
  serviceCommand('SSCard.ChangePin', 'change'),
  serviceCommand('SSCard.ResetPin', 'reset'),
  serviceCommand('SSCard.UnblockPin', 'unblock'),
  serviceCommand('SSCard.Activate', 'activate'),
  def({
    name: 'SSCard.End',
    payload: z.strictObject({ reader }),
    cardOp: false,
    privilege: 'never',
    async run(ctx, p) {
      if (ctx.api.sequencer.serviceRunning) ctx.api.sequencer.abortCurrent(p.reader ?? '');
      await ctx.api.terminal.endSession(p.reader);
      return ok();
    },
  }),
  def({
    name: 'Operator.Login',
    payload: loginSchema,
    cardOp: false,
    privilege: 'never',
    async run(ctx, p) {
      // The passphrase goes to the auth port as a Buffer that is wiped here; the frame's own text
      // (a JS string) cannot be wiped and is left to the garbage collector.
      const secret = Buffer.from(p.passphrase, 'utf8');
      try {
        const s = await ctx.api.auth.login(p.operatorId, secret);
        const previous = ctx.conn.operatorToken;
        if (previous !== null && previous !== s.token) ctx.api.auth.logout(previous);
        ctx.conn.bindOperator(s.token);
        return ok({ token: s.token, operatorId: s.operatorId, expiresAt: s.expiresAt });
      } catch (e) {
        if (isSsCardError(e) && (e.code === ErrorCode.Auth_BadCredentials || e.code === ErrorCode.Auth_Locked)) {
          return { code: 'commandErrorCode', description: e.text, errorCode: e.code === ErrorCode.Auth_Locked ? 'auth.locked' : 'auth.badCredentials' };
        }
        if (isSsCardError(e, ErrorCode.Auth_Busy)) return { code: 'commandErrorCode', description: e.text, errorCode: 'auth.busy' };
        throw e;
      } finally {
        secret.fill(0);
      }
    },
  }),
  def({
    name: 'Operator.Logout',
    payload: z.strictObject({ token }),
    cardOp: false,
    privilege: 'never',
    run(ctx, p) {
      const t = p.token ?? ctx.conn.operatorToken;
      if (t === undefined || t === null) return Promise.resolve(ok({ loggedOut: false }));
      ctx.api.auth.logout(t);
      if (t === ctx.conn.operatorToken) ctx.conn.bindOperator(null);
      return Promise.resolve(ok({ loggedOut: true }));
    },
  }),
  RECENT_LOG_COMMAND,
  ...COUNTER_COMMANDS,
];

/**
 * The publisher endpoint: ServicePublisher.GetServices, and the Common commands an XFS4IoT client
 * sends to any service on first contact (every service implements the Common interface,
 * docs/domain.md §7): Common.Status and Common.Capabilities, answered as the one service answers them.
 * GetServices lists the service endpoint, then each card reader's own (gate.ts), in Status's order.
 */
export const PUBLISHER_COMMANDS: readonly CommandDef[] = [
  ...SERVICE_COMMANDS.filter((d) => d.name === 'Common.Status' || d.name === 'Common.Capabilities'),
  def({
    name: 'ServicePublisher.GetServices',
    payload: empty,
    cardOp: false,
    privilege: 'never',
    publisher: true,
    run: (ctx) => {
      const readers = endpointReaders(ctx.api.terminal).map((r) => ({ serviceURI: ctx.api.serviceUri(r) }));
      return Promise.resolve(ok({ vendorName: 'sscard', services: [{ serviceURI: ctx.api.serviceUri() }, ...readers] }));
    },
  }),
];

/**
 * Common.SetVersions: each message implemented here has one version (xfs-spec.ts), so a client may
 * choose that one; a message we do not implement is invalid data, another major version unsupported.
 */
function setVersions(commands: Readonly<Record<string, number>>, events: Readonly<Record<string, number>>): Outcome {
  const major = (v: string): number => Number(v.split('.')[0]);
  const allEvents = new Set(Object.values(EVENTS).flat());
  const unknown = [...Object.keys(commands).filter((n) => !SERVICE_TABLE.has(n)), ...Object.keys(events).filter((n) => !allEvents.has(n))];
  if (unknown.length > 0) {
    const list = unknown.slice(0, 5).map((n) => (COMMAND_NAME.test(n) || n.endsWith('Event') ? n.slice(0, 100).replace(/[^A-Za-z0-9.]/g, '?') : '?')).join(', ');
    return { code: 'invalidData', description: { zh: `本服务没有这些消息：${list}`, en: `this service has no such message: ${list}` }, errorCode: 'invalidData' };
  }
  const wrong = [
    ...Object.entries(commands).filter(([n, v]) => major(commandVersion(n, 'command')) !== v),
    ...Object.entries(events).filter(([n, v]) => major(eventVersion(n)) !== v),
  ].map(([n]) => `${n} ${allEvents.has(n) ? eventVersion(n) : commandVersion(n, 'command')}`);
  if (wrong.length > 0) return { code: 'unsupportedData', description: { zh: `这些消息只有一个版本：${wrong.join('、')}`, en: `these messages have one version only: ${wrong.join(', ')}` } };
  return ok();
}

const byName = (list: readonly CommandDef[]) => new Map(list.map((d) => [d.name, d]));
export const SERVICE_TABLE: ReadonlyMap<string, CommandDef> = byName(SERVICE_COMMANDS);
export const PUBLISHER_TABLE: ReadonlyMap<string, CommandDef> = byName(PUBLISHER_COMMANDS);
