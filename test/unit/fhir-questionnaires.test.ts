/**
 * The questionnaires patients answer at home in the FHIR exports (issue 19), pure: the pathway's
 * Bundle holds each QuestionnaireResponse and the scores' Observations `derivedFrom` it; the
 * PlanDefinition names each Questionnaire by canonical URL in its stages' actions, and its
 * $package holds them. Every resource valid in both validators; no name or contact anywhere.
 */
import type { Bundle, Observation, PlanDefinition, PlanDefinitionAction, Questionnaire, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema } from '../../clinical/definition';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from '../../clinical/definitions/psps-lumbar.v2.json';
import { loadInstruments, scoreAnswers } from '../../clinical/instruments';
import { applyEvent, enroll, pendingWorkup } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import { ReassessmentInputSchema } from '../../clinical/events';
import { pathwayBundle } from '../../fhir/pathway-bundle';
import { definitionPackage, planDefinition } from '../../fhir/plan-definition';
import { questionnaireResponseBundle, questionnaireResponses, type AnsweredQuestionnaire } from '../../fhir/questionnaire-responses';
import { allFhirProblems, fhirProblems } from '../harness/fhir-validator';

const V1 = PathwayDefinitionSchema.parse(pspsLumbarV1);
const V2 = PathwayDefinitionSchema.parse(pspsLumbarV2);
const INSTRUMENTS = loadInstruments();
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const at = (days: number) => new Date(T0 + days * DAY_MS).toISOString();
const PW = `pw-${'b'.repeat(32)}`;
const SUBJECT = { patientRef: 'MRN-0012345', system: 'https://clinic.example/patients' };

const of = <T extends Resource>(b: Bundle, type: T['resourceType']): T[] => (b.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);

async function expectValid(resource: Bundle | PlanDefinition): Promise<void> {
  expect(await allFhirProblems(resource)).toEqual({ medplum: [], hapi: [] });
  for (const e of (resource as Bundle).entry ?? []) expect({ id: e.resource!.id, problems: fhirProblems(e.resource!) }).toEqual({ id: e.resource!.id, problems: [] });
}

/** The answers a patient sends from the form, scored as the service scores them. */
function answeredAt(id: string, day: number, painNrs: number, counted: AnsweredQuestionnaire['counted']): AnsweredQuestionnaire {
  const form: Record<string, string> = { 'pain-nrs.pain': String(painNrs), 'pgic.pgic': '2' };
  for (const s of ['pain-intensity', 'personal-care', 'lifting', 'walking', 'sitting', 'standing', 'sleeping', 'sex-life', 'social-life', 'travelling']) form[`odi.${s}`] = '2';
  for (const f of ['bladder-bowel-dysfunction', 'saddle-anaesthesia', 'bilateral-leg-weakness', 'sexual-dysfunction', 'progressive-motor-deficit', 'infection', 'suspected-fracture', 'suspected-malignancy']) form[`red-flag-screen.${f}`] = 'no';
  const scored = scoreAnswers(INSTRUMENTS, ['pain-nrs', 'odi', 'pgic', 'red-flag-screen'], form);
  expect(scored.errors).toEqual([]);
  return { id, pathwayId: PW, answeredAt: at(day), scores: scored.scores, answers: scored.items, counted };
}

