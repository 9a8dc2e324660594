/**
 * The supply chain of the production dependencies (README "Supply chain"):
 *
 *   node dist/scripts/supply-chain.js sbom [--out FILE]   CycloneDX 1.5 SBOM of what ships (npm sbom,
 *                                                        dev dependencies left out), default dist/sbom.cdx.json
 *   node dist/scripts/supply-chain.js audit               npm's advisory data for the production
 *                                                        dependencies: exit 1 on a high or critical one
 *
 * npm itself makes both (npm 11 `npm sbom`, `npm audit`): no tool of our own reads a lock file.
 * When npm cannot reach the advisory data (a registry mirror without the audit endpoint, or no
 * network), `audit` says so, names what answered, and exits 0: the check was not made, and the
 * line in CI's log says it — it never reports "no vulnerabilities" it did not look for.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from './cli-util.js';

/** What `npm audit --json` said, as a decision. */
export type AuditVerdict =
  | { readonly kind: 'clean'; readonly counts: Readonly<Record<string, number>> }
  | { readonly kind: 'vulnerable'; readonly counts: Readonly<Record<string, number>>; readonly packages: readonly string[] }
  | { readonly kind: 'unavailable'; readonly why: string };

const FAILING = ['high', 'critical'];

/** `npm audit --json` output → the verdict (high and critical fail; the rest are reported). */
export function auditVerdict(json: string): AuditVerdict {
  let r: unknown;
  try {
    r = JSON.parse(json);
  } catch {
    return { kind: 'unavailable', why: `npm audit gave no JSON: ${json.trim().slice(0, 200) || '(nothing)'}` };
  }
  const o = r as { statusCode?: number; message?: string; error?: { summary?: string }; metadata?: { vulnerabilities?: Record<string, number> }; vulnerabilities?: Record<string, { severity?: string; isDirect?: boolean }> };
  if (o.metadata?.vulnerabilities === undefined) {
    return { kind: 'unavailable', why: o.message ?? o.error?.summary ?? (o.statusCode === undefined ? 'no advisory data in the answer' : `the registry answered ${o.statusCode}`) };
  }
  const counts = o.metadata.vulnerabilities;
  const packages = Object.entries(o.vulnerabilities ?? {})
    .filter(([, v]) => FAILING.includes(v.severity ?? ''))
    .map(([name, v]) => `${name} (${v.severity})`);
  return packages.length > 0 || FAILING.some((s) => (counts[s] ?? 0) > 0) ? { kind: 'vulnerable', counts, packages } : { kind: 'clean', counts };
}

function npm(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npm', [...args], { cwd: projectRoot(), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function sbom(out: string): number {
  const r = npm(['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application', '--omit', 'dev']);
  let doc: { bomFormat?: string; components?: unknown[] };
  try {
    doc = JSON.parse(r.stdout) as typeof doc;
  } catch {
    process.stderr.write(`supply-chain sbom: npm sbom failed (exit ${String(r.status)}): ${r.stderr.trim().slice(0, 500)}\n`);
    return 1;
  }
  if (doc.bomFormat !== 'CycloneDX' || !Array.isArray(doc.components) || doc.components.length === 0) {
    process.stderr.write('supply-chain sbom: npm sbom gave no CycloneDX document with components\n');
    return 1;
  }
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`supply-chain sbom: ${doc.components.length} components (production dependencies) → ${path.relative(projectRoot(), out)}\n`);
  return 0;
}

function audit(): number {
  const v = auditVerdict(npm(['audit', '--omit', 'dev', '--json']).stdout);
  if (v.kind === 'unavailable') {
    process.stdout.write(`supply-chain audit: NOT CHECKED — npm could not get the advisory data from this machine (${v.why}); run it where the registry's audit endpoint answers\n`);
    return 0;
  }
  const counts = Object.entries(v.counts)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  if (v.kind === 'vulnerable') {
    process.stderr.write(`supply-chain audit: FAILED — known-vulnerable production dependencies (${counts}): ${v.packages.join(', ')}\n`);
    return 1;
  }
  process.stdout.write(`supply-chain audit: no high or critical advisory for the production dependencies (${counts})\n`);
  return 0;
}

function main(): number {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  if (positionals[0] === 'sbom') return sbom(path.resolve(values.out ?? path.join(projectRoot(), 'dist', 'sbom.cdx.json')));
  if (positionals[0] === 'audit') return audit();
  process.stderr.write('usage: supply-chain sbom [--out FILE] | supply-chain audit\n');
  return 2;
}

if (process.argv[1] !== undefined && /supply-chain\.[jt]s$/.test(process.argv[1])) process.exit(main());
