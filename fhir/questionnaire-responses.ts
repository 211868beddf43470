/**
 * What patients answered at home, in FHIR R4: one QuestionnaireResponse per instrument answered
 * (against the Questionnaire's canonical URL), and an Observation per score, `derivedFrom` the
 * response it came from. The subject is the clinic's identifier only when the reader may see who
 * the patient is; otherwise the resources name no one.
 */
import type { Bundle, Observation, QuestionnaireResponse, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import { FHIR_BASE, scoreCode, type ScoreField } from './codes';

/** An answered questionnaire as the record keeps it (the answers decrypted). */
export interface AnsweredQuestionnaire {
  id: string;
  pathwayId: string;
  answeredAt: string;
  scores: Partial<Record<ScoreField, number>>;
  answers: Array<{ instrument: string; linkId: string; value: number | boolean | string; code?: string }>;
}

const INSTRUMENT_OF: Record<ScoreField, string> = { painNrs: 'pain-nrs', odi: 'odi', pgic: 'pgic', dailyMme: 'daily-mme' };

function answerOf(a: AnsweredQuestionnaire['answers'][number]): QuestionnaireResponseItemAnswer {
  if (typeof a.value === 'boolean') return { valueBoolean: a.value };
  if (a.code !== undefined) return { valueCoding: { system: `${FHIR_BASE}/CodeSystem/${a.instrument === 'odi' ? 'odi-level' : a.instrument}`, code: a.code } };
  if (typeof a.value === 'number' && Number.isInteger(a.value) && a.instrument !== 'daily-mme') return { valueInteger: a.value };
  return typeof a.value === 'number' ? { valueDecimal: a.value } : { valueString: a.value };
}

export function questionnaireResponseBundle(answered: readonly AnsweredQuestionnaire[], subject?: { system: string; value: string }): Bundle {
  const entries: Array<QuestionnaireResponse | Observation> = [];
  const who = subject ? { subject: { identifier: subject } } : {};
  for (const q of answered) {
    const instruments = [...new Set(q.answers.map((a) => a.instrument))];
    for (const instrument of instruments) {
      entries.push({
        resourceType: 'QuestionnaireResponse',
        id: `${q.id}-${instrument}`,
        questionnaire: `${FHIR_BASE}/Questionnaire/${instrument}|1`,
        basedOn: [{ reference: `CarePlan/${q.pathwayId}` }],
        status: 'completed',
        ...who,
        authored: q.answeredAt,
        item: q.answers.filter((a) => a.instrument === instrument).map((a) => ({ linkId: a.linkId, answer: [answerOf(a)] })),
      });
    }
    for (const [field, value] of Object.entries(q.scores) as Array<[ScoreField, number]>) {
      const code = scoreCode(field);
      entries.push({
        resourceType: 'Observation',
        id: `${q.id}-${field.toLowerCase()}`,
        basedOn: [{ reference: `CarePlan/${q.pathwayId}` }],
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: code.category }] }],
        code: { coding: [code.coding], text: code.coding.display },
        ...who,
        effectiveDateTime: q.answeredAt,
        valueQuantity: { value, ...code.unit },
        derivedFrom: [{ reference: `QuestionnaireResponse/${q.id}-${INSTRUMENT_OF[field]}` }],
      });
    }
  }
  return { resourceType: 'Bundle', type: 'collection', entry: entries.map((resource) => ({ fullUrl: `${FHIR_BASE}/${resource.resourceType}/${resource.id}`, resource })) };
}
