/**
 * The API against the raw Temporal client doing the same Temporal work, in one process, on one
 * local dev server and one worker, with the record store on a real PostgreSQL server:
 * enrolment (API POST vs raw update-with-start) and reassessment (API POST vs raw
 * executeUpdate) one at a time and 16 at a time, and reads (API GET from the record store vs a
 * raw workflow query). Prints figures and ratios; nothing asserts a time.
 *
 *   npm run bench:api
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { careTeamChannel } from '../activities/care-team-channel';
import { createApp } from '../api/app';
import { ApiKeyStore, hashKey } from '../api/auth';
import { PathwayService } from '../api/pathways-service';
import { loadDefinitions } from '../clinical/registry';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore } from '../record/store';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { WORKFLOW_TYPE, confirmEnrolment, pathwayQuery, recordReassessment, type PathwayWorkflowInput } from '../workflows/messages';
import { silentLogger } from '../observability/log';
import { ensureSearchAttributes } from '../worker/temporal';
import { resolveDevServer } from '../worker/temporal-servers';
import { createPathwayWorker } from '../worker/worker';

const KEY = 'bench-clinician-key-0001';
const ACTOR = { id: 'bench', role: 'clinician' as const };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Result {
  what: string;
  via: 'api' | 'raw';
  concurrency: number;
  n: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function main(): Promise<void> {
  const [env, postgres] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: resolveDevServer().executable, log: { format: 'json', level: 'error' } } }),
    startPostgresServer(),
  ]);
  await ensureSearchAttributes(env.connection, 'default', silentLogger);
  const store = await openRecordStore({ url: await createDatabase(postgres.url, 'bench_api') });
  const record = { store, cipher: new NoteCipher(randomBytes(32)) };
  const client = new Client({ connection: env.connection });
  const taskQueue = `bench-${randomUUID()}`;
  const definition = loadDefinitions().get('psps-lumbar')!;
  const worker = await createPathwayWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    channel: careTeamChannel({ webhooks: { careTeams: {} }, logger: silentLogger }),
    record: { ...record, idempotencyKeyDays: 30 },
    client,
  });
  const running = worker.run();
  const app = createApp({
    pathways: new PathwayService({ client, taskQueue, definitions: loadDefinitions(), patientKey: randomBytes(32).toString('hex'), record }),
    definitions: loadDefinitions(),
    apiKeys: new ApiKeyStore([{ id: 'bench', role: 'clinician', sha256: hashKey(KEY) }]),
    logger: silentLogger,
    // A benchmark is one key sending as fast as it can: the per-key limit would measure itself.
    rateLimits: { windowSeconds: 60, perKey: 10_000_000, authFailures: 20 },
    isTemporalReachable: async () => true,
    record,
  });
  const server = await new Promise<import('node:http').Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as { pathway: { pathwayId: string } };
  };

  const results: Result[] = [];
  async function measure(what: string, via: Result['via'], n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
    const latencies: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const t = performance.now();
          await op(i);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    latencies.sort((a, b) => a - b);
    results.push({ what, via, concurrency, n, perSecond: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
  }

  const apiIds: string[] = [];
  const rawIds: string[] = [];
  const apiEnrol = async () => apiIds.push((await call('POST', '/v1/pathways', { patientRef: `bench-${randomUUID()}`, careTeam: 'bench', baseline: { painNrs: 8, odi: 40 } })).pathway.pathwayId);
  // The raw client does the Temporal work the API does for the same answer: one update-with-start.
  const rawEnrol = async () => {
    const pathwayId = `pw-${randomBytes(16).toString('hex')}`;
    const input: PathwayWorkflowInput = { enrollment: { pathwayId, careTeam: 'bench', definition, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: ACTOR } };
    await client.workflow.executeUpdateWithStart(confirmEnrolment, {
      startWorkflowOperation: new WithStartWorkflowOperation(WORKFLOW_TYPE, { workflowId: pathwayId, taskQueue, args: [input], workflowIdConflictPolicy: 'FAIL' }),
    });
    rawIds.push(pathwayId);
  };
  // Warm both paths (workflow bundle, connections, JIT) before measuring.
  for (let i = 0; i < 5; i++) {
    await apiEnrol();
    await rawEnrol();
  }
  await measure('enrol', 'raw', 40, 1, rawEnrol);
  await measure('enrol', 'api', 40, 1, apiEnrol);
  await measure('enrol', 'raw', 160, 16, rawEnrol);
  await measure('enrol', 'api', 160, 16, apiEnrol);
  const reassess = (ids: string[], offset: number, via: Result['via']) => (i: number) =>
    via === 'api'
      ? call('POST', `/v1/pathways/${ids[offset + i]}/reassessments`, { painNrs: 7 })
      : client.workflow.getHandle(ids[offset + i]!).executeUpdate(recordReassessment, { args: [{ actor: ACTOR, input: { painNrs: 7 } }] });
  await measure('reassess', 'raw', 40, 1, reassess(rawIds, 5, 'raw'));
  await measure('reassess', 'api', 40, 1, reassess(apiIds, 5, 'api'));
  await measure('reassess', 'raw', 160, 16, reassess(rawIds, 45, 'raw'));
  await measure('reassess', 'api', 160, 16, reassess(apiIds, 45, 'api'));
  await measure('read', 'raw', 100, 1, (i) => client.workflow.getHandle(rawIds[i]!).query(pathwayQuery));
  await measure('read', 'api', 100, 1, (i) => call('GET', `/v1/pathways/${apiIds[i]}`));

  console.log('operation | concurrency | via | n   | per second | p50 ms | p99 ms | API/raw throughput | API/raw p50');
  for (const r of results) {
    const raw = results.find((x) => x.what === r.what && x.concurrency === r.concurrency && x.via === 'raw')!;
    const ratios = r.via === 'api' ? `${(r.perSecond / raw.perSecond).toFixed(2).padStart(18)} | ${(r.p50 / raw.p50).toFixed(2)}` : '';
    console.log(
      `${r.what.padEnd(9)} | ${String(r.concurrency).padStart(11)} | ${r.via} | ${String(r.n).padEnd(3)} | ${r.perSecond.toFixed(1).padStart(10)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)} | ${ratios}`,
    );
  }

  server.close();
  worker.shutdown();
  await running;
  await store.close();
  await Promise.all([env.teardown(), postgres.destroy()]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
