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
  | `action:${ActionName}`;

const COORDINATOR: Permission[] = [
  'read',
  'enroll',
  'record-procedure',
  'record-workup',
  'action:hold',
  'action:resume',
  'action:withdraw',
  'action:acknowledge',
];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set<Permission>(['read']),
  coordinator: new Set<Permission>(COORDINATOR),
  clinician: new Set<Permission>([
    ...COORDINATOR,
    'record-reassessment',
    'report-red-flags',
    'action:escalate',
    'action:discharge',
    'action:close',
  ]),
};

export function may(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}
