/**
 * docs/api.md lists every message and every SSCardDriver function with its status (docs/api.md
 * "Status of every message", "SSCardDriver calls"): the tables must name exactly what the daemon
 * serves as implemented, and every function of the vendors' library the daemon knows.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENTS, PUBLISHER_COMMANDS, SERVICE_COMMANDS } from './commands.js';
import { vendorFunction } from './vendor-calls.js';
import { VENDOR_FUNCTIONS, VENDOR_NOT_PROVIDED } from './vendor.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');

/** The rows of the first table after `heading`: cells per row. */
function table(heading: string): string[][] {
  const at = doc.indexOf(heading);
  expect(at, heading).toBeGreaterThan(-1);
  const lines = doc.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith('|')) break;
    rows.push(l.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

/** `A.B`, `C` in a cell → A.B, A.C (a name without its interface takes the row's first interface). */
function names(cell: string): string[] {
  const raw = [...cell.matchAll(/`([A-Za-z_.0-9/]+)`/g)].map((m) => m[1]!);
  const iface = raw[0]?.split('.')[0] ?? '';
  return raw.map((n) => (n.includes('.') ? n : `${iface}.${n}`));
}

describe('docs/api.md "Status of every message"', () => {
  const rows = table('## Status of every message');
  const listed = (kind: string, implemented: boolean) => rows.filter((r) => r[1] === kind && r[2]!.startsWith('implemented') === implemented).flatMap((r) => names(r[0]!));

  it('the implemented commands are exactly those the service and the publisher serve', () => {
    const served = new Set([...SERVICE_COMMANDS, ...PUBLISHER_COMMANDS].map((d) => d.name));
    expect(new Set(listed('command', true))).toEqual(served);
    for (const n of listed('command', false)) expect(served.has(n), n).toBe(false);
  });

  it('the implemented events are exactly those the service sends', () => {
    const sent = new Set(Object.values(EVENTS).flat());
    expect(new Set(listed('event', true))).toEqual(sent);
    for (const n of listed('event', false)) expect(sent.has(n), n).toBe(false);
  });

  it('every row says why a message is not implemented', () => {
    for (const r of rows.filter((x) => !x[2]!.startsWith('implemented'))) expect(r[2], r[0]).toMatch(/^not implemented/);
  });
});

describe('docs/api.md "SSCardDriver calls"', () => {
  const rows = table('Every function of the vendors\' library');
  const expand = (cell: string) =>
    [...cell.matchAll(/`(i[A-Za-z_0-9]+?)(Step1\/2\/3|Step1\/2)?`/g)].flatMap((m) => (m[2] === undefined ? [m[1]!] : m[2] === 'Step1/2' ? [`${m[1]}Step1`, `${m[1]}Step2`] : [`${m[1]}Step1`, `${m[1]}Step2`, `${m[1]}Step3`]));

  it('names every function the daemon knows, with its status', () => {
    const all = rows.flatMap((r) => expand(r[0]!));
    for (const fn of [...VENDOR_FUNCTIONS, 'iGetReaderInfo', 'iReadCard', 'iReadCardBas_HSM_Step1', 'iReadCardBas_HSM_Step2', 'iReadCard_HSM_Step1', 'iReadCard_HSM_Step2', 'iWriteCard', ...VENDOR_NOT_PROVIDED]) {
      expect(all, fn).toContain(fn);
      expect(vendorFunction(fn), fn).toBeDefined();
    }
    for (const r of rows) {
      const provided = r[2]!.startsWith('provided');
      for (const fn of expand(r[0]!)) {
        if (provided) expect((VENDOR_NOT_PROVIDED as readonly string[]).includes(fn), fn).toBe(false);
        else if (r[2]!.startsWith('not provided')) expect((VENDOR_NOT_PROVIDED as readonly string[]).includes(fn), fn).toBe(true);
        else expect(vendorFunction(fn), fn).toBeUndefined();
      }
    }
    expect(rows.length).toBeGreaterThan(10);
  });
});
