/**
 * What /readyz checks on Temporal beyond "it answers": the search attributes every enrolment
 * writes are registered, and a worker polls the task queue (without one, every change the API
 * sends waits until its deadline).
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

export async function workersPolling(connection: Connection, namespace: string, taskQueue: string): Promise<number> {
  const { pollers } = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  return (pollers ?? []).filter((p) => p.lastAccessTime && now - tsToMs(p.lastAccessTime) < POLLER_SILENCE_MS).length;
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
      workersPolling(connection, namespace, taskQueue).catch(reason(`could not describe task queue ${taskQueue}`)),
      sinceWorkerSeen?.().catch(reason('could not read which workers are alive from the record store')),
    ]);
    const missing: string[] = [];
    if (attributes.length > 0) missing.push(`search attributes not registered in namespace ${namespace}: ${attributes.join(', ')}`);
    if (pollers === 0) missing.push(`no worker polls task queue ${taskQueue}: changes would wait until a worker starts`);
    else if (sinceWorkerSeen && (seenMsAgo === null || seenMsAgo === undefined || seenMsAgo > PRESENCE_GONE_AFTER_MS)) {
      const when = seenMsAgo === null || seenMsAgo === undefined ? 'ever' : `for ${Math.round(seenMsAgo / 1000)} s`;
      missing.push(`no worker of task queue ${taskQueue} has been seen ${when === 'ever' ? 'yet' : when}: changes would wait until a worker is back`);
    }
    return missing;
  };
}
