/**
 * Delivers the messages a pathway still owed when it closed, so the pathway's own workflow can
 * complete at once and the patient can be enrolled again (its workflow id is free). Started by
 * an activity of the closing pathway (not as a child, so nothing ties it to the closed run), with
 * an id derived from the pathway id and run. It keeps each message's outcome in its result, and
 * flags `PathwayUndelivered` on itself when one could not be delivered after every retry; each
 * outcome is written into the pathway's record, where the worklist shows an undelivered one.
 */
import { ActivityFailure, proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { DeliveryOutcome } from '../clinical/pathway';
import { delivery } from './care-team-delivery';
import type { ClosingMessagesInput, ClosingMessagesResult } from './messages';
import { UndeliveredKey } from './search-attributes';

// Each outcome goes into the pathway's record, retried until the database answers.
const record = proxyLocalActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

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
