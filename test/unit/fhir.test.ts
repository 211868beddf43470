/**
 * The FHIR mappers, pure: pathways driven through the clinical state machine with explicit
 * clocks, exported, and every emitted resource validated against the R4 StructureDefinitions
 * (and the required value sets of its codes); the PlanDefinition; the import's reading of a
 * Bundle, its refusals named element by element, and its recognition of a repeat.
 */
import type { Bundle, CarePlan, Goal, Observation, OperationOutcome, PlanDefinition, Provenance, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema } from '../../clinical/definition';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from '../../clinical/definitions/psps-lumbar.v2.json';
import { ReassessmentInputSchema, type Actor, type ReassessmentInput } from '../../clinical/events';
import { applyClock, applyEvent, checkEvent, enroll, pendingWorkup, type PathwayEvent, type PathwayState } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import { PatientRefSchema } from '../../api/schemas';
import { LOINC, planDefinitionCanonical } from '../../fhir/codes';
import { effectiveTimeRefusal, importAnswer, recordedOutcome } from '../../fhir/import-answer';
import { idempotencyKeyFor, readObservationBundle, recordedBefore, type ImportedReassessment } from '../../fhir/observation-import';
import { pathwayBundle } from '../../fhir/pathway-bundle';
import { planDefinition } from '../../fhir/plan-definition';
import type { PathwayView } from '../../workflows/messages';
import { allFhirProblems, bindingProblems, fhirProblems, hapiProblems } from '../harness/fhir-validator';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const at = (days: number): number => T0 + days * DAY_MS;
const CLINICIAN: Actor = { id: 'dr-lee', role: 'clinician' };
const COORDINATOR: Actor = { id: 'coord-kim', role: 'coordinator' };
/** The default definition: its rules (back-dating window, baseline, 14 days between injections, clinician-only resume after a red flag) hold in every scenario. */
const DEF = PathwayDefinitionSchema.parse(pspsLumbarV2);
const SUBJECT = { patientRef: 'clinic-ref-0001', system: 'https://clinic.example/patients' };

/** A pathway driven through the state machine; each step refused by the rules fails the test. */
class Scenario {
  state: PathwayState;
  constructor(baseline = { painNrs: 8, odi: 40 }, definition = DEF) {
    this.state = enroll({ pathwayId: `pw-${'a'.repeat(32)}`, careTeam: 'spine-a', definition, baseline, redFlags: [], enrolledBy: COORDINATOR }, at(0)).state;
  }
  apply(day: number, event: PathwayEvent): this {
    expect(checkEvent(this.state, event, at(day))).toBeNull();
    this.state = applyEvent(this.state, event, at(day)).state;
    return this;
  }
  reassess(day: number, input: Partial<ReassessmentInput> & { painNrs: number }): this {
    return this.apply(day, { type: 'reassessment', actor: CLINICIAN, input: ReassessmentInputSchema.parse(input) });
  }
  clock(day: number): this {
    this.state = applyClock(this.state, at(day)).state;
    return this;
  }
  get view(): PathwayView {
    return { ...this.state, pendingWorkup: pendingWorkup(this.state) };
  }
  bundle(): Bundle {
    return pathwayBundle(this.view, SUBJECT, new Date(at(200)));
  }
}

const resources = <T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] =>
  (bundle.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);

/** Every resource in the bundle, and the bundle itself, valid in both validators. */
async function expectValid(bundle: Bundle): Promise<void> {
  expect(await allFhirProblems(bundle)).toEqual({ medplum: [], hapi: [] });
  for (const e of bundle.entry ?? []) {
    expect({ resource: e.resource!.resourceType, problems: fhirProblems(e.resource!) }).toEqual({ resource: e.resource!.resourceType, problems: [] });
    expect(e.fullUrl).toBe(`https://pathway.invalid/fhir/${e.resource!.resourceType}/${e.resource!.id}`);
  }
}

