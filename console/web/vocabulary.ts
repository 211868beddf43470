/**
 * The stages, red flags, procedures and work-up items the forms offer, and the clinic's name for
 * each, as the page carries them from the service's clinical model (console/pages.ts).
 */
export interface Vocabulary {
  stages: string[];
  redFlags: string[];
  procedures: string[];
  workupItems: string[];
  /** Stage, procedure and work-up codes by the name the clinic uses. */
  names: Record<string, string>;
}

export const vocabulary: Vocabulary = JSON.parse(document.getElementById('vocabulary')?.textContent ?? '{}');
