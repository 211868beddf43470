/**
 * The clinical rules: pure functions over a pathway definition and scores. Each rule has an id
 * and a sentence a clinician can read, filled in with the definition's own numbers, and every
 * evaluation returns the numbers it used so the timeline can say why a decision was taken.
 */
import type { PathwayDefinition } from './definition';

export type RuleId =
  | 'red-flag.urgent-referral'
  | 'response.conservative'
  | 'response.interventional'
  | 'response.scs-trial'
  | 'response.scs-follow-up'
  | 'escalation.minimum-duration'
  | 'escalation.conservative'
  | 'escalation.interventional'
  | 'escalation.scs-psychology'
  | 'escalation.scs-trial'
  | 'escalation.scs-follow-up'
  | 'limit.interventional-procedures'
  | 'completion.sustained-response'
  | 'referral.workup-complete'
  | 'completion.surgical-consult'
  | 'follow-up.reminder'
  | 'follow-up.overdue'
  | 'follow-up.lost'
  | 'override.escalate'
  | 'override.hold'
  | 'override.resume'
  | 'override.withdraw'
  | 'override.discharge'
  | 'override.close';

const RULE_SENTENCES: Record<RuleId, (d: PathwayDefinition) => string> = {
  'red-flag.urgent-referral': () =>
    'A red flag (new bladder or bowel dysfunction, saddle anaesthesia, progressive motor deficit, signs of infection, suspected fracture or malignancy) moves the pathway at once to urgent referral, stops the stepped-care timers and notifies the care team.',
  'response.conservative': (d) =>
    `In conservative care a reassessment is a response when pain NRS is down at least ${d.stages.conservative.response.painReductionPercent}% from the stage reference, or ODI is down at least ${d.stages.conservative.response.odiReductionPoints} points.`,
  'response.interventional': (d) =>
    `After an interventional procedure a reassessment is a response when pain relief from the stage reference is at least ${d.stages.interventional.response.reliefPercent}%.`,
  'response.scs-trial': (d) =>
    `A spinal cord stimulation trial succeeds when pain relief from the stage reference is at least ${d.stages.scs.response.trialReliefPercent}%; the patient then proceeds to a permanent implant.`,
  'response.scs-follow-up': (d) =>
    `After a permanent implant a follow-up is a response when pain relief from the stage reference is at least ${d.stages.scs.response.followUpReliefPercent}%.`,
  'escalation.minimum-duration': () =>
    'A reassessment without response before the stage has lasted its minimum duration is recorded, but does not escalate.',
  'escalation.conservative': (d) =>
    `Without response after at least ${d.stages.conservative.minimumDays} days of conservative care, the pathway escalates to interventional care.`,
  'escalation.interventional': (d) =>
    `After ${d.stages.interventional.escalateAfterProceduresWithoutResponse} interventional procedures without response, the pathway escalates to spinal cord stimulation.`,
  'escalation.scs-psychology': () =>
    'If the psychological evaluation does not clear the patient for spinal cord stimulation, the trial is skipped and the pathway escalates to revision referral.',
  'escalation.scs-trial': (d) =>
    `If the spinal cord stimulation trial gives less than ${d.stages.scs.response.trialReliefPercent}% relief, the pathway escalates to revision referral.`,
  'escalation.scs-follow-up': (d) =>
    `If a follow-up after the implant gives less than ${d.stages.scs.response.followUpReliefPercent}% relief, the pathway escalates to revision referral.`,
  'limit.interventional-procedures': (d) =>
    `At most ${d.stages.interventional.procedureLimit.count} interventional procedures are recorded in any ${d.stages.interventional.procedureLimit.windowDays} days.`,
  'completion.sustained-response': (d) =>
    `${d.sustainedResponse.consecutiveResponses} responding reassessments in a row complete the pathway: discharge to self-management.`,
  'referral.workup-complete': (d) =>
    `The revision-surgery referral is issued once every work-up item (${d.stages['revision-referral'].workupItems.join(', ')}) is complete.`,
  'completion.surgical-consult': () => 'The pathway completes when the surgical consult is recorded.',
  'follow-up.reminder': (d) =>
    `A reminder goes to the care team when an item falls due; once it is overdue, to the care team's coordinator, and again every ${d.followUp.reminderEveryDays} days until it is recorded or the pathway goes on hold.`,
  'follow-up.overdue': (d) =>
    `An item not recorded by its due date is overdue after ${d.followUp.graceDays} days of grace.`,
  'follow-up.lost': (d) =>
    `After ${d.followUp.lostToFollowUpAfterOverdueDays} days overdue the pathway goes on hold as lost to follow-up, until a coordinator resumes it.`,
  'override.escalate': () => 'A clinician may escalate to the next stage, or a named later one, with a reason.',
  'override.hold': () => 'A coordinator or clinician may put the pathway on hold, with a reason; timers stop.',
  'override.resume': () => 'Resuming moves every due date later by the time the pathway was held.',
  'override.withdraw': () => 'A coordinator or clinician may withdraw the patient from the pathway, with a reason.',
  'override.discharge': () => 'A clinician may discharge the patient, with a reason; the pathway completes.',
  'override.close': () => 'After an urgent referral a clinician may close the pathway, with a reason.',
};

