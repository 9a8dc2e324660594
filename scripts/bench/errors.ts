/**
 * Error accounting (docs/benchmarks.md, "How the benches report"): an answer or flow that failed
 * is an error, counted by reason and reported per path; it is never timed as if it had succeeded.
 */
import { isSsCardError } from '../../core/errors.js';
import { swHex } from '../../apdu/sw.js';


/** Errors counted by reason. */
export class ErrorTally {
  private readonly byReason = new Map<string, number>();
  private total = 0;

  add(reason: string, n = 1): this {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
    this.total += n;
    return this;
  }

  addAll(other: ErrorTally): this {
    for (const [k, v] of other.byReason) this.add(k, v);
    return this;
  }

  get count(): number {
    return this.total;
  }

  /** The commonest reason and its count. */
  top(): readonly [string, number] | undefined {
    return [...this.byReason].sort((a, b) => b[1] - a[1])[0];
  }

  /** Commonest first. */
  toRecord(): Record<string, number> {
    return Object.fromEntries([...this.byReason].sort((a, b) => b[1] - a[1]));
  }

  /** "3× SW 6A82; 1× timeout" (commonest first), or "" for none. */
  toString(): string {
    return Object.entries(this.toRecord())
      .map(([k, v]) => `${v}× ${k}`)
      .join('; ');
  }

  static sum(tallies: Iterable<ErrorTally>): ErrorTally {
    const t = new ErrorTally();
    for (const x of tallies) t.addAll(x);
    return t;
  }
}

/** The text of anything thrown (the English text of the house's errors). */
export function reasonOf(e: unknown): string {
  if (isSsCardError(e)) return e.text.en;
  return e instanceof Error ? e.message : String(e);
}

/** The status word ending a response APDU, or undefined when it has fewer than 2 bytes. */
export function statusWord(answer: Uint8Array): number | undefined {
  return answer.length < 2 ? undefined : (answer[answer.length - 2]! << 8) | answer[answer.length - 1]!;
}

/** Why an answer counts as an error ("SW 6A82"), or undefined when it ends with 9000. */
export function answerError(answer: Uint8Array): string | undefined {
  const sw = statusWord(answer);
  if (sw === undefined) return `answer of ${answer.length} byte${answer.length === 1 ? '' : 's'}, no status word`;
  return sw === 0x9000 ? undefined : `SW ${swHex(sw)}`;
}
