import { spawn } from 'node:child_process';
import { rejection } from '../testing/util.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.js';
import { parseHash, verifyPassphrase } from '../daemon/auth/passphrase.js';
import type { OperatorIo } from './cmd-operator.js';
import { operatorHashCommand, readPiped } from './cmd-operator.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function piped(text: string | Buffer): { io: OperatorIo; out: () => string; err: () => string } {
  const out = sink();
  const err = sink();
  return { io: { stdin: Readable.from([Buffer.from(text)]), stdout: out.stream, stderr: err.stream }, out: out.text, err: err.text };
}

/** A fake terminal: raw mode recorded, keys pushed in chunks as a person would type them. */
function terminal(chunks: string[]): { io: OperatorIo; out: () => string; err: () => string; raw: boolean[] } {
  const stdin = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (r: boolean) => void };
  const raw: boolean[] = [];
  stdin.isTTY = true;
  stdin.setRawMode = (r) => {
    raw.push(r);
  };
  const out = sink();
  const err = sink();
  let i = 0;
  const feed = (): void => {
    if (i < chunks.length) {
      stdin.write(Buffer.from(chunks[i++]!, 'utf8'));
      setTimeout(feed, 1);
    }
  };
  setTimeout(feed, 1);
  return { io: { stdin, stdout: out.stream, stderr: err.stream }, out: out.text, err: err.text, raw };
}

describe('sscard operator hash (from a pipe)', () => {
  it('prints one scrypt hash line that verifies the piped passphrase (one trailing newline dropped)', async () => {
    const t = piped('change-me-now\n');
    expect(await operatorHashCommand({}, t.io)).toBe(0);
    const line = t.out();
    expect(line).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
    const hash = line.trimEnd();
    await expect(verifyPassphrase(Buffer.from('change-me-now'), hash)).resolves.toBe(true);
    await expect(verifyPassphrase(Buffer.from('change-me-now\n'), hash)).resolves.toBe(false);
    expect(t.err()).toBe('');
  });

  it('keeps inner and leading spaces, drops only one CRLF, and honours --cost and --json', async () => {
    const t = piped('  two words  \r\n');
    expect(await operatorHashCommand({ cost: '14', json: true }, t.io)).toBe(0);
    const { hash } = JSON.parse(t.out()) as { hash: string };
    expect(parseHash(hash)!.N).toBe(2 ** 14);
    await expect(verifyPassphrase(Buffer.from('  two words  '), hash)).resolves.toBe(true);
  });

  it.each([
    ['empty', '', /no passphrase was read/],
    ['only a newline', '\n', /no passphrase was read/],
    ['too short', 'abc1234\n', /too short: at least 8 characters/],
    ['too long', 'x'.repeat(2000), /too long/],
  ])('refuses %s input, printing nothing on stdout', async (_name, input, re) => {
    const t = piped(input);
    const e = await rejection(operatorHashCommand({}, t.io));
    expect(e.code).toBe(ErrorCode.Input_BadOption);
    expect(e.text.en).toMatch(re);
    expect(t.out()).toBe('');
    if (input.trim().length > 0) expect(e.message).not.toContain(input.trim().slice(0, 20));
  });

  it('refuses a bad --cost', async () => {
    const e = await rejection(operatorHashCommand({ cost: '9' }, piped('long enough\n').io));
    expect(e.text.en).toMatch(/--cost must be an integer from 14 to 20/);
  });

  it('wipes what it read', async () => {
    const chunk = Buffer.from('wipe-me-please\n');
    const got = await readPiped(Readable.from([chunk]));
    expect(got.toString()).toBe('wipe-me-please');
    expect(chunk.every((b) => b === 0)).toBe(true);
  });
});

describe('sscard operator hash (on a terminal)', () => {
  it('asks twice in raw mode, echoes nothing, handles Backspace and arrow keys', async () => {
    // "secret-pass" typed with a typo fixed, an arrow key pressed, then confirmed
    const t = terminal(['secrex', '\u007f', 't-pa', '\u001b[D', 'ss\r', 'secret-pass\r']);
    expect(await operatorHashCommand({}, t.io)).toBe(0);
    await expect(verifyPassphrase(Buffer.from('secret-pass'), t.out().trimEnd())).resolves.toBe(true);
    expect(t.raw).toEqual([true, false]);
    const shown = t.err();
    expect(shown).toContain('操作员口令 / operator passphrase: ');
    expect(shown).toContain('再输入一次 / again: ');
    expect(shown).not.toMatch(/secre|pass\b|\*/);
  });

  it('refuses two different entries', async () => {
    const t = terminal(['first-passphrase\r', 'other-passphrase\r']);
    const e = await rejection(operatorHashCommand({}, t.io));
    expect(e.text.en).toMatch(/the two passphrases differ/);
    expect(e.message).not.toMatch(/first-pass|other-pass/);
    expect(t.out()).toBe('');
    expect(t.raw).toEqual([true, false]);
  });

  it('Ctrl-C cancels and restores the terminal', async () => {
    const t = terminal(['half', '\u0003']);
    const e = await rejection(operatorHashCommand({}, t.io));
    expect(e.text.en).toMatch(/cancelled/);
    expect(t.raw).toEqual([true, false]);
    expect(t.out()).toBe('');
  });
});

describe('the command line', () => {
  it('`operator hash` reads a piped passphrase and prints the hash (real process, real stdin pipe)', async () => {
    // A harness with only this command registered: the full sscard.ts loads every command.
    const dir = mkdtempSync(path.join(tmpdir(), 'sscard-op-'));
    try {
      const harness = path.join(dir, 'cli.mts');
      writeFileSync(
        harness,
        `import { Command } from ${JSON.stringify(createRequire(import.meta.url).resolve('commander'))};\nimport { register } from ${JSON.stringify(path.join(ROOT, 'scripts/cmd-operator.ts'))};\nconst p = new Command();\nregister(p);\nawait p.parseAsync(process.argv);\n`,
      );
      const run = (args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', harness, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
          child.stdin.end(input);
        });
      const ok = await run(['operator', 'hash'], 'piped-passphrase\n');
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      await expect(verifyPassphrase(Buffer.from('piped-passphrase'), ok.stdout.trim())).resolves.toBe(true);
      const bad = await run(['operator', 'hash'], 'abc1234\n');
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toMatch(/错误 E107：口令太短.*\nError E107: the passphrase is too short/);
      expect(bad.stderr).not.toContain('abc1234');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
