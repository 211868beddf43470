/**
 * Moving running pathways to a newer published version, on the time-skipping server: a batch
 * workflow moves each pathway through the pathway workflow's own validated update, refuses one
 * whose state the new version cannot take (with the reason), survives a worker restart midway,
 * and never moves a pathway twice, whether the same migration runs again or another follows.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Actor } from '../../clinical/events';
import { loadDefinitions } from '../../clinical/registry';
import { createActivities, type RecordDeps } from '../../activities';
import { DEFINITION_MIGRATION_WORKFLOW_TYPE, definitionMigrationWorkflowId, type DefinitionMigrationInput, type MigrationProgress } from '../../workflows/definition-migration';
import { DEFINITION_MIGRATION_PATCH } from '../../workflows/messages';
import { CLINICIAN, COORDINATOR, PathwayDriver, closeStarted, eventually } from '../harness/pathway-driver';
import { freshRecordStore, testCipher } from '../harness/record-store';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel } from '../harness/temporal';
import { runHistories } from '../harness/trajectory';

const LEAD: Actor = { id: 'lead-test', role: 'lead' };
const V2 = loadDefinitions().get('psps-lumbar', 2)!;
/** v3: a stricter conservative response, and no radiofrequency ablation any more. */
const V3 = (() => {
  const d = structuredClone(V2);
  d.version = 3;
  d.stages.conservative.response.painReductionPercent = 50;
  d.stages.interventional.procedures = d.stages.interventional.procedures.filter((p) => p !== 'radiofrequency-ablation');
  return d;
})();

let env: TestWorkflowEnvironment;
let record: RecordDeps;
const taskQueue = `test-migration-${randomUUID()}`;
const channel = new RecordingChannel();
let worker: { worker: Worker; stop(): Promise<void> };

/**
 * A worker that keeps no workflow in its cache: the test server hands a stopped worker's sticky
 * tasks on to no one (its known races), so each task goes to the task queue any worker polls.
 */
async function startWorker(): Promise<typeof worker> {
  const w = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: createActivities({ channel, record, client: env.client }),
    maxCachedWorkflows: 0,
    maxConcurrentWorkflowTaskExecutions: 2,
  });
  const running = w.run();
  return {
    worker: w,
    async stop() {
      w.shutdown();
      await running;
    },
  };
}

beforeAll(async () => {
  env = await connectTimeSkipping();
  record = { store: await freshRecordStore('postgresql'), cipher: testCipher(), idempotencyKeyDays: 30 };
  worker = await startWorker();
});
afterAll(async () => {
  await closeStarted(taskQueue);
  await worker?.stop();
  await record?.store.close();
  await disconnectTimeSkipping(env);
});

const batch = (migrationId: string, pathwayIds: string[], perMinute = 1): DefinitionMigrationInput => ({
  migration: { migrationId, definition: V3, simulationId: 'simulation-of-the-cohort', reason: 'Stricter response in conservative care; RFA no longer offered' },
  actor: LEAD,
  pathwayIds,
  perMinute,
});
const migrationsIn = async (p: PathwayDriver) => (await p.state()).timeline.filter((e) => e.event === 'definition-migrated');

