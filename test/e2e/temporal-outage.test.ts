/**
 * Temporal and the worker going down under a running service (`npm start` against an existing
 * cluster: a dev server of this file's own, on a SQLite file). Every change answers 503 with
 * Retry-After within the deadline, /readyz within a second; after Temporal comes back on the same
 * file, changes flow again within a few seconds, and nothing accepted is lost or applied twice.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../harness/postgres-server';
import { RestartableDevServer } from '../harness/dev-server';
import { ServiceProcess, freePort } from '../harness/service-process';

const DEADLINE_MS = 3000;
/** The deadline, and the time the answer takes to get out on a busy machine. */
const ANSWER_BOUND_MS = DEADLINE_MS + 1500;
/** "Within a few seconds" of Temporal answering again. */
const RECOVERY_BOUND_MS = 10_000;

let dir: string;
let temporal: RestartableDevServer;
let service: ServiceProcess | undefined;
let url: string;
/** The record store on the run's PostgreSQL: the API and the worker run as separate processes below. */
let databaseUrl: string;
const taskQueue = `outage-${randomUUID()}`;

async function startService(role: 'all' | 'api' = 'all'): Promise<void> {
  service = ServiceProcess.start({
    PATHWAY_ROLE: role,
    PATHWAY_ENV: 'development',
    PATHWAY_DATA_DIR: dir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    HTTP_HOST: '127.0.0.1',
    PORT: String(await freePort()),
    PATHWAY_TEMPORAL_DEADLINE_MS: String(DEADLINE_MS),
  });
  const ready = await service.waitFor((l) => l.msg === 'pathway service ready');
  url = String(ready.api);
}

async function stopService(): Promise<void> {
  await service?.interrupt();
  service = undefined;
}

const KEY = { coordinator: 'local-coordinator-key', clinician: 'local-clinician-key', viewer: 'local-viewer-key' };

async function call(method: string, p: string, opts: { as?: keyof typeof KEY | null; body?: unknown; key?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.as !== null) headers.authorization = `Bearer ${KEY[opts.as ?? 'clinician']}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.key) headers['idempotency-key'] = opts.key;
  const started = Date.now();
  const res = await fetch(`${url}${p}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, ms: Date.now() - started };
}

function expectUnavailable(res: Awaited<ReturnType<typeof call>>, what: string): void {
  expect(res.status, what).toBe(503);
  expect(res.headers.get('content-type'), what).toContain('application/problem+json');
  expect(Number(res.headers.get('retry-after')), what).toBeGreaterThan(0);
  expect(res.ms, `${what} answered in ${res.ms} ms`).toBeLessThan(ANSWER_BOUND_MS);
}

/** Reassessments recorded (one record each, however many decisions it led to). */
const reassessments = (pathway: { reassessments: unknown[] }) => pathway.reassessments.length;

