/**
 * Whether a definition may be published (schema and clinical sanity, each error with its field
 * path) and the readable diff between two versions.
 */
import { describe, expect, it } from 'vitest';
import { checkDefinition } from '../../clinical/definition-check';
import { describeChange, diffDefinitions } from '../../clinical/definition-diff';
import type { PathwayDefinition } from '../../clinical/definition';
import { loadDefinitions } from '../../clinical/registry';

const v1 = (): PathwayDefinition => structuredClone(loadDefinitions().get('psps-lumbar', 1)!);
const v2 = (): PathwayDefinition => structuredClone(loadDefinitions().get('psps-lumbar', 2)!);
const fieldsOf = (value: unknown): string[] => {
  const check = checkDefinition(value);
  return check.ok ? [] : check.errors.map((e) => e.field);
};

describe('checkDefinition', () => {
  it('accepts the built-in versions', () => {
    expect(fieldsOf(v1())).toEqual([]);
    expect(fieldsOf(v2())).toEqual([]);
  });

  it('names the field path of a schema error', () => {
    const d = v2() as unknown as Record<string, any>;
    d.stages.conservative.response.painReductionPercent = 'thirty';
    expect(fieldsOf(d)).toEqual(['stages.conservative.response.painReductionPercent']);
  });

  it('refuses thresholds out of their clinical range, saying the range and the value', () => {
    const d = v2();
    d.stages.conservative.response.painReductionPercent = 5;
    d.stages.scs.trialDays = 60;
    const check = checkDefinition(d);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.errors.map((e) => e.field)).toEqual(['stages.conservative.response.painReductionPercent', 'stages.scs.trialDays']);
    expect(check.errors[0]!.message).toContain('between 10 and 90');
    expect(check.errors[0]!.message).toContain('it is 5');
    // The boundaries themselves are in range.
    d.stages.conservative.response.painReductionPercent = 10;
    d.stages.scs.trialDays = 30;
    expect(fieldsOf(d)).toEqual([]);
  });

  it('refuses a draft whose next stage cannot be reached', () => {
    const d = v2();
    d.stages.interventional.escalateAfterProceduresWithoutResponse = 5; // the limit is 4 a year
    expect(fieldsOf(d)).toEqual(['stages.interventional.escalateAfterProceduresWithoutResponse']);
    const spaced = v2();
    spaced.stages.interventional.minimumIntervalDays = 150; // 3 procedures 150 days apart fit in 365 days; 4 do not
    spaced.stages.interventional.escalateAfterProceduresWithoutResponse = 4;
    expect(fieldsOf(spaced)).toEqual(['stages.interventional.escalateAfterProceduresWithoutResponse']);
    spaced.stages.interventional.escalateAfterProceduresWithoutResponse = 3;
    expect(fieldsOf(spaced)).toEqual([]);
  });

  it('refuses follow-up that can never remind, and red flags left without a sentence', () => {
    const d = v2();
    d.followUp.reminderEveryDays = 40;
    d.redFlags = d.redFlags!.filter((f) => f.id !== 'infection');
    const check = checkDefinition(d);
    expect(check.ok ? [] : check.errors.map((e) => e.field)).toEqual(['followUp.reminderEveryDays', 'redFlags']);
    expect(check.ok ? '' : check.errors[1]!.message).toContain('missing: infection');
  });
});

describe('diffDefinitions', () => {
  it('lists the numbers that changed, from what to what', () => {
    const draft = v2();
    draft.version = 3;
    draft.stages.conservative.response.painReductionPercent = 50;
    draft.redFlags![0]!.sentence = 'Bladder or bowel dysfunction: refer at once.';
    const changes = diffDefinitions(v2(), draft);
    expect(changes).toEqual([
      { field: 'redFlags.bladder-bowel-dysfunction.sentence', from: v2().redFlags![0]!.sentence, to: 'Bladder or bowel dysfunction: refer at once.' },
      { field: 'stages.conservative.response.painReductionPercent', from: 30, to: 50 },
    ]);
    expect(describeChange(changes[1]!)).toBe('stages.conservative.response.painReductionPercent: 30 → 50');
  });

  it('shows fields one version has and the other lacks', () => {
    const changes = diffDefinitions(v1(), v2());
    expect(changes).toContainEqual({ field: 'stages.interventional.minimumIntervalDays', from: null, to: 14 });
    expect(changes).toContainEqual({ field: 'acceptablePainNrs', from: null, to: 3 });
    expect(changes.map((c) => c.field)).not.toContain('version');
  });
});
