/**
 * Starts the real servers once per test run: the time-skipping Temporal test server for
 * workflow tests (weeks of pathway time in seconds), a Temporal dev server for end-to-end tests,
 * and a PostgreSQL server for the record store. Also bundles the workflow code once.
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

declare module 'vitest' {
  export interface ProvidedContext {
    timeSkippingAddress: string;
    devServerAddress: string;
    workflowBundlePath: string;
    tempDir: string;
    /** Superuser URL of the run's PostgreSQL server; each test file creates its own database. */
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-test-'));
  const timeSkippingServer = resolveTimeSkippingServer();
  const devServer = resolveDevServer();
  console.log(`[temporal] time-skipping server from ${timeSkippingServer.source}, dev server from ${devServer.source}`);

  const [timeSkipping, dev, bundle, postgres] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: timeSkippingServer.executable } }),
    TestWorkflowEnvironment.createLocal({ server: { executable: devServer.executable, log: { format: 'json', level: 'error' } } }),
    bundleWorkflowCode({ workflowsPath: path.join(__dirname, '..', '..', 'workflows', 'index.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } }),
    startPostgresServer(),
  ]);
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

  return async () => {
    await Promise.all([timeSkipping.teardown(), dev.teardown(), postgres.destroy()]);
    rmSync(tempDir, { recursive: true, force: true });
  };
}
