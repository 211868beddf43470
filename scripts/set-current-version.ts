/**
 * `npm run deploy:set-current -- <build id>`: makes that build of the worker the current version of
 * its Worker Deployment (PATHWAY_DEPLOYMENT_NAME), once its workers poll: every pathway's next
 * workflow task goes to it (docs/operations.md#rolling-deploys). Needs TEMPORAL_ADDRESS.
 */
import os from 'node:os';
import { loadConfig } from '../config';
import { createLogger } from '../observability/log';
import { connectTemporal } from '../temporal/connection';
import { currentBuildId, setCurrentVersion } from '../temporal/worker-deployment';

async function main(): Promise<void> {
  const buildId = process.argv[2] ?? process.env.PATHWAY_BUILD_ID;
  if (!buildId) throw new Error('name the build id to make current: npm run deploy:set-current -- <build id>');
  // Read as a versioned worker of that build would read them, so the names are checked alike.
  const config = loadConfig({ ...process.env, PATHWAY_WORKER_VERSIONING: 'true', PATHWAY_BUILD_ID: buildId });
  const version = config.worker.deployment!;
  if (!config.temporal.address) throw new Error('set TEMPORAL_ADDRESS to the deployment\'s Temporal (the embedded default runs unversioned)');
  const log = createLogger(config.logLevel);
  const temporal = await connectTemporal(config, log);
  try {
    const { previousBuildId } = await setCurrentVersion(temporal.connection, temporal.namespace, version, { identity: `deploy:set-current@${os.hostname()}` });
    const now = await currentBuildId(temporal.connection, temporal.namespace, version.deploymentName);
    console.log(`${version.deploymentName}: current build ${now ?? '(none)'}, before it ${previousBuildId ?? 'unversioned workers'}`);
    if (now !== buildId) process.exitCode = 1;
  } finally {
    await temporal.close();
  }
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'setting the current version failed', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
