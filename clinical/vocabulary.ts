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

/** How the clinic says each code, for people: the console and the rule sentences use these names. */
export const STAGE_NAMES: Record<(typeof STAGES)[number], string> = {
  conservative: 'conservative care',
  interventional: 'interventional care',
  scs: 'spinal cord stimulation',
  'revision-referral': 'referral for revision surgery',
};

export const PROCEDURE_NAMES: Record<(typeof INTERVENTIONAL_PROCEDURES)[number] | (typeof SCS_PROCEDURES)[number], string> = {
  'nerve-block': 'nerve block',
  'epidural-steroid-injection': 'epidural steroid injection',
  'facet-joint-injection': 'facet joint injection',
  'si-joint-injection': 'sacroiliac joint injection',
  'medial-branch-block': 'medial branch block',
  'radiofrequency-ablation': 'radiofrequency ablation',
  'psychological-evaluation': 'psychological evaluation',
  'scs-trial': 'spinal cord stimulation trial',
  'scs-implant': 'permanent stimulator implant',
};

export const WORKUP_NAMES: Record<(typeof WORKUP_ITEMS)[number] | 'surgical-consult', string> = {
  imaging: 'imaging',
  labs: 'laboratory tests',
  'bone-density': 'bone density scan',
  'health-optimisation': 'health optimisation',
  'second-opinion': 'second opinion',
  'surgical-consult': 'surgical consult',
};

/** Items in the clinic's words: "pain NRS, ODI and daily MME". */
export const listInWords = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
