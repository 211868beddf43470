/**
 * The patient as FHIR names them: by the clinic's own reference, as a logical reference. The
 * service stores no patient identifier, so the caller supplies it for each answer.
 */
import type { Patient, Reference } from '@medplum/fhirtypes';

export interface Subject {
  /** The clinic's patient reference (the same one that enrolled the patient). */
  patientRef: string;
  /** The clinic's identifier system, echoed back when given. */
  system?: string;
}

export function subjectReference(subject: Subject): Reference<Patient> {
  return { type: 'Patient', identifier: { ...(subject.system ? { system: subject.system } : {}), value: subject.patientRef } };
}
