/**
 * The commands' zod schemas as JSON Schema, for the workflow's update validators: the workflow
 * checks each command against the same rules as the API without carrying zod, which it would
 * instantiate once per cached pathway. `npm run generate:command-schemas` writes them to
 * clinical/command-schemas.json; a unit test fails when that file lags behind the schemas.
 */
import { z } from 'zod';
import {
  ActionInputSchema,
  ActorSchema,
  ProcedureInputSchema,
  ReassessmentInputSchema,
  RedFlagReportSchema,
  WorkupResultInputSchema,
} from './events';

/** Marks a string that zod trims before checking it, so the workflow trims it too (clinical/command-check.ts). */
const TRIM_KEYWORD = 'x-trim';

/** Who sends a command, and each command the workflow accepts, by the kind the workflow knows it as. */
export const COMMAND_SCHEMAS = {
  actor: ActorSchema,
  reassessment: ReassessmentInputSchema,
  procedure: ProcedureInputSchema,
  'workup-result': WorkupResultInputSchema,
  'red-flags': RedFlagReportSchema,
  action: ActionInputSchema,
} satisfies Record<string, z.ZodType>;

const trims = (schema: z.core.$ZodType): boolean =>
  (schema._zod.def.checks ?? []).some((c) => {
    const def = c._zod.def as { check: string; tx?: (value: string) => string };
    return def.check === 'overwrite' && def.tx?.(' x ') === 'x';
  });

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _draft, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    override: (ctx) => {
      if (trims(ctx.zodSchema)) ctx.jsonSchema[TRIM_KEYWORD] = true;
    },
  });
  return rest;
}

export function commandJsonSchemas(): Record<keyof typeof COMMAND_SCHEMAS, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(COMMAND_SCHEMAS).map(([kind, schema]) => [kind, jsonSchema(schema)])) as Record<keyof typeof COMMAND_SCHEMAS, Record<string, unknown>>;
}