describe("the pathway's export", () => {
  // One answer became the reassessment; a later one came after the care team's own reassessment.
  const counted = answeredAt(`qr-${'1'.repeat(24)}`, 40, 5, 'reassessment');
  const late = answeredAt(`qr-${'2'.repeat(24)}`, 60, 6, 'staff-reassessment-first');
  const earlier = { ...answeredAt(`qr-${'3'.repeat(24)}`, -30, 7, 'reassessment') };
  let state = enroll({ pathwayId: PW, careTeam: 'spine-a', definition: V2, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: { id: 'coord', role: 'coordinator' } }, T0).state;
  const sourceIds = Object.fromEntries(Object.keys(counted.scores).map((k) => [k, `${counted.id}.${k}`]));
  state = applyEvent(state, { type: 'reassessment', actor: { id: 'patient-at-home', role: 'patient' }, input: ReassessmentInputSchema.parse({ ...counted.scores, sourceIds }) }, T0 + 40 * DAY_MS).state;
  state = applyEvent(state, { type: 'reassessment', actor: { id: 'dr-lee', role: 'clinician' }, input: ReassessmentInputSchema.parse({ painNrs: 6, odi: 36 }) }, T0 + 55 * DAY_MS).state;
  const view = { ...state, pendingWorkup: pendingWorkup(state) };
  const bundle = pathwayBundle(view, SUBJECT, new Date(at(61)), [earlier, counted, late]);

  it('holds a QuestionnaireResponse per instrument answered in this enrolment, valid in both validators', async () => {
    await expectValid(bundle);
    const responses = of<QuestionnaireResponse>(bundle, 'QuestionnaireResponse');
    expect(responses.map((r) => r.id)).toEqual([counted, late].flatMap((q) => ['pain-nrs', 'odi', 'pgic', 'red-flag-screen'].map((i) => `${q.id}-${i}`)));
    expect(responses[1]).toMatchObject({
      questionnaire: 'https://pathway.invalid/fhir/Questionnaire/odi|1',
      status: 'completed',
      authored: at(40),
      basedOn: [{ reference: `CarePlan/${PW}` }],
      subject: { type: 'Patient', identifier: { system: SUBJECT.system, value: SUBJECT.patientRef } },
    });
    expect(responses[1]!.item).toHaveLength(10);
  });

  it("makes a counted score the reassessment's own Observation, derived from its response, and keeps an uncounted one beside it", () => {
    const observations = of<Observation>(bundle, 'Observation');
    const byId = new Map(observations.map((o) => [o.id, o]));
    // The reassessment's Observations are the patient's: one Observation, not two, for the same score.
    expect(observations.filter((o) => o.id?.startsWith(counted.id))).toHaveLength(3);
    expect(byId.get(`${counted.id}.odi`)).toMatchObject({ valueQuantity: { value: 40 }, derivedFrom: [{ reference: `QuestionnaireResponse/${counted.id}-odi` }], issued: at(40) });
    expect(byId.get(`${counted.id}.painNrs`)!.derivedFrom).toEqual([{ reference: `QuestionnaireResponse/${counted.id}-pain-nrs` }]);
    expect(byId.get(`${late.id}.painNrs`)).toMatchObject({ valueQuantity: { value: 6 }, derivedFrom: [{ reference: `QuestionnaireResponse/${late.id}-pain-nrs` }], note: [{ text: expect.stringContaining('not counted') }] });
    // The clinician's reassessment is derived from nothing.
    expect(observations.filter((o) => o.effectiveDateTime === at(55)).map((o) => o.derivedFrom)).toEqual([undefined, undefined]);
    // Every derivedFrom points at a response in the Bundle.
    const responses = new Set(of<QuestionnaireResponse>(bundle, 'QuestionnaireResponse').map((r) => `QuestionnaireResponse/${r.id}`));
    for (const o of observations) for (const d of o.derivedFrom ?? []) expect(responses).toContain(d.reference);
    // Nothing from before this enrolment.
    expect(JSON.stringify(bundle)).not.toContain(earlier.id);
  });

  it('is the same Observation in the answers-only export', () => {
    const alone = questionnaireResponseBundle([counted], { type: 'Patient', identifier: { value: SUBJECT.patientRef } });
    const fromBundle = of<Observation>(bundle, 'Observation').find((o) => o.id === `${counted.id}.odi`)!;
    const fromAlone = of<Observation>(alone, 'Observation').find((o) => o.id === `${counted.id}.odi`)!;
    expect(fromAlone).toMatchObject({ code: fromBundle.code, valueQuantity: fromBundle.valueQuantity, derivedFrom: fromBundle.derivedFrom });
  });
});