describe('the validator used here', () => {
  it('catches structural errors and codes outside a required value set', async () => {
    expect(fhirProblems({ resourceType: 'Observation', status: 'final' } as unknown as Resource).join()).toMatch(/Observation.code/);
    expect(bindingProblems({ resourceType: 'CarePlan', status: 'paused', intent: 'plan', subject: { display: 'x' } } as unknown as Resource)).toEqual([
      'CarePlan.status: "paused" is not in the required value set',
    ]);
    const inBundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Task', status: 'requested', intent: 'plan', priority: 'whenever' } },
        { resource: { resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { display: 'x' }, activity: [{ detail: { status: 'paused' } }] } },
        { resource: { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' } } },
      ],
    } as unknown as Resource;
    const problems = fhirProblems(inBundle).join('\n');
    expect(problems).toMatch(/Bundle.entry\[0\].resource.priority: "whenever"/);
    expect(problems).toMatch(/Bundle.entry\[1\].resource.activity\[0\].detail.status: "paused"/);
    expect(problems).toMatch(/Bundle.entry\[2\].resource.subject/);
  });

  it("HAPI's validator also checks codes of R4's code systems where the binding is not required", async () => {
    const goal = { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'x' }, subject: { display: 'x' } };
    const made = (code: string) => ({ ...goal, achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code }] } }) as unknown as Resource;
    expect(fhirProblems(made('achieving'))).toEqual([]);
    expect((await hapiProblems(made('achieving'))).join()).toMatch(/achieving/);
    expect(await hapiProblems(made('sustaining'))).toEqual([]);
  }, 240_000);
});

