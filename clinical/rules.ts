/**
 * The clinical rules: pure functions over a pathway definition and scores. Each rule has an id
 * and a sentence a clinician can read, filled in with the definition's own numbers, and every
 * evaluation returns the numbers it used so the timeline can say why a decision was taken.
 */
import type { BaselineMeasure, PathwayDefinition, Stage } from './definition';
import { RED_FLAGS, STAGE_NAMES, listInWords } from './vocabulary';

export type RuleId =
  | 'red-flag.urgent-referral'
  | 'response.conservative'
  | 'response.interventional'
  | 'response.scs-trial'
  | 'response.scs-follow-up'
  | 'escalation.acceptable-pain'
  | 'escalation.minimum-duration'
  | 'escalation.conservative'
  | 'escalation.interventional'
  | 'escalation.scs-psychology'
  | 'escalation.scs-trial'
  | 'escalation.scs-follow-up'
  | 'baseline.required'
  | 'procedure.reassess-after'
  | 'procedure.scs-trial-days'
  | 'procedure.scs-follow-up'
  | 'limit.interventional-procedures'
  | 'limit.procedure-interval'
  | 'eligibility.scs-conservative-care'
  | 'completion.sustained-response'
  | 'referral.workup-complete'
  | 'completion.surgical-consult'
  | 'recording.clinical-time'
  | 'follow-up.reminder'
  | 'follow-up.overdue'
  | 'follow-up.lost'
  | 'override.escalate'
  | 'override.hold'
  | 'override.resume'
  | 'override.withdraw'
  | 'override.discharge'
  | 'override.close'
  | 'override.acknowledge';

const MEASURE_NAMES: Record<BaselineMeasure, string> = { painNrs: 'pain NRS', odi: 'ODI', dailyMme: 'daily MME' };
export const measureNames = (measures: readonly BaselineMeasure[]): string => listInWords(measures.map((m) => MEASURE_NAMES[m]));

/** The measures a stage needs as its baseline before its first procedure (none when the definition names none). */
export function requiredBaseline(d: PathwayDefinition, stage: Stage): BaselineMeasure[] {
  if (stage === 'interventional') return d.stages.interventional.requiredBaseline ?? [];
  if (stage === 'scs') return d.stages.scs.requiredBaseline ?? [];
  return [];
}

/** ", or pain is at or below NRS 3 (acceptable)" when the definition sets an acceptable level. */
const orAcceptable = (d: PathwayDefinition): string =>
  d.acceptablePainNrs === undefined ? '' : `, or pain is at or below NRS ${d.acceptablePainNrs} (acceptable)`;

/** " with pain above NRS 3" when the definition sets an acceptable level. */
const abovePass = (d: PathwayDefinition): string => (d.acceptablePainNrs === undefined ? '' : ` with pain above NRS ${d.acceptablePainNrs}`);

