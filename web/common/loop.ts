/**
 * The loop every page's controller runs (web/README.md "Layout"): a pure step function
 * `(state, message, now) → { state, effects }` driven by messages; the effects are performed in
 * order after the state is taken, and the page is told when the state changed. Once stopped,
 * messages are dropped (a page going away receives nothing more).
 */
export interface Stepped<S, E> {
  readonly state: S;
  readonly effects: readonly E[];
}

export interface Loop<S, M> {
  readonly dispatch: (m: M) => void;
  readonly state: () => S;
  readonly stop: () => void;
}

export function startLoop<S, M, E>(o: {
  readonly initial: S;
  readonly step: (s: S, m: M, now: number) => Stepped<S, E>;
  readonly perform: (e: E) => void;
  readonly onChange: (s: S) => void;
  readonly now: () => number;
}): Loop<S, M> {
  let state = o.initial;
  let stopped = false;
  return {
    dispatch(m) {
      if (stopped) return;
      const r = o.step(state, m, o.now());
      const changed = r.state !== state;
      state = r.state;
      for (const e of r.effects) o.perform(e);
      if (changed) o.onChange(state);
    },
    state: () => state,
    stop() {
      stopped = true;
    },
  };
}
