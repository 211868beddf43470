/**
 * Activities: every side effect of a pathway (care-team messages, the clinical record) and the
 * daily digest's reading of where pathways stand. Built from their dependencies so that the
 * service and the tests choose where messages go and which record store is written.
 */
import type { CareTeamChannel } from './care-team-channel';
import type { CareTeamMessage, DeliveryResult } from './messages';
import { recordActivities, type RecordDeps } from './record';

export type { CareTeamChannel } from './care-team-channel';
export type { RecordDeps } from './record';

export interface ActivityDeps {
  channel: CareTeamChannel;
  record: RecordDeps;
}

export function createActivities({ channel, record }: ActivityDeps) {
  return {
    /** Delivers one message; throws to be retried (the workflow's retry policy runs for hours). */
    async deliverToCareTeam(message: CareTeamMessage): Promise<DeliveryResult> {
      return channel.deliver(message);
    },
    ...recordActivities(record),
  };
}
