/**
 * What /readyz checks on Temporal beyond "it answers": the search attributes every enrolment
 * writes are registered, and a worker that Temporal sends tasks to polls the task queue (without
 * one, every change the API sends waits until its deadline).
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { PRESENCE_GONE_AFTER_MS } from '../record/worker-presence';
import { PATHWAY_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/** A worker long-polls for about a minute at a time; one silent for longer than this is gone. */
const POLLER_SILENCE_MS = 2 * 60_000;

export async function missingSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  return PATHWAY_SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in existing));
}

/**
 * Workers that poll the task queue and that Temporal sends its tasks to: with Worker Versioning,
 * those of the deployment's current version; without a current version, the unversioned ones
 * (docs/operations.md#rolling-deploys). `routedTo` names the current version, if any; `idle`
 * counts the live pollers that get no task (another version's).
 */
export async function pollersTakingTasks(connection: Connection, namespace: string, taskQueue: string): Promise<{ count: number; idle: number; routedTo?: string }> {
  const { pollers, versioningInfo } = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  const current = versioningInfo?.currentDeploymentVersion?.buildId ? versioningInfo.currentDeploymentVersion : undefined;
  const live = (pollers ?? []).filter((p) => p.lastAccessTime && now - tsToMs(p.lastAccessTime) < POLLER_SILENCE_MS);
  const count = live.filter((p) => {
    const versioned = p.deploymentOptions?.workerVersioningMode === temporal.api.enums.v1.WorkerVersioningMode.WORKER_VERSIONING_MODE_VERSIONED;
    if (!current) return !versioned;
    return versioned && p.deploymentOptions?.deploymentName === current.deploymentName && p.deploymentOptions?.buildId === current.buildId;
  }).length;
  return { count, idle: live.length - count, ...(current ? { routedTo: `${current.deploymentName}:${current.buildId}` } : {}) };
}

export async function workersPolling(connection: Connection, namespace: string, taskQueue: string): Promise<number> {
  return (await pollersTakingTasks(connection, namespace, taskQueue)).count;
}

const reason = (what: string) => (err: unknown) => {
  throw new Error(`${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
};

/**
 * `sinceWorkerSeen` (the record store's presence notes: record/worker-presence.ts) tells within
 * seconds that the last worker is gone; Temporal's poller list only after about a minute.
 */
export function temporalReadiness(
  connection: Connection,
  namespace: string,
  taskQueue: string,
  sinceWorkerSeen?: () => Promise<number | null>,
): () => Promise<string[]> {
  return async () => {
    const [attributes, pollers, seenMsAgo] = await Promise.all([
      missingSearchAttributes(connection, namespace).catch(reason(`could not list the search attributes of namespace ${namespace}`)),
      pollersTakingTasks(connection, namespace, taskQueue).catch(reason(`could not describe task queue ${taskQueue}`)),
      sinceWorkerSeen?.().catch(reason('could not read which workers are alive from the record store')),
    ]);
    const missing: string[] = [];
    if (attributes.length > 0) missing.push(`search attributes not registered in namespace ${namespace}: ${attributes.join(', ')}`);
    if (pollers.count === 0 && pollers.routedTo) {
      missing.push(`no worker of ${pollers.routedTo}, the current version, polls task queue ${taskQueue}: changes would wait until one starts or a polling version is made current`);
    } else if (pollers.count === 0 && pollers.idle > 0) {
      missing.push(`workers poll task queue ${taskQueue} as Worker Deployment versions, but no version is current: changes would wait until one is made current (npm run deploy:set-current)`);
    } else if (pollers.count === 0) missing.push(`no worker polls task queue ${taskQueue}: changes would wait until a worker starts`);
    else if (sinceWorkerSeen && (seenMsAgo === null || seenMsAgo === undefined || seenMsAgo > PRESENCE_GONE_AFTER_MS)) {
      const when = seenMsAgo === null || seenMsAgo === undefined ? 'ever' : `for ${Math.round(seenMsAgo / 1000)} s`;
      missing.push(`no worker of task queue ${taskQueue} has been seen ${when === 'ever' ? 'yet' : when}: changes would wait until a worker is back`);
    }
    return missing;
  };
}
