/**
 * A pathway definition as a FHIR R4 PlanDefinition: one action per stage, in order, each with
 * its timing, its conditions as sentences a clinician can read (the rules with this version's
 * numbers, in textEquivalent), its steps as sub-actions, and a goal per response threshold.
 */
import type { Bundle, PlanDefinition, PlanDefinitionAction, PlanDefinitionGoal, Questionnaire, RelatedArtifact } from '@medplum/fhirtypes';
import type { PathwayDefinition, Stage } from '../clinical/definition';
import { instrumentsFor } from '../clinical/instruments';
import { canonicalOf } from './questionnaire-responses';
import { ruleSentence, type RuleId } from '../clinical/rules';
import { CODE_SYSTEMS, DAYS, FHIR_BASE, STAGE_TITLES, UCUM, planDefinitionUrl, scoreCode, stageCoding } from './codes';

const WHEN: Record<'applicability' | 'start' | 'stop', string> = { applicability: 'Applies:', start: 'Starts:', stop: 'Ends:' };

/**
 * A condition as a sentence a clinician can read (the rule with this version's numbers) and its
 * rule id. They go in the action's textEquivalent, not in condition.expression: the rules run in
 * the service, not in the EHR, and R4's expression languages (CQL, FHIRPath, FHIR query) are for
 * logic a receiver would execute; text/plain there is refused by validators that check codes.
 */
const condition = (kind: keyof typeof WHEN, ruleId: RuleId, d: PathwayDefinition): string => `${WHEN[kind]} ${ruleSentence(ruleId, d)} [${ruleId}]`;
const conditions = (lines: string[]): string => lines.join('\n');

function reliefGoal(id: string, ruleId: RuleId, d: PathwayDefinition, percent: number, stage: Stage, dueDays?: number): PlanDefinitionGoal {
  return {
    id,
    category: stageCoding(stage),
    description: { coding: [{ system: CODE_SYSTEMS.rules, code: ruleId }], text: ruleSentence(ruleId, d) },
    addresses: [{ text: 'Persistent spinal pain' }],
    target: [
      {
        measure: { coding: [scoreCode('painNrs').coding] },
        // A reduction from the stage reference, in percent.
        detailQuantity: { value: percent, comparator: '>=', unit: '% reduction', system: UCUM, code: '%' },
        ...(dueDays ? { due: DAYS(dueDays) } : {}),
      },
    ],
  };
}

/** `psps-lumbar` as `PspsLumbar`: FHIR wants a name that starts with a capital letter. */
function computableName(id: string): string {
  const name = id.replace(/(^|-)([a-z0-9])/g, (_m, _dash, c: string) => c.toUpperCase());
  return /^[A-Z]/.test(name) ? name : `P${name}`;
}

const step = (id: string, title: string, extra: Partial<PlanDefinitionAction> = {}): PlanDefinitionAction => ({ id, title, ...extra });


/** The stages whose reassessments the patient may answer at home. */
const AT_HOME: readonly Stage[] = ['conservative', 'interventional', 'scs'];

/**
 * The questionnaires a stage's patient answers at home before each reassessment, as a sub-action
 * whose own sub-actions name each Questionnaire by its canonical URL (definitionCanonical), with
 * the definition's timing in words. None where the definition does not ask patients.
 */
function atHome(d: PathwayDefinition, stage: Stage, questionnaires: readonly Questionnaire[]): PlanDefinitionAction[] {
  const timing = d.patientQuestionnaires;
  if (!timing || !AT_HOME.includes(stage) || questionnaires.length === 0) return [];
  const used = instrumentsFor(stage, true);
  return [
    step(`${stage}-questionnaires`, 'Questionnaires the patient answers at home', {
      description: `A single-use link goes out ${timing.inviteDaysBefore} days before each reassessment, a reminder ${timing.reminderAfterDays} days later if unanswered; the link stays open ${timing.expiresAfterDueDays} days after the due date. The answers are the reassessment, reported by the patient.`,
      selectionBehavior: 'all',
      action: questionnaires
        .filter((q) => used.includes(q.id as (typeof used)[number]))
        .map((q) =>
          step(`${stage}-questionnaire-${q.id}`, q.title ?? q.id!, {
            definitionCanonical: canonicalOf(q),
            // The daily opioid dose is asked in the SCS stage, elsewhere only of a patient whose baseline has one.
            ...(q.id === 'daily-mme' && stage !== 'scs' ? { description: 'Asked only when the baseline has a daily opioid dose.' } : {}),
          }),
        ),
    }),
  ];
}

