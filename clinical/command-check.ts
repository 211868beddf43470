/**
 * Checks a command (who sends it and what it says) against the commands' schemas, for the
 * workflow's update validators. The rules are the API's zod schemas, as JSON Schema
 * (clinical/command-schemas.json, generated from them); zod's own transforms (trimmed reasons,
 * defaults) are applied the same way, so the workflow acts on exactly what the API would.
 * Refusals name the field and the rule, never the value given.
 */
import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import schemas from './command-schemas.json';

export type CommandKind = Exclude<keyof typeof schemas, 'actor'>;

export interface FieldError {
  field: string;
  message: string;
}

type Node = Schema & { 'x-trim'?: boolean; default?: unknown };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The key whose constant tells a union's branches apart (`action` for actions), if there is one. */
function discriminatorOf(node: Node): string | undefined {
  const branches = (node.oneOf ?? []) as Node[];
  const first = branches[0]?.properties ?? {};
  return Object.keys(first).find((key) => branches.every((b) => isRecord(b.properties?.[key]) && 'const' in (b.properties![key] as Node)));
}

function branchFor(node: Node, value: unknown): Node | undefined {
  const key = discriminatorOf(node);
  if (!key || !isRecord(value)) return undefined;
  return (node.oneOf as Node[]).find((b) => (b.properties![key] as Node).const === value[key]);
}

/** zod's transforms, from the schema: trims what zod trims and fills in defaults. */
function normalise(node: Node, value: unknown): unknown {
  if (node.oneOf) {
    const branch = branchFor(node, value);
    return branch ? normalise(branch, value) : value;
  }
  if (typeof value === 'string' && node['x-trim']) return value.trim();
  if (!node.properties || !isRecord(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, property] of Object.entries(node.properties)) {
    if (typeof property === 'boolean') continue;
    if (out[key] === undefined) {
      if ('default' in property) out[key] = JSON.parse(JSON.stringify(property.default));
    } else out[key] = normalise(property, out[key]);
  }
  return out;
}

// Errors that only say a part below failed: the part's own error names the field.
const CONTAINERS = new Set(['properties', 'additionalProperties', 'items', 'prefixItems', 'oneOf', 'anyOf', 'allOf', '$ref']);

const fieldOf = (instanceLocation: string): string[] =>
  instanceLocation
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));

/** The value a keyword holds in the schema, by its location (`#/properties/painNrs/maximum`). */
function keywordValue(root: Node, keywordLocation: string): unknown {
  let at: unknown = root;
  for (const part of fieldOf(keywordLocation)) at = isRecord(at) || Array.isArray(at) ? (at as Record<string, unknown>)[part] : undefined;
  return at;
}

function messageOf(unit: OutputUnit, rule: unknown): string {
  const list = (values: unknown) => (Array.isArray(values) ? values.map(String).join(', ') : String(values));
  switch (unit.keyword) {
    case 'type':
      return `expected ${list(rule)}`;
    case 'minimum':
      return `must be at least ${rule}`;
    case 'maximum':
      return `must be at most ${rule}`;
    case 'multipleOf':
      return `must be a multiple of ${rule}`;
    case 'minLength':
      return `must have at least ${rule} characters`;
    case 'maxLength':
      return `must have at most ${rule} characters`;
    case 'minItems':
      return `must have at least ${rule} items`;
    case 'maxItems':
      return `must have at most ${rule} items`;
    case 'enum':
      return `must be one of: ${list(rule)}`;
    case 'const':
      return `must be ${list(rule)}`;
    case 'pattern':
    case 'format':
      return 'is not in the expected format';
    case 'required':
      return 'is required';
    case 'false':
      return 'is not allowed';
    default:
      return 'is not valid';
  }
}

function errorsOf(root: Node, validator: Validator, value: unknown, prefix: string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const unit of validator.validate(value).errors) {
    if (CONTAINERS.has(unit.keyword)) continue;
    const path = [...prefix, ...fieldOf(unit.instanceLocation)];
    // A missing property is reported on its parent; the name is the schema's, not the caller's value.
    if (unit.keyword === 'required') path.push(/property "([^"]+)"/.exec(unit.error)?.[1] ?? '');
    const field = path.filter((p) => p !== '').join('.') || '(body)';
    if (!errors.some((e) => e.field === field)) errors.push({ field, message: messageOf(unit, keywordValue(root, unit.keywordLocation)) });
  }
  return errors;
}

const validators = new Map<Node, Validator>();
const validatorFor = (node: Node): Validator => {
  let validator = validators.get(node);
  if (!validator) validators.set(node, (validator = new Validator(node, '2020-12', false)));
  return validator;
};

function check(node: Node, value: unknown, prefix: string[]): { value: unknown; errors: FieldError[] } {
  if (value === undefined) return { value, errors: [{ field: prefix.join('.') || '(body)', message: 'is required' }] };
  const normalised = normalise(node, value);
  const key = discriminatorOf(node);
  if (key) {
    // One branch per action: its rules alone apply, so a refusal names that branch's fields.
    const branch = branchFor(node, normalised);
    if (!branch) {
      const allowed = (node.oneOf as Node[]).map((b) => (b.properties![key] as Node).const);
      return { value: normalised, errors: [{ field: [...prefix, key].join('.'), message: `must be one of: ${allowed.join(', ')}` }] };
    }
    return { value: normalised, errors: errorsOf(branch, validatorFor(branch), normalised, prefix) };
  }
  return { value: normalised, errors: errorsOf(node, validatorFor(node), normalised, prefix) };
}

/** The command as the workflow acts on it, or the fields it gets wrong. */
export function checkCommand<Input, Actor>(
  kind: CommandKind,
  actor: unknown,
  input: unknown,
): { ok: true; actor: Actor; input: Input } | { ok: false; errors: FieldError[] } {
  const who = check(schemas.actor as Node, actor, ['actor']);
  const what = check(schemas[kind] as Node, input, []);
  const errors = [...who.errors, ...what.errors];
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, actor: who.value as Actor, input: what.value as Input };
}
