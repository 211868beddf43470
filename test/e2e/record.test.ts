/**
 * The record store behind the API, through real HTTP on the dev server: a pathway outlives its
 * workflow's history; a read right after a 2xx sees the change; Idempotency-Key answers the
 * first answer whatever happened since, refuses a different request under the same key; a
 * database outage answers 503 and loses nothing; the record rebuilds from the workflows.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readPathway } from '../../record/read';
import { pathwayQuery } from '../../workflows/messages';
import { openRecordStore } from '../../record/store';
import { silentLogger } from '../../observability/log';
import { rebuildRecord } from '../../server/rebuild-record';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { eventually } from '../harness/pathway-driver';
import { createDatabase, startPostgresServer, type PostgresServer } from '../harness/postgres-server';
import { testCipher } from '../harness/record-store';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;
const team = `rec-${randomUUID().slice(0, 8)}`;
const ref = () => `ref-${randomUUID()}`;
const key = () => `key-${randomUUID()}`;

async function enroll(patientRef = ref(), headers: Record<string, string> = {}) {
  const res = await call('POST', '/v1/pathways', { as: 'coordinator', headers, body: { patientRef, careTeam: team, baseline: { painNrs: 8, odi: 40 } } });
  expect(res.status).toBe(201);
  return res;
}

beforeAll(async () => {
  api = await startApi();
  call = http(api);
});
afterAll(async () => {
  await api?.stop();
});

describe('the record outlives Temporal', () => {
  it("returns a closed pathway whole after Temporal has deleted its history, by id, by lookup, in lists and in reports", async () => {
    const patientRef = ref();
    const { pathwayId } = (await enroll(patientRef)).body.pathway;
    await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { body: { painNrs: 7, odi: 38, note: 'walks with a stick' } });
    const withdrawn = await call('POST', `/v1/pathways/${pathwayId}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'moved to another region' } });
    expect(withdrawn.status).toBe(200);
    // What a namespace's retention does to a closed workflow, done at once.
    const handle = api.env.client.workflow.getHandle(pathwayId);
    await handle.result();
    const before = (await call('GET', `/v1/pathways/${pathwayId}`)).body.pathway;
    expect(before.status).toBe('withdrawn');
    await api.env.connection.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId: pathwayId } });
    await eventually(
      () => handle.describe().then(() => 'there', (err) => (err instanceof WorkflowNotFoundError ? 'gone' : 'there')),
      (s) => s === 'gone',
      90_000,
    );

    const after = await call('GET', `/v1/pathways/${pathwayId}`);
    expect(after.status).toBe(200);
    expect(after.body.pathway).toEqual(before);
    expect(after.body.pathway.reassessments[0].note).toBe('walks with a stick');
    expect(after.body.pathway.timeline.some((e: { reason?: string }) => e.reason === 'moved to another region')).toBe(true);
    expect((await call('POST', '/v1/pathways/lookup', { body: { patientRef } })).body.pathway).toEqual(before);
    const listed = await call('GET', `/v1/pathways?careTeam=${team}&status=withdrawn`);
    expect(listed.body.items.map((i: { pathwayId: string }) => i.pathwayId)).toContain(pathwayId);
    const report = await call('GET', `/v1/reports/outcomes?careTeam=${team}`);
    expect(report.status).toBe(200);
    expect(report.body.stages.find((s: { stage: string }) => s.stage === 'conservative').withdrawn).toBeGreaterThanOrEqual(1);
    // A quarter as dates: the enrolment falls inside today's range and outside next year's.
    const today = String(before.enrolledAt).slice(0, 10);
    const tomorrow = new Date(Date.parse(today) + 86_400_000).toISOString().slice(0, 10);
    const quarter = await call('GET', `/v1/reports/outcomes?careTeam=${team}&from=${today}&to=${tomorrow}`);
    expect(quarter.body.stages.find((s: { stage: string }) => s.stage === 'conservative').entered).toBeGreaterThanOrEqual(1);
    const nextYear = `${Number(today.slice(0, 4)) + 1}-01-01`;
    const later = await call('GET', `/v1/reports/outcomes?careTeam=${team}&from=${nextYear}`);
    expect(later.body.stages.every((s: { entered: number }) => s.entered === 0)).toBe(true);
    expect((await call('GET', `/v1/reports/outcomes?from=last-quarter`)).status).toBe(400);
    // A change to it is refused as closed, not as unknown.
    expect((await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { body: { painNrs: 5 } })).status).toBe(409);
  });
});

describe('reads after a 2xx', () => {
  it('see the change at once, with no waiting for an index to catch up', async () => {
    const { pathwayId } = (await enroll()).body.pathway;
    const listed = await call('GET', `/v1/pathways?careTeam=${team}&pageSize=200`);
    expect(listed.body.items.map((i: { pathwayId: string }) => i.pathwayId)).toContain(pathwayId);
    const held = await call('POST', `/v1/pathways/${pathwayId}/actions`, { as: 'coordinator', body: { action: 'hold', reason: 'in hospital elsewhere' } });
    expect(held.status).toBe(200);
    expect((await call('GET', `/v1/pathways/${pathwayId}`)).body.pathway.status).toBe('on-hold');
    expect((await call('GET', `/v1/pathways?careTeam=${team}&status=on-hold`)).body.items.map((i: { pathwayId: string }) => i.pathwayId)).toContain(pathwayId);
    const summary = (await call('GET', `/v1/pathways/summary?careTeam=${team}`)).body.careTeams[0];
    expect(summary.byStatus['on-hold']).toBeGreaterThanOrEqual(1);
    // The record is the workflow's own state, entry for entry (and, from the record store alone, who the patient is).
    const { enrolmentId: _enrolment, ...live } = await api.env.client.workflow.getHandle(pathwayId).query(pathwayQuery);
    const { patient, ...recorded } = (await call('GET', `/v1/pathways/${pathwayId}`)).body.pathway;
    expect(recorded).toEqual(JSON.parse(JSON.stringify(live)));
    expect(patient.reference).toMatch(/^ref-/);
  });
});

describe('Idempotency-Key', () => {
  it('refuses the same key with a different body (422) and records nothing for it', async () => {
    const { pathwayId } = (await enroll()).body.pathway;
    const k = key();
    const first = await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { headers: { 'idempotency-key': k }, body: { painNrs: 7 } });
    expect(first.status).toBe(200);
    const other = await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { headers: { 'idempotency-key': k }, body: { painNrs: 3 } });
    expect(other.status).toBe(422);
    expect(other.body.errors[0].field).toBe('Idempotency-Key');
    const reassessments = (await call('GET', `/v1/pathways/${pathwayId}`)).body.pathway.reassessments;
    expect(reassessments.map((r: { painNrs: number }) => r.painNrs)).toEqual([7]);
  });

  it('answers a retried withdrawal with its first answer after the pathway closed', async () => {
    const { pathwayId } = (await enroll()).body.pathway;
    const k = key();
    const body = { action: 'withdraw', reason: 'patient asked to stop' };
    const first = await call('POST', `/v1/pathways/${pathwayId}/actions`, { as: 'coordinator', headers: { 'idempotency-key': k }, body });
    expect(first.status).toBe(200);
    const retry = await call('POST', `/v1/pathways/${pathwayId}/actions`, { as: 'coordinator', headers: { 'idempotency-key': k }, body });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
  });

  it('answers a retried enrolment with its first answer, even after the pathway was withdrawn, and starts nothing new', async () => {
    const patientRef = ref();
    const k = key();
    const first = await enroll(patientRef, { 'idempotency-key': k });
    const { pathwayId } = first.body.pathway;
    await call('POST', `/v1/pathways/${pathwayId}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'moved away' } });
    const retry = await call('POST', '/v1/pathways', { as: 'coordinator', headers: { 'idempotency-key': k }, body: { patientRef, careTeam: team, baseline: { painNrs: 8, odi: 40 } } });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect((await call('GET', `/v1/pathways/${pathwayId}`)).body.pathway.status).toBe('withdrawn');
  });

  it('enrols the patient again after a withdrawal, keeping the first enrolment in the record', async () => {
    const patientRef = ref();
    const { pathwayId } = (await enroll(patientRef)).body.pathway;
    await call('POST', `/v1/pathways/${pathwayId}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'moved away' } });
    await api.env.client.workflow.getHandle(pathwayId).result();
    const again = await enroll(patientRef);
    expect(again.body.pathway.pathwayId).toBe(pathwayId);
    expect((await call('GET', `/v1/pathways/${pathwayId}`)).body.pathway.status).toBe('active');
    const withdrawn = await api.record.store.db.selectFrom('pathways').select('status').where('pathway_id', '=', pathwayId).execute();
    expect(withdrawn.map((r) => r.status).sort()).toEqual(['active', 'withdrawn']);
  });

  it('does not name another care team\'s pathway when enrolling its patient', async () => {
    const patientRef = ref();
    await call('POST', '/v1/pathways', { as: 'coordinator', body: { patientRef, careTeam: 'team-b', baseline: { painNrs: 8, odi: 40 } } });
    const res = await call('POST', '/v1/pathways', { as: 'teamACoordinator', body: { patientRef, careTeam: 'team-a', baseline: { painNrs: 8, odi: 40 } } });
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).not.toMatch(/pw-[0-9a-f]{32}/);
  });
});

describe('the record rebuilt from the workflows', () => {
  it('gives back the same record after a pathway’s rows are deleted', async () => {
    const { pathwayId } = (await enroll()).body.pathway;
    await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { body: { painNrs: 6, odi: 35, note: 'better on the new plan' } });
    const { store, cipher } = api.record;
    const before = await readPathway(store.db, cipher, pathwayId);
    const enrolmentId = (await store.db.selectFrom('pathways').select('enrolment_id').where('pathway_id', '=', pathwayId).executeTakeFirstOrThrow()).enrolment_id;
    for (const table of ['timeline_entries', 'reassessments', 'procedures', 'red_flags', 'messages', 'stage_episodes', 'pathways'] as const) {
      await store.db.deleteFrom(table).where('enrolment_id', '=', enrolmentId).execute();
    }
    expect((await call('GET', `/v1/pathways/${pathwayId}`)).status).toBe(404);
    const result = await rebuildRecord(api.env.client, api.record, silentLogger, { taskQueue: api.taskQueue });
    expect(result.failed).toBe(0);
    expect(result.updated).toBeGreaterThanOrEqual(1);
    expect(await readPathway(store.db, cipher, pathwayId)).toEqual(before);
    // A second run changes nothing.
    expect((await rebuildRecord(api.env.client, api.record, silentLogger, { taskQueue: api.taskQueue })).updated).toBe(0);
  });
});

describe('a database outage', () => {
  let postgres: PostgresServer;
  let outage: ApiUnderTest;
  let send: ReturnType<typeof http>;
  beforeAll(async () => {
    postgres = await startPostgresServer();
    const store = await openRecordStore({ url: await createDatabase(postgres.url, 'outage'), connectTimeoutMs: 1000 });
    outage = await startApi({ record: { store, cipher: testCipher(), idempotencyKeyDays: 30 }, temporalDeadlineMs: 3000 });
    send = http(outage);
  });
  afterAll(async () => {
    await outage?.stop();
    await outage?.record.store.close();
    await postgres?.destroy();
  });

  it('answers 503 with Retry-After promptly, says so in /readyz, and loses nothing accepted', async () => {
    const res = await send('POST', '/v1/pathways', { as: 'coordinator', body: { patientRef: ref(), careTeam: team, baseline: { painNrs: 8, odi: 40 } } });
    const { pathwayId } = res.body.pathway;
    await postgres.stop();

    const k = key();
    const started = Date.now();
    const during = await send('POST', `/v1/pathways/${pathwayId}/reassessments`, { headers: { 'idempotency-key': k }, body: { painNrs: 4, odi: 28 } });
    expect(during.status).toBe(503);
    expect(Number(during.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(during.headers.get('content-type')).toContain('application/problem+json');
    expect(Date.now() - started).toBeLessThan(8000);
    const read = await send('GET', `/v1/pathways/${pathwayId}`);
    expect(read.status).toBe(503);
    const ready = await send('GET', '/readyz', { as: null });
    expect(ready.status).toBe(503);
    expect(ready.body.database).toBe(false);

    await postgres.start();
    // The workflow kept the accepted change and writes it once the database is back; the retry gets its answer.
    const retry = await eventually(
      () => send('POST', `/v1/pathways/${pathwayId}/reassessments`, { headers: { 'idempotency-key': k }, body: { painNrs: 4, odi: 28 } }),
      (r) => r.status === 200,
      30_000,
    );
    expect(retry.body.decisions[0].event).toBe('reassessment');
    const pathway = (await send('GET', `/v1/pathways/${pathwayId}`)).body.pathway;
    expect(pathway.reassessments.map((r: { painNrs: number }) => r.painNrs)).toEqual([4]);
    expect(pathway.timeline.filter((e: { event: string }) => e.event === 'reassessment')).toHaveLength(1);
    expect((await send('GET', '/readyz', { as: null })).body.database).toBe(true);
  });
});

