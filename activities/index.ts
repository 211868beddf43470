/**
 * Activities: every side effect of a pathway, and the daily digest's reading of where pathways
 * stand. Built from their dependencies so that the service and the tests choose where
 * messages go.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { CLOSING_MESSAGES_WORKFLOW_TYPE, type ClosingMessagesInput } from '../workflows/messages';
import { CareTeamKey, UndeliveredKey } from '../workflows/search-attributes';
import { digestCounts, readRows, type DigestCounts } from '../worker/visibility';
import type { CareTeamChannel } from './care-team-channel';
import type { CareTeamMessage, DeliveryResult } from './messages';

export type { CareTeamChannel } from './care-team-channel';

export interface ActivityDeps {
  channel: CareTeamChannel;
  /** Reads visibility for the daily digest; starts the delivery of a closed pathway's owed messages. */
  client: Client;
}

export function createActivities({ channel, client }: ActivityDeps) {
  return {
    /** Delivers one message; throws to be retried (the workflow's retry policy runs for hours). */
    async deliverToCareTeam(message: CareTeamMessage): Promise<DeliveryResult> {
      return channel.deliver(message);
    },
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
    /** Counts of what each care team has due and overdue, for the daily digest. */
    async collectDigestCounts(at: number): Promise<DigestCounts[]> {
      return digestCounts(await readRows(client, { open: true }), at);
    },
  };
}
