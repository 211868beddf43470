import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';
import { PathwayDriver } from '../harness/pathway-driver';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
const channel = new RecordingChannel();

beforeAll(async () => {
  env = await connectTimeSkipping();
  worker = await startPathwayWorker(env, channel);
});
afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

describe('explore', () => {
  it('responder', async () => {
    const t0 = await env.currentTimeMs();
    const p = await PathwayDriver.enroll(env, worker.taskQueue);
    const s0 = await p.state();
    console.log('enrolled', s0.enrolledAt, new Date(t0).toISOString(), s0.due);
    await p.passDays(46);
    const s1 = await p.until((s) => s.overdue);
    console.log('after 43 days', new Date(await env.currentTimeMs()).toISOString(), s1.overdue, s1.timeline.map((e) => e.event));
    const r = await p.reassess({ painNrs: 5 });
    console.log(r.decisions.map((d) => d.summary));
    await p.passDays(42);
    await p.reassess({ painNrs: 4 });
    const result = await p.result();
    expect(result.status).toBe('completed');
    console.log(channel.topics(p.id));
  });
});
