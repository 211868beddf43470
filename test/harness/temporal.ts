/**
 * Per-file access to the servers that test/setup/temporal-servers.ts started for the run.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities, type CareTeamChannel, type PatientSteps, type RecordDeps } from '../../activities';
import type { Metrics } from '../../observability/metrics';
import { resolveTimeSkippingServer } from '../../temporal/servers';
import { freshRecordStore, testCipher } from './record-store';
import { startTimeSkipping } from './time-skipping-server';
import { closeStarted } from './pathway-driver';
import type { CareTeamMessage, DeliveryResult } from '../../clinical/care-team-messages';

const timeSkippingServers = new WeakMap<TestWorkflowEnvironment, () => Promise<void>>();

/** A time-skipping server of this test file's own (its clock is global to it), and an environment on it. */
export async function connectTimeSkipping(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const { env, stop } = await startTimeSkipping(resolveTimeSkippingServer().executable);
  timeSkippingServers.set(env, stop);
  return env;
}

/** Closes the environment and stops the file's time-skipping server. */
export async function disconnectTimeSkipping(env: TestWorkflowEnvironment | undefined): Promise<void> {
  if (!env) return;
  const stop = timeSkippingServers.get(env);
  timeSkippingServers.delete(env);
  await (stop ? stop() : env.teardown());
}

export async function connectDevServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('devServerAddress'), namespace: 'default' });
}

/** The Temporal server a file's end-to-end tests run on: the dev server, or the production-like one. */
export type EndToEndServer = 'dev' | 'production';
let endToEndServer: EndToEndServer = 'dev';

/** Runs this test file's end-to-end tests on the production-like server (test/e2e/*.production-server.test.ts). */
export function runEndToEndOn(server: EndToEndServer): void {
  endToEndServer = server;
}

export async function connectEndToEndServer(): Promise<TestWorkflowEnvironment> {
  if (endToEndServer === 'dev') return connectDevServer();
  quietRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('productionTemporalAddress'), namespace: 'default' });
}

/** A care-team channel that records what it was asked to send, and can be told to fail. */
export class RecordingChannel implements CareTeamChannel {
  readonly messages: CareTeamMessage[] = [];
  failing = false;

  async deliver(message: CareTeamMessage): Promise<DeliveryResult> {
    if (this.failing) throw new Error('care-team channel down');
    this.messages.push(message);
    return { channel: 'worklist' };
  }

  /** Message kinds sent for a pathway: notifications by topic ('urgent-referral', ...), reminders as 'reminder.due' / 'reminder.overdue'. */
  topics(pathwayId: string): string[] {
    return this.messages.filter((m) => m.pathwayId === pathwayId).map((m) => m.type.replace(/^pathway\./, ''));
  }

  get notifications(): Array<CareTeamMessage & { topic: string }> {
    return this.messages.filter((m) => m.type.startsWith('pathway.')).map((m) => ({ ...m, topic: m.type.slice('pathway.'.length) }));
  }

  get referrals(): CareTeamMessage[] {
    return this.messages.filter((m) => m.type === 'referral.issued');
  }
}

let runtimeQuiet = false;
/** The SDK logs every failed activity attempt; tests provoke hundreds on purpose. */
function quietRuntime(): void {
  if (runtimeQuiet) return;
  runtimeQuiet = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process
  }
}

/** A worker on its own task queue, writing the record to `opts.record` or to a new database on the run's PostgreSQL. */
export async function startPathwayWorker(
  env: TestWorkflowEnvironment,
  channel: CareTeamChannel,
  opts: { taskQueue?: string; record?: RecordDeps; metrics?: Metrics; patients?: PatientSteps } = {},
): Promise<{ worker: Worker; taskQueue: string; record: RecordDeps; stop(): Promise<void> }> {
  quietRuntime();
  const taskQueue = opts.taskQueue ?? `test-${randomUUID()}`;
  const record: RecordDeps = opts.record ?? { store: await freshRecordStore('postgresql'), cipher: testCipher(), idempotencyKeyDays: 30 };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({ channel, record, client: env.client, metrics: opts.metrics, patients: opts.patients }),
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    record,
    async stop() {
      await closeStarted(taskQueue);
      worker.shutdown();
      await running;
      if (!opts.record) await record.store.close();
    },
  };
}
