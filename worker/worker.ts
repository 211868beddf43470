/**
 * The Temporal worker that runs pathway workflows and their activities.
 */
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { requestIdActivityInterceptor } from '../observability/request-id-interceptors';

/** The workflow side of request ids; bundles made elsewhere (tests) include it too. */
export const WORKFLOW_INTERCEPTORS = path.join(__dirname, '..', 'workflows', 'request-id-interceptors.ts');

export interface PathwayWorkerOptions extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Encrypts payloads (worker/payload-codec.ts). */
  dataConverter?: DataConverter;
}

export async function createPathwayWorker(options: PathwayWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue, workflowBundle, dataConverter, ...deps } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...(dataConverter ? { dataConverter } : {}),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(deps),
    // Request ids through workflows into activities' logs; a prebuilt bundle carries its own workflow interceptors.
    interceptors: {
      activity: [requestIdActivityInterceptor],
      ...(workflowBundle ? {} : { workflowModules: [WORKFLOW_INTERCEPTORS] }),
    },
  });
}
