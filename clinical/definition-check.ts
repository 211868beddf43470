/**
 * Whether a pathway definition may be published: the schema (clinical/definition.ts), then
 * clinical sanity, which the schema's bare types cannot say. Every error names the field path,
 * so a form can show it beside the field. The ranges follow /work/shared/clinical-reference.md
 * widely enough for a clinic's own choices (a 50% or 80% relief threshold), narrowly enough to
 * catch a slip (a 300-day trial, a threshold that makes every patient a responder).
 */
import { PathwayDefinitionSchema, type PathwayDefinition } from './definition';
import { describeRules } from './rules';
import { RED_FLAGS } from './vocabulary';

export interface DefinitionError {
  field: string;
  message: string;
}

export type DefinitionCheck = { ok: true; definition: PathwayDefinition } | { ok: false; errors: DefinitionError[] };

/** A number a clinic may set, the range it must fall in, and why. */
interface Range {
  path: string;
  min: number;
  max: number;
  why: string;
}

const RANGES: Range[] = [
  { path: 'acceptablePainNrs', min: 0, max: 6, why: 'an acceptable pain above NRS 6 would call most patients responders whatever their relief' },
  { path: 'stages.conservative.response.painReductionPercent', min: 10, max: 90, why: 'IMMPACT: 10-20% is a minimal change, 30% moderate, 50% substantial' },
  { path: 'stages.conservative.response.odiReductionPoints', min: 4, max: 40, why: 'the ODI minimal important change is about 10 points' },
  { path: 'stages.interventional.response.reliefPercent', min: 10, max: 90, why: 'relief after a procedure is judged at 50% (80% for radiofrequency ablation in some payers)' },
  { path: 'stages.scs.response.trialReliefPercent', min: 10, max: 90, why: 'a trial succeeds at about 50% relief' },
  { path: 'stages.scs.response.trialMmeReductionPercent', min: 10, max: 90, why: 'a trial succeeds at about a 50% cut in daily MME' },
  { path: 'stages.scs.response.followUpReliefPercent', min: 10, max: 90, why: 'follow-ups after an implant are judged like the trial' },
  { path: 'stages.scs.trialDays', min: 1, max: 30, why: 'a trial lasts 3-8 days, up to 30 with wireless systems' },
  { path: 'stages.scs.minimumConservativeCareMonths', min: 1, max: 24, why: 'payers ask for about 6 months of failed conservative care' },
  { path: 'stages.conservative.reassessEveryDays', min: 7, max: 180, why: 'a reassessment every 1 to 26 weeks' },
  { path: 'stages.conservative.minimumDays', min: 0, max: 365, why: 'conservative care lasts weeks to months before a procedure' },
  { path: 'stages.interventional.reassessAfterProcedureDays', min: 7, max: 90, why: 'reassess about 2-6 weeks after each procedure' },
  { path: 'stages.interventional.minimumIntervalDays', min: 1, max: 180, why: 'injections are at least 14 days apart' },
  { path: 'stages.interventional.procedureLimit.count', min: 1, max: 12, why: 'at most 4 sessions a year in Medicare LCD L33906' },
  { path: 'stages.interventional.procedureLimit.windowDays', min: 30, max: 730, why: 'a rolling window of months' },
  { path: 'stages.scs.followUpEveryDays', min: 14, max: 365, why: 'follow-ups after an implant every few months' },
  { path: 'followUp.graceDays', min: 0, max: 30, why: 'days of grace before an item is overdue' },
];

/** Intervals: each must be a positive number of days (a zero would make an item due the moment it starts). */
const INTERVALS = [
  'stages.conservative.reassessEveryDays',
  'stages.interventional.scheduleProcedureWithinDays',
  'stages.interventional.reassessAfterProcedureDays',
  'stages.interventional.procedureLimit.windowDays',
  'stages.scs.scheduleWithinDays',
  'stages.scs.trialDays',
  'stages.scs.followUpEveryDays',
  'stages.revision-referral.workupDueDays',
  'stages.revision-referral.consultDueDays',
  'followUp.reminderEveryDays',
  'followUp.lostToFollowUpAfterOverdueDays',
];

export function valueAt(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}

/** Clinical sanity of a definition the schema accepted. */
export function sanityErrors(d: PathwayDefinition): DefinitionError[] {
  const errors: DefinitionError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  for (const r of RANGES) {
    const v = valueAt(d, r.path);
    if (typeof v === 'number' && (v < r.min || v > r.max)) fail(r.path, `must be between ${r.min} and ${r.max} (${r.why}); it is ${v}`);
  }
  for (const path of INTERVALS) {
    const v = valueAt(d, path);
    if (typeof v === 'number' && !(v > 0)) fail(path, 'must be a positive number of days');
  }
  const i = d.stages.interventional;
  const f = d.followUp;
  if (f.reminderEveryDays > f.lostToFollowUpAfterOverdueDays) {
    fail('followUp.reminderEveryDays', `a reminder every ${f.reminderEveryDays} days never comes before the pathway is lost to follow-up after ${f.lostToFollowUpAfterOverdueDays} days overdue`);
  }
  if (i.minimumIntervalDays !== undefined && i.minimumIntervalDays >= i.procedureLimit.windowDays) {
    fail('stages.interventional.minimumIntervalDays', `must be shorter than procedureLimit.windowDays (${i.procedureLimit.windowDays})`);
  }
  if (new Set(i.procedures).size !== i.procedures.length) fail('stages.interventional.procedures', 'each procedure once');
  // Every stage reachable: the one before it can escalate.
  if (i.escalateAfterProceduresWithoutResponse > i.procedureLimit.count) {
    fail(
      'stages.interventional.escalateAfterProceduresWithoutResponse',
      `spinal cord stimulation is not reachable: escalation needs ${i.escalateAfterProceduresWithoutResponse} procedures without response, but at most ${i.procedureLimit.count} are allowed in ${i.procedureLimit.windowDays} days`,
    );
  }
  if (i.minimumIntervalDays !== undefined && (i.escalateAfterProceduresWithoutResponse - 1) * i.minimumIntervalDays >= i.procedureLimit.windowDays) {
    fail(
      'stages.interventional.escalateAfterProceduresWithoutResponse',
      `spinal cord stimulation is not reachable: ${i.escalateAfterProceduresWithoutResponse} procedures ${i.minimumIntervalDays} days apart do not fit in ${i.procedureLimit.windowDays} days`,
    );
  }
  if (d.acceptablePainNrs !== undefined && d.acceptablePainNrs >= 10) fail('acceptablePainNrs', 'interventional care is not reachable: every pain score would be acceptable');
  // Every rule referenced: each red flag a clinic can report has its sentence, and every rule reads with its numbers.
  if (d.redFlags) {
    const named = new Set(d.redFlags.map((r) => r.id));
    const missing = RED_FLAGS.filter((r) => !named.has(r));
    if (missing.length) fail('redFlags', `every red flag the clinic can report needs a sentence; missing: ${missing.join(', ')}`);
  }
  for (const rule of describeRules(d)) {
    if (/undefined|NaN/.test(rule.sentence)) fail(`rules.${rule.id}`, 'the rule names a number the definition does not give');
  }
  return errors;
}

/** The schema, then clinical sanity; the schema's errors alone when it fails (sanity needs a whole definition). */
export function checkDefinition(value: unknown): DefinitionCheck {
  const parsed = PathwayDefinitionSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(definition)', message: i.message })) };
  }
  const errors = sanityErrors(parsed.data);
  return errors.length ? { ok: false, errors } : { ok: true, definition: parsed.data };
}
