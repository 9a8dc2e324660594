import { describe, expect, it } from 'vitest';
import { Debounced, refreshFor, type Timers } from './refresh.js';

/** Timers the test moves by hand. */
function manualTimers(): Timers & { fire(): void; count(): number } {
  const pending = new Map<number, () => void>();
  let id = 0;
  return {
    set(fn) {
      pending.set(++id, fn);
      return id;
    },
    clear(h) {
      pending.delete(h as number);
    },
    fire() {
      const all = [...pending.values()];
      pending.clear();
      for (const f of all) f();
    },
    count: () => pending.size,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('which event reads what', () => {
  it.each([
    ['Common.StatusChangedEvent', 'status'],
    ['CardReader.MediaInsertedEvent', 'status'],
    ['CardReader.MediaRemovedEvent', 'status'],
    ['SSCard.CardInsertedEvent', 'status'],
    ['SSCard.CardIdentifiedEvent', 'status'],
    ['SSCard.CardRemovedEvent', 'status'],
    ['SSCard.SessionEndedEvent', 'status'],
    ['SSCard.ResultEvent', 'status'],
    ['SSCard.LogChangedEvent', 'log'],
    ['SSCard.PinDigitsEvent', 'none'],
    ['SSCard.PinEntryStartedEvent', 'none'],
    ['Keyboard.KeyEvent', 'none'],
    ['Something.Else', 'none'],
  ])('%s → %s', (name, want) => {
    expect(refreshFor(name)).toBe(want);
  });
});

describe('Debounced', () => {
  it('a burst of pokes is one read after the last; nothing is scheduled while nothing happens', async () => {
    const t = manualTimers();
    let reads = 0;
    const d = new Debounced(() => (reads++, Promise.resolve()), 150, t);
    expect(t.count()).toBe(0);
    for (let i = 0; i < 5; i++) d.poke();
    expect(t.count()).toBe(1);
    t.fire();
    await flush();
    expect(reads).toBe(1);
    expect(t.count()).toBe(0);
    expect(d.pending).toBe(false);
  });

  it('a poke while a read runs gives one more read after it, not two at once', async () => {
    const t = manualTimers();
    let running = 0;
    let most = 0;
    let reads = 0;
    let release: () => void = () => undefined;
    const d = new Debounced(
      () =>
        new Promise<void>((resolve) => {
          running++;
          reads++;
          most = Math.max(most, running);
          release = () => {
            running--;
            resolve();
          };
        }),
      150,
      t,
    );
    d.poke();
    t.fire();
    expect(reads).toBe(1);
    d.poke();
    t.fire(); // fires while the first read runs: folded into "again"
    expect(reads).toBe(1);
    release();
    await flush();
    expect(t.count()).toBe(1);
    t.fire();
    expect(reads).toBe(2);
    release();
    await flush();
    expect(most).toBe(1);
    expect(t.count()).toBe(0);
  });

  it('cancel drops a waiting read', () => {
    const t = manualTimers();
    let reads = 0;
    const d = new Debounced(() => (reads++, Promise.resolve()), 150, t);
    d.poke();
    d.cancel();
    expect(t.count()).toBe(0);
    expect(reads).toBe(0);
  });
});