/** Polls until `ok`, returning how long it took. */
async function until(attempt: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await attempt())) {
    if (Date.now() - started > timeoutMs * 3) throw new Error(`not recovered in ${timeoutMs * 3} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-outage-'));
  databaseUrl = await createDatabase(inject('postgresUrl'), `outage_${randomUUID().replace(/-/g, '')}`);
  temporal = await RestartableDevServer.create(path.join(dir, 'temporal.sqlite'));
  await temporal.start();
  await startService();
});

afterAll(async () => {
  service?.kill();
  await temporal?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('when Temporal is down', () => {
  let pathwayId: string;
  const patientRef = `ref-${randomUUID()}`;

  it('answers changes with 503 and Retry-After within the deadline and reads from the record, /readyz within a second; recovers within seconds; loses nothing', async () => {
    const enrolled = await call('POST', '/v1/pathways', { as: 'coordinator', key: `enrol-${randomUUID()}`, body: { patientRef, careTeam: 'spine-a', baseline: { painNrs: 8, odi: 40 } } });
    expect(enrolled.status).toBe(201);
    pathwayId = enrolled.body.pathway.pathwayId;
    expect((await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key: `before-${randomUUID()}`, body: { painNrs: 6 } })).status).toBe(200);

    await temporal.kill();

    const changeKey = `during-${randomUUID()}`;
    const enrolKey = `enrol-during-${randomUUID()}`;
    const otherPatient = `ref-${randomUUID()}`;
    // Reads come from the record store: they answer while Temporal is down.
    const reads = [
      ['GET pathway', () => call('GET', `/v1/pathways/${pathwayId}`, { as: 'viewer' })],
      ['GET list', () => call('GET', '/v1/pathways', { as: 'viewer' })],
      ['GET summary', () => call('GET', '/v1/pathways/summary', { as: 'viewer' })],
      ['GET worklist', () => call('GET', '/v1/worklist', { as: 'viewer' })],
      ['POST lookup', () => call('POST', '/v1/pathways/lookup', { as: 'viewer', body: { patientRef } })],
    ] as const;
    const figures: string[] = [];
    for (const [what, send] of reads) {
      const res = await send();
      expect(res.status, what).toBe(200);
      figures.push(`${what} ${res.ms} ms (200)`);
    }
    const calls = [
      ['POST reassessment', () => call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key: changeKey, body: { painNrs: 5 } })],
      ['POST enrolment', () => call('POST', '/v1/pathways', { as: 'coordinator', key: enrolKey, body: { patientRef: otherPatient, careTeam: 'spine-a', baseline: { painNrs: 7 } } })],
    ] as const;
    for (const [what, send] of calls) {
      const res = await send();
      expectUnavailable(res, what);
      figures.push(`${what} ${res.ms} ms`);
      expect(res.body.detail).toContain('Idempotency-Key');
      expect(res.body.detail).not.toMatch(/not (been )?(applied|recorded)/);
    }
    // Changes at once, as load would bring them.
    const parallel = await Promise.all(Array.from({ length: 8 }, () => call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key: changeKey, body: { painNrs: 5 } })));
    for (const res of parallel) expect([409, 503], 'POST reassessment, 8 at once').toContain(res.status);
    const ready = await call('GET', '/readyz', { as: null });
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(1000);
    figures.push(`/readyz ${ready.ms} ms`);

    await temporal.start();
    const restarted = Date.now();
    const readyMs = await until(async () => (await call('GET', '/readyz', { as: null })).status === 200, RECOVERY_BOUND_MS);
    await until(async () => (await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key: changeKey, body: { painNrs: 5 } })).status === 200, RECOVERY_BOUND_MS);
    const recoveredMs = Date.now() - restarted;
    figures.push(`after Temporal answered again: ready in ${readyMs} ms, a change flowed in ${recoveredMs} ms`);
    console.log(`[outage] ${figures.join('; ')}`);
    expect(recoveredMs).toBeLessThan(RECOVERY_BOUND_MS);
    expect((await call('GET', '/readyz', { as: null })).status).toBe(200);

    // The retried change applied once; the one accepted before the outage kept.
    const retried = await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key: changeKey, body: { painNrs: 5 } });
    expect(retried.status).toBe(200);
    const pathway = (await call('GET', `/v1/pathways/${pathwayId}`, { as: 'viewer' })).body.pathway;
    expect(reassessments(pathway)).toBe(2);
    // The enrolment refused during the outage, retried with its key, enrols once.
    const enrolAgain = await call('POST', '/v1/pathways', { as: 'coordinator', key: enrolKey, body: { patientRef: otherPatient, careTeam: 'spine-a', baseline: { painNrs: 7 } } });
    expect(enrolAgain.status).toBe(201);
    const found = await call('POST', '/v1/pathways/lookup', { as: 'viewer', body: { patientRef: otherPatient } });
    expect(found.body.pathway.pathwayId).toBe(enrolAgain.body.pathway.pathwayId);
  });

  it('answers 503 within the deadline while the worker is down, and the retried change applies once when it is back', async () => {
    expect(pathwayId).toBeDefined();
    await stopService();
    await startService('api');
    const key = `worker-down-${randomUUID()}`;
    const change = await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key, body: { painNrs: 4 } });
    expectUnavailable(change, 'POST reassessment without a worker');
    expect(change.body.detail).toContain('Idempotency-Key');
    // Reads from the record store need no worker.
    expect((await call('GET', `/v1/pathways/${pathwayId}`, { as: 'viewer' })).status).toBe(200);
    expect((await call('GET', '/v1/pathways', { as: 'viewer' })).status).toBe(200);
    // Not ready without a worker: the stopped one removed its presence note, so /readyz says so at once.
    const ready = await call('GET', '/readyz', { as: null });
    expect(ready.status).toBe(503);
    expect(ready.body.missing.join(' ')).toContain(taskQueue);

    await stopService();
    await startService('all');
    const retried = await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key, body: { painNrs: 4 } });
    expect(retried.status).toBe(200);
    expect((await call('POST', `/v1/pathways/${pathwayId}/reassessments`, { key, body: { painNrs: 4 } })).body).toEqual(retried.body);
    const pathway = (await call('GET', `/v1/pathways/${pathwayId}`, { as: 'viewer' })).body.pathway;
    expect(reassessments(pathway)).toBe(3);
  });
});
