/**
 * Walking the configuration's zod schema (schema.ts) by key path: the node at a path, the keys a
 * table allows, and the {@link FieldDoc} registered for a key. Shared by the problem messages
 * (problems.ts: what is allowed, which values are secret) and the key reference of docs/config.md
 * (docs.ts).
 */
import type { z } from 'zod';
import { configSchema, fieldDocs } from './schema.js';
import type { FieldDoc } from './schema.js';

/** One step of a key path: a table key or an array index. */
export type Segment = string | number;

export type AnySchema = z.core.$ZodType;

export function defOf(s: AnySchema): { type: string; innerType?: AnySchema; shape?: Record<string, AnySchema>; element?: AnySchema } {
  return s._zod.def;
}

/** The schema without its optional / default / prefault / nullable wrappers. */
export function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let d = defOf(cur); d.innerType !== undefined && ['optional', 'default', 'prefault', 'nullable'].includes(d.type); d = defOf(cur)) cur = d.innerType;
  return cur;
}

/** The schema node at `segments` (wrappers kept, so fieldDocs finds it), or undefined. */
export function schemaAt(segments: readonly Segment[]): AnySchema | undefined {
  let node: AnySchema | undefined = configSchema;
  for (const s of segments) {
    node = node === undefined ? undefined : unwrap(node);
    if (node === undefined) return undefined;
    const d = defOf(node);
    if (d.type === 'object' && typeof s === 'string') node = d.shape?.[s];
    else if (d.type === 'array' && typeof s === 'number') node = d.element;
    else return undefined;
  }
  return node;
}

/** The FieldDoc registered on `node` or on any schema it wraps. */
export function docFor(node: AnySchema): FieldDoc | undefined {
  for (let cur: AnySchema | undefined = node; cur !== undefined; cur = defOf(cur).innerType) {
    const d = fieldDocs.get(cur as z.ZodType);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** The FieldDoc of the key at `segments`, or undefined. */
export function docAt(segments: readonly Segment[]): FieldDoc | undefined {
  const node = schemaAt(segments);
  return node === undefined ? undefined : docFor(node);
}

/** The keys the table at `segments` allows ([] when it is not a table). */
export function keysAt(segments: readonly Segment[]): string[] {
  const node = schemaAt(segments);
  if (node === undefined) return [];
  const d = defOf(unwrap(node));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}
