/**
 * The technicians' chip access (the vendors' ChipIO / ChipPower): one raw APDU to the card in a
 * slot, or a power change, under the slot's lock. PIN-bearing commands are refused (README "PIN
 * secrecy": a PIN goes to a card only through the service flows). Either leaves the card's
 * selection and security state unknown, so the slot is marked for a fresh identification before
 * its next service.
 */
import { PIN_BEARING_INS } from '../../apdu/apdu.js';
import { ErrorCode, SsCardError } from '../../core/errors.js';
import { bi } from '../../core/text.js';
import type { PcscChannel } from '../../drivers/pcsc/channel.js';
import { cancelled } from './card-slot.js';
import type { CardSlots } from './card-slots.js';
import type { ChipPowerAction } from './port.js';

function insHex(ins: number): string {
  return ins.toString(16).toUpperCase().padStart(2, '0');
}

/** TerminalPort.chipIo. */
export async function chipIo(slots: CardSlots, apdu: Buffer, reader: string | undefined, signal: AbortSignal): Promise<Buffer> {
  if (apdu.length < 4) throw new SsCardError(ErrorCode.Input_BadApdu, bi(`APDU 至少 4 字节，实际 ${apdu.length} 字节`, `an APDU has at least 4 bytes, got ${apdu.length}`));
  if (PIN_BEARING_INS.has(apdu[1]!)) {
    throw new SsCardError(
      ErrorCode.Input_BadApdu,
      bi(
        `不允许通过 ChipIO 发送携带密码的命令（INS ${insHex(apdu[1]!)}）：请使用 SSCard 业务命令`,
        `PIN-bearing commands (INS ${insHex(apdu[1]!)}) are not allowed through ChipIO: use the SSCard service commands`,
      ),
    );
  }
  const slot = slots.slotFor(reader);
  const unlock = slot.lock('chipIo');
  try {
    if (!slot.present || slot.channel === undefined) throw slot.noCard();
    if (signal.aborted) throw cancelled();
    slot.dirty = true;
    return await slot.channel.transmit(apdu);
  } finally {
    unlock();
  }
}

/** TerminalPort.chipPower. */
export async function chipPower(slots: CardSlots, action: ChipPowerAction, reader: string | undefined, signal: AbortSignal): Promise<{ atr: Buffer | null }> {
  const slot = slots.slotFor(reader);
  const unlock = slot.lock('chipPower');
  try {
    if (!slot.present) throw slot.noCard();
    if (signal.aborted) throw cancelled();
    if (action === 'off') {
      await slot.presence;
      slot.actor.send({ type: 'CARD_REMOVED' });
      const ch = slot.channel;
      slot.channel = undefined;
      await ch?.close('unpower');
      slot.dirty = true;
      return { atr: null };
    }
    if (action === 'warm' && slot.channel !== undefined) {
      const atr = await slot.channel.reset();
      slot.dirty = true;
      return { atr };
    }
    const ch = slot.channel;
    slot.channel = undefined;
    await ch?.close('unpower').catch(() => undefined);
    await slots.connect(slot);
    slot.dirty = true;
    // Read again: connect() set it (the narrowing above does not know).
    const fresh = slot.channel as PcscChannel | undefined;
    if (fresh === undefined) throw slot.noCard();
    return { atr: fresh.atr };
  } finally {
    unlock();
  }
}
