/**
 * The API against the raw Temporal client doing the same Temporal work, in one process, on one
 * local dev server and one worker, with the record store on a real PostgreSQL server:
 * enrolment (API POST vs raw update-with-start) and reassessment (API POST vs raw
 * executeUpdate) one at a time and 16 at a time, and reads (API GET from the record store vs a
 * raw workflow query). The two take turns, round by round, so drifting load on a shared machine
 * falls on both alike. Prints figures and ratios; nothing asserts a time.
 *
 *   npm run bench:api
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
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
import { ensureSearchAttributes } from '../temporal/connection';
import { resolveDevServer } from '../temporal/servers';
import { WORKFLOW_INTERCEPTORS, createPathwayWorker } from '../worker/worker';
import { percentile } from './stats';

const KEY = 'bench-clinician-key-0001';
const ACTOR = { id: 'bench', role: 'clinician' as const };

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
  // The SDK's start-up chatter would bury the table.
  Runtime.install({ logger: new DefaultLogger('WARN') });
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
  // One bundle for the worker and for the replays below.
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: [WORKFLOW_INTERCEPTORS], logger: new DefaultLogger('WARN') });
  const worker = await createPathwayWorker({
    workflowBundle: { code: bundle.code },
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
  const server = await new Promise<http.Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const { port } = server.address() as AddressInfo;
  // A caller as a service would be: node:http over kept-alive connections. (undici's fetch costs
  // more CPU a call, which here would be taken from the worker in this same process.)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ pathway: { pathwayId: string } }>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${KEY}` };
      if (data !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      const req = http.request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          if (res.statusCode! >= 300) reject(new Error(`${path}: ${res.statusCode}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        });
      });
      req.on('error', reject);
      req.end(data);
    });

  const results: Result[] = [];
  /**
   * The raw client and the API take turns, round by round, so both meet the same machine: on a
   * shared machine the load drifts, and whichever ran second would otherwise pay for it.
   */
  async function compare(what: string, rounds: number, perRound: number, concurrency: number, ops: Record<Result['via'], (i: number) => Promise<unknown>>): Promise<void> {
    const latencies: Record<Result['via'], number[]> = { raw: [], api: [] };
    const seconds: Record<Result['via'], number> = { raw: 0, api: 0 };
    const counters: Record<Result['via'], number> = { raw: 0, api: 0 };
    for (let round = 0; round < rounds; round++) {
      for (const via of round % 2 === 0 ? (['raw', 'api'] as const) : (['api', 'raw'] as const)) {
        const end = counters[via] + perRound;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (counters[via] < end) {
              const i = counters[via]++;
              const t = performance.now();
              await ops[via](i);
              latencies[via].push(performance.now() - t);
            }
          }),
        );
        seconds[via] += (performance.now() - start) / 1000;
      }
    }
    for (const via of ['raw', 'api'] as const) {
      const sorted = latencies[via].sort((a, b) => a - b);
      results.push({ what, via, concurrency, n: sorted.length, perSecond: sorted.length / seconds[via], p50: percentile(sorted, 50), p99: percentile(sorted, 99) });
    }
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
  for (let i = 0; i < 10; i++) {
    await apiEnrol();
    await rawEnrol();
  }
  await compare('enrol', 6, 20, 1, { raw: rawEnrol, api: apiEnrol });
  await compare('enrol', 6, 64, 16, { raw: rawEnrol, api: apiEnrol });
  // Each reassessment goes to a pathway of its own, enrolled the same way on both paths.
  const reassess = (ids: string[], offset: number, via: Result['via']) => (i: number) =>
    via === 'api'
      ? call('POST', `/v1/pathways/${ids[offset + i]}/reassessments`, { painNrs: 7 })
      : client.workflow.getHandle(ids[offset + i]!).executeUpdate(recordReassessment, { args: [{ actor: ACTOR, input: { painNrs: 7 } }] });
  await compare('reassess', 6, 20, 1, { raw: reassess(rawIds, 10, 'raw'), api: reassess(apiIds, 10, 'api') });
  await compare('reassess', 6, 64, 16, { raw: reassess(rawIds, 130, 'raw'), api: reassess(apiIds, 130, 'api') });
  await compare('read', 6, 50, 1, {
    raw: (i) => client.workflow.getHandle(rawIds[i % rawIds.length]!).query(pathwayQuery),
    api: (i) => call('GET', `/v1/pathways/${apiIds[i % apiIds.length]}`),
  });

  console.log('operation | concurrency | via | n   | per second | p50 ms | p99 ms | API/raw throughput | API/raw p50');
  for (const r of results) {
    const raw = results.find((x) => x.what === r.what && x.concurrency === r.concurrency && x.via === 'raw')!;
    const ratios = r.via === 'api' ? `${(r.perSecond / raw.perSecond).toFixed(2).padStart(18)} | ${(r.p50 / raw.p50).toFixed(2)}` : '';
    console.log(
      `${r.what.padEnd(9)} | ${String(r.concurrency).padStart(11)} | ${r.via} | ${String(r.n).padEnd(3)} | ${r.perSecond.toFixed(1).padStart(10)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)} | ${ratios}`,
    );
  }

  // Under this load, did any workflow task take too long (timed out) or fail on the worker?
  const ids = [...apiIds, ...rawIds];
  let timedOut = 0;
  let failed = 0;
  const histories: Array<{ workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }> = [];
  for (const workflowId of ids) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    for (const e of history.events ?? []) {
      if (e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) timedOut++;
      if (e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) failed++;
    }
    if (histories.length < 200) histories.push({ workflowId, history });
  }
  console.log(`\nworkflow tasks over all ${ids.length} pathways: ${timedOut} timed out, ${failed} failed`);

  // What a pathway's workflow costs the worker when it is not in the cache: replaying its history
  // (a new workflow context, the bundle's modules, every task so far) on one replay worker.
  const replayStart = performance.now();
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowBundle: { code: bundle.code }, replayName: 'bench' }, histories)) {
    if (r.error) throw r.error;
    replayed++;
  }
  const replayMs = (performance.now() - replayStart) / replayed;
  const events = histories.reduce((n, h) => n + (h.history.events?.length ?? 0), 0) / histories.length;
  console.log(`replay of an evicted pathway (enrolment and one reassessment, ${events.toFixed(0)} events on average): ${replayMs.toFixed(1)} ms each over ${replayed}`);
  console.log(`workflow bundle: ${(bundle.code.length / 1024 / 1024).toFixed(2)} MiB`);

  agent.destroy();
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
