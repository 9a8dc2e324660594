/**
 * A virtual card as the vpcd bridge and the in-process transport see it: a card OS that powers up
 * with an ATR and answers C-APDUs with R-APDUs. VirtualSsCard and VirtualPsam implement it.
 *
 * `process` is synchronous and total: any byte string yields a response APDU (at least SW1 SW2),
 * never an exception, because a real card never throws at the reader either.
 */
export interface VirtualCardDevice {
  /** Short name for logs and the `sscard sim` banner ("2.0 card X00000019", "PSAM 0001"). */
  readonly label: string;
  /** The ATR this card answers with after power-on or reset. */
  readonly atr: Buffer;
  /** Cold start: volatile state (selected file, challenge, security status) cleared. */
  powerOn(): void;
  /** Power removed: volatile state lost, persistent state (tries, PIN, records) kept. */
  powerOff(): void;
  /** Warm reset: like powerOff + powerOn. */
  reset(): void;
  /** Execute one command APDU; returns data ‖ SW1 SW2. */
  process(command: Buffer): Buffer;
}
