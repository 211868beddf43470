/**
 * Activities: every side effect of a pathway (care-team messages, the clinical record) and the
 * daily digest's reading of where pathways stand. Built from their dependencies so that the
 * service and the tests choose where messages go and which record store is written.
 */
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import { messageKind, type Metrics } from '../observability/metrics';
import { CLOSING_MESSAGES_WORKFLOW_TYPE, type ClosingMessagesInput } from '../workflows/messages';
import { CareTeamKey, UndeliveredKey } from '../workflows/search-attributes';
import type { CareTeamChannel } from './care-team-channel';
import type { CareTeamMessage, DeliveryResult } from '../clinical/care-team-messages';
import { definitionMigrationActivities } from './definition-migration';
import { recordActivities, type RecordDeps } from './record';

export type { CareTeamChannel } from './care-team-channel';
export type { RecordDeps } from './record';

export interface ActivityDeps {
  channel: CareTeamChannel;
  record: RecordDeps;
  /** Starts the delivery of a closed pathway's owed messages. */
  client: Client;
  /** The patient's questionnaire steps; absent, they do nothing. */
  patients?: PatientSteps;
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

/** What a closed pathway still owed goes to a workflow of its own. */
export function handOverActivities({ client }: Pick<ActivityDeps, 'client'>) {
  return {
    /**
     * Starts the workflow that delivers what a closed pathway still owed. Idempotent: a retry
     * after a start whose answer was lost finds it started.
     */
    async handOverClosingMessages(handover: { workflowId: string; taskQueue: string; input: ClosingMessagesInput }): Promise<void> {
      try {
        await client.workflow.start(CLOSING_MESSAGES_WORKFLOW_TYPE, {
          workflowId: handover.workflowId,
          taskQueue: handover.taskQueue,
          args: [handover.input],
          typedSearchAttributes: [
            { key: CareTeamKey, value: handover.input.careTeam },
            { key: UndeliveredKey, value: false },
          ],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    },
  };
}

/** The patient's questionnaire steps the workflow takes at their times (patients/questionnaire-service.ts). */
export interface PatientSteps {
  scheduledStep(pathwayId: string, dueAt: string, step: 'invite' | 'remind' | 'due'): Promise<string>;
}

export function patientActivities({ patients }: Pick<ActivityDeps, 'patients'>) {
  return {
    /** One step (invite, remind, due) for one reassessment; idempotent, so a retry or a replayed run does it once. Says what it did. */
    async patientQuestionnaireStep(input: { pathwayId: string; dueAt: string; step: 'invite' | 'remind' | 'due' }): Promise<string> {
      if (!patients) return 'no patient questionnaires on this worker';
      return patients.scheduledStep(input.pathwayId, input.dueAt, input.step);
    },
  };
}

export function createActivities({ channel, record, client, metrics, patients }: ActivityDeps) {
  return { ...deliveryActivities({ channel, metrics }), ...handOverActivities({ client }), ...recordActivities(record), ...definitionMigrationActivities({ client, record }), ...patientActivities({ patients }) };
}
