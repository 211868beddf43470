/**
 * One score as a FHIR Observation: the one shape the pathway's export and the patient's answers
 * share, so the same score is the same Observation in either.
 */
import type { Observation, Patient, Reference } from '@medplum/fhirtypes';
import { scoreCode, type ScoreField } from './codes';

export interface ScoreObservation {
  id: string;
  carePlanId: string;
  field: ScoreField;
  value: number;
  /** When the score was measured (assessed, or answered by the patient). */
  at: string;
  /** When it was recorded, where that differs from `at`. */
  issued?: string;
  /** Absent where the reader may not know who the patient is. */
  subject?: Reference<Patient>;
  /** The QuestionnaireResponse the score came from. */
  derivedFrom?: string;
  note?: string;
}

export function scoreObservation(s: ScoreObservation): Observation {
  const code = scoreCode(s.field);
  return {
    resourceType: 'Observation',
    id: s.id,
    basedOn: [{ reference: `CarePlan/${s.carePlanId}` }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: code.category }] }],
    code: { coding: [code.coding], text: code.coding.display },
    ...(s.subject ? { subject: s.subject } : {}),
    effectiveDateTime: s.at,
    ...(s.issued ? { issued: s.issued } : {}),
    valueQuantity: { value: s.value, ...code.unit },
    ...(s.derivedFrom ? { derivedFrom: [{ reference: s.derivedFrom }] } : {}),
    ...(s.note ? { note: [{ text: s.note }] } : {}),
  };
}
