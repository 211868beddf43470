/**
 * Starts the real servers once per test run: the time-skipping Temporal test server for
 * workflow tests (weeks of pathway time in seconds), a Temporal dev server for end-to-end tests,
 * a PostgreSQL server for the record store, and on that PostgreSQL a production-like Temporal
 * server (the real server, SQL persistence and visibility) that the end-to-end tests also run on.
 * Also bundles the workflow code once.
 * A server that cannot start fails the run: no test skips.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { silentLogger } from '../../observability/log';
import { ensureSearchAttributes } from '../../worker/temporal';
import { resolveDevServer, resolveTimeSkippingServer } from '../../worker/temporal-servers';
import { startPostgresServer } from '../harness/postgres-server';
import { startProductionTemporal } from '../harness/temporal-server';
import { WORKFLOW_INTERCEPTORS } from '../../worker/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    timeSkippingAddress: string;
    devServerAddress: string;
    workflowBundlePath: string;
    tempDir: string;
    /** Superuser URL of the run's PostgreSQL server; each test file creates its own database. */
    postgresUrl: string;
    /** The production-like Temporal server (test/harness/temporal-server.ts), on the same PostgreSQL. */
    productionTemporalAddress: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-test-'));
  const timeSkippingServer = resolveTimeSkippingServer();
  const devServer = resolveDevServer();
  console.log(`[temporal] time-skipping server from ${timeSkippingServer.source}, dev server from ${devServer.source}`);

  const postgresStarted = startPostgresServer();
  const started = await Promise.allSettled([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: timeSkippingServer.executable } }),
    TestWorkflowEnvironment.createLocal({ server: { executable: devServer.executable, log: { format: 'json', level: 'error' } } }),
    bundleWorkflowCode({ workflowsPath: path.join(__dirname, '..', '..', 'workflows', 'index.ts'), workflowInterceptorModules: [WORKFLOW_INTERCEPTORS], logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } }),
    postgresStarted,
    postgresStarted.then((pg) => startProductionTemporal(pg.url)),
  ] as const);
  const [timeSkippingStart, devStart, , postgresStart, productionStart] = started;
  const stopAll = async () => {
    await Promise.allSettled([
      timeSkippingStart.status === 'fulfilled' ? timeSkippingStart.value.teardown() : undefined,
      devStart.status === 'fulfilled' ? devStart.value.teardown() : undefined,
      productionStart.status === 'fulfilled' ? productionStart.value.stop() : undefined,
    ]);
    if (postgresStart.status === 'fulfilled') await postgresStart.value.destroy();
    rmSync(tempDir, { recursive: true, force: true });
  };
  // One server that cannot start fails the run, and takes down those that did (no orphans).
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [timeSkipping, dev, bundle, postgres, production] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    TestWorkflowEnvironment,
    TestWorkflowEnvironment,
    Awaited<ReturnType<typeof bundleWorkflowCode>>,
    Awaited<ReturnType<typeof startPostgresServer>>,
    Awaited<ReturnType<typeof startProductionTemporal>>,
  ];
  // Both servers refuse search attributes they do not know, as a production cluster does.
  await ensureSearchAttributes(timeSkipping.connection, 'default', silentLogger);
  await ensureSearchAttributes(dev.connection, 'default', silentLogger);
  const workflowBundlePath = path.join(tempDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  project.provide('timeSkippingAddress', timeSkipping.address);
  project.provide('devServerAddress', dev.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('tempDir', tempDir);
  project.provide('postgresUrl', postgres.url);
  project.provide('productionTemporalAddress', production.address);

  return stopAll;
}
