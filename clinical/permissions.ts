/**
 * Who may do what. Shared by the API (which answers 403) and the workflow's update validators
 * (which refuse the same change if it ever arrives by another route). Two permissions also
 * depend on the pathway's state and are checked with it (clinical/pathway.ts, checkEvent):
 * only a clinician resumes after an urgent referral, and only a clinician records an SCS trial
 * early with an override.
 */
import type { ActionName } from './events';

export const ROLES = ['viewer', 'coordinator', 'clinician'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  | 'read'
  | 'enroll'
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
  /** List who saw a patient's identity (clinical leads sign in as clinicians). */
  | 'read-access-log'
  | `action:${ActionName}`;

const COORDINATOR: Permission[] = [
  'read',
  'read-identity',
  'correct-identity',
  'send-questionnaire',
  'enroll',
  'record-procedure',
  'record-workup',
  'action:hold',
  'action:resume',
  'action:withdraw',
];

/** Who acts on a pathway: a role, or the patient answering a questionnaire (who may only report scores). */
export type Acting = Role | 'patient';

const GRANTS: Record<Acting, ReadonlySet<Permission>> = {
  patient: new Set<Permission>(['record-reassessment']),
  viewer: new Set<Permission>(['read']),
  coordinator: new Set<Permission>(COORDINATOR),
  clinician: new Set<Permission>([
    ...COORDINATOR,
    'record-reassessment',
    'report-red-flags',
    'read-access-log',
    'action:escalate',
    'action:discharge',
    'action:close',
  ]),
};

export function may(role: Acting, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}
