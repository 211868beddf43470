/**
 * The stages, red flags, procedures and work-up items the forms offer, as the page carries them
 * from the service's clinical model (console/pages.ts).
 */
export interface Vocabulary {
  stages: string[];
  redFlags: string[];
  procedures: string[];
  workupItems: string[];
}

export const vocabulary: Vocabulary = JSON.parse(document.getElementById('vocabulary')?.textContent ?? '{}');
