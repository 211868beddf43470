/**
 * The workflow's command check (JSON Schema, no zod) against the API's zod schemas it stands in
 * for: the generated file is current, and over every field of every command, given valid and
 * hostile values, both accept and refuse the same commands and act on the same values.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { checkCommand, type CommandKind } from '../../clinical/command-check';
import { COMMAND_SCHEMAS, commandJsonSchemas } from '../../clinical/command-schemas';
import generated from '../../clinical/command-schemas.json';

const valid: Record<CommandKind, Array<Record<string, unknown>>> = {
  reassessment: [
    { painNrs: 6.5, odi: 30, pgic: 3, dailyMme: 40, assessedAt: '2026-11-20T10:00:00+01:00', note: 'better on walks', sourceIds: { painNrs: 'obs-1' }, redFlags: ['infection'] },
    { painNrs: 0 },
  ],
  procedure: [
    { type: 'nerve-block', performedAt: '2026-11-20T10:00:00Z', spinalRegion: 'L4-L5', note: 'uneventful' },
    { type: 'psychological-evaluation', outcome: 'cleared' },
    { type: 'scs-trial', overrideReason: 'failed conservative care documented elsewhere' },
  ],
  'workup-result': [{ item: 'imaging', completedAt: '2026-11-20T10:00:00Z', note: 'MRI done' }, { item: 'surgical-consult' }],
  'red-flags': [{ redFlags: ['saddle-anaesthesia', 'infection'], reportedAt: '2026-11-20T10:00:00Z', note: 'same day' }],
  action: [
    { action: 'escalate', toStage: 'scs', reason: 'no response to two procedures' },
    { action: 'hold', reason: '  patient travelling  ' },
    { action: 'withdraw', reason: 'moved away' },
  ],
};

// Values a careless or hostile caller might send in any field.
const hostile: unknown[] = [
  undefined, null, true, 0, -1, 0.3, 5.55, 10, 11, 100, 101, 1e308, 'x', '', '   ', '  ab  ', ' abc ', 'x'.repeat(2001),
  'yesterday', '2026-11-20T10:00:00Z', '2026-11-20T10:00:00', '2026-02-30T10:00:00Z', 'infection', 'nerve-block', 'imaging', 'scs',
  [], ['infection'], ['infection', 'infection'], ['not-a-flag'], {}, { painNrs: 'obs-1' }, { painNrs: 'bad id!' },
];

function zodVerdict(schema: z.ZodType, value: unknown) {
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true as const, value: parsed.data } : { ok: false as const, fields: parsed.error.issues.map((i) => i.path.join('.') || '(body)') };
}

describe('the workflow command check', () => {
  it('is generated from the current zod schemas (run npm run generate:command-schemas)', () => {
    expect(generated).toEqual(JSON.parse(JSON.stringify(commandJsonSchemas())));
  });

  it('accepts, refuses and normalises exactly as the API schemas do, over every field and hostile value', () => {
    let compared = 0;
    for (const kind of Object.keys(valid) as CommandKind[]) {
      for (const base of valid[kind]) {
        const fields = new Set([...Object.keys(base), 'extra', ...Object.keys((generated[kind] as { properties?: object }).properties ?? {})]);
        const cases: unknown[] = [base, null, 'text', [], {}];
        for (const field of fields) for (const value of hostile) cases.push({ ...base, [field]: value });
        // What the workflow is given has come through JSON, as every payload does.
        for (const input of cases.map((c) => JSON.parse(JSON.stringify(c)) as unknown)) {
          const label = `${kind} ${JSON.stringify(input)?.slice(0, 200)}`;
          const expected = zodVerdict(COMMAND_SCHEMAS[kind], input);
          const actual = checkCommand(kind, { id: 'dr-a', role: 'clinician' }, input);
          expect(actual.ok, label).toBe(expected.ok);
          if (expected.ok && actual.ok) expect(actual.input, label).toEqual(expected.value);
          if (!expected.ok && !actual.ok) {
            // zod names an unknown key on the object ('(body)'); the check names the key itself.
            const named = expected.fields.filter((f) => f !== '(body)');
            for (const f of named) expect(actual.errors.map((e) => e.field), label).toContain(f);
          }
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('checks who sends the command, prefixing the field with actor', () => {
    for (const actor of [{ id: 'dr-a', role: 'clinician' }, { id: '', role: 'clinician' }, { id: 'x', role: 'admin' }, { id: 'x' }, null, 'dr-a', { id: 'x', role: 'viewer', extra: 1 }]) {
      const expected = COMMAND_SCHEMAS.actor.safeParse(actor);
      const actual = checkCommand('reassessment', actor, { painNrs: 5 });
      expect(actual.ok, JSON.stringify(actor)).toBe(expected.success);
      if (!actual.ok) expect(actual.errors.every((e) => e.field.startsWith('actor'))).toBe(true);
    }
    const refused = checkCommand('reassessment', { id: 'x', role: 'admin' }, { painNrs: 5 });
    expect(refused.ok === false && refused.errors.map((e) => e.field)).toEqual(['actor.role']);
  });

  it('names the field and the rule, never the value given', () => {
    const refused = checkCommand('reassessment', { id: 'dr-a', role: 'clinician' }, { painNrs: 9.87, odi: 423, note: 'x'.repeat(2001), secret: 'S3CR3T' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.errors).toHaveLength(4);
    expect(refused.errors).toEqual(
      expect.arrayContaining([
        { field: 'secret', message: 'is not allowed' },
        { field: 'painNrs', message: 'must be a multiple of 0.1' },
        { field: 'odi', message: 'must be at most 100' },
        { field: 'note', message: 'must have at most 2000 characters' },
      ]),
    );
    const text = JSON.stringify(refused);
    for (const value of ['9.87', '423', 'S3CR3T', 'xxxx']) expect(text).not.toContain(value);
    const action = checkCommand('action', { id: 'c', role: 'coordinator' }, { action: 'pause', reason: 'because' });
    expect(action.ok === false && action.errors).toEqual([{ field: 'action', message: 'must be one of: escalate, hold, resume, withdraw, discharge, close, acknowledge' }]);
    const missing = checkCommand('action', { id: 'c', role: 'coordinator' }, { action: 'hold' });
    expect(missing.ok === false && missing.errors).toEqual([{ field: 'reason', message: 'is required' }]);
  });
});