/** A sentence per rule, filled in with the definition's numbers; null for a rule the definition does not use. */
const RULE_SENTENCES: Record<RuleId, (d: PathwayDefinition) => string | null> = {
  'red-flag.urgent-referral': (d) =>
    `A red flag (${(d.redFlags?.map((f) => f.id) ?? RED_FLAGS).map((f) => f.replace(/-/g, ' ')).join(', ')}) moves the pathway at once to urgent referral, stops the stepped-care timers and notifies the care team; stepped care waits until a clinician resumes or closes the pathway.`,
  'response.conservative': (d) =>
    `In conservative care a reassessment is a response when pain NRS is down at least ${d.stages.conservative.response.painReductionPercent}% from the stage reference, or ODI is down at least ${d.stages.conservative.response.odiReductionPoints} points${orAcceptable(d)}.`,
  'response.interventional': (d) =>
    `After an interventional procedure a reassessment is a response when pain relief from the stage reference is at least ${d.stages.interventional.response.reliefPercent}%${orAcceptable(d)}.`,
  'response.scs-trial': (d) => {
    const mme = d.stages.scs.response.trialMmeReductionPercent;
    return `A spinal cord stimulation trial succeeds when pain relief from the stage reference is at least ${d.stages.scs.response.trialReliefPercent}%${mme === undefined ? '' : `, or daily opioid use (MME) is down at least ${mme}% from the stage reference's`}${orAcceptable(d)}; the patient then proceeds to a permanent implant.`;
  },
  'response.scs-follow-up': (d) =>
    `After a permanent implant a follow-up is a response when pain relief from the stage reference is at least ${d.stages.scs.response.followUpReliefPercent}%${orAcceptable(d)}.`,
  'escalation.acceptable-pain': (d) =>
    `${d.acceptablePainNrs === undefined ? '' : `Pain at or below NRS ${d.acceptablePainNrs} (the patient acceptable symptom state) is never a reason to escalate: it counts as a response whatever the percentage change. `}A pain reference of 0 is never a reason to escalate either: no percentage can be taken from it, so a reassessment without response is recorded, escalates nothing, and becomes the stage reference.`,
  'escalation.minimum-duration': () =>
    'A reassessment without response before the stage has lasted its minimum duration is recorded, but does not escalate.',
  'escalation.conservative': (d) =>
    `Without response after at least ${d.stages.conservative.minimumDays} days of conservative care, the pathway escalates to interventional care.`,
  'escalation.interventional': (d) =>
    `After ${d.stages.interventional.escalateAfterProceduresWithoutResponse} interventional procedures without response${d.stages.interventional.minimumDays > 0 ? `, once the stage has lasted ${d.stages.interventional.minimumDays} days` : ''}, the pathway escalates to spinal cord stimulation.`,
  'escalation.scs-psychology': () =>
    'If the psychological evaluation does not clear the patient for spinal cord stimulation, the trial is skipped and the pathway escalates to revision referral.',
  'escalation.scs-trial': (d) => {
    const mme = d.stages.scs.response.trialMmeReductionPercent;
    return `If the spinal cord stimulation trial gives less than ${d.stages.scs.response.trialReliefPercent}% relief${mme === undefined ? '' : ` and less than a ${mme}% cut in daily MME`}${abovePass(d)}, the pathway escalates to revision referral.`;
  },
  'escalation.scs-follow-up': (d) =>
    `If a follow-up after the implant gives less than ${d.stages.scs.response.followUpReliefPercent}% relief${abovePass(d)}, the pathway escalates to revision referral.`,
  'baseline.required': (d) => {
    const stages = (['interventional', 'scs'] as const).filter((st) => requiredBaseline(d, st).length > 0);
    if (stages.length === 0) return null;
    // One sentence for every stage that needs one: "Before any procedure, interventional care needs …, and spinal cord stimulation …".
    const needs = stages.map((st) => `${STAGE_NAMES[st]} needs a baseline of ${measureNames(requiredBaseline(d, st))}`);
    return `Before any procedure, ${needs.join(', and ')}: while the stage reference lacks one, a procedure is refused naming what is missing, a baseline is due at once (on the worklist), and the next reassessment becomes the stage reference.`;
  },
  'procedure.reassess-after': (d) =>
    `A reassessment is due ${d.stages.interventional.reassessAfterProcedureDays} days after each interventional procedure was performed.`,
  'procedure.scs-trial-days': (d) => `A spinal cord stimulation trial lasts ${d.stages.scs.trialDays} days; its reassessment is due when it ends.`,
  'procedure.scs-follow-up': (d) => `After a permanent implant a follow-up reassessment is due every ${d.stages.scs.followUpEveryDays} days from when it was performed.`,
  'limit.interventional-procedures': (d) =>
    `At most ${d.stages.interventional.procedureLimit.count} interventional procedures are recorded in any ${d.stages.interventional.procedureLimit.windowDays} days.`,
  'limit.procedure-interval': (d) => {
    const days = d.stages.interventional.minimumIntervalDays;
    return days === undefined ? null : `Interventional procedures are at least ${days} days apart (calendar days, UTC): an earlier one is refused.`;
  },
  'eligibility.scs-conservative-care': (d) => {
    const months = d.stages.scs.minimumConservativeCareMonths;
    return months === undefined
      ? null
      : `A spinal cord stimulation trial needs at least ${months} months of failed conservative care, counted from when it began (the enrolment, or earlier when the enrolment records it); an earlier trial is refused unless a clinician overrides with a reason, which the timeline keeps.`;
  },
  'completion.sustained-response': (d) =>
    `${d.sustainedResponse.consecutiveResponses} responding reassessments in a row complete the pathway: discharge to self-management.`,
  'referral.workup-complete': (d) =>
    `The revision-surgery referral is issued once every work-up item (${d.stages['revision-referral'].workupItems.join(', ')}) is complete.`,
  'completion.surgical-consult': () => 'The pathway completes when the surgical consult is recorded.',
  'recording.clinical-time': (d) =>
    d.backdateWindowDays === undefined
      ? 'A reassessment, red-flag report or work-up result is dated when it is recorded.'
      : `A reassessment, red-flag report or work-up result may say when it happened, up to ${d.backdateWindowDays} days back, never in the future nor before the pathway's last recorded event; the rules (minimum durations, due dates, response windows) use that time, and the timeline keeps it beside the time it was recorded.`,
  'follow-up.reminder': (d) =>
    `A reminder goes to the care team when an item falls due; once it is overdue, to the care team's coordinator, and again every ${d.followUp.reminderEveryDays} days until it is recorded or the pathway goes on hold.`,
  'follow-up.overdue': (d) =>
    `An item not recorded by its due date is overdue after ${d.followUp.graceDays} days of grace.`,
  'follow-up.lost': (d) =>
    `After ${d.followUp.lostToFollowUpAfterOverdueDays} days overdue the pathway goes on hold as lost to follow-up, until a coordinator or clinician resumes it.`,
  'override.escalate': () => 'A clinician may escalate to the next stage, or a named later one, with a reason.',
  'override.hold': () => 'A coordinator or clinician may put the pathway on hold, with a reason; timers stop.',
  'override.resume': () =>
    'A coordinator or clinician may resume a held pathway or one lost to follow-up; only a clinician may resume after an urgent referral. Resuming moves the stage clock and every due date later by the time paused; an item that was overdue when the pause began (always so when lost to follow-up) falls due at resumption.',
  'override.withdraw': () => 'A coordinator or clinician may withdraw the patient from the pathway, with a reason.',
  'override.discharge': () => 'A clinician may discharge the patient, with a reason; the pathway completes.',
  'override.close': () => 'After an urgent referral a clinician may close the pathway, with a reason.',
  'override.acknowledge': () =>
    'A coordinator or clinician may acknowledge messages that could not be delivered, once the patient or team has been reached another way: they leave the worklist, and the timeline keeps who acknowledged them.',
};

