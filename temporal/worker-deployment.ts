/**
 * Temporal's Worker Deployments for releases of the worker (docs/operations.md#rolling-deploys):
 * which version is current, and making a new one current once its workers poll.
 */
import type { Connection } from '@temporalio/client';
import type { WorkerDeployment } from '../config';

/** gRPC codes the server answers while a new version's workers have not yet been seen polling. */
const NOT_SEEN_YET = new Set([5 /* NOT_FOUND */, 9 /* FAILED_PRECONDITION */]);

/** The deployment's current build id; undefined while unversioned workers take new tasks. */
export async function currentBuildId(connection: Connection, namespace: string, deploymentName: string): Promise<string | undefined> {
  try {
    const { workerDeploymentInfo } = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || undefined;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return undefined;
    throw err;
  }
}

/**
 * Makes `version` current: from then on every new workflow task of the deployment's task queues,
 * of new and running pathways alike (they auto-upgrade), goes to its workers. Waits up to
 * `waitMs` for the version's workers to poll, as the server refuses a version it has not seen.
 */
export async function setCurrentVersion(
  connection: Connection,
  namespace: string,
  version: WorkerDeployment,
  options: { identity: string; waitMs?: number },
): Promise<{ previousBuildId?: string }> {
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  for (;;) {
    try {
      const answer = await connection.workflowService.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity: options.identity,
      });
      return { previousBuildId: answer.previousDeploymentVersion?.buildId || undefined };
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === undefined || !NOT_SEEN_YET.has(code) || Date.now() > deadline) {
        throw new Error(`could not make ${version.deploymentName} build ${version.buildId} current: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
