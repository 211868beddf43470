/**
 * The daily digest's Temporal Schedule, created at start-up. Idempotent: a second start, or a
 * second worker, finds it there; a changed time or time zone updates it in place.
 */
import { ScheduleAlreadyRunning, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { dailyDigestWorkflow } from '../workflows/digest';
import type { Config } from '../config';
import type { Logger } from '../observability/log';

export const DIGEST_SCHEDULE_ID = 'pathway-daily-digest';

function scheduleOptions(taskQueue: string, digest: Config['digest']) {
  const action: ScheduleOptionsStartWorkflowAction<typeof dailyDigestWorkflow> = {
    type: 'startWorkflow',
    workflowType: 'dailyDigestWorkflow',
    workflowId: DIGEST_SCHEDULE_ID,
    taskQueue,
  };
  return {
    spec: { calendars: [{ hour: digest.hour, minute: digest.minute }], timezone: digest.timezone },
    action,
    // A digest missed while the service was down is sent when it returns, within the day.
    policies: { overlap: 'SKIP' as const, catchupWindow: '12 hours' as const },
  };
}

export async function ensureDigestSchedule(client: Client, taskQueue: string, digest: Config['digest'], log: Logger): Promise<'created' | 'updated' | 'unchanged'> {
  const options = scheduleOptions(taskQueue, digest);
  try {
    await client.schedule.create({ scheduleId: DIGEST_SCHEDULE_ID, ...options });
    log.info('daily digest schedule created', { hour: digest.hour, minute: digest.minute, timezone: digest.timezone });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(DIGEST_SCHEDULE_ID);
  const current = await handle.describe();
  const calendar = current.spec.calendars?.[0];
  const same =
    current.spec.calendars?.length === 1 &&
    calendar?.hour?.[0]?.start === digest.hour &&
    calendar?.minute?.[0]?.start === digest.minute &&
    (current.spec.timezone ?? 'UTC') === digest.timezone &&
    current.action.type === 'startWorkflow' &&
    current.action.taskQueue === taskQueue;
  if (same) return 'unchanged';
  await handle.update((previous) => ({ ...previous, ...options, policies: { ...previous.policies, ...options.policies } }));
  log.info('daily digest schedule updated', { hour: digest.hour, minute: digest.minute, timezone: digest.timezone });
  return 'updated';
}
