/**
 * The card transport contract: how the rest of the house talks to a card (or a PSAM), whether it
 * sits in a PC/SC reader behind pcscd or is a virtual card in this process. Modelled on the
 * binding contract of node-serialport: the contract is this TSDoc, and one conformance suite
 * (testing/transport-contract.ts) runs against every implementation.
 */

/** Protocol the card is talking, as negotiated by the reader. */
export type CardProtocol = 'T0' | 'T1' | 'RAW';

/** What happens to the card when a channel closes (PC/SC dispositions). */
export type Disposition = 'leave' | 'reset' | 'unpower' | 'eject';

export interface TransmitOptions {
  /**
   * Give up waiting after this many milliseconds (default: the transport's own default).
   * A timeout does not mean the card did not execute the command: callers of state-changing
   * commands must treat it as "outcome unknown" and never retry.
   */
  readonly timeoutMs?: number;
  /**
   * The answer is secret (e.g. a PSAM's encrypted PIN block): traces show its status word only,
   * and the answer is marked secret (core/secret.ts). A command built from secret data is marked
   * where it was built and redacted without this flag; PIN-bearing INS codes are redacted anyway.
   */
  readonly sensitive?: boolean;
}

export interface CardTransport {
  /** Reader name as PC/SC reports it ("Virtual PCD 00 00"), or the virtual card's label. */
  readonly readerName: string;
  /** Answer-to-reset of the card in the reader, as read at connect or last reset. */
  readonly atr: Buffer;
  /** Protocol in use. */
  readonly protocol: CardProtocol;
  /** True until the channel was closed, or the card or reader went away. */
  readonly isOpen: boolean;

  /**
   * Send one command APDU and resolve with the complete response APDU (data ‖ SW1 SW2).
   *
   * The transport handles the transport-level status words itself: `61xx` is followed by
   * GET RESPONSE (`00 C0 00 00 xx`) and the pieces are joined; `6Cxx` re-sends the command with
   * Le = xx. It never retries anything else. Commands are serialised: at most one is in flight
   * per card, callers may call concurrently and are answered in order.
   *
   * Rejects with SsCardError: Pcsc_NoCard / Pcsc_CardRemoved / Pcsc_ReaderRemoved /
   * Pcsc_ServiceUnavailable / Pcsc_Timeout / Pcsc_TransmitFailed / Pcsc_NotConnected.
   */
  transmit(command: Uint8Array, options?: TransmitOptions): Promise<Buffer>;

  /**
   * SCardControl pass-through (PIN pads, feature discovery). Rejects when unsupported.
   * `options.timeoutMs` overrides the transport's default: a secure PIN entry takes as long as
   * the holder needs, far longer than an APDU.
   */
  control(controlCode: number, data: Uint8Array, maxResponseLength?: number, options?: TransmitOptions): Promise<Buffer>;

  /** Warm reset of the card; resolves with the (new) ATR. */
  reset(): Promise<Buffer>;

  /** Release the card. Idempotent. */
  close(disposition?: Disposition): Promise<void>;
}

/**
 * Run `transmit` through the transport-level status words of ISO 7816-4 §5.3.4 / §12.6:
 * `61xx` (more data: GET RESPONSE with Le = xx, repeated, data concatenated) and `6Cxx`
 * (wrong Le: re-send the same command with Le = xx, once). Shared by every transport so that a
 * T=0 virtual card and a T=0 card behind pcscd behave the same.
 */
export async function exchangeWithGetResponse(
  raw: (command: Buffer) => Promise<Buffer>,
  command: Buffer,
  maxGetResponses = 64,
): Promise<Buffer> {
  let response = await raw(command);
  if (response.length >= 2 && response[response.length - 2] === 0x6c) {
    const le = response[response.length - 1]!;
    response = await raw(withLe(command, le));
  }
  const chunks: Buffer[] = [];
  for (let i = 0; i < maxGetResponses; i++) {
    if (response.length < 2 || response[response.length - 2] !== 0x61) break;
    chunks.push(response.subarray(0, response.length - 2));
    const le = response[response.length - 1]!;
    response = await raw(Buffer.from([command[0]! & 0x03, 0xc0, 0x00, 0x00, le]));
  }
  return chunks.length === 0 ? response : Buffer.concat([...chunks, response]);
}

/**
 * Replace (or add) the short Le of a command. Used for `6Cxx`: cases 1 and 2 become case 2 with
 * Le; cases 3 and 4 become case 4 with Le. Only short APDUs get `6Cxx`.
 */
function withLe(command: Buffer, le: number): Buffer {
  if (command.length <= 5) {
    // case 1 (4 bytes) or case 2 (5 bytes): header ‖ Le
    return Buffer.concat([command.subarray(0, 4), Buffer.from([le])]);
  }
  const lc = command[4]!;
  const body = command.subarray(0, 5 + lc); // header ‖ Lc ‖ data, without the old Le
  return Buffer.concat([body, Buffer.from([le])]);
}