describe('export of a pathway as a FHIR Bundle', () => {
  it('maps a running pathway: care plan, task due, goal, scores with their effective times, decisions', async () => {
    const s = new Scenario().reassess(42, {
      painNrs: 5,
      odi: 33,
      pgic: 2,
      dailyMme: 30,
      assessedAt: new Date(at(41)).toISOString(),
      sourceIds: { painNrs: 'ehr-obs-1', odi: 'ehr-obs-2' },
    });
    const bundle = s.bundle();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection', timestamp: new Date(at(200)).toISOString() });
    await expectValid(bundle);

    const [plan] = resources<CarePlan>(bundle, 'CarePlan');
    expect(plan).toMatchObject({
      id: s.state.pathwayId,
      status: 'active',
      intent: 'plan',
      instantiatesCanonical: [planDefinitionCanonical('psps-lumbar', 2)],
      subject: { type: 'Patient', identifier: { system: SUBJECT.system, value: SUBJECT.patientRef } },
      period: { start: new Date(at(0)).toISOString() },
    });
    expect(plan!.activity!.map((a) => [a.detail!.code!.coding![0]!.code, a.detail!.status])).toEqual([
      ['conservative', 'in-progress'],
      ['interventional', 'not-started'],
      ['scs', 'not-started'],
      ['revision-referral', 'not-started'],
    ]);

    const [task] = resources<Task>(bundle, 'Task');
    expect(task).toMatchObject({
      status: 'requested',
      priority: 'routine',
      businessStatus: { coding: [{ code: 'conservative' }] },
      restriction: { period: { end: s.state.due!.dueAt } },
      code: { coding: [{ code: 'reassessment' }] },
    });

    const observations = resources<Observation>(bundle, 'Observation');
    const summary = observations.map((o) => [o.id, o.code.coding![0]!.code, o.valueQuantity!.value, o.valueQuantity!.code, o.effectiveDateTime]);
    const id = s.state.pathwayId;
    expect(summary).toEqual([
      [`${id}.baseline.painNrs`, '72514-3', 8, '{score}', new Date(at(0)).toISOString()],
      [`${id}.baseline.odi`, '97909-6', 40, '{score}', new Date(at(0)).toISOString()],
      ['ehr-obs-1', '72514-3', 5, '{score}', new Date(at(41)).toISOString()],
      ['ehr-obs-2', '97909-6', 33, '{score}', new Date(at(41)).toISOString()],
      [`${id}.r1.pgic`, 'pgic', 2, '{score}', new Date(at(41)).toISOString()],
      [`${id}.r1.dailyMme`, 'daily-mme', 30, 'mg/d', new Date(at(41)).toISOString()],
    ]);
    expect(observations[2]!.issued).toBe(new Date(at(42)).toISOString());
    expect(observations[2]!.code.coding![0]!.system).toBe(LOINC);

    const [goal] = resources<Goal>(bundle, 'Goal');
    expect(goal).toMatchObject({ lifecycleStatus: 'active', achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'sustaining' }] } });
    // 30% less than the reference 8, or 10 ODI points less than 40.
    expect(goal!.target!.map((t) => [t.measure!.coding![0]!.code, t.detailQuantity!.comparator, t.detailQuantity!.value])).toEqual([
      ['72514-3', '<=', 5.6],
      ['97909-6', '<=', 30],
    ]);
    expect(goal!.description.text).toContain('30%');

    const [decision] = resources<Provenance>(bundle, 'Provenance');
    expect(decision!.activity!.coding![0]!.code).toBe('response.conservative');
    expect(decision!.reason![0]!.text).toContain('at least 30%');
    const numbers = Object.fromEntries(decision!.extension![0]!.extension!.map((e) => [e.url, e.valueDecimal ?? e.valueString ?? e.valueBoolean]));
    expect(numbers).toMatchObject({ referencePainNrs: 8, painNrs: 5, painReliefPercent: 37.5, painThresholdPercent: 30 });
    expect(decision!.agent.map((a) => a.who.identifier!.value)).toEqual(['pathway-rules', 'dr-lee']);
  });

  it('shows an overdue item as urgent', async () => {
    const s = new Scenario().clock(42).clock(46);
    expect(s.state.overdue).toBe(true);
    const bundle = s.bundle();
    await expectValid(bundle);
    const [task] = resources<Task>(bundle, 'Task');
    expect(task).toMatchObject({ priority: 'urgent', description: expect.stringContaining('(overdue)') });
    expect(resources<Provenance>(bundle, 'Provenance').map((p) => p.activity!.coding![0]!.code)).toEqual(['follow-up.overdue']);
  });

  it('maps procedures, referrals and the work-up of a pathway that went all the way to revision referral', async () => {
    const s = new Scenario()
      .apply(1, { type: 'action', actor: CLINICIAN, input: { action: 'escalate', reason: 'patient preference after review' } })
      .apply(5, { type: 'procedure', actor: COORDINATOR, input: { type: 'epidural-steroid-injection', spinalRegion: 'L4-L5' } })
      .apply(6, { type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } })
      // Stepped care after a red flag resumes on a clinician's decision.
      .apply(8, { type: 'action', actor: CLINICIAN, input: { action: 'resume', reason: 'infection excluded' } })
      .reassess(33, { painNrs: 7 })
      .apply(34, { type: 'procedure', actor: COORDINATOR, input: { type: 'medial-branch-block' } })
      // It escalates to SCS and becomes that stage's reference, which needs function (ODI) as well as pain.
      .reassess(62, { painNrs: 8, odi: 42 })
      .apply(63, { type: 'procedure', actor: COORDINATOR, input: { type: 'psychological-evaluation', outcome: 'not-cleared' } })
      .apply(70, { type: 'workup-result', actor: COORDINATOR, input: { item: 'imaging' } });
    expect(s.state.stage).toBe('revision-referral');
    const bundle = s.bundle();
    await expectValid(bundle);

    const [plan] = resources<CarePlan>(bundle, 'CarePlan');
    expect(plan!.activity!.map((a) => a.detail!.status)).toEqual(['stopped', 'stopped', 'stopped', 'in-progress']);
    expect(plan!.activity![1]!.detail!.scheduledPeriod).toEqual({ start: new Date(at(1)).toISOString(), end: new Date(at(62)).toISOString() });
    expect(plan!.goal).toBeUndefined(); // revision referral has no response threshold

    expect(resources<ServiceRequest>(bundle, 'ServiceRequest').map((r) => [r.code!.coding![0]!.code, r.status, r.priority])).toEqual([
      ['revision-surgery', 'draft', undefined],
      ['urgent-referral', 'completed', 'urgent'],
    ]);
    const procedures = resources(bundle, 'Procedure') as Array<{ code: { coding: Array<{ code: string }> }; performedDateTime: string; bodySite?: Array<{ text: string }> }>;
    expect(procedures.map((p) => p.code.coding[0]!.code)).toEqual(['epidural-steroid-injection', 'medial-branch-block', 'psychological-evaluation']);
    expect(procedures[0]!.bodySite).toEqual([{ text: 'L4-L5' }]);

    const workup = resources<Task>(bundle, 'Task').filter((t) => t.id!.includes('.workup.'));
    expect(workup.map((t) => [t.code!.coding![0]!.code, t.status])).toEqual([
      ['imaging', 'completed'],
      ['labs', 'requested'],
      ['bone-density', 'requested'],
      ['health-optimisation', 'requested'],
      ['second-opinion', 'requested'],
    ]);
    expect(workup[1]!.restriction!.period!.end).toBe(s.state.due!.dueAt);
    const decisions = resources<Provenance>(bundle, 'Provenance');
    expect(decisions.map((p) => p.activity!.coding![0]!.code)).toEqual([
      'procedure.reassess-after',
      'red-flag.urgent-referral',
      'response.interventional',
      'procedure.reassess-after',
      'response.interventional',
      'escalation.interventional',
      'escalation.scs-psychology',
    ]);
    // A recorded procedure cites the rules it starts: the reassessment it sets due, and its count toward the limit.
    const numbers = (p: Provenance) => Object.fromEntries(p.extension![0]!.extension!.map((e) => [e.url, e.valueDecimal ?? e.valueString ?? e.valueBoolean]));
    expect(numbers(decisions[3]!)).toEqual({ type: 'medial-branch-block', proceduresInWindow: 2, limit: 4, windowDays: 365, reassessAfterDays: 28, minimumIntervalDays: 14, nextProcedureFrom: new Date(at(48)).toISOString().slice(0, 10) });
  });

  it('maps a closed pathway: the plan revoked, nothing due, the current stage stopped and the rest cancelled', async () => {
    const s = new Scenario().reassess(42, { painNrs: 8 }).apply(50, { type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } });
    const bundle = s.bundle();
    await expectValid(bundle);
    const [plan] = resources<CarePlan>(bundle, 'CarePlan');
    expect(plan).toMatchObject({ status: 'revoked', period: { start: new Date(at(0)).toISOString(), end: new Date(at(50)).toISOString() } });
    // Not responding after 42 days escalated to interventional care, where the withdrawal stopped it.
    expect(plan!.activity!.map((a) => a.detail!.status)).toEqual(['stopped', 'stopped', 'cancelled', 'cancelled']);
    expect(resources<Task>(bundle, 'Task')).toEqual([]);
    expect(resources<Goal>(bundle, 'Goal')[0]!.lifecycleStatus).toBe('cancelled');
  });

  it('maps a pathway completed by sustained response', async () => {
    const s = new Scenario().reassess(42, { painNrs: 5 }).reassess(84, { painNrs: 4 });
    expect(s.state.status).toBe('completed');
    const bundle = s.bundle();
    await expectValid(bundle);
    const [plan] = resources<CarePlan>(bundle, 'CarePlan');
    expect(plan!.status).toBe('completed');
    expect(plan!.activity![0]!.detail!.status).toBe('completed');
    expect(resources<Provenance>(bundle, 'Provenance').map((p) => p.activity!.coding![0]!.code)).toContain('completion.sustained-response');
  });
});