export function ruleSentence(id: RuleId, definition: PathwayDefinition): string {
  return RULE_SENTENCES[id](definition) ?? `${id} does not apply to ${definition.id} v${definition.version}.`;
}

/** Every rule the definition uses, as a sentence, then each red flag it names with its own sentence. */
export function describeRules(definition: PathwayDefinition): Array<{ id: string; sentence: string }> {
  const rules = (Object.keys(RULE_SENTENCES) as RuleId[]).flatMap((id) => {
    const sentence = RULE_SENTENCES[id](definition);
    return sentence === null ? [] : [{ id, sentence }];
  });
  return [...rules, ...(definition.redFlags ?? []).map((f) => ({ id: `red-flag.${f.id}`, sentence: f.sentence }))];
}

/** Percent of pain relief from a reference, rounded to 0.001 so that 10 to 7 is exactly 30. Null when the reference is 0. */
export function reliefPercent(reference: number, current: number): number | null {
  if (reference <= 0) return null;
  return Math.round(((reference - current) * 100 * 1000) / reference) / 1000;
}

export type Numbers = Record<string, number | string | boolean | null>;

export interface Evaluation {
  ruleId: RuleId;
  responding: boolean;
  numbers: Numbers;
}

/** The scores a rule compares: the stage reference, or a reassessment. */
export interface Measured {
  painNrs: number;
  odi?: number;
  dailyMme?: number;
}

/** Pain at or below the definition's acceptable level (none without one). */
function acceptable(d: PathwayDefinition, painNrs: number): { acceptable: boolean; numbers: Numbers } {
  if (d.acceptablePainNrs === undefined) return { acceptable: false, numbers: {} };
  const ok = painNrs <= d.acceptablePainNrs;
  return { acceptable: ok, numbers: { acceptablePainNrs: d.acceptablePainNrs, painAcceptable: ok } };
}

export function evaluateConservative(d: PathwayDefinition, reference: Measured, current: Measured): Evaluation {
  const { painReductionPercent, odiReductionPoints } = d.stages.conservative.response;
  const painRelief = reliefPercent(reference.painNrs, current.painNrs);
  const odiDrop = reference.odi !== undefined && current.odi !== undefined ? reference.odi - current.odi : null;
  const painResponds = painRelief !== null && painRelief >= painReductionPercent;
  const odiResponds = odiDrop !== null && odiDrop >= odiReductionPoints;
  const pass = acceptable(d, current.painNrs);
  return {
    ruleId: 'response.conservative',
    responding: painResponds || odiResponds || pass.acceptable,
    numbers: {
      referencePainNrs: reference.painNrs,
      painNrs: current.painNrs,
      painReliefPercent: painRelief,
      painThresholdPercent: painReductionPercent,
      referenceOdi: reference.odi ?? null,
      odi: current.odi ?? null,
      odiDropPoints: odiDrop,
      odiThresholdPoints: odiReductionPoints,
      ...pass.numbers,
    },
  };
}

