/**
 * What a patient sends from the questionnaire page: the form's fields, as the browser posts them.
 */

const ODI_SECTIONS = ['pain-intensity', 'personal-care', 'lifting', 'walking', 'sitting', 'standing', 'sleeping', 'sex-life', 'social-life', 'travelling'];
const SCREENED_RED_FLAGS = ['bladder-bowel-dysfunction', 'saddle-anaesthesia', 'bilateral-leg-weakness', 'sexual-dysfunction', 'progressive-motor-deficit', 'infection', 'suspected-fracture', 'suspected-malignancy'];

/** A POST of the page's form; redirects are not followed, so the test sees the page's own answer. */
export const form = (fields: Record<string, string>) =>
  ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' }) as RequestInit;

/** Answers that score as given: all ten ODI sections answered, summing to `odiSectionSum` (ODI = 2 x the sum). */
export function answers(o: { painNrs: number; odiSectionSum: number; pgic?: number; flags?: string[]; comment?: string }): Record<string, string> {
  const out: Record<string, string> = { 'pain-nrs.pain': String(o.painNrs), 'pgic.pgic': String(o.pgic ?? 3) };
  let left = o.odiSectionSum;
  for (const s of ODI_SECTIONS) {
    out[`odi.${s}`] = String(Math.min(5, left));
    left -= Math.min(5, left);
  }
  for (const f of SCREENED_RED_FLAGS) out[`red-flag-screen.${f}`] = o.flags?.includes(f) ? 'yes' : 'no';
  if (o.comment) out.comment = o.comment;
  return out;
}