export function ruleSentence(id: RuleId, definition: PathwayDefinition): string {
  return RULE_SENTENCES[id](definition);
}

export function describeRules(definition: PathwayDefinition): Array<{ id: RuleId; sentence: string }> {
  return (Object.keys(RULE_SENTENCES) as RuleId[]).map((id) => ({ id, sentence: ruleSentence(id, definition) }));
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

export function evaluateConservative(
  d: PathwayDefinition,
  reference: { painNrs: number; odi?: number },
  current: { painNrs: number; odi?: number },
): Evaluation {
  const { painReductionPercent, odiReductionPoints } = d.stages.conservative.response;
  const painRelief = reliefPercent(reference.painNrs, current.painNrs);
  const odiDrop = reference.odi !== undefined && current.odi !== undefined ? reference.odi - current.odi : null;
  const painResponds = painRelief !== null && painRelief >= painReductionPercent;
  const odiResponds = odiDrop !== null && odiDrop >= odiReductionPoints;
  return {
    ruleId: 'response.conservative',
    responding: painResponds || odiResponds,
    numbers: {
      referencePainNrs: reference.painNrs,
      painNrs: current.painNrs,
      painReliefPercent: painRelief,
      painThresholdPercent: painReductionPercent,
      referenceOdi: reference.odi ?? null,
      odi: current.odi ?? null,
      odiDropPoints: odiDrop,
      odiThresholdPoints: odiReductionPoints,
    },
  };
}

function evaluateRelief(ruleId: RuleId, threshold: number, referencePain: number, painNrs: number): Evaluation {
  const relief = reliefPercent(referencePain, painNrs);
  return {
    ruleId,
    responding: relief !== null && relief >= threshold,
    numbers: { referencePainNrs: referencePain, painNrs, painReliefPercent: relief, reliefThresholdPercent: threshold },
  };
}

export function evaluateInterventional(d: PathwayDefinition, referencePain: number, painNrs: number): Evaluation {
  return evaluateRelief('response.interventional', d.stages.interventional.response.reliefPercent, referencePain, painNrs);
}

export function evaluateScsTrial(d: PathwayDefinition, referencePain: number, painNrs: number): Evaluation {
  return evaluateRelief('response.scs-trial', d.stages.scs.response.trialReliefPercent, referencePain, painNrs);
}

export function evaluateScsFollowUp(d: PathwayDefinition, referencePain: number, painNrs: number): Evaluation {
  return evaluateRelief('response.scs-follow-up', d.stages.scs.response.followUpReliefPercent, referencePain, painNrs);
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
