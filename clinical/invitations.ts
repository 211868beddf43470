/**
 * When the patient is asked to answer at home, as a pure function of the pathway and its
 * definition's `patientQuestionnaires`: the link goes out `inviteDaysBefore` days before a
 * reassessment, a reminder `reminderAfterDays` later (if still before the due date), and at the
 * due date an unanswered questionnaire is marked "not answered by the patient". Only while the
 * pathway is active and its next item is a reassessment.
 */
import type { PathwayState } from './pathway';
import { DAY_MS } from './rules';

export type InvitationStep = 'invite' | 'remind' | 'due';

export interface NextInvitationStep {
  step: InvitationStep;
  /** The reassessment's due date the step is for. */
  dueAt: string;
  /** When it is to be taken (ms). */
  at: number;
  /** Stable per step and due date. */
  key: string;
}

/** What the invitation loop waits on: a change of it means the plan changed. */
export const invitationPlanKey = (state: PathwayState): string => `${state.status}|${state.due?.kind ?? ''}|${state.due?.dueAt ?? ''}`;

export function nextInvitationStep(state: PathwayState, done: ReadonlySet<string>): NextInvitationStep | null {
  const timing = state.definition.patientQuestionnaires;
  if (!timing || state.status !== 'active' || state.due?.kind !== 'reassessment') return null;
  const dueAt = state.due.dueAt;
  const due = Date.parse(dueAt);
  const invite = due - timing.inviteDaysBefore * DAY_MS;
  const remind = invite + timing.reminderAfterDays * DAY_MS;
  const steps: Array<[InvitationStep, number]> = [['invite', invite], ...(remind < due ? ([['remind', remind]] as Array<[InvitationStep, number]>) : []), ['due', due]];
  for (const [step, at] of steps) {
    const key = `${step}@${dueAt}`;
    if (!done.has(key)) return { step, dueAt, at, key };
  }
  return null;
}
