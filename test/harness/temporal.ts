/**
 * Per-file access to the servers that test/setup/temporal-servers.ts started for the run.
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createActivities, type CareTeamChannel, type CareTeamNotification, type ReferralRequest } from '../../activities';

/**
 * Connects to the run's time-skipping server. The SDK builds a time-skipping environment
 * only around a server it starts itself; its static `create` also accepts an existing one,
 * which is what "once per run" needs.
 */
export async function connectTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }).create;
  return create.call(TestWorkflowEnvironment, {
    server: { type: 'existing' },
    address: inject('timeSkippingAddress'),
    namespace: 'default',
    supportsTimeSkipping: true,
  });
}

export async function connectDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('devServerAddress'), namespace: 'default' });
}

/** A care-team channel that records what it was asked to send, and can be told to fail. */
export class RecordingChannel implements CareTeamChannel {
  readonly notifications: CareTeamNotification[] = [];
  readonly referrals: ReferralRequest[] = [];
  failing = false;

  async notify(n: CareTeamNotification): Promise<void> {
    if (this.failing) throw new Error('care-team channel down');
    this.notifications.push(n);
  }

  async sendReferral(r: ReferralRequest): Promise<void> {
    if (this.failing) throw new Error('care-team channel down');
    this.referrals.push(r);
  }

  topics(pathwayId: string): string[] {
    return this.notifications.filter((n) => n.pathwayId === pathwayId).map((n) => n.topic);
  }
}

export async function startPathwayWorker(env: TestWorkflowEnvironment, channel: CareTeamChannel): Promise<{ worker: Worker; taskQueue: string; stop(): Promise<void> }> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({ channel }),
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
