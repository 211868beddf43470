/**
 * Activities: every side effect of a pathway, and the daily digest's reading of where pathways
 * stand. Built from their dependencies so that the service and the tests choose where
 * messages go.
 */
import type { Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { messageKind, type Metrics } from '../observability/metrics';
import { digestCounts, readRows, type DigestCounts } from '../worker/visibility';
import type { CareTeamChannel } from './care-team-channel';
import type { CareTeamMessage, DeliveryResult } from './messages';

export type { CareTeamChannel } from './care-team-channel';

export interface ActivityDeps {
  channel: CareTeamChannel;
  /** Reads visibility for the daily digest. */
  client?: Client;
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

export function createActivities({ channel, client, metrics }: ActivityDeps) {
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
    /** Counts of what each care team has due and overdue, for the daily digest. */
    async collectDigestCounts(at: number): Promise<DigestCounts[]> {
      if (!client) throw new Error('the daily digest needs a Temporal client');
      return digestCounts(await readRows(client, { open: true }), at);
    },
  };
}
