/**
 * The daily digest: once a day (a Temporal Schedule starts it), each care team with running
 * pathways gets one message with its counts of what is due and overdue; then records past the
 * hospital's retention are deleted.
 */
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';

const { collectDigestCounts, purgeExpiredRecords } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', maximumInterval: '5 minutes' },
});
const { deliverToCareTeam } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '6 hours',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

export interface DigestRun {
  day: string;
  careTeams: Array<{ careTeam: string; delivered: 'webhook' | 'worklist' | 'undelivered' }>;
  /** Pathways whose records passed their retention, and idempotency keys past theirs, deleted today. */
  purged?: { pathways: number; idempotencyKeys: number };
}

export async function dailyDigestWorkflow(): Promise<DigestRun> {
  const now = Date.now();
  const day = new Date(now).toISOString().slice(0, 10);
  // A run started by the schedule is keyed by its scheduled day, so a re-run on the same day repeats ids and receivers drop it.
  const runKey = workflowInfo().workflowId;
  const digests = await collectDigestCounts(now);
  const careTeams = await Promise.all(
    digests.map(async ({ careTeam, counts }) => {
      try {
        const result = await deliverToCareTeam({ id: `digest.${day}.${careTeam}.${runKey}`, type: 'digest.daily', careTeam, recipient: 'care-team', counts });
        return { careTeam, delivered: result.channel };
      } catch {
        return { careTeam, delivered: 'undelivered' as const };
      }
    }),
  );
  if (!patched('purge-expired-records')) return { day, careTeams };
  return { day, careTeams, purged: await purgeExpiredRecords(now) };
}
