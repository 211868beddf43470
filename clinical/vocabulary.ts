/**
 * The clinic's words as plain data: stages, pathway statuses, red flags, procedures, work-up
 * items and baseline measures. No schema library here, so the workflow (which instantiates what it imports once per
 * cached pathway) can use them for the price of a few arrays; clinical/definition.ts builds its
 * schemas from the same lists.
 */
export const STAGES = ['conservative', 'interventional', 'scs', 'revision-referral'] as const;

export const PATHWAY_STATUSES = ['active', 'on-hold', 'urgent-referral', 'completed', 'withdrawn', 'closed'] as const;
export type PathwayStatus = (typeof PATHWAY_STATUSES)[number];
/** A pathway in one of these accepts no more changes; the patient may be enrolled again. */
export const CLOSED_STATUSES: readonly PathwayStatus[] = ['completed', 'withdrawn', 'closed'];
/** Takes any string, so the console's scripts can ask of a status read from the API. */
export const isClosed = (status: string): boolean => (CLOSED_STATUSES as readonly string[]).includes(status);

export const RED_FLAGS = [
  'bladder-bowel-dysfunction',
  'saddle-anaesthesia',
  'progressive-motor-deficit',
  'infection',
  'suspected-fracture',
  'suspected-malignancy',
  'sexual-dysfunction',
  'bilateral-leg-weakness',
] as const;

export const INTERVENTIONAL_PROCEDURES = [
  'nerve-block',
  'epidural-steroid-injection',
  'facet-joint-injection',
  'si-joint-injection',
  'medial-branch-block',
  'radiofrequency-ablation',
] as const;
export const SCS_PROCEDURES = ['psychological-evaluation', 'scs-trial', 'scs-implant'] as const;

export const WORKUP_ITEMS = ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const;

/** The scores a stage may need as its baseline before its first procedure (Medicare LCD L33906: pain and function). */
export const BASELINE_MEASURES = ['painNrs', 'odi', 'dailyMme'] as const;
