/**
 * Activities: every side effect of a pathway, and the daily digest's reading of where pathways
 * stand. Built from their dependencies so that the service and the tests choose where
 * messages go.
 */
import type { Client } from '@temporalio/client';
import { digestCounts, readRows, type DigestCounts } from '../worker/visibility';
import type { CareTeamChannel } from './care-team-channel';
import type { CareTeamMessage, DeliveryResult } from './messages';

export type { CareTeamChannel } from './care-team-channel';

export interface ActivityDeps {
  channel: CareTeamChannel;
  /** Reads visibility for the daily digest. */
  client?: Client;
}

export function createActivities({ channel, client }: ActivityDeps) {
  return {
    /** Delivers one message; throws to be retried (the workflow's retry policy runs for hours). */
    async deliverToCareTeam(message: CareTeamMessage): Promise<DeliveryResult> {
      return channel.deliver(message);
    },
    /** Counts of what each care team has due and overdue, for the daily digest. */
    async collectDigestCounts(at: number): Promise<DigestCounts[]> {
      if (!client) throw new Error('the daily digest needs a Temporal client');
      return digestCounts(await readRows(client, { open: true }), at);
    },
  };
}
