/**
 * The code systems and units of the FHIR mapping, in one place: LOINC where a code exists
 * (pain NRS, ODI total), this service's own code systems where none does (PGIC, daily MME,
 * stages, procedures, due items, rules). Our URLs are identifiers, not addresses to fetch.
 */
import type { CodeableConcept, Coding, Quantity } from '@medplum/fhirtypes';
import type { Stage } from '../clinical/definition';

/** The base of every canonical URL and bundle fullUrl this service mints. */
export const FHIR_BASE = 'https://pathway.invalid/fhir';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
/** R4's code system of Goal.achievementStatus. */
export const GOAL_ACHIEVEMENT = 'http://terminology.hl7.org/CodeSystem/goal-achievement';

export const CODE_SYSTEMS = {
  scores: `${FHIR_BASE}/CodeSystem/scores`,
  stages: `${FHIR_BASE}/CodeSystem/stages`,
  procedures: `${FHIR_BASE}/CodeSystem/procedures`,
  dueItems: `${FHIR_BASE}/CodeSystem/due-items`,
  rules: `${FHIR_BASE}/CodeSystem/rules`,
  referrals: `${FHIR_BASE}/CodeSystem/referrals`,
  redFlags: `${FHIR_BASE}/CodeSystem/red-flags`,
} as const;

/** The extension that carries the numbers a rule used, one nested extension per number. */
export const DECISION_NUMBERS_EXTENSION = `${FHIR_BASE}/StructureDefinition/decision-numbers`;

export const planDefinitionUrl = (definitionId: string): string => `${FHIR_BASE}/PlanDefinition/${definitionId}`;
export const planDefinitionCanonical = (definitionId: string, version: number): string => `${planDefinitionUrl(definitionId)}|${version}`;

/** The scores a reassessment holds, by their field name in the clinical model. */
export type ScoreField = 'painNrs' | 'odi' | 'pgic' | 'dailyMme';

export interface ScoreCode {
  field: ScoreField;
  coding: Coding;
  /** What an exported value carries. */
  unit: Required<Pick<Quantity, 'unit' | 'system' | 'code'>>;
  /** UCUM codes an imported value may carry. */
  acceptedUnits: readonly string[];
  /** Patient-reported outcomes are surveys; the analgesic dose is about therapy. */
  category: 'survey' | 'therapy';
}

const score = { unit: 'score', system: UCUM, code: '{score}' };

export const SCORE_CODES: readonly ScoreCode[] = [
  {
    field: 'painNrs',
    coding: { system: LOINC, code: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' },
    unit: score,
    acceptedUnits: ['{score}'],
    category: 'survey',
  },
  {
    field: 'odi',
    coding: { system: LOINC, code: '97909-6', display: 'Oswestry disability index score ODI' },
    unit: score,
    acceptedUnits: ['{score}', '%'],
    category: 'survey',
  },
  {
    field: 'pgic',
    coding: { system: CODE_SYSTEMS.scores, code: 'pgic', display: 'Patient Global Impression of Change (1-7)' },
    unit: score,
    acceptedUnits: ['{score}'],
    category: 'survey',
  },
  {
    field: 'dailyMme',
    coding: { system: CODE_SYSTEMS.scores, code: 'daily-mme', display: 'Daily morphine milligram equivalents' },
    unit: { unit: 'mg/d', system: UCUM, code: 'mg/d' },
    acceptedUnits: ['mg/d', 'mg/(24.h)'],
    category: 'therapy',
  },
];

export const scoreCode = (field: ScoreField): ScoreCode => SCORE_CODES.find((c) => c.field === field)!;

export const DAYS = (value: number) => ({ value, unit: 'days', system: UCUM, code: 'd' });

export const STAGE_TITLES: Record<Stage, string> = {
  conservative: 'Conservative care',
  interventional: 'Interventional procedures',
  scs: 'Spinal cord stimulation',
  'revision-referral': 'Referral for revision surgery',
};

export const stageCoding = (stage: Stage): CodeableConcept => ({
  coding: [{ system: CODE_SYSTEMS.stages, code: stage, display: STAGE_TITLES[stage] }],
  text: STAGE_TITLES[stage],
});
