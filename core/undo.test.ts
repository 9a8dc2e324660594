import { describe, expect, it } from 'vitest';
import { UndoStack } from './undo.js';

describe('UndoStack', () => {
  it('runs every step once, last pushed first, past a step that throws', async () => {
    const undo = new UndoStack();
    const ran: string[] = [];
    const errors: unknown[] = [];
    undo.push(() => void ran.push('journal'));
    undo.push(() => {
      ran.push('pcsc');
      throw new Error('already stopped');
    });
    undo.push(async () => {
      await new Promise((r) => setTimeout(r, 1));
      ran.push('api');
    });
    await undo.run((e) => errors.push(e));
    expect(ran).toEqual(['api', 'pcsc', 'journal']);
    expect(errors).toHaveLength(1);
    expect(undo.size).toBe(0);
    await undo.run();
    expect(ran).toHaveLength(3);
  });

  it('a second caller during a run waits for the same run', async () => {
    const undo = new UndoStack();
    let release!: () => void;
    const ran: string[] = [];
    undo.push(() => void ran.push('first'));
    undo.push(() => new Promise<void>((r) => (release = () => (ran.push('slow'), r()))));
    const a = undo.run();
    const b = undo.run();
    expect(a).toBe(b);
    release();
    await Promise.all([a, b]);
    expect(ran).toEqual(['slow', 'first']);
  });
});