describe('a migration of running pathways to v3', () => {
  it('moves them, refuses one v3 cannot take, survives a worker restart midway, and never moves one twice', async () => {
    const fresh = await PathwayDriver.enroll(env, taskQueue, { definition: V2, baseline: { painNrs: 10, odi: 50 } });
    const reassessed = await PathwayDriver.enroll(env, taskQueue, { definition: V2, baseline: { painNrs: 10, odi: 50 } });
    const withRfa = await PathwayDriver.enroll(env, taskQueue, { definition: V2 });
    const closed = await PathwayDriver.enroll(env, taskQueue, { definition: V2 });
    await fresh.passDays(1);
    await reassessed.reassess({ painNrs: 8, odi: 48 });
    await withRfa.action({ action: 'escalate', reason: 'severe radicular pain' });
    await withRfa.procedure({ type: 'radiofrequency-ablation' });
    await closed.action({ action: 'withdraw', reason: 'moved away' }, COORDINATOR);
    await closed.result();

    // Twelve a minute: the first pathway moves, then the batch waits on its timer while the worker stops.
    const migrationId = randomUUID();
    const ids = [fresh.id, reassessed.id, withRfa.id, closed.id];
    const handle = await env.client.workflow.start(DEFINITION_MIGRATION_WORKFLOW_TYPE, { taskQueue, workflowId: definitionMigrationWorkflowId(migrationId), args: [batch(migrationId, ids, 12)] });
    const resultsSoFar = () => record.store.db.selectFrom('definition_migration_results').select('pathway_id').where('migration_id', '=', migrationId).execute();
    await eventually(resultsSoFar, (rows) => rows.length >= 1);
    await worker.stop();
    expect((await resultsSoFar()).length).toBeLessThan(ids.length); // stopped midway
    worker = await startWorker();
    const progress = (await handle.result()) as MigrationProgress;

    expect(progress).toEqual({ total: 4, done: 4, counts: { moved: 2, refused: 1, 'already-moved': 0, 'not-running': 1 } });
    const rows = await record.store.db.selectFrom('definition_migration_results').selectAll().where('migration_id', '=', migrationId).execute();
    const byPathway = Object.fromEntries(rows.map((r) => [r.pathway_id, r]));
    expect(byPathway[fresh.id]).toMatchObject({ outcome: 'moved', from_version: 2 });
    expect(byPathway[reassessed.id]).toMatchObject({ outcome: 'moved', from_version: 2 });
    expect(byPathway[withRfa.id]!.outcome).toBe('refused');
    expect(byPathway[withRfa.id]!.message).toContain('a radiofrequency-ablation awaits its reassessment, and psps-lumbar v3 offers no radiofrequency-ablation');
    expect(byPathway[closed.id]!.outcome).toBe('not-running');

    // Each moved pathway records who, why and which simulation, once; the refused one is untouched.
    for (const p of [fresh, reassessed]) {
      const view = await p.state();
      expect(view.definition.version).toBe(3);
      const entries = await migrationsIn(p);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actor: LEAD,
        reason: 'Stricter response in conservative care; RFA no longer offered',
        numbers: { fromVersion: 2, toVersion: 3, migrationId, simulationId: 'simulation-of-the-cohort', fromStage: 'conservative', toStage: 'conservative' },
      });
    }
    expect((await withRfa.state()).definition.version).toBe(2);
    expect(await migrationsIn(withRfa)).toEqual([]);

    // The same migration again, and another to the same version: nothing moves twice.
    const again = await env.client.workflow.execute(DEFINITION_MIGRATION_WORKFLOW_TYPE, { taskQueue, workflowId: definitionMigrationWorkflowId(migrationId), args: [batch(migrationId, ids, 600)] });
    expect((again as MigrationProgress).counts).toEqual({ moved: 2, refused: 1, 'already-moved': 0, 'not-running': 1 });
    const another = randomUUID();
    const second = (await env.client.workflow.execute(DEFINITION_MIGRATION_WORKFLOW_TYPE, { taskQueue, workflowId: definitionMigrationWorkflowId(another), args: [batch(another, [fresh.id, reassessed.id], 600)] })) as MigrationProgress;
    expect(second.counts).toEqual({ moved: 0, refused: 0, 'already-moved': 2, 'not-running': 0 });
    for (const p of [fresh, reassessed]) expect(await migrationsIn(p)).toHaveLength(1);

    // From now on v3 decides: 30% relief no longer responds. (The server's clock ran on while the batches
    // waited, so the pathway may have gone on hold as lost to follow-up meanwhile.)
    if ((await fresh.state()).status === 'on-hold') await fresh.action({ action: 'resume', reason: 'back in touch' }, COORDINATOR);
    const decided = await fresh.reassess({ painNrs: 7, odi: 50 }, CLINICIAN);
    expect(decided.decisions[0]).toMatchObject({ ruleId: 'response.conservative', summary: 'Reassessment: not responding.', numbers: { painThresholdPercent: 50 } });

    // The moved pathway's history, migration included, replays under the current code.
    const histories = (await runHistories(fresh)).map((r) => ({ workflowId: `${fresh.id}/${r.runId}`, history: r.history }));
    const markers = histories.flatMap((h) =>
      (h.history.events ?? []).flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => (p.payloads ?? []).map((d) => Buffer.from(d.data ?? []).toString()))),
    );
    expect(markers.join(' ')).toContain(DEFINITION_MIGRATION_PATCH);
    const replayed = [];
    for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) replayed.push(r.error);
    expect(replayed).toEqual(histories.map(() => undefined));
  });

  it('refuses a migration to another definition, to an older version, or by a role that may not migrate', async () => {
    const p = await PathwayDriver.enroll(env, taskQueue, { definition: V3 });
    const run = async (definition: typeof V3, actor: Actor) => {
      const id = randomUUID();
      return (await env.client.workflow.execute(DEFINITION_MIGRATION_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: definitionMigrationWorkflowId(id),
        args: [{ ...batch(id, [p.id], 600), migration: { ...batch(id, [p.id]).migration, definition }, actor }],
      })) as MigrationProgress;
    };
    expect((await run({ ...V2 }, LEAD)).counts['already-moved']).toBe(1); // v2 is older than the pathway's v3
    expect((await run({ ...V3, id: 'other-pathway', version: 4 }, LEAD)).counts.refused).toBe(1);
    expect((await run({ ...V3, version: 4 }, { id: 'dr-test', role: 'clinician' })).counts.refused).toBe(1);
    expect(await migrationsIn(p)).toEqual([]);
  });
});
