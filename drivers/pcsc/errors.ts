/**
 * Map the pcsclite addon's errors ("SCardTransmit error: Card was removed.(0x80100069)") to the
 * house's SsCardError codes. PC/SC return codes: pcsclite's pcsclite.h / Microsoft's winscard.h.
 */
import { ErrorCode, SsCardError } from '../../core/errors.js';

export const PcscReturn = {
  F_INTERNAL_ERROR: 0x80100001,
  E_CANCELLED: 0x80100002,
  E_INVALID_HANDLE: 0x80100003,
  E_INVALID_PARAMETER: 0x80100004,
  E_UNKNOWN_READER: 0x80100009,
  E_TIMEOUT: 0x8010000a,
  E_SHARING_VIOLATION: 0x8010000b,
  E_NO_SMARTCARD: 0x8010000c,
  E_PROTO_MISMATCH: 0x8010000f,
  E_NOT_TRANSACTED: 0x80100016,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_UNSUPPORTED_FEATURE: 0x80100022,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  W_UNSUPPORTED_CARD: 0x80100065,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_RESET_CARD: 0x80100068,
  W_REMOVED_CARD: 0x80100069,
} as const;

/**
 * PC/SC return codes of SCardTransmit that prove the command never reached a card. pcsc-lite's
 * SCardTransmit (winscard.c) checks, in this order and before it calls the reader driver
 * (IFDTransmit): RFCheckSharing (SCARD_E_SHARING_VIOLATION), RFCheckReaderStatus, then
 * RFCheckReaderEventState — the events pcscd recorded for this very handle: SCARD_W_REMOVED_CARD
 * (the card was removed since SCardConnect) and SCARD_W_RESET_CARD (another program reset it) —
 * and then the reader's state (SCARD_E_NO_SMARTCARD when it is SCARD_ABSENT). The only other
 * source of SCARD_E_NO_SMARTCARD is the driver answering IFD_ICC_NOT_PRESENT (ifdwrapper.c): the
 * IFD handler found no card to send the command to (PC/SC part 3, IFDHTransmitToICC).
 *
 * Everything else stays "may have reached the card": SCARD_E_NOT_TRANSACTED is any driver
 * failure, also one in the middle of the exchange (vpcd: the virtual card's socket closed);
 * SCARD_E_READER_UNAVAILABLE also comes from IFD_NO_SUCH_DEVICE after the command went out; a
 * timeout or an empty answer says nothing about the card.
 */
export const NOT_SENT_RETURNS: ReadonlySet<number> = new Set([PcscReturn.W_REMOVED_CARD, PcscReturn.W_RESET_CARD, PcscReturn.E_NO_SMARTCARD, PcscReturn.E_SHARING_VIOLATION]);

/**
 * A transmit error that provably never handed the command to the card carries `notSent: true` in
 * its context: PcscChannel sets it for {@link NOT_SENT_RETURNS} and for the commands it refuses
 * itself before SCardTransmit (card gone by the reader's state, channel broken or closed).
 * drivers/card/ssse-operations.ts reads it to tell `notSent` from `unknown`.
 */
export function isNotSent(err: unknown): boolean {
  return err instanceof SsCardError && err.context?.['notSent'] === true;
}

/** The PC/SC return code inside an addon error message, if any. */
export function pcscReturnCode(err: unknown): number | undefined {
  const msg = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /\(0x([0-9a-fA-F]{8})\)/.exec(msg);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/** True when the error means pcscd itself is gone (not running, or restarted under us). */
export function isServiceGone(err: unknown): boolean {
  const rc = pcscReturnCode(err);
  return rc === PcscReturn.E_NO_SERVICE || rc === PcscReturn.E_SERVICE_STOPPED || rc === PcscReturn.E_INVALID_HANDLE;
}

/** Translate an addon error into an SsCardError a person can act on. */
export function toPcscError(err: unknown, op: string, reader?: string): SsCardError {
  if (err instanceof SsCardError) return err;
  const rc = pcscReturnCode(err);
  const ctx = {
    op,
    reader,
    pcscCode: rc === undefined ? undefined : `0x${rc.toString(16).toUpperCase()}`,
    ...(op === 'transmit' && rc !== undefined && NOT_SENT_RETURNS.has(rc) ? { notSent: true } : {}),
  };
  const r = reader ? `“${reader}”` : '';
  const re = reader ? `"${reader}"` : 'the reader';
  const mk = (code: ErrorCode, zh: string, en: string): SsCardError => new SsCardError(code, { zh, en }, ctx, { cause: err });
  switch (rc) {
    case PcscReturn.W_REMOVED_CARD:
      return mk(ErrorCode.Pcsc_CardRemoved, `读卡器${r}中的卡片已被取出：请重新插卡后再试`, `the card was removed from ${re}: insert it again and retry`);
    case PcscReturn.E_NO_SMARTCARD:
      return mk(ErrorCode.Pcsc_NoCard, `读卡器${r}中没有卡片：请插入社会保障卡`, `no card in ${re}: insert the social security card`);
    case PcscReturn.W_UNRESPONSIVE_CARD:
    case PcscReturn.W_UNPOWERED_CARD:
    case PcscReturn.W_UNSUPPORTED_CARD:
      return mk(ErrorCode.Pcsc_Unresponsive, `读卡器${r}中的卡片无应答：请检查卡片是否插反或损坏`, `the card in ${re} does not answer: check that it is inserted the right way and not damaged`);
    case PcscReturn.E_UNKNOWN_READER:
    case PcscReturn.E_READER_UNAVAILABLE:
      return mk(ErrorCode.Pcsc_ReaderRemoved, `读卡器${r}不可用（已拔出？）：请检查读卡器连接`, `${re} is not available (unplugged?): check the reader's connection`);
    case PcscReturn.E_NO_SERVICE:
    case PcscReturn.E_SERVICE_STOPPED:
    case PcscReturn.E_NO_READERS_AVAILABLE:
      return mk(
        ErrorCode.Pcsc_ServiceUnavailable,
        '智能卡服务 pcscd 未运行：请运行 ./scripts/setup.sh 或 systemctl start pcscd',
        'the smart card service pcscd is not running: run ./scripts/setup.sh or systemctl start pcscd',
      );
    case PcscReturn.E_SHARING_VIOLATION:
      return mk(ErrorCode.Pcsc_SharingViolation, `读卡器${r}正被其他程序独占使用：请关闭该程序后再试`, `${re} is held exclusively by another program: close it and retry`);
    case PcscReturn.E_TIMEOUT:
      return mk(ErrorCode.Pcsc_Timeout, `读卡器${r}操作超时`, `${re} timed out`);
    case PcscReturn.W_RESET_CARD:
      return mk(ErrorCode.Pcsc_TransmitFailed, `读卡器${r}中的卡片已被其他程序复位：请重新开始操作`, `the card in ${re} was reset by another program: start the operation again`);
    case PcscReturn.E_INVALID_HANDLE:
      return mk(ErrorCode.Pcsc_NotConnected, `与读卡器${r}的连接已失效：请重新开始操作`, `the connection to ${re} is no longer valid: start the operation again`);
    case PcscReturn.E_UNSUPPORTED_FEATURE:
      return mk(ErrorCode.Pcsc_ControlFailed, `读卡器${r}不支持该控制命令`, `${re} does not support this control command`);
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return mk(
        op === 'control' ? ErrorCode.Pcsc_ControlFailed : ErrorCode.Pcsc_TransmitFailed,
        `读卡器${r}操作失败（${op}）：${detail}`,
        `${re} failed (${op}): ${detail}`,
      );
    }
  }
}
