/**
 * Common.Status and Common.StatusChangedEvent payloads (XFS4IoT 3.0; docs/api.md "Common"): the
 * terminal's status report mapped onto the specification's blocks, and what changed between two.
 */
import type { TerminalEvent, TerminalStatusReport } from '../terminal/port.js';

type DeviceState = 'online' | 'offline' | 'noDevice' | 'deviceBusy' | 'hardwareError';
type ChipPowerState = 'unknown' | 'online' | 'busy' | 'noDevice' | 'noCard';

/**
 * Common.Status (3.0; KAL Common/Completions/Status_g.cs): the specification's `common`,
 * `cardReader` and `keyboard` blocks (CommonSchemas_g.cs StatusPropertiesClass,
 * CardReaderSchemas_g.cs StatusClass, KeyboardSchemas_g.cs StatusClass) and our report as `sscard`.
 * Our additions inside a standard block are `sscard`-prefixed (xfs-spec.ts VENDOR_PREFIX).
 */
export function statusPayload(s: TerminalStatusReport): Record<string, unknown> {
  const cardReaders = s.readers.filter((r) => r.slot === 'card');
  let device: DeviceState = 'online';
  if (!s.pcsc.up) device = 'offline';
  else if (cardReaders.length === 0) device = 'noDevice';
  else if (cardReaders.some((r) => r.busy)) device = 'deviceBusy';
  const pad: DeviceState = s.pinPad.kind === 'none' ? 'noDevice' : s.pinPad.connected ? 'online' : 'offline';
  // The reader powers the card when it is inserted (the terminal connects to it at once).
  let chipPower: ChipPowerState = 'online';
  if (!s.pcsc.up) chipPower = 'unknown';
  else if (cardReaders.length === 0) chipPower = 'noDevice';
  else if (!s.card.present) chipPower = 'noCard';
  else if (cardReaders.some((r) => r.busy)) chipPower = 'busy';
  return {
    common: { device },
    cardReader: {
      media: s.card.present ? 'present' : cardReaders.length === 0 ? 'unknown' : 'notPresent',
      chipPower,
      chipModule: !s.pcsc.up ? 'unknown' : cardReaders.length === 0 ? 'inoperable' : 'ok',
    },
    keyboard: { autoBeepMode: { activeAvailable: false, inactiveAvailable: false }, sscardDevice: pad },
    sscard: s,
  };
}

/** The standard blocks of Common.Status, for StatusChangedEvent's "what changed". */
const STATUS_BLOCKS = ['common', 'cardReader', 'keyboard'] as const;

/**
 * Common.StatusChangedEvent (3.0; KAL Common/Events/StatusChangedEvent_g.cs): the part of Status
 * that changed since `before`, in Status's shape — only the changed fields of the standard blocks —
 * and our report whole as `sscard`; `sscardDevice` names the device change that caused it, if one did.
 */
export function statusChangedPayload(now: Record<string, unknown>, before: Record<string, unknown> | null, device?: Extract<TerminalEvent, { type: 'device' }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const block of STATUS_BLOCKS) {
    const a = (now[block] ?? {}) as Record<string, unknown>;
    const b = (before?.[block] ?? {}) as Record<string, unknown>;
    const changed = Object.fromEntries(Object.entries(a).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(b[k])));
    if (Object.keys(changed).length > 0) out[block] = changed;
  }
  out['sscard'] = now['sscard'];
  if (device !== undefined) out['sscardDevice'] = { component: device.component, connected: device.connected, problem: device.problem === null ? null : { zh: device.problem.zh, en: device.problem.en } };
  return out;
}
