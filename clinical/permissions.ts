/**
 * Who may do what. Shared by the API (which answers 403) and the workflow's update validators
 * (which refuse the same change if it ever arrives by another route). Two permissions also
 * depend on the pathway's state and are checked with it (clinical/pathway.ts, checkEvent):
 * only a clinician (or a lead) resumes after an urgent referral, and only a clinician (or a lead)
 * records an SCS trial early with an override.
 */
import type { ActionName } from './events';

/** Least to most capable: a clinical lead is a clinician who also owns the pathway definitions. */
export const ROLES = ['viewer', 'coordinator', 'clinician', 'lead'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'read'
  | 'enrol'
  | 'record-reassessment'
  | 'record-procedure'
  | 'record-workup'
  | 'report-red-flags'
  /** See who the patient is (name, reference, contact): the care team that treats them, never dashboards. */
  | 'read-identity'
  /** Correct a patient's name and contact details. */
  | 'correct-identity'
  /** Send the patient a questionnaire link (again). */
  | 'send-questionnaire'
  /** List who saw a patient's identity. */
  | 'read-access-log'
  | `action:${ActionName}`
  /** Drafts of pathway definitions: create, change, validate, try on past patients (docs/definitions.md). */
  | 'author-definitions'
  /** Publish a draft for new enrolments, retire a version. */
  | 'publish-definitions'
  /** Move running pathways to a newer published version. */
  | 'migrate-pathways';

const COORDINATOR: Permission[] = [
  'read',
  'read-identity',
  'correct-identity',
  'send-questionnaire',
  'enrol',
  'record-procedure',
  'record-workup',
  'action:hold',
  'action:resume',
  'action:withdraw',
  'action:acknowledge',
];

const CLINICIAN: Permission[] = [...COORDINATOR, 'record-reassessment', 'report-red-flags', 'read-access-log', 'action:escalate', 'action:discharge', 'action:close'];

/** Who acts on a pathway: a role, or the patient answering a questionnaire (who may only report scores). */
export type Acting = Role | 'patient';

const GRANTS: Record<Acting, ReadonlySet<Permission>> = {
  patient: new Set<Permission>(['record-reassessment']),
  viewer: new Set<Permission>(['read']),
  coordinator: new Set<Permission>(COORDINATOR),
  clinician: new Set<Permission>(CLINICIAN),
  lead: new Set<Permission>([...CLINICIAN, 'author-definitions', 'publish-definitions', 'migrate-pathways']),
};

/** Roles that take clinical decisions on a pathway (an SCS trial override, resuming after an urgent referral). */
export const isClinicalRole = (role: string): boolean => role === 'clinician' || role === 'lead';

export function may(role: Acting, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}
