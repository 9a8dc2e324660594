/**
 * Undo steps for resources opened one after another (journal, PC/SC, simulators, devices): each
 * opener pushes how to close what it opened; on the way out they run last first, each once, and a
 * step that throws does not stop the others (best effort: the caller is already leaving).
 */
export type UndoStep = () => Promise<void> | void;

export class UndoStack {
  private readonly steps: UndoStep[] = [];
  private running: Promise<void> | undefined;

  /** Remember how to undo what was just done; returns the step, for chaining. */
  public push(step: UndoStep): UndoStep {
    this.steps.push(step);
    return step;
  }

  public get size(): number {
    return this.steps.length;
  }

  /**
   * Run every step, last pushed first. A second call while (or after) running waits for the same
   * run; steps pushed after a run started run in a later call.
   */
  public run(onError?: (err: unknown) => void): Promise<void> {
    return (this.running ??= (async () => {
      try {
        while (this.steps.length > 0) {
          const step = this.steps.pop()!;
          try {
            await step();
          } catch (err) {
            onError?.(err);
          }
        }
      } finally {
        this.running = undefined;
      }
    })());
  }
}
