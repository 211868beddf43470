/**
 * A load of changes to running pathways, as the fault, replica and rolling-deploy tests send it,
 * and the check that every change answered 2xx is in the record exactly once, as answered.
 */
import { expect } from 'vitest';
import type { TimelineEntry } from '../../clinical/pathway';

/** The embedded default's local keys, by the role that sends each change. */
export const KEYS = { coordinator: 'local-coordinator-key', clinician: 'local-clinician-key' } as const;

export interface Change {
  kind: string;
  as: keyof typeof KEYS;
  body: unknown;
}

/** A cycle of changes that keeps a pathway open: hold, resume, reassess, red flag, resume. */
export const KEEPS_OPEN: readonly Change[] = [
  { kind: 'actions', as: 'coordinator', body: { action: 'hold', reason: 'patient travelling' } },
  { kind: 'actions', as: 'coordinator', body: { action: 'resume', reason: 'back home' } },
  { kind: 'reassessments', as: 'clinician', body: { painNrs: 6, odi: 34 } },
  { kind: 'red-flags', as: 'clinician', body: { redFlags: ['progressive-motor-deficit'] } },
  { kind: 'actions', as: 'clinician', body: { action: 'resume', reason: 'MRI clear' } },
];

/** The pathway's next change in `cycle`. */
export function changeFor(step: number, cycle: readonly Change[] = KEEPS_OPEN): Change {
  return cycle[step % cycle.length]!;
}

/** A change the API answered 2xx, with the decisions it answered. */
export interface Accepted {
  pathwayId: string;
  kind: string;
  decisions: TimelineEntry[];
}

/** Every accepted change of the pathway is in its timeline once, as answered; one entry a seq. */
export function expectRecordedOnce(pathway: { timeline: TimelineEntry[]; reassessments: unknown[] }, mine: readonly Accepted[]): void {
  const { timeline } = pathway;
  for (const change of mine) {
    for (const decision of change.decisions) {
      const recorded = timeline.filter((e) => e.seq === decision.seq);
      expect(recorded, `${change.kind} seq ${decision.seq}`).toHaveLength(1);
      expect(recorded[0]!.event).toBe(decision.event);
      expect(recorded[0]!.ruleId).toBe(decision.ruleId);
    }
  }
  expect(new Set(timeline.map((e) => e.seq)).size, 'one entry a seq').toBe(timeline.length);
  expect(pathway.reassessments).toHaveLength(mine.filter((a) => a.kind === 'reassessments').length);
}
