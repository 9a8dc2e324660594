/**
 * The key reference of docs/config.md, generated from the schema (schema.ts): every key with its
 * default, what is allowed and its meaning. The section between the file's GENERATED markers is
 * {@link renderConfigDoc}'s output, and a test (docs.test.ts) keeps the two equal.
 */
import { configSchema } from './schema.js';
import { defOf, docFor, unwrap } from './schema-walk.js';
import type { AnySchema } from './schema-walk.js';

export interface ConfigKeyDoc {
  /** e.g. "api.port", "operators.accounts[].hash". */
  readonly key: string;
  readonly default: string;
  /** What is allowed (English). */
  readonly allowed: string;
  readonly description: string;
}

/** Every key of the configuration with its default, allowed values and meaning, in schema order. */
export function configSchemaDoc(): ConfigKeyDoc[] {
  const out: ConfigKeyDoc[] = [];
  const walk = (node: AnySchema, prefix: string): void => {
    const d = docFor(node);
    const inner = unwrap(node);
    const def = defOf(inner);
    if (d !== undefined) out.push({ key: prefix, default: d.default, allowed: d.allowed.en, description: d.doc });
    if (def.type === 'object' && def.shape) {
      for (const [k, child] of Object.entries(def.shape)) walk(child, prefix === '' ? k : `${prefix}.${k}`);
    } else if (def.type === 'array' && def.element) {
      const el = defOf(unwrap(def.element));
      if (el.type === 'object') walk(def.element, `${prefix}[]`);
    }
  };
  walk(configSchema, '');
  return out;
}

/** The key reference of docs/config.md (between its GENERATED markers), as Markdown tables per section. */
export function renderConfigDoc(): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, ' ');
  const rows = configSchemaDoc();
  const sections = new Map<string, ConfigKeyDoc[]>();
  for (const r of rows) {
    const top = r.key.includes('.') ? r.key.slice(0, r.key.indexOf('.')) : '(top level)';
    sections.set(top, [...(sections.get(top) ?? []), r]);
  }
  const parts: string[] = [];
  for (const [name, list] of sections) {
    parts.push(`### ${name === '(top level)' ? 'Top level' : `\`[${name}]\``}\n`);
    parts.push('| key | default | allowed | meaning |');
    parts.push('|---|---|---|---|');
    for (const r of list) parts.push(`| \`${r.key}\` | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(r.description)} |`);
    parts.push('');
  }
  return parts.join('\n');
}
