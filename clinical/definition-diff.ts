/**
 * What changed between two versions of a definition, as a clinician reads it: each number,
 * list or sentence that differs, with its field path, from what, to what. Red flags are
 * compared by id, so a reworded sentence shows as that flag's sentence.
 */
import type { PathwayDefinition } from './definition';

export type DiffValue = number | string | boolean | string[] | null;

export interface DefinitionChange {
  field: string;
  from: DiffValue;
  to: DiffValue;
}

type Flat = Map<string, DiffValue>;

function flatten(value: unknown, prefix: string, into: Flat): void {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) {
      into.set(prefix, value.map(String));
      return;
    }
    // Lists of objects with an id (red flags): by id, so order does not matter.
    for (const item of value as Array<Record<string, unknown>>) {
      const { id, ...rest } = item;
      flatten(rest, `${prefix}.${String(id)}`, into);
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${key}` : key, into);
    return;
  }
  into.set(prefix, (value ?? null) as DiffValue);
}

const same = (a: DiffValue | undefined, b: DiffValue | undefined): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Every field that differs (the version number aside), in the order of the newer definition's fields. */
export function diffDefinitions(from: PathwayDefinition, to: PathwayDefinition): DefinitionChange[] {
  const a: Flat = new Map();
  const b: Flat = new Map();
  flatten(from, '', a);
  flatten(to, '', b);
  const fields = [...new Set([...b.keys(), ...a.keys()])].filter((f) => f !== 'version');
  return fields.filter((f) => !same(a.get(f), b.get(f))).map((field) => ({ field, from: a.get(field) ?? null, to: b.get(field) ?? null }));
}

/** One line a change: "stages.conservative.response.painReductionPercent: 30 → 50". */
export function describeChange(c: DefinitionChange): string {
  const show = (v: DiffValue) => (v === null ? '(none)' : Array.isArray(v) ? v.join(', ') : String(v));
  return `${c.field}: ${show(c.from)} → ${show(c.to)}`;
}
