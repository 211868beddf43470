/**
 * Delivers the messages a pathway still owed when it closed, so the pathway's own workflow can
 * complete at once and the patient can be enrolled again (its workflow id is free). Started by
 * the pathway as a child with parent-close policy ABANDON; its id is derived from the pathway id
 * and run, never from patient data. It keeps each message's outcome in its result, and flags
 * `PathwayUndelivered` on itself when one could not be delivered after every retry; each outcome
 * is written into the pathway's record, where the worklist shows an undelivered one.
 */
import { ActivityFailure, proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { CareTeamMessage } from '../activities/messages';
import type { DeliveryOutcome } from '../clinical/pathway';
import { delivery } from './care-team-delivery';
import { UndeliveredKey } from './search-attributes';

export const CLOSING_MESSAGES_WORKFLOW_TYPE = 'closingMessagesWorkflow';

// Each outcome goes into the pathway's record, retried until the database answers.
const record = proxyLocalActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface ClosingMessagesInput {
  pathwayId: string;
  /** The enrolment whose record keeps the outcomes. */
  enrolmentId: string;
  careTeam: string;
  messages: CareTeamMessage[];
}

export interface ClosingMessagesResult {
  pathwayId: string;
  outcomes: Array<{ messageId: string; type: CareTeamMessage['type']; outcome: DeliveryOutcome; at: string }>;
}

/** The id of the workflow that delivers what a closed pathway run still owed. */
export const closingMessagesId = (pathwayId: string, runId: string): string => `${pathwayId}.closing-messages.${runId}`;

export async function closingMessagesWorkflow(input: ClosingMessagesInput): Promise<ClosingMessagesResult> {
  const outcomes: ClosingMessagesResult['outcomes'] = [];
  // In order, as the pathway would have sent them.
  for (const message of input.messages) {
    let outcome: DeliveryOutcome;
    try {
      outcome = (await delivery.deliverToCareTeam(message)).channel;
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      outcome = 'undelivered';
      upsertSearchAttributes([{ key: UndeliveredKey, value: true }]);
    }
    const at = new Date().toISOString();
    outcomes.push({ messageId: message.id, type: message.type, outcome, at });
    await record.recordDeliveryOutcome({ enrolmentId: input.enrolmentId, messageId: message.id, messageType: message.type, outcome, at });
  }
  return { pathwayId: input.pathwayId, outcomes };
}