function evaluateRelief(d: PathwayDefinition, ruleId: RuleId, threshold: number, referencePain: number, painNrs: number): Evaluation {
  const relief = reliefPercent(referencePain, painNrs);
  const pass = acceptable(d, painNrs);
  return {
    ruleId,
    responding: (relief !== null && relief >= threshold) || pass.acceptable,
    numbers: { referencePainNrs: referencePain, painNrs, painReliefPercent: relief, reliefThresholdPercent: threshold, ...pass.numbers },
  };
}

export function evaluateInterventional(d: PathwayDefinition, referencePain: number, painNrs: number): Evaluation {
  return evaluateRelief(d, 'response.interventional', d.stages.interventional.response.reliefPercent, referencePain, painNrs);
}

/** Pain relief, or (where the definition says so) a cut in daily MME from the reference's. */
export function evaluateScsTrial(d: PathwayDefinition, reference: Measured, current: Measured): Evaluation {
  const byPain = evaluateRelief(d, 'response.scs-trial', d.stages.scs.response.trialReliefPercent, reference.painNrs, current.painNrs);
  const mmeThreshold = d.stages.scs.response.trialMmeReductionPercent;
  if (mmeThreshold === undefined) return byPain;
  const cut = reference.dailyMme !== undefined && current.dailyMme !== undefined ? reliefPercent(reference.dailyMme, current.dailyMme) : null;
  return {
    ...byPain,
    responding: byPain.responding || (cut !== null && cut >= mmeThreshold),
    numbers: {
      ...byPain.numbers,
      referenceDailyMme: reference.dailyMme ?? null,
      dailyMme: current.dailyMme ?? null,
      mmeReductionPercent: cut,
      mmeThresholdPercent: mmeThreshold,
    },
  };
}

export function evaluateScsFollowUp(d: PathwayDefinition, referencePain: number, painNrs: number): Evaluation {
  return evaluateRelief(d, 'response.scs-follow-up', d.stages.scs.response.followUpReliefPercent, referencePain, painNrs);
}

/** Has the stage lasted its minimum (in active time: holds do not count)? */
export function minimumDurationReached(minimumDays: number, activeDays: number): boolean {
  return activeDays >= minimumDays;
}

export function sustainedResponse(d: PathwayDefinition, consecutiveResponses: number): boolean {
  return consecutiveResponses >= d.sustainedResponse.consecutiveResponses;
}

/** Procedures within the rolling window that ends at `now`, counting the one about to be recorded. */
export function procedureLimitReached(d: PathwayDefinition, performedAtMs: number[], nowMs: number): boolean {
  const { count, windowDays } = d.stages.interventional.procedureLimit;
  const windowStart = nowMs - windowDays * DAY_MS;
  return performedAtMs.filter((t) => t > windowStart).length >= count;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole calendar days (UTC) from one instant's date to another's. */
export const calendarDaysBetween = (fromMs: number, toMs: number): number =>
  Math.floor(toMs / DAY_MS) - Math.floor(fromMs / DAY_MS);

/**
 * The recorded interventional procedure too close to one performed at `atMs` (fewer than the
 * definition's minimum days apart, either way: a back-dated one may fall between two), or null.
 */
export function procedureTooClose(d: PathwayDefinition, performedAtMs: number[], atMs: number): number | null {
  const minimum = d.stages.interventional.minimumIntervalDays;
  if (minimum === undefined) return null;
  const close = performedAtMs.filter((t) => Math.abs(calendarDaysBetween(t, atMs)) < minimum);
  return close.length ? close.reduce((a, b) => (Math.abs(b - atMs) < Math.abs(a - atMs) ? b : a)) : null;
}

/** `months` calendar months after an instant (UTC), the day clamped to the month's last: 31 Aug + 6 months = 28/29 Feb. */
export function addMonths(fromMs: number, months: number): number {
  const from = new Date(fromMs);
  const target = new Date(fromMs);
  target.setUTCDate(1);
  target.setUTCMonth(from.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(from.getUTCDate(), lastDay));
  return target.getTime();
}

/** When a spinal cord stimulation trial first may be recorded without an override, or null when the definition sets no minimum. */
export function scsTrialEligibleFrom(d: PathwayDefinition, conservativeCareSinceMs: number): number | null {
  const months = d.stages.scs.minimumConservativeCareMonths;
  return months === undefined ? null : addMonths(conservativeCareSinceMs, months);
}
