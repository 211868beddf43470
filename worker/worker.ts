/**
 * The Temporal worker that runs pathway workflows and their activities.
 */
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { requestIdActivityInterceptor } from '../observability/request-id-interceptors';
import { DEFAULT_WORKFLOW_CACHE_SIZE, DEFAULT_WORKFLOW_TASK_SLOTS, type WorkerDeployment } from '../config';

/** The workflow side of request ids; bundles made elsewhere (tests) include it too. */
export const WORKFLOW_INTERCEPTORS = path.join(__dirname, '..', 'workflows', 'request-id-interceptors.ts');

export interface PathwayWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Encrypts payloads (temporal/payload-codec.ts). */
  dataConverter?: DataConverter;
  /** Pathways kept in memory between tasks (PATHWAY_WORKFLOW_CACHE_SIZE); 0: none. */
  workflowCacheSize?: number;
  /** Worker Versioning: this worker polls as this version of the deployment; unset, unversioned. */
  deployment?: WorkerDeployment;
  /** Workflow tasks run at once (PATHWAY_WORKFLOW_TASK_SLOTS), at most the cache when there is one. */
  workflowTaskSlots?: number;
  /** Concurrent polls for workflow tasks (PATHWAY_WORKFLOW_TASK_POLLERS); unset, the SDK's. */
  workflowTaskPollers?: number;
}

/** How every workflow of a versioned worker moves between versions. */
const PATHWAY_VERSIONING_BEHAVIOR = 'AUTO_UPGRADE' as const;

export async function createPathwayWorker(options: PathwayWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundle, dataConverter, workflowCacheSize = DEFAULT_WORKFLOW_CACHE_SIZE, workflowTaskSlots = DEFAULT_WORKFLOW_TASK_SLOTS, workflowTaskPollers, deployment, ...deps } = options;
  // The SDK allows no more slots than a non-zero cache, and no more pollers than slots.
  const slots = workflowCacheSize === 0 ? workflowTaskSlots : Math.min(workflowTaskSlots, workflowCacheSize);
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    // Bounded: the SDK's default sizes the cache from the heap limit, far above what memory allows.
    maxCachedWorkflows: workflowCacheSize,
    maxConcurrentWorkflowTaskExecutions: slots,
    ...(workflowTaskPollers ? { maxConcurrentWorkflowTaskPolls: Math.max(2, Math.min(workflowTaskPollers, slots)) } : {}),
    ...(dataConverter ? { dataConverter } : {}),
    // Pathways run for a year: each moves to the current version at its next workflow task, and
    // patched() keeps every change replay-safe (docs/operations.md#rolling-deploys says why not PINNED).
    ...(deployment ? { workerDeploymentOptions: { version: deployment, useWorkerVersioning: true, defaultVersioningBehavior: PATHWAY_VERSIONING_BEHAVIOR } } : {}),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(deps),
    // Request ids through workflows into activities' logs; a prebuilt bundle carries its own workflow interceptors.
    interceptors: {
      activity: [requestIdActivityInterceptor],
      ...(workflowBundle ? {} : { workflowModules: [WORKFLOW_INTERCEPTORS] }),
    },
  });
}