describe('a definition as a PlanDefinition', () => {
  it('has one action per stage in order, with timing, conditions as sentences and related actions', async () => {
    const plan: PlanDefinition = planDefinition(DEF);
    expect(await allFhirProblems(plan)).toEqual({ medplum: [], hapi: [] });
    expect(plan).toMatchObject({ id: 'psps-lumbar-v2', url: 'https://pathway.invalid/fhir/PlanDefinition/psps-lumbar', version: '2', name: 'PspsLumbar', status: 'active' });
    expect(plan.action!.map((a) => a.id)).toEqual(['conservative', 'interventional', 'scs', 'revision-referral']);
    expect(plan.action!.map((a) => a.relatedAction?.[0]?.actionId)).toEqual([undefined, 'conservative', 'interventional', 'scs']);
    expect(plan.action![0]!.timingTiming!.repeat).toMatchObject({ period: 42, periodUnit: 'd', boundsDuration: { value: 42, code: 'd' } });
    expect(plan.action![0]!.textEquivalent!.split('\n')[0]).toMatch(/^Applies: In conservative care .* at least 30% .* \[response.conservative\]$/);
    expect(plan.action!.flatMap((a) => [a, ...(a.action ?? [])]).filter((a) => a.condition)).toEqual([]);
    expect(plan.action![1]!.action![1]!.relatedAction![0]).toMatchObject({ actionId: 'interventional-procedure', offsetDuration: { value: 28 } });
    expect(plan.goal!.map((g) => g.id)).toEqual(['conservative-response', 'interventional-response', 'scs-trial-response', 'scs-follow-up-response']);
    expect(plan.description).toContain('red flag');
  });
});

