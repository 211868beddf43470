/**
 * Activities: every side effect of a pathway (care-team messages, the clinical record) and the
 * daily digest's reading of where pathways stand. Built from their dependencies so that the
 * service and the tests choose where messages go and which record store is written.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { messageKind, type Metrics } from '../observability/metrics';
import type { CareTeamChannel } from './care-team-channel';
import type { CareTeamMessage, DeliveryResult } from './messages';
import { recordActivities, type RecordDeps } from './record';

export type { CareTeamChannel } from './care-team-channel';
export type { RecordDeps } from './record';

export interface ActivityDeps {
  channel: CareTeamChannel;
  record: RecordDeps;
  /** Counts deliveries sent, retried and given up. */
  metrics?: Pick<Metrics, 'careTeamMessages'>;
}

/** Whether Temporal will try this delivery again after this attempt failed: not when the failure is final or the schedule-to-close deadline comes before the next attempt. */
function willRetry(err: unknown): boolean {
  const { info } = Context.current();
  const policy = info.retryPolicy;
  if (err instanceof ApplicationFailure && (err.nonRetryable || (err.type && policy?.nonRetryableErrorTypes?.includes(err.type)))) return false;
  if (policy?.maximumAttempts && info.attempt >= policy.maximumAttempts) return false;
  if (!info.scheduleToCloseTimeoutMs) return true;
  const initial = msOptionalToNumber(policy?.initialInterval) ?? 1000;
  const backoff = Math.min(initial * (policy?.backoffCoefficient ?? 2) ** (info.attempt - 1), msOptionalToNumber(policy?.maximumInterval) ?? initial * 100);
  return Date.now() + backoff < info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs;
}

/** Messages to care teams, counted as sent, retried or given up. */
export function deliveryActivities({ channel, metrics }: Pick<ActivityDeps, 'channel' | 'metrics'>) {
  return {
    /** Delivers one message; throws to be retried (the workflow's retry policy runs for hours). */
    async deliverToCareTeam(message: CareTeamMessage): Promise<DeliveryResult> {
      const kind = messageKind(message.type);
      try {
        const result = await channel.deliver(message);
        metrics?.careTeamMessages.inc({ kind, outcome: 'sent' });
        return result;
      } catch (err) {
        metrics?.careTeamMessages.inc({ kind, outcome: willRetry(err) ? 'retried' : 'undelivered' });
        throw err;
      }
    },
  };
}

export function createActivities({ channel, record, metrics }: ActivityDeps) {
  return { ...deliveryActivities({ channel, metrics }), ...recordActivities(record) };
}
