/**
 * The production setup under load with nothing broken: the worker and the API as separate
 * processes, a Temporal dev server, a real PostgreSQL record store. Enrols pathways 32 at a time,
 * then sends changes 48 at a time (each retried with its Idempotency-Key on a 5xx), and prints
 * what a clean run must show as zero: 503s, PostgreSQL deadlocks, pool and statement timeouts,
 * workflow tasks timed out or failed (read from every history), and the SDK's warnings of a
 * second workflow task for a run. Also throughput and latency.
 *
 *   npm run bench:load            (BENCH_PATHWAYS=500 BENCH_CHANGES=2000 by default)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { RestartableDevServer } from '../test/harness/dev-server';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { ServiceProcess, freePort } from '../test/harness/service-process';
import { percentile } from './stats';

const PATHWAYS = Number(process.env.BENCH_PATHWAYS ?? 500);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 2000);
const ENROL_CONCURRENCY = 32;
const CHANGE_CONCURRENCY = 48;
const KEYS = { coordinator: 'local-coordinator-key', clinician: 'local-clinician-key' } as const;
const EventType = temporal.api.enums.v1.EventType;

async function inParallel(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-bench-load-'));
  const postgres = await startPostgresServer();
  const databaseUrl = await createDatabase(postgres.url, 'bench_load');
  const dev = await RestartableDevServer.create(path.join(dir, 'temporal.sqlite'));
  await dev.start();
  const port = await freePort();
  const taskQueue = `bench-load-${randomUUID()}`;
  const env = (role: 'api' | 'worker') => ({
    PATHWAY_ROLE: role,
    PATHWAY_ENV: 'development',
    PATHWAY_DATA_DIR: dir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: dev.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    HTTP_HOST: '127.0.0.1',
    PORT: String(port),
    PATHWAY_RATE_LIMIT_PER_KEY: '1000000',
    LOG_LEVEL: 'info',
  });
  const worker = ServiceProcess.start(env('worker'));
  await worker.waitFor((l) => l.msg === 'pathway service ready');
  const api = ServiceProcess.start(env('api'));
  await api.waitFor((l) => l.msg === 'pathway service ready');
  const url = `http://127.0.0.1:${port}`;
  const agent = new pg.Client({ connectionString: databaseUrl });
  await agent.connect();
  const deadlocks = async () => Number((await agent.query('select deadlocks from pg_stat_database where datname = current_database()')).rows[0].deadlocks);
  const deadlocksBefore = await deadlocks();

  let firstTry503 = 0;
  let other5xx = 0;
  const send = async (p: string, as: keyof typeof KEYS, body: unknown): Promise<{ status: number; body: any }> => {
    const key = `bench-${randomUUID()}`;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${url}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS[as]}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status < 500) return { status: res.status, body: text ? JSON.parse(text) : undefined };
      if (attempt === 0 && res.status === 503) firstTry503++;
      else if (attempt === 0) other5xx++;
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
    }
  };

  const pathways: string[] = [];
  const enrolTimes: number[] = [];
  let t = performance.now();
  await inParallel(PATHWAYS, ENROL_CONCURRENCY, async () => {
    const started = performance.now();
    const res = await send('/v1/pathways', 'coordinator', { patientRef: `ref-${randomUUID()}`, careTeam: 'spine-a', baseline: { painNrs: 8, odi: 40 } });
    enrolTimes.push(performance.now() - started);
    if (res.status === 201) pathways.push(res.body.pathway.pathwayId);
  });
  const enrolSeconds = (performance.now() - t) / 1000;

  const changeTimes: number[] = [];
  const statuses = new Map<number, number>();
  const cycle = [
    { kind: 'actions', as: 'coordinator', body: { action: 'hold', reason: 'patient travelling' } },
    { kind: 'actions', as: 'coordinator', body: { action: 'resume', reason: 'back home' } },
    { kind: 'reassessments', as: 'clinician', body: { painNrs: 7, odi: 38 } },
  ] as const;
  t = performance.now();
  await inParallel(CHANGES, CHANGE_CONCURRENCY, async (i) => {
    const pathwayId = pathways[i % pathways.length]!;
    const change = cycle[Math.floor(i / pathways.length) % cycle.length]!;
    const started = performance.now();
    const res = await send(`/v1/pathways/${pathwayId}/${change.kind}`, change.as, change.body);
    changeTimes.push(performance.now() - started);
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  });
  const changeSeconds = (performance.now() - t) / 1000;

  // Every history, for workflow tasks that timed out or failed.
  const connection = await Connection.connect({ address: dev.address });
  const client = new Client({ connection });
  let timedOut = 0;
  let failed = 0;
  await inParallel(pathways.length, 16, async (i) => {
    const history = await client.workflow.getHandle(pathways[i]!).fetchHistory();
    for (const e of history.events ?? []) {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) timedOut++;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) failed++;
    }
  });
  await connection.close();
  const logged = (pattern: RegExp) => [...worker.output, ...api.output].filter((l) => pattern.test(l)).length;

  enrolTimes.sort((a, b) => a - b);
  changeTimes.sort((a, b) => a - b);
  console.log(`pathways ${pathways.length} enrolled ${ENROL_CONCURRENCY} at a time in ${enrolSeconds.toFixed(1)} s (${(pathways.length / enrolSeconds).toFixed(0)}/s, p50 ${percentile(enrolTimes, 50).toFixed(0)} ms, p99 ${percentile(enrolTimes, 99).toFixed(0)} ms)`);
  console.log(`changes ${CHANGES} sent ${CHANGE_CONCURRENCY} at a time in ${changeSeconds.toFixed(1)} s (${(CHANGES / changeSeconds).toFixed(0)}/s, p50 ${percentile(changeTimes, 50).toFixed(0)} ms, p99 ${percentile(changeTimes, 99).toFixed(0)} ms); answers ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log('what must be zero | count');
  console.log(`503 on a first try | ${firstTry503}`);
  console.log(`other 5xx on a first try | ${other5xx}`);
  console.log(`PostgreSQL deadlocks | ${(await deadlocks()) - deadlocksBefore}`);
  console.log(`pool timeouts logged | ${logged(/timeout exceeded when trying to connect/i)}`);
  console.log(`statement timeouts logged | ${logged(/statement timeout/i)}`);
  console.log(`workflow tasks timed out | ${timedOut}`);
  console.log(`workflow tasks failed | ${failed}`);
  console.log(`"new WFT for a run which already has one" | ${logged(/already has one/i)}`);

  await agent.end();
  await Promise.all([api.interrupt(), worker.interrupt()]);
  await dev.kill();
  await postgres.destroy();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
