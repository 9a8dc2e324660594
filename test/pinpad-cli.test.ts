/**
 * The technician commands on the simulators (real ptys for the serial ones): `pinpad test` prints
 * '*' per key and never a digit; `idcard read` masks the ID number unless --full.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { idcardReadCommand } from '../scripts/cmd-idcard.js';
import { pinpadTestCommand } from '../scripts/cmd-pinpad.js';

function capture(): { out: () => string; restore: () => void } {
  let buf = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    buf += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  return { out: () => buf, restore: () => spy.mockRestore() };
}

/** Type on "the terminal" once the command listens to stdin. */
function typeWhenListening(keys: string): void {
  const timer = setInterval(() => {
    if (process.stdin.listenerCount('data') > 0) {
      clearInterval(timer);
      process.stdin.emit('data', Buffer.from(keys, 'latin1'));
    }
  }, 10);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('sscard pinpad test', () => {
  it.each([['sim-serial'], ['sim-hid']])('%s: stars, a digit count and timing; no digit of the PIN in the output', async (device) => {
    const c = capture();
    try {
      typeWhenListening('975310');
      const code = await pinpadTestCommand({ device, timeout: '10' });
      expect(code).toBe(0);
    } finally {
      c.restore();
    }
    const out = c.out();
    expect(out).toContain('******');
    expect(out).toMatch(/6 位 digits/);
    expect(out).not.toMatch(/975|531|310/);
  });

  it('a cancelled entry exits 1 with the bilingual error, still no digit', async () => {
    const c = capture();
    let code = -1;
    try {
      typeWhenListening('97\u001b');
      code = await pinpadTestCommand({ device: 'sim-serial', timeout: '10', json: true });
    } finally {
      c.restore();
    }
    expect(code).toBe(1);
    const body = JSON.parse(c.out()) as { results: { ok: boolean; error: { code: number; zh: string; en: string } }[] };
    expect(body.results[0]).toMatchObject({ ok: false, error: { code: 703 } });
    expect(c.out()).not.toContain('97');
  });

  it('an unknown device is Input_BadOption (exit code via the caller), naming the forms', async () => {
    await expect(pinpadTestCommand({ device: 'usb' })).rejects.toMatchObject({ code: 107 });
  });
});

describe('sscard idcard read', () => {
  it('masks the ID number by default and shows it with --full', async () => {
    let c = capture();
    try {
      expect(await idcardReadCommand({ sim: 'id-card-3.0' })).toBe(0);
    } finally {
      c.restore();
    }
    expect(c.out()).toContain('410402********0047');
    expect(c.out()).not.toContain('410402199207080047');
    expect(c.out()).toContain('李晓红');

    c = capture();
    try {
      expect(await idcardReadCommand({ sim: 'id-card-3.0', full: true, json: true })).toBe(0);
    } finally {
      c.restore();
    }
    expect((JSON.parse(c.out()) as { card: { idNumber: string } }).card.idNumber).toBe('410402199207080047');
  });

  it('an unknown fixture lists the available ones', async () => {
    await expect(idcardReadCommand({ sim: 'nobody' })).rejects.toThrow(/id-card-2\.0/);
  });
});
