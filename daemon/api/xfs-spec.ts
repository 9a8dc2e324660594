/**
 * What the XFS4IoT specification (CEN CWA 17852; docs/domain.md §7) fixes about the messages this
 * terminal implements, as the machine-readable definitions in public have it: the generated classes
 * of KAL's open-source framework (KAL-ATM-Software/KAL_XFS4IoT_SP-Dev, Framework/Core/<Interface>/
 * {Commands,Completions,Events}/*_g.cs — each `[XFS4Version(Version = …)]` and each payload's
 * `ErrorCodeEnum`). One table per fact; the envelope (protocol.ts), the commands (commands.ts) and
 * the conformance suite read them from here.
 *
 * Our own interfaces (SSCard, Operator) and our vendor commands (Keyboard.TouchKey) are not in the
 * specification: they carry {@link VENDOR_VERSION}, and every field we add to a standard message is
 * prefixed {@link VENDOR_PREFIX} (the specification lets a vendor add fields; a name of its own avoids
 * a clash with a later version).
 */

/** The prefix of our fields in standard messages (`sscardErrorCode`, `sscardReader`, …). */
export const VENDOR_PREFIX = 'sscard';

/** A field name that is ours: the prefix, then an upper-case letter or digit (`sscardTrace`). */
export const VENDOR_FIELD = /^sscard[A-Z0-9]/;

/** The version of our own interfaces' messages (SSCard, Operator, Keyboard.TouchKey). */
export const VENDOR_VERSION = '2.0';

/** A standard message's version in each direction (KAL's `XFS4Version` of the command / completion class). */
interface CommandVersions {
  readonly command: string;
  readonly completion: string;
}

/** Standard commands, with the file each version is read from (Framework/Core/…_g.cs). */
export const COMMAND_VERSIONS: Readonly<Record<string, CommandVersions>> = {
  // Common/Commands/Status_g.cs 2.0, Common/Completions/Status_g.cs 3.0
  'Common.Status': { command: '2.0', completion: '3.0' },
  // Common/Commands/Capabilities_g.cs 2.0, Common/Completions/Capabilities_g.cs 3.0
  'Common.Capabilities': { command: '2.0', completion: '3.0' },
  // Common/{Commands,Completions}/Cancel_g.cs
  'Common.Cancel': { command: '2.0', completion: '2.0' },
  // Common/{Commands,Completions}/SetVersions_g.cs
  'Common.SetVersions': { command: '2.0', completion: '2.0' },
  // CardReader/{Commands,Completions}/ChipIO_g.cs
  'CardReader.ChipIO': { command: '3.0', completion: '3.0' },
  // CardReader/Commands/ChipPower_g.cs 2.0, CardReader/Completions/ChipPower_g.cs 3.0
  'CardReader.ChipPower': { command: '2.0', completion: '3.0' },
  // CardReader/{Commands,Completions}/Reset_g.cs
  'CardReader.Reset': { command: '2.0', completion: '2.0' },
  // Keyboard/{Commands,Completions}/PinEntry_g.cs
  'Keyboard.PinEntry': { command: '2.0', completion: '2.0' },
  // ServicePublisher/{Commands,Completions}/GetServices_g.cs
  'ServicePublisher.GetServices': { command: '2.0', completion: '2.0' },
};

/** Standard events (KAL's `XFS4Version` of the event class). */
export const EVENT_VERSIONS: Readonly<Record<string, string>> = {
  // Common/Events/StatusChangedEvent_g.cs
  'Common.StatusChangedEvent': '3.0',
  // Common/Events/ErrorEvent_g.cs
  'Common.ErrorEvent': '2.0',
  // CardReader/Events/MediaInsertedEvent_g.cs, MediaRemovedEvent_g.cs
  'CardReader.MediaInsertedEvent': '2.0',
  'CardReader.MediaRemovedEvent': '2.0',
  // Keyboard/Events/KeyEvent_g.cs
  'Keyboard.KeyEvent': '2.0',
};

/** The version a command is answered with (acknowledge: the command's; completion: the completion's). */
export function commandVersion(name: string, part: 'command' | 'completion'): string {
  return COMMAND_VERSIONS[name]?.[part] ?? VENDOR_VERSION;
}

export function eventVersion(name: string): string {
  return EVENT_VERSIONS[name] ?? VENDOR_VERSION;
}

/** Whether a message is one of the specification's (not ours). */
export function isStandard(name: string): boolean {
  return name in COMMAND_VERSIONS || name in EVENT_VERSIONS;
}

/**
 * Each standard command's own `errorCode` values (the completion's `ErrorCodeEnum`): a completion
 * with `commandErrorCode` carries one of these and nothing else. A standard command without an
 * entry has none (it never completes `commandErrorCode`).
 */
export const COMMAND_ERROR_CODES: Readonly<Record<string, readonly string[]>> = {
  // Common/Completions/Cancel_g.cs
  'Common.Cancel': ['noMatchingRequestIDs'],
  // CardReader/Completions/ChipIO_g.cs
  'CardReader.ChipIO': ['mediaJam', 'noMedia', 'invalidMedia', 'invalidData', 'protocolNotSupported', 'atrNotObtained', 'cardCollision'],
  // CardReader/Completions/ChipPower_g.cs
  'CardReader.ChipPower': ['chipPowerNotSupported', 'mediaJam', 'noMedia', 'invalidMedia', 'invalidData', 'atrNotObtained'],
  // CardReader/Completions/Reset_g.cs
  'CardReader.Reset': ['mediaJam', 'shutterFail', 'retainBinFull'],
  // Keyboard/Completions/PinEntry_g.cs
  'Keyboard.PinEntry': ['keyInvalid', 'keyNotSupported', 'noActivekeys', 'noTerminatekeys', 'minimumLength', 'tooManyFrames', 'partialFrame', 'entryTimeout'],
};

/**
 * Our detailed error codes (protocol.ts errorCodeName) that mean one of a standard command's own
 * codes. A detailed code with no row here does not become `commandErrorCode` on a standard command.
 */
const DETAIL_TO_STANDARD: Readonly<Record<string, string>> = {
  'flow.noCard': 'noMedia',
  'pcsc.noCard': 'noMedia',
  'pcsc.cardRemoved': 'noMedia',
  'pcsc.notConnected': 'noMedia',
  'card.notSsse': 'invalidMedia',
  'input.badApdu': 'invalidData',
  'pinPad.timeout': 'entryTimeout',
  'pinPad.badLength': 'minimumLength',
};

/** The standard command's own errorCode for our detailed one, when it has one. */
export function standardErrorCode(command: string, detail: string): string | undefined {
  const own = COMMAND_ERROR_CODES[command];
  if (own === undefined) return undefined;
  if (own.includes(detail)) return detail;
  const mapped = DETAIL_TO_STANDARD[detail];
  return mapped !== undefined && own.includes(mapped) ? mapped : undefined;
}

/** The interface names `Common.Capabilities` may list (CommonSchemas_g.cs `InterfaceClass.NameEnum`). */
export const STANDARD_INTERFACES = [
  'Common',
  'CardReader',
  'CashAcceptor',
  'CashDispenser',
  'CashManagement',
  'PinPad',
  'Crypto',
  'KeyManagement',
  'Keyboard',
  'TextTerminal',
  'Printer',
  'BarcodeReader',
  'Camera',
  'Lights',
  'Auxiliaries',
  'VendorMode',
  'VendorApplication',
  'Storage',
  'Biometric',
  'Check',
  'MixedMedia',
  'Deposit',
  'German',
  'BanknoteNeutralization',
  'PowerManagement',
] as const;
