/**
 * Refused changes write nothing, checked on the dev server (a real Temporal server): its
 * rejected updates run in a speculative workflow task that leaves no trace in the history.
 * (The time-skipping test server still writes a workflow task for each rejected update; the
 * refusal test in trajectories.test.ts allows for that, and only for that.)
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { COORDINATOR, PathwayDriver, closeIfRunning, eventually } from '../harness/pathway-driver';
import { connectDevServer, RecordingChannel, startPathwayWorker } from '../harness/temporal';
import { EventType, eventTypesOf, expectRefused, historyEventTypes, lastSeq, stepsOf } from '../harness/trajectory';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
const channel = new RecordingChannel();

beforeAll(async () => {
  env = await connectDevServer();
  worker = await startPathwayWorker(env, channel);
});
afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
});

describe('refusals on a real server', () => {
  it('leave the history exactly as it was: not one event for any refused change', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue, { baseline: { painNrs: 8, odi: 40 } });
    onTestFinished(() => closeIfRunning(p));
    await eventually(() => historyEventTypes(p), (t) => t.includes(EventType.EVENT_TYPE_TIMER_STARTED));
    const before = await p.state();
    const eventsBefore = (await p.handle.fetchHistory()).events!.length;

    const invalid = await expectRefused(p.reassess({ painNrs: 11 }), 'invalid', 'painNrs');
    expect(invalid.errors).toEqual([{ field: 'painNrs', message: expect.any(String) }]);
    await expectRefused(p.procedure({ type: 'nerve-block' }), 'conflict', 'type');
    await expectRefused(p.reassess({ painNrs: 5 }, COORDINATOR), 'forbidden');
    await expectRefused(p.action({ action: 'close', reason: 'not in urgent referral' }), 'conflict');
    await expectRefused(p.workup({ item: 'surgical-consult' }), 'conflict', 'item');

    const history = await p.handle.fetchHistory();
    expect(history.events!.length).toBe(eventsBefore);
    expect(eventTypesOf(history)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
    expect(await p.state()).toEqual(before);

    // The same server does write an accepted change: the comparison above can fail.
    const held = await p.action({ action: 'hold', reason: 'patient travelling' }, COORDINATOR);
    expect(stepsOf(held.decisions)).toEqual(['override:override.hold']);
    expect(held.decisions[0]!.seq).toBe(lastSeq(before.timeline) + 1);
    const after = await p.handle.fetchHistory();
    expect(after.events!.length).toBeGreaterThan(eventsBefore);
    expect(eventTypesOf(after)).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
  });
});
