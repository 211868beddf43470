/**
 * Messages to care teams: what reminders, notifications, referrals and digests carry.
 * Pure (no Node APIs), so the workflow builds them deterministically; the minimum necessary,
 * so a message never carries a score, a note or a patient reference.
 */
import type { Stage } from './definition';
import type { DueKind, Effect, PathwayStatus } from './pathway';

export type CareTeamMessageType =
  | 'reminder.due'
  | 'reminder.overdue'
  | 'pathway.urgent-referral'
  | 'pathway.stage-changed'
  | 'pathway.lost-to-follow-up'
  | 'pathway.completed'
  | 'pathway.closed'
  | 'referral.issued'
  | 'digest.daily';

export interface CareTeamMessage {
  /** Stable across retries and redeliveries: receivers drop a repeated id. */
  id: string;
  type: CareTeamMessageType;
  careTeam: string;
  /** Overdue reminders go to the care team's coordinator; everything else to the team. */
  recipient: 'care-team' | 'coordinator';
  pathwayId?: string;
  stage?: Stage;
  status?: PathwayStatus;
  /** What is due: a reassessment, a procedure, the work-up, ... */
  item?: DueKind;
  dueAt?: string | null;
  /** Reminders of one due item: 1 when due, 2 when overdue, then one a week. */
  sequence?: number;
  /** Daily digest: counts per kind. */
  counts?: Record<string, number>;
  /** Where to see the pathway (or the worklist), when PATHWAY_PUBLIC_URL is set. */
  link?: string;
}

export type DeliveryResult = { channel: 'webhook'; status: number } | { channel: 'worklist' };

/** The message a pathway's side effect sends. */
export function messageFor(effect: Effect, pathwayId: string, careTeam: string): CareTeamMessage {
  const base = { id: effect.key, careTeam, pathwayId };
  switch (effect.type) {
    case 'notify-care-team':
      return { ...base, type: `pathway.${effect.topic}`, recipient: 'care-team', stage: effect.stage, status: effect.status, item: effect.due?.kind, dueAt: effect.due?.dueAt ?? null };
    case 'send-reminder':
      return {
        ...base,
        type: `reminder.${effect.level}`,
        recipient: effect.level === 'overdue' ? 'coordinator' : 'care-team',
        stage: effect.stage,
        item: effect.due.kind,
        dueAt: effect.due.dueAt,
        sequence: effect.sequence,
      };
    case 'issue-revision-referral':
      return { ...base, type: 'referral.issued', recipient: 'care-team', stage: 'revision-referral' };
  }
}
