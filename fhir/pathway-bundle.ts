/**
 * A pathway as the EHR understands it: a FHIR R4 Bundle (collection) of the CarePlan, the Tasks
 * due now, an Observation per recorded score, the questionnaires the patient answered at home
 * (QuestionnaireResponses, their scores' Observations `derivedFrom` them), the Procedures, the
 * referrals, the current stage's Goal and a Provenance per automated decision. Pure: the subject and the clock come in.
 * Notes stay out (minimum necessary).
 */
import type {
  Bundle,
  CarePlan,
  CarePlanActivity,
  Coding,
  Goal,
  GoalTarget,
  Observation,
  Procedure,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import type { Stage, WorkupItem } from '../clinical/definition';
import { STAGES } from '../clinical/vocabulary';
import type { PathwayStatus, ReassessmentRecord } from '../clinical/pathway';
import { ruleSentence, type RuleId } from '../clinical/rules';
import type { Scores } from '../clinical/events';
import type { PathwayView } from '../workflows/messages';
import { CODE_SYSTEMS, FHIR_BASE, GOAL_ACHIEVEMENT, STAGE_TITLES, planDefinitionCanonical, scoreCode, SCORE_CODES, stageCoding, type ScoreField } from './codes';
import { decisionProvenance, isAutomatedDecision } from './decisions';
import { isMigration, migrationProvenance } from './migration-provenance';
import { derivedFromIndex, questionnaireResponses, reportedObservations, type AnsweredQuestionnaire } from './questionnaire-responses';
import { scoreObservation } from './score-observation';
import { subjectReference, type Subject } from './subject';

const CAREPLAN_STATUS: Record<PathwayStatus, CarePlan['status']> = {
  active: 'active',
  'on-hold': 'on-hold',
  // Stepped care is paused while the urgent referral is seen to.
  'urgent-referral': 'on-hold',
  completed: 'completed',
  withdrawn: 'revoked',
  // Closed after an urgent referral: ended before stepped care reached its end.
  closed: 'revoked',
};

interface StageSpan {
  stage: Stage;
  start: string;
  end?: string;
}

/** The stages the pathway went through, from its timeline. */
function stageSpans(p: PathwayView): StageSpan[] {
  const spans: StageSpan[] = [{ stage: 'conservative', start: p.enrolledAt }];
  for (const e of p.timeline) {
    if (e.stageAfter === e.stageBefore) continue;
    spans[spans.length - 1]!.end = e.at;
    spans.push({ stage: e.stageAfter, start: e.at });
  }
  return spans;
}

function activities(p: PathwayView, spans: StageSpan[], goalId: string | undefined): CarePlanActivity[] {
  const closed = p.closedAt !== undefined;
  const currentIndex = STAGES.indexOf(p.stage);
  return STAGES.map((stage, index): CarePlanActivity => {
    const span = [...spans].reverse().find((s) => s.stage === stage);
    let status: NonNullable<CarePlanActivity['detail']>['status'];
    if (stage === p.stage) {
      status = p.status === 'active' ? 'in-progress' : p.status === 'completed' ? 'completed' : closed ? 'stopped' : 'on-hold';
    } else if (index < currentIndex) {
      // Left without a response (escalated), or passed over by a clinician's escalation.
      status = span ? 'stopped' : 'cancelled';
    } else {
      status = closed ? 'cancelled' : 'not-started';
    }
    const end = stage === p.stage ? p.closedAt : span?.end;
    return {
      detail: {
        code: stageCoding(stage),
        status,
        ...(stage === p.stage && goalId ? { goal: [{ reference: `Goal/${goalId}` }] } : {}),
        ...(span ? { scheduledPeriod: { start: span.start, ...(end ? { end } : {}) } } : {}),
        description: STAGE_TITLES[stage],
      },
    };
  });
}

/** The rule that decides a response in the current stage, with its threshold, or null where none does. */
function responseRule(p: PathwayView): { ruleId: RuleId; reliefPercent: number; odiPoints?: number } | null {
  const d = p.definition.stages;
  switch (p.stage) {
    case 'conservative':
      return { ruleId: 'response.conservative', reliefPercent: d.conservative.response.painReductionPercent, odiPoints: d.conservative.response.odiReductionPoints };
    case 'interventional':
      return { ruleId: 'response.interventional', reliefPercent: d.interventional.response.reliefPercent };
    case 'scs':
      return p.scs.implantedAt
        ? { ruleId: 'response.scs-follow-up', reliefPercent: d.scs.response.followUpReliefPercent }
        : { ruleId: 'response.scs-trial', reliefPercent: d.scs.response.trialReliefPercent };
    case 'revision-referral':
      return null;
  }
}

const GOAL_STATUS: Record<PathwayStatus, Goal['lifecycleStatus']> = {
  active: 'active',
  'on-hold': 'on-hold',
  'urgent-referral': 'on-hold',
  completed: 'completed',
  withdrawn: 'cancelled',
  closed: 'cancelled',
};

/**
 * The latest reassessment of the stage against its target, in R4's goal-achievement codes: met and
 * still followed up is "sustaining" (ongoing care keeps it), met when the pathway completed is
 * "achieved", not met is "not-achieved".
 */
function achievement(responding: boolean, status: PathwayStatus): Coding {
  const code = !responding ? 'not-achieved' : status === 'completed' ? 'achieved' : 'sustaining';
  const display = { 'not-achieved': 'Not Achieved', achieved: 'Achieved', sustaining: 'Sustaining' }[code];
  return { system: GOAL_ACHIEVEMENT, code, display };
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

function goal(p: PathwayView, subject: Subject): Goal | undefined {
  const rule = responseRule(p);
  if (!rule) return undefined;
  const due = p.due && (p.due.kind === 'reassessment' || p.due.kind === 'trial-reassessment') ? p.due.dueAt.slice(0, 10) : undefined;
  const target = (measure: ScoreField, value: number): GoalTarget => ({
    measure: { coding: [scoreCode(measure).coding] },
    detailQuantity: { value, comparator: '<=', ...scoreCode(measure).unit },
    ...(due ? { dueDate: due } : {}),
  });
  const targets = [target('painNrs', round1(p.reference.painNrs * (1 - rule.reliefPercent / 100)))];
  if (rule.odiPoints !== undefined && p.reference.odi !== undefined) targets.push(target('odi', Math.max(0, p.reference.odi - rule.odiPoints)));
  const latest = p.latest?.stage === p.stage ? p.latest.evaluation : undefined;
  return {
    resourceType: 'Goal',
    id: `${p.pathwayId}.goal.${p.stage}`,
    lifecycleStatus: GOAL_STATUS[p.status],
    ...(latest ? { achievementStatus: { coding: [achievement(latest.responding, p.status)] } } : {}),
    category: [stageCoding(p.stage)],
    description: {
      coding: [{ system: CODE_SYSTEMS.rules, code: rule.ruleId }],
      text: ruleSentence(rule.ruleId, p.definition),
    },
    subject: subjectReference(subject),
    startDate: p.reference.at.slice(0, 10),
    target: targets,
    note: [{ text: `Measured against the stage reference: pain NRS ${p.reference.painNrs}${p.reference.odi !== undefined ? `, ODI ${p.reference.odi}` : ''} (${p.reference.from}, ${p.reference.at}).${targets.length > 1 ? ' Either target is a response.' : ''}` }],
  };
}

type Recorded = Scores & { dailyMme?: number };

/** Each recorded score; one the patient reported at home is `derivedFrom` its QuestionnaireResponse. */
function observations(p: PathwayView, subject: Subject, derivedFrom: ReadonlyMap<string, string>): Observation[] {
  const out: Observation[] = [];
  const add = (scores: Recorded, idOf: (field: ScoreField) => string, at: string, issued: string) => {
    for (const { field } of SCORE_CODES) {
      const value = scores[field];
      if (value === undefined) continue;
      const id = idOf(field);
      out.push(scoreObservation({ id, carePlanId: p.pathwayId, field, value, at, issued, subject: subjectReference(subject), derivedFrom: derivedFrom.get(id) }));
    }
  };
  add(p.baseline, (field) => `${p.pathwayId}.baseline.${field}`, p.enrolledAt, p.enrolledAt);
  p.reassessments.forEach((r: ReassessmentRecord, index) => {
    // Scores that came from the EHR keep their FHIR ids: the export shows the same Observations.
    add(r, (field) => r.sourceIds?.[field] ?? `${p.pathwayId}.r${index + 1}.${field}`, r.at, r.recordedAt ?? r.at);
  });
  return out;
}

function procedures(p: PathwayView, subject: Subject): Procedure[] {
  return p.procedures.map((r, index) => ({
    resourceType: 'Procedure',
    id: `${p.pathwayId}.procedure.${index + 1}`,
    basedOn: [{ reference: `CarePlan/${p.pathwayId}` }],
    status: 'completed',
    category: stageCoding(r.stage),
    code: { coding: [{ system: CODE_SYSTEMS.procedures, code: r.type }], text: r.type.replace(/-/g, ' ') },
    subject: subjectReference(subject),
    performedDateTime: r.performedAt,
    ...(r.spinalRegion ? { bodySite: [{ text: r.spinalRegion }] } : {}),
    ...(r.outcome ? { outcome: { text: r.outcome } } : {}),
  }));
}

const WORKUP_TITLES: Record<WorkupItem, string> = {
  imaging: 'Imaging',
  labs: 'Laboratory tests',
  'bone-density': 'Bone density',
  'health-optimisation': 'Health optimisation',
  'second-opinion': 'Second opinion',
};

function tasks(p: PathwayView, subject: Subject): Task[] {
  const paused = p.status === 'on-hold' || p.status === 'urgent-referral';
  const base = {
    basedOn: [{ reference: `CarePlan/${p.pathwayId}` }],
    intent: 'plan' as const,
    businessStatus: stageCoding(p.stage),
    for: subjectReference(subject),
  };
  const out: Task[] = [];
  if (p.due) {
    out.push({
      resourceType: 'Task',
      id: `${p.pathwayId}.due.${p.due.kind}`,
      ...base,
      status: paused ? 'on-hold' : 'requested',
      priority: p.overdue ? 'urgent' : 'routine',
      code: { coding: [{ system: CODE_SYSTEMS.dueItems, code: p.due.kind }], text: p.due.kind.replace(/-/g, ' ') },
      description: `${p.due.kind.replace(/-/g, ' ')} due ${p.due.dueAt.slice(0, 10)}${p.overdue ? ' (overdue)' : ''}`,
      restriction: { period: { end: p.due.dueAt } },
      ...(p.overdue ? { note: [{ text: 'Overdue: past its due date and the grace period.' }] } : {}),
    });
  }
  if (p.stage === 'revision-referral') {
    const workupDue = p.due?.kind === 'workup' ? p.due.dueAt : undefined;
    for (const item of p.definition.stages['revision-referral'].workupItems) {
      const doneAt = p.workup.completed[item];
      out.push({
        resourceType: 'Task',
        id: `${p.pathwayId}.workup.${item}`,
        ...base,
        status: doneAt ? 'completed' : paused ? 'on-hold' : p.closedAt ? 'cancelled' : 'requested',
        code: { coding: [{ system: CODE_SYSTEMS.dueItems, code: item }], text: WORKUP_TITLES[item] },
        description: `Work-up before revision surgery: ${WORKUP_TITLES[item]}`,
        ...(doneAt ? { executionPeriod: { end: doneAt } } : {}),
        ...(!doneAt && workupDue ? { restriction: { period: { end: workupDue } } } : {}),
      });
    }
  }
  return out;
}

function referrals(p: PathwayView, subject: Subject, spans: StageSpan[]): ServiceRequest[] {
  const out: ServiceRequest[] = [];
  const base = { basedOn: [{ reference: `CarePlan/${p.pathwayId}` }], subject: subjectReference(subject) };
  const referralSpan = spans.find((s) => s.stage === 'revision-referral');
  if (referralSpan) {
    const w = p.workup;
    const status: ServiceRequest['status'] = w.consultRecordedAt ? 'completed' : p.closedAt ? 'revoked' : w.referralIssuedAt ? 'active' : 'draft';
    out.push({
      resourceType: 'ServiceRequest',
      id: `${p.pathwayId}.revision-referral`,
      ...base,
      status,
      intent: 'order',
      code: { coding: [{ system: CODE_SYSTEMS.referrals, code: 'revision-surgery' }], text: 'Referral for revision spine surgery' },
      authoredOn: w.referralIssuedAt ?? referralSpan.start,
      ...(w.referralIssuedAt ? {} : { note: [{ text: 'Issued once the work-up is complete.' }] }),
      reasonCode: [{ text: ruleSentence('referral.workup-complete', p.definition) }],
    });
  }
  p.redFlags.forEach((report, index) => {
    const current = index === p.redFlags.length - 1 && p.status === 'urgent-referral';
    out.push({
      resourceType: 'ServiceRequest',
      id: `${p.pathwayId}.urgent-referral.${index + 1}`,
      ...base,
      status: current ? 'active' : 'completed',
      intent: 'order',
      priority: 'urgent',
      code: { coding: [{ system: CODE_SYSTEMS.referrals, code: 'urgent-referral' }], text: 'Urgent referral: red flag' },
      authoredOn: report.at,
      reasonCode: report.flags.map((flag) => ({ coding: [{ system: CODE_SYSTEMS.redFlags, code: flag }], text: flag.replace(/-/g, ' ') })),
    });
  });
  return out;
}

function carePlan(p: PathwayView, subject: Subject, spans: StageSpan[], goalId: string | undefined): CarePlan {
  return {
    resourceType: 'CarePlan',
    id: p.pathwayId,
    instantiatesCanonical: [planDefinitionCanonical(p.definition.id, p.definition.version)],
    status: CAREPLAN_STATUS[p.status],
    intent: 'plan',
    category: [{ coding: [{ system: CODE_SYSTEMS.stages, code: 'stepped-care' }], text: 'Stepped care' }],
    title: p.definition.title,
    description: `${STAGE_TITLES[p.stage]}; pathway ${p.status}. Care team ${p.careTeam}.`,
    subject: subjectReference(subject),
    period: { start: p.enrolledAt, ...(p.closedAt ? { end: p.closedAt } : {}) },
    created: p.enrolledAt,
    ...(goalId ? { goal: [{ reference: `Goal/${goalId}` }] } : {}),
    activity: activities(p, spans, goalId),
  };
}

const entry = (resource: Resource & { id?: string }) => ({ fullUrl: `${FHIR_BASE}/${resource.resourceType}/${resource.id}`, resource });

/**
 * The questionnaires the patient answered at home during this enrolment: a QuestionnaireResponse
 * per instrument, and an Observation for each score that did not become a reassessment (those that
 * did are the reassessment's Observations, `derivedFrom` their response).
 */
function answeredAtHome(p: PathwayView, subject: Subject, answered: readonly AnsweredQuestionnaire[], recorded: readonly Observation[]): Resource[] {
  const ids = new Set(recorded.map((o) => o.id));
  const who = subjectReference(subject);
  return answered.flatMap((q) => [...questionnaireResponses(q, who), ...reportedObservations(q, who).filter((o) => !ids.has(o.id))]);
}

/**
 * The pathway's Bundle. `answered`: the questionnaires its patient answered at home (those
 * answered before this enrolment are left out).
 */
export function pathwayBundle(p: PathwayView, subject: Subject, now: Date, answered: readonly AnsweredQuestionnaire[] = []): Bundle {
  const spans = stageSpans(p);
  const stageGoal = goal(p, subject);
  const ours = answered.filter((q) => q.pathwayId === p.pathwayId && Date.parse(q.answeredAt) >= Date.parse(p.enrolledAt));
  const scores = observations(p, subject, derivedFromIndex(ours));
  const resources: Resource[] = [
    carePlan(p, subject, spans, stageGoal?.id),
    ...tasks(p, subject),
    ...(stageGoal ? [stageGoal] : []),
    ...scores,
    ...answeredAtHome(p, subject, ours, scores),
    ...procedures(p, subject),
    ...referrals(p, subject, spans),
    ...p.timeline.filter(isAutomatedDecision).map((e) => decisionProvenance(p.pathwayId, e)),
    ...p.timeline.filter(isMigration).map((e) => migrationProvenance(p.pathwayId, e)),
  ];
  return { resourceType: 'Bundle', type: 'collection', timestamp: now.toISOString(), entry: resources.map(entry) };
}