// ---------------------------------------------------------------------------------------------
// Import

const obs = (id: string, code: string, value: number, effective: string, extra: Record<string, unknown> = {}) => ({
  fullUrl: `urn:uuid:${id}`,
  resource: {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: /^\d/.test(code) ? LOINC : 'https://pathway.invalid/fhir/CodeSystem/scores', code }] },
    subject: { identifier: { value: 'clinic-ref-0001' } },
    effectiveDateTime: effective,
    valueQuantity: { value, unit: 'score', system: 'http://unitsofmeasure.org', code: code === 'daily-mme' ? 'mg/d' : '{score}' },
    ...extra,
  },
  request: { method: 'POST', url: 'Observation' },
});
const bundleOf = (type: string, entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });
const T1 = '2025-02-17T10:00:00+01:00';
const T2 = '2025-03-31T10:00:00+01:00';

describe('import of Observations', () => {
  it('groups scores of the same effective time into one reassessment, in time order', async () => {
    const read = readObservationBundle(
      bundleOf('batch', [obs('b-pain', '72514-3', 4, T2), obs('a-pain', '72514-3', 6, T1), obs('a-odi', '97909-6', 31, T1), obs('a-mme', 'daily-mme', 20, T1), obs('a-pgic', 'pgic', 3, T1)]),
      PatientRefSchema,
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value).toMatchObject({ bundleType: 'batch', patientRef: 'clinic-ref-0001', entryCount: 5 });
    expect(read.value.reassessments.map((r) => [r.entries, r.input])).toEqual([
      [[1, 2, 3, 4], { painNrs: 6, odi: 31, pgic: 3, dailyMme: 20, assessedAt: T1, sourceIds: { painNrs: 'a-pain', odi: 'a-odi', dailyMme: 'a-mme', pgic: 'a-pgic' } }],
      [[0], { painNrs: 4, assessedAt: T2, sourceIds: { painNrs: 'b-pain' } }],
    ]);
    // Each becomes a valid reassessment input, and the same Observations give the same key whatever their order.
    for (const r of read.value.reassessments) expect(ReassessmentInputSchema.safeParse(r.input).success).toBe(true);
    expect(read.value.reassessments[0]!.idempotencyKey).toBe(idempotencyKeyFor(['a-pgic', 'a-mme', 'a-odi', 'a-pain']));
    expect(read.value.reassessments[0]!.idempotencyKey).toMatch(/^fhir-[0-9a-f]{40}$/);
  });

  it('takes the id from a urn:uuid fullUrl when the Observation has none', async () => {
    const entry = obs('x', '72514-3', 5, T1);
    const uuid = '0b6f3a52-1c1e-4f43-9a55-8d1b8f1f3e21';
    const { id: _id, ...resource } = entry.resource;
    const read = readObservationBundle(bundleOf('transaction', [{ ...entry, fullUrl: `urn:uuid:${uuid}`, resource }]), PatientRefSchema);
    expect(read.ok && read.value.reassessments[0]!.input.sourceIds).toEqual({ painNrs: uuid });
  });

  it('refuses naming every element at fault, and never echoing a value', async () => {
    const read = readObservationBundle(
      bundleOf('batch', [
        obs('p1', '1234-5', 5, T1), // unknown code
        obs('p2', '72514-3', 5, T1, { valueQuantity: { value: 5 } }), // missing unit
        obs('p3', '97909-6', 30, T1, { valueQuantity: { value: 30, system: 'http://unitsofmeasure.org', code: 'kg' } }), // wrong unit
        obs('p4', '72514-3', 12, T2), // out of range
        obs('p5', '72514-3', 5, '2025-02-17', { status: 'preliminary' }), // a date without time, preliminary
        obs('p6', '72514-3', 5, T2, { subject: { reference: 'Patient/123' } }), // no identifier
        { resource: { resourceType: 'Condition', id: 'c1' } },
      ]),
      PatientRefSchema,
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    const named = read.issues.map((i) => [i.code, i.expression![0]]);
    expect(named).toEqual(
      expect.arrayContaining([
        ['code-invalid', 'Bundle.entry[0].resource.code'],
        ['required', 'Bundle.entry[1].resource.valueQuantity.code'],
        ['code-invalid', 'Bundle.entry[2].resource.valueQuantity.code'],
        ['value', 'Bundle.entry[3].resource.valueQuantity.value'],
        ['value', 'Bundle.entry[4].resource.status'],
        ['value', 'Bundle.entry[4].resource.effectiveDateTime'],
        ['required', 'Bundle.entry[5].resource.subject.identifier.value'],
        ['not-supported', 'Bundle.entry[6].resource.resourceType'],
      ]),
    );
    expect(read.issues.find((i) => i.expression![0] === 'Bundle.entry[1].resource.valueQuantity.code')!.details!.text).toMatch(/missing unit/);
    expect(JSON.stringify(read.issues)).not.toContain('clinic-ref-0001');
    expect(await allFhirProblems({ resourceType: 'OperationOutcome', issue: read.issues } as OperationOutcome)).toEqual({ medplum: [], hapi: [] });
  });

  it('refuses a reassessment without pain, two patients, repeated ids, and a transaction of several times', async () => {
    const other = obs('q3', '72514-3', 5, T2, { subject: { identifier: { value: 'clinic-ref-0002' } } });
    const read = readObservationBundle(bundleOf('transaction', [obs('q1', '97909-6', 30, T1), obs('q2', '72514-3', 5, T2), other, obs('q2', '97909-6', 30, T2)]), PatientRefSchema);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    const texts = read.issues.map((i) => `${i.expression!.join('|')}: ${i.details!.text}`);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Bundle.entry\[0\].resource.effectiveDateTime: a reassessment needs a pain NRS/),
        expect.stringMatching(/subject.*one patient per Bundle/),
        expect.stringMatching(/^Bundle.entry\[3\].resource.id: the same id as entry 1/),
        expect.stringMatching(/^Bundle.type: a transaction records one reassessment/),
        expect.stringMatching(/^Bundle.entry\[2\].resource.code: a second Pain severity/),
      ]),
    );
    expect(readObservationBundle({ resourceType: 'Patient' }, PatientRefSchema)).toMatchObject({ ok: false, issues: [{ expression: ['Bundle'] }] });
    expect(readObservationBundle(bundleOf('collection', []), PatientRefSchema)).toMatchObject({ ok: false, issues: [{ expression: ['Bundle.type'] }, { expression: ['Bundle.entry'] }] });
  });

  it('recognises Observations recorded before, wholly or in part', async () => {
    const read = readObservationBundle(bundleOf('batch', [obs('r-pain', '72514-3', 5, T1), obs('r-odi', '97909-6', 30, T1)]), PatientRefSchema);
    if (!read.ok) throw new Error('expected a valid bundle');
    const r = read.value.reassessments[0]!;
    const s = new Scenario();
    expect(recordedBefore(s.state.reassessments, r)).toBe('none');
    s.reassess(42, r.input);
    expect(recordedBefore(s.state.reassessments, r)).toBe('all');
    const partial = { ...r, ids: [...r.ids, 'r-new'], input: { ...r.input, pgic: 2, sourceIds: { ...r.input.sourceIds, pgic: 'r-new' } } };
    expect(recordedBefore(s.state.reassessments, partial)).toBe('some');
    const amended = { ...r, input: { ...r.input, painNrs: 6 } };
    expect(recordedBefore(s.state.reassessments, amended)).toBe('changed');
    const moved = { ...r, input: { ...r.input, assessedAt: T2 } };
    expect(recordedBefore(s.state.reassessments, moved)).toBe('changed');
  });

  it("answers an effective time the pathway's rules refuse with 422, naming each Observation's effective time", async () => {
    // T1 is day 42 of a pathway enrolled on day 0; the ODI's time is an effectiveInstant.
    const read = readObservationBundle(
      bundleOf('transaction', [obs('t-pain', '72514-3', 5, T1), obs('t-odi', '97909-6', 30, T1, { effectiveDateTime: undefined, effectiveInstant: T1 })]),
      PatientRefSchema,
    );
    if (!read.ok) throw new Error('expected a valid bundle');
    const r = read.value.reassessments[0]!;
    expect(r.effectiveElements).toEqual(['Bundle.entry[0].resource.effectiveDateTime', 'Bundle.entry[1].resource.effectiveInstant']);
    /** What the pathway answers when these scores arrive on `day`, as the API hands it on. */
    const answered = (s: Scenario, day: number, scores: ImportedReassessment = r) => {
      const refusal = checkEvent(s.state, { type: 'reassessment', actor: CLINICIAN, input: ReassessmentInputSchema.parse(scores.input) }, at(day));
      expect(refusal).not.toBeNull();
      return effectiveTimeRefusal(scores, refusal!.field ? [{ field: refusal!.field, message: refusal!.message }] : []);
    };
    const refused = (text: string | RegExp) => ({
      reassessment: r,
      status: 422,
      outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'business-rule', expression: r.effectiveElements, details: { text } }] },
    });

    expect(checkEvent(new Scenario().state, { type: 'reassessment', actor: CLINICIAN, input: ReassessmentInputSchema.parse(r.input) }, at(42))).toBeNull();
    expect(answered(new Scenario(), 41)).toEqual(refused('the effective time is in the future'));
    expect(answered(new Scenario(), 57)).toEqual(refused("the effective time is more than 14 days ago (the definition's backdateWindowDays)"));
    const held = new Scenario().apply(43, { type: 'action', actor: COORDINATOR, input: { action: 'hold', reason: 'in hospital' } });
    expect(answered(held, 44)).toEqual(refused(`the effective time is before the pathway's last recorded event (${new Date(at(43)).toISOString()})`));
    const v1 = new Scenario(undefined, PathwayDefinitionSchema.parse(pspsLumbarV1));
    expect(answered(v1, 43)).toEqual(refused('the effective time is back-dated, and psps-lumbar v1 sets no back-dating window: its events are recorded as they happen'));
    expect(await allFhirProblems(answered(v1, 43)!.outcome)).toEqual({ medplum: [], hapi: [] });
    // Any other refusal is not about the time: the route answers it as the pathway refused it.
    const afterTheHold = { ...r, input: { ...r.input, assessedAt: new Date(at(43.5)).toISOString() } };
    expect(answered(held, 44, afterTheHold)).toBeNull();
  });

  it('answers with a response Bundle: one entry per Observation sent, in order, with the decisions', async () => {
    const read = readObservationBundle(bundleOf('batch', [obs('b-pain', '72514-3', 4, T2), obs('a-pain', '72514-3', 6, T1), obs('a-odi', '97909-6', 31, T1)]), PatientRefSchema);
    if (!read.ok) throw new Error('expected a valid bundle');
    const s = new Scenario().reassess(42, { painNrs: 5 });
    const decisions = s.state.timeline.slice(-1);
    const [first, second] = read.value.reassessments;
    const answer = importAnswer(read.value, [
      { reassessment: first!, status: 201, outcome: recordedOutcome(decisions) },
      { reassessment: second!, status: 409, outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'conflict', details: { text: 'refused' } }] } },
    ]);
    expect(await allFhirProblems(answer)).toEqual({ medplum: [], hapi: [] });
    expect(answer.type).toBe('batch-response');
    expect(answer.entry!.map((e) => [e.response!.status, e.response!.location])).toEqual([
      ['409 Conflict', undefined],
      ['201 Created', 'Observation/a-pain'],
      ['201 Created', 'Observation/a-odi'],
    ]);
    const [decision] = answer.entry![1]!.response!.outcome!.issue;
    expect(decision).toMatchObject({ severity: 'information', code: 'informational', details: { coding: [{ code: 'response.conservative' }], text: 'Reassessment: responding.' } });
    expect(decision!.diagnostics).toMatch(/at least 30%.*painReliefPercent 37.5/);
  });
});
