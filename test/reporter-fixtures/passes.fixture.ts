import { expect, it } from 'vitest';

it('passes 1', () => expect(1).toBe(1));
it('passes 2', () => expect(2).toBe(2));