/** The Questionnaires a definition's actions name: only where the definition asks patients at home. */
export function questionnairesOf(d: PathwayDefinition, questionnaires: readonly Questionnaire[]): Questionnaire[] {
  const used = new Set(AT_HOME.flatMap((stage) => atHome(d, stage, questionnaires)).flatMap((a) => (a.action ?? []).map((x) => x.definitionCanonical)));
  return questionnaires.filter((q) => used.has(canonicalOf(q)));
}

/**
 * The definition export with what it depends on (FHIR's `$package`): a collection Bundle of the
 * PlanDefinition and the Questionnaires its actions name by canonical URL.
 */
export function definitionPackage(d: PathwayDefinition, questionnaires: readonly Questionnaire[], now: Date): Bundle {
  const plan = planDefinition(d, questionnaires);
  const resources = [plan, ...questionnairesOf(d, questionnaires)];
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: now.toISOString(),
    entry: resources.map((r) => ({ fullUrl: `${FHIR_BASE}/${r.resourceType}/${r.id}`, resource: r })),
  };
}

/**
 * `questionnaires`: the instruments patients answer at home (the clinic's own where loaded); the
 * stages' actions name those the definition uses, and the PlanDefinition lists them as
 * `depends-on` artifacts.
 */
export function planDefinition(d: PathwayDefinition, questionnaires: readonly Questionnaire[] = []): PlanDefinition {
  const s = d.stages;
  const conservativeGoal = reliefGoal('conservative-response', 'response.conservative', d, s.conservative.response.painReductionPercent, 'conservative', s.conservative.reassessEveryDays);
  conservativeGoal.target!.push({
    measure: { coding: [scoreCode('odi').coding] },
    detailQuantity: { value: s.conservative.response.odiReductionPoints, comparator: '>=', unit: 'points reduction', system: UCUM, code: '{score}' },
    due: DAYS(s.conservative.reassessEveryDays),
  });
  const goals: PlanDefinitionGoal[] = [
    conservativeGoal,
    reliefGoal('interventional-response', 'response.interventional', d, s.interventional.response.reliefPercent, 'interventional', s.interventional.reassessAfterProcedureDays),
    reliefGoal('scs-trial-response', 'response.scs-trial', d, s.scs.response.trialReliefPercent, 'scs', s.scs.trialDays),
    reliefGoal('scs-follow-up-response', 'response.scs-follow-up', d, s.scs.response.followUpReliefPercent, 'scs', s.scs.followUpEveryDays),
  ];
  const completion = condition('stop', 'completion.sustained-response', d);
  const after = (stage: Stage) => [{ actionId: stage, relationship: 'after-end' as const }];

  const actions: PlanDefinitionAction[] = [
    {
      id: 'conservative',
      title: STAGE_TITLES.conservative,
      description: `${s.conservative.treatments.join(', ')}; reassessed every ${s.conservative.reassessEveryDays} days for at least ${s.conservative.minimumDays} days.`,
      code: [stageCoding('conservative')],
      goalId: ['conservative-response'],
      timingTiming: { repeat: { frequency: 1, period: s.conservative.reassessEveryDays, periodUnit: 'd', boundsDuration: DAYS(s.conservative.minimumDays) } },
      textEquivalent: conditions([condition('applicability', 'response.conservative', d), completion, condition('stop', 'escalation.conservative', d), condition('stop', 'escalation.minimum-duration', d)]),
      action: [...s.conservative.treatments.map((t, i) => step(`conservative-treatment-${i + 1}`, t)), ...atHome(d, 'conservative', questionnaires)],
    },
    {
      id: 'interventional',
      title: STAGE_TITLES.interventional,
      description: `${s.interventional.procedures.join(', ')}; a procedure within ${s.interventional.scheduleProcedureWithinDays} days, reassessed ${s.interventional.reassessAfterProcedureDays} days after each.`,
      code: [stageCoding('interventional')],
      goalId: ['interventional-response'],
      relatedAction: after('conservative'),
      timingDuration: DAYS(s.interventional.scheduleProcedureWithinDays),
      textEquivalent: conditions([
        condition('applicability', 'response.interventional', d),
        completion,
        condition('stop', 'escalation.interventional', d),
        condition('applicability', 'limit.interventional-procedures', d),
      ]),
      action: [
        step('interventional-procedure', 'Interventional procedure', {
          timingDuration: DAYS(s.interventional.scheduleProcedureWithinDays),
          selectionBehavior: 'exactly-one',
          action: s.interventional.procedures.map((p) => step(`procedure-${p}`, p.replace(/-/g, ' '), { code: [{ coding: [{ system: CODE_SYSTEMS.procedures, code: p }] }] })),
        }),
        step('interventional-reassessment', 'Reassessment after the procedure', {
          relatedAction: [{ actionId: 'interventional-procedure', relationship: 'after-end', offsetDuration: DAYS(s.interventional.reassessAfterProcedureDays) }],
        }),
        ...atHome(d, 'interventional', questionnaires),
      ],
    },
    {
      id: 'scs',
      title: STAGE_TITLES.scs,
      description: `Psychological evaluation, a ${s.scs.trialDays}-day trial, then a permanent implant, each scheduled within ${s.scs.scheduleWithinDays} days; follow-up every ${s.scs.followUpEveryDays} days.`,
      code: [stageCoding('scs')],
      goalId: ['scs-trial-response', 'scs-follow-up-response'],
      relatedAction: after('interventional'),
      timingDuration: DAYS(s.scs.scheduleWithinDays),
      textEquivalent: conditions([
        condition('stop', 'escalation.scs-psychology', d),
        condition('stop', 'escalation.scs-trial', d),
        condition('stop', 'escalation.scs-follow-up', d),
        completion,
      ]),
      action: [
        step('scs-psychological-evaluation', 'Psychological evaluation', { timingDuration: DAYS(s.scs.scheduleWithinDays) }),
        step('scs-trial', 'Stimulation trial', {
          timingDuration: DAYS(s.scs.trialDays),
          goalId: ['scs-trial-response'],
          relatedAction: [{ actionId: 'scs-psychological-evaluation', relationship: 'after-end' }],
          textEquivalent: conditions([condition('applicability', 'response.scs-trial', d)]),
        }),
        step('scs-implant', 'Permanent implant', {
          timingDuration: DAYS(s.scs.scheduleWithinDays),
          relatedAction: [{ actionId: 'scs-trial', relationship: 'after-end' }],
        }),
        step('scs-follow-up', 'Follow-up after the implant', {
          goalId: ['scs-follow-up-response'],
          timingTiming: { repeat: { frequency: 1, period: s.scs.followUpEveryDays, periodUnit: 'd' } },
          relatedAction: [{ actionId: 'scs-implant', relationship: 'after-end' }],
          textEquivalent: conditions([condition('applicability', 'response.scs-follow-up', d)]),
        }),
        ...atHome(d, 'scs', questionnaires),
      ],
    },
    {
      id: 'revision-referral',
      title: STAGE_TITLES['revision-referral'],
      description: `Work-up (${s['revision-referral'].workupItems.join(', ')}) within ${s['revision-referral'].workupDueDays} days, then the referral; the surgical consult within ${s['revision-referral'].consultDueDays} days.`,
      code: [stageCoding('revision-referral')],
      relatedAction: after('scs'),
      timingDuration: DAYS(s['revision-referral'].workupDueDays),
      textEquivalent: conditions([condition('stop', 'completion.surgical-consult', d)]),
      action: [
        step('workup', 'Work-up', {
          timingDuration: DAYS(s['revision-referral'].workupDueDays),
          selectionBehavior: 'all',
          action: s['revision-referral'].workupItems.map((item) => step(`workup-${item}`, item.replace(/-/g, ' '))),
        }),
        step('referral', 'Referral for revision surgery', {
          relatedAction: [{ actionId: 'workup', relationship: 'after-end' }],
          textEquivalent: conditions([condition('start', 'referral.workup-complete', d)]),
        }),
        step('surgical-consult', 'Surgical consult', {
          timingDuration: DAYS(s['revision-referral'].consultDueDays),
          relatedAction: [{ actionId: 'referral', relationship: 'after-end' }],
        }),
      ],
    },
  ];

  const everyStage: RuleId[] = ['red-flag.urgent-referral', 'follow-up.overdue', 'follow-up.reminder', 'follow-up.lost'];
  const dependsOn: RelatedArtifact[] = questionnairesOf(d, questionnaires).map((q) => ({ type: 'depends-on', display: q.title, resource: canonicalOf(q) }));
  return {
    resourceType: 'PlanDefinition',
    id: `${d.id}-v${d.version}`,
    url: planDefinitionUrl(d.id),
    version: String(d.version),
    name: computableName(d.id),
    title: d.title,
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/plan-definition-type', code: 'clinical-protocol' }] },
    status: 'active',
    description: [`${d.title}.`, 'In every stage:', ...everyStage.map((id) => `- ${ruleSentence(id, d)}`)].join('\n'),
    ...(dependsOn.length ? { relatedArtifact: dependsOn } : {}),
    goal: goals,
    action: actions,
  };
}