const subActions = (a: PlanDefinitionAction): PlanDefinitionAction[] => [a, ...(a.action ?? []).flatMap(subActions)];

describe('the definition export', () => {
  it("names each Questionnaire its stages' patients answer by canonical URL, and lists them as depends-on", async () => {
    const plan = planDefinition(V2, INSTRUMENTS.all());
    await expectValid(plan);
    const named = (stage: string) => subActions(plan.action!.find((a) => a.id === stage)!).flatMap((a) => (a.definitionCanonical ? [a.definitionCanonical] : []));
    const url = (id: string) => `https://pathway.invalid/fhir/Questionnaire/${id}|1`;
    expect(named('conservative')).toEqual(['pain-nrs', 'odi', 'pgic', 'daily-mme', 'red-flag-screen'].map(url));
    expect(named('scs')).toEqual(['pain-nrs', 'odi', 'pgic', 'daily-mme', 'red-flag-screen'].map(url));
    expect(named('revision-referral')).toEqual([]);
    expect(plan.action![0]!.action!.find((a) => a.id === 'conservative-questionnaires')!.description).toContain('7 days before each reassessment');
    expect(plan.relatedArtifact!.map((r) => [r.type, r.resource])).toEqual(['pain-nrs', 'odi', 'pgic', 'daily-mme', 'red-flag-screen'].map((id) => ['depends-on', url(id)]));
  });

  it('packages the PlanDefinition with its Questionnaires ($package), valid in both validators', async () => {
    const pkg = definitionPackage(V2, INSTRUMENTS.all(), new Date(at(0)));
    await expectValid(pkg);
    expect(of(pkg, 'PlanDefinition')).toHaveLength(1);
    const questionnaires = of<Questionnaire>(pkg, 'Questionnaire');
    expect(questionnaires.map((q) => q.id)).toEqual(['pain-nrs', 'odi', 'pgic', 'daily-mme', 'red-flag-screen']);
    // Every canonical the PlanDefinition names resolves inside the package.
    const held = new Set(questionnaires.map((q) => `${q.url}|${q.version}`));
    for (const a of of<PlanDefinition>(pkg, 'PlanDefinition')[0]!.action!.flatMap(subActions)) if (a.definitionCanonical) expect(held).toContain(a.definitionCanonical);
  });

  it("names a clinic's own Questionnaire by its own canonical URL and version, in the PlanDefinition and the responses", async () => {
    const licensed = 'https://clinic.example/fhir/Questionnaire/odi-licensed|2.1a';
    const own = INSTRUMENTS.all().map((q) => (q.id === 'odi' ? { ...q, url: licensed.split('|')[0], version: '2.1a' } : q));
    const pkg = definitionPackage(V2, own, new Date(at(0)));
    await expectValid(pkg);
    expect(JSON.stringify(of(pkg, 'PlanDefinition'))).toContain(`"definitionCanonical":"${licensed}"`);
    expect(of<Questionnaire>(pkg, 'Questionnaire').find((q) => q.id === 'odi')!.url).toBe(licensed.split('|')[0]);
    const answered = { ...answeredAt(`qr-${'4'.repeat(24)}`, 1, 5, 'reassessment'), canonicals: { odi: licensed } };
    expect(questionnaireResponses(answered).map((r) => r.questionnaire)).toEqual([
      'https://pathway.invalid/fhir/Questionnaire/pain-nrs|1',
      licensed,
      'https://pathway.invalid/fhir/Questionnaire/pgic|1',
      'https://pathway.invalid/fhir/Questionnaire/red-flag-screen|1',
    ]);
  });

  it('has no Questionnaire for a definition that does not ask patients at home (v1)', async () => {
    const pkg = definitionPackage(V1, INSTRUMENTS.all(), new Date(at(0)));
    await expectValid(pkg);
    expect((pkg.entry ?? []).map((e) => e.resource!.resourceType)).toEqual(['PlanDefinition']);
    expect(planDefinition(V1, INSTRUMENTS.all())).toEqual(planDefinition(V1));
  });
});
