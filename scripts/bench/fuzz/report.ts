/**
 * What a fuzz run reports (docs/benchmarks.md, "bench:fuzz"): every message sent and every answer
 * by kind, the refusals, and the anomalies the callers assert there are none of.
 */

export interface FuzzReport {
  readonly seed: number;
  /** Messages sent: WebSocket frames, HTTP requests, upgrade requests. */
  readonly messages: number;
  readonly bytesSent: number;
  readonly durationMs: number;
  /** Messages sent by kind ("ws wrongTypes", "http originNull", "upgrade token", …). */
  readonly sent: Record<string, number>;
  /** Every answer by kind: "ws ack invalidMessage", "ws completion success", "ws close 1009", "http 401", "upgrade 101", … */
  readonly answers: Record<string, number>;
  /** The answers that refuse: acknowledge statuses, completion codes other than success / canceled / timeOut, server closes, HTTP ≥ 400, vendor return codes ≠ 0, refused upgrades. */
  readonly refusals: Record<string, number>;
  /** Completions by command and code ("SSCard.ReadBasic success"). */
  readonly completions: Record<string, number>;
  /** Commands the daemon accepted (acknowledge with status null). */
  readonly acceptedCommands: number;
  /** WebSocket connections the daemon accepted (pool and upgrades). */
  readonly connectionsOpened: number;
  /** Of those, the connections that sent frames (the client's pool and its keypad connection, each time it was opened). */
  readonly poolConnections: number;
  /** Answers to well-formed vendor calls (POST /sscard/<function>) by function: "iReadCardBas 200 ret=0", "iVerifyPIN cut by the client". */
  readonly vendor: Record<string, number>;
  /** Frames on a connection the server closed before answering them (after a frame over the limit, e.g.). */
  readonly framesLostToClose: number;
  /** Digits the keypad model turned into `clear` (the traffic would otherwise have completed a PIN). */
  readonly keysReplaced: number;
  readonly anomalies: { readonly count: number; readonly byKind: Record<string, number>; readonly examples: readonly string[] };
}

export class Tally {
  private readonly m = new Map<string, number>();
  public add(k: string, n = 1): void {
    this.m.set(k, (this.m.get(k) ?? 0) + n);
  }
  public record(): Record<string, number> {
    return Object.fromEntries([...this.m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  }
  public get total(): number {
    let n = 0;
    for (const v of this.m.values()) n += v;
    return n;
  }
}
