/**
 * What patients answered at home, in FHIR R4: one QuestionnaireResponse per instrument answered
 * (against the Questionnaire's canonical URL), and an Observation per score, `derivedFrom` the
 * response it came from. A score the pathway counted as a reassessment keeps the id the
 * reassessment's `sourceIds` gives it (`<questionnaire>.<score>`), so it is the same Observation
 * here and in the pathway's export. The subject is the clinic's identifier only when the reader may
 * see who the patient is; otherwise the resources name no one. Neither carries a name or contact,
 * and the patient's comment to the care team stays out.
 */
import type { Bundle, Observation, Patient, Questionnaire, QuestionnaireResponse, QuestionnaireResponseItemAnswer, Reference } from '@medplum/fhirtypes';
import { FHIR_BASE, type ScoreField } from './codes';
import { scoreObservation } from './score-observation';

/** An answered questionnaire as the record keeps it (the answers decrypted). */
export interface AnsweredQuestionnaire {
  id: string;
  pathwayId: string;
  answeredAt: string;
  scores: Partial<Record<ScoreField, number>>;
  answers: Array<{ instrument: string; linkId: string; value: number | boolean | string; code?: string }>;
  /** Whether the scores became the pathway's reassessment, or why not. */
  counted?: 'reassessment' | 'staff-reassessment-first' | 'refused' | null;
  /** Each instrument's Questionnaire as the service holds it (the clinic's own where loaded), by canonical URL and version. */
  canonicals?: Partial<Record<string, string>>;
}

const INSTRUMENT_OF: Record<ScoreField, string> = { painNrs: 'pain-nrs', odi: 'odi', pgic: 'pgic', dailyMme: 'daily-mme' };

/** A Questionnaire's canonical URL with its version, as a PlanDefinition's actions and the responses name it. */
export const canonicalOf = (q: Questionnaire): string => (q.version ? `${q.url}|${q.version}` : q.url!);

/** The canonical URL (with its version) of a shipped instrument's Questionnaire. */
const shippedCanonical = (instrument: string): string => `${FHIR_BASE}/Questionnaire/${instrument}|1`;

/** The Observation id of a score the patient reported: the reassessment's `sourceIds` give the same. */
export const reportedScoreId = (questionnaireId: string, field: ScoreField): string => `${questionnaireId}.${field}`;

const responseReference = (questionnaireId: string, field: ScoreField) => `QuestionnaireResponse/${questionnaireId}-${INSTRUMENT_OF[field]}`;

function answerOf(a: AnsweredQuestionnaire['answers'][number]): QuestionnaireResponseItemAnswer {
  if (typeof a.value === 'boolean') return { valueBoolean: a.value };
  if (a.code !== undefined) return { valueCoding: { system: `${FHIR_BASE}/CodeSystem/${a.instrument === 'odi' ? 'odi-level' : a.instrument}`, code: a.code } };
  if (typeof a.value === 'number' && Number.isInteger(a.value) && a.instrument !== 'daily-mme') return { valueInteger: a.value };
  return typeof a.value === 'number' ? { valueDecimal: a.value } : { valueString: a.value };
}

/** One QuestionnaireResponse per instrument the patient answered. */
export function questionnaireResponses(q: AnsweredQuestionnaire, subject?: Reference<Patient>): QuestionnaireResponse[] {
  const instruments = [...new Set(q.answers.map((a) => a.instrument))];
  return instruments.map((instrument) => ({
    resourceType: 'QuestionnaireResponse',
    id: `${q.id}-${instrument}`,
    questionnaire: q.canonicals?.[instrument] ?? shippedCanonical(instrument),
    basedOn: [{ reference: `CarePlan/${q.pathwayId}` }],
    status: 'completed',
    ...(subject ? { subject, source: subject } : {}),
    authored: q.answeredAt,
    item: q.answers.filter((a) => a.instrument === instrument).map((a) => ({ linkId: a.linkId, answer: [answerOf(a)] })),
  }));
}

const NOT_COUNTED: Record<string, string> = {
  'staff-reassessment-first': 'Reported by the patient at home; not counted: the care team recorded a reassessment after the link went out.',
  refused: "Reported by the patient at home; not counted: the pathway's rules refused it as a reassessment.",
};

/** An Observation per score the patient reported, derived from its response. */
export function reportedObservations(q: AnsweredQuestionnaire, subject?: Reference<Patient>): Observation[] {
  return (Object.entries(q.scores) as Array<[ScoreField, number]>).map(([field, value]) =>
    scoreObservation({
      id: reportedScoreId(q.id, field),
      carePlanId: q.pathwayId,
      field,
      value,
      at: q.answeredAt,
      subject,
      derivedFrom: responseReference(q.id, field),
      note: q.counted ? NOT_COUNTED[q.counted] : undefined,
    }),
  );
}

/** Which response a reassessment's score came from, by the Observation id its `sourceIds` gave it. */
export function derivedFromIndex(answered: readonly AnsweredQuestionnaire[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const q of answered) for (const field of Object.keys(q.scores) as ScoreField[]) index.set(reportedScoreId(q.id, field), responseReference(q.id, field));
  return index;
}

/** What the patient answered, alone: GET /v1/pathways/{id}/questionnaires/fhir. */
export function questionnaireResponseBundle(answered: readonly AnsweredQuestionnaire[], subject?: Reference<Patient>): Bundle {
  const entries = answered.flatMap((q) => [...questionnaireResponses(q, subject), ...reportedObservations(q, subject)]);
  return { resourceType: 'Bundle', type: 'collection', entry: entries.map((resource) => ({ fullUrl: `${FHIR_BASE}/${resource.resourceType}/${resource.id}`, resource })) };
}
