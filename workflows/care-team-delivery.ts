/**
 * How workflows deliver messages to care teams: retried with backoff for twelve hours; a message
 * still undelivered then is written down where the care team looks, never dropped.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';

type Activities = ReturnType<typeof createActivities>;

export const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '12 hours',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

/** Handing a closed pathway's owed messages over is quick: it only starts a workflow. */
export const handOver = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
