/**
 * The CDS Hooks patient-view service as an EHR calls it: a signed JWT (ES384, keys from the EHR's
 * key set on loopback) and the prefetched Patient, answered from the record store by the
 * patient's keyed hash. One process: a local dev server, one worker, PostgreSQL, the API. Beside
 * it, the same pathway read through GET /v1/pathways/{id} with an API key, so the ratio shows what
 * the JWT check and the card cost. Prints figures and ratios; nothing asserts a time.
 *
 *   npm run bench:cds -- [pathways] [calls]      (defaults 20 and 400)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { careTeamChannel } from '../activities/care-team-channel';
import { createApp } from '../api/app';
import { ApiKeyStore, hashKey } from '../api/auth';
import { PathwayService } from '../api/pathways-service';
import { PATIENT_VIEW_SERVICE } from '../api/routes/cds-hooks';
import { loadDefinitions } from '../clinical/registry';
import { silentLogger } from '../observability/log';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore } from '../record/store';
import { startEhrSigner } from '../test/harness/ehr-keys';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { freePort } from '../test/harness/service-process';
import { ensureSearchAttributes } from '../temporal/connection';
import { resolveDevServer } from '../temporal/servers';
import { WORKFLOW_INTERCEPTORS, createPathwayWorker } from '../worker/worker';
import { percentile } from './stats';

const KEY = 'bench-clinician-key-0001';
const SYSTEM = 'https://clinic.example/patients';

async function main(): Promise<void> {
  const pathways = Number(process.argv[2] ?? 20);
  const calls = Number(process.argv[3] ?? 400);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const [env, postgres, ehr] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: resolveDevServer().executable, log: { format: 'json', level: 'error' } } }),
    startPostgresServer(),
    startEhrSigner(),
  ]);
  await ensureSearchAttributes(env.connection, 'default', silentLogger);
  const store = await openRecordStore({ url: await createDatabase(postgres.url, 'bench_cds') });
  const record = { store, cipher: new NoteCipher(randomBytes(32)) };
  const client = new Client({ connection: env.connection });
  const taskQueue = `bench-${randomUUID()}`;
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
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const app = createApp({
    pathways: new PathwayService({ client, taskQueue, definitions: loadDefinitions(), patientKey: randomBytes(32).toString('hex'), record }),
    definitions: loadDefinitions(),
    apiKeys: new ApiKeyStore([{ id: 'bench', role: 'clinician', sha256: hashKey(KEY) }]),
    logger: silentLogger,
    rateLimits: { windowSeconds: 60, perKey: 10_000_000, authFailures: 20 },
    isTemporalReachable: async () => true,
    record,
    cds: {
      settings: { patientIdentifierSystem: SYSTEM, cdsClients: [{ iss: ehr.iss, jwksUrl: ehr.jwksUrl, jku: [] }] },
      publicUrl,
      launchUrl: `${publicUrl}/smart/launch`,
      logger: silentLogger,
    },
  });
  const server = await new Promise<http.Server>((r) => {
    const s = app.listen(port, '127.0.0.1', () => r(s));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const call = (method: string, path: string, authorization: string, body?: unknown) =>
    new Promise<any>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = { authorization };
      if (data !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      const req = http.request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path, method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode! >= 300 ? reject(new Error(`${path}: ${res.statusCode}`)) : resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
      });
      req.on('error', reject);
      req.end(data);
    });

  const patients: Array<{ ref: string; id: string }> = [];
  for (let i = 0; i < pathways; i++) {
    const ref = `bench-${randomUUID()}`;
    const res = await call('POST', '/v1/pathways', `Bearer ${KEY}`, { patientRef: ref, careTeam: 'spine-a', baseline: { painNrs: 7, odi: 38 } });
    patients.push({ ref, id: res.pathway.pathwayId });
  }
  const audience = `${publicUrl}/cds-services/${PATIENT_VIEW_SERVICE}`;
  const hook = (ref: string) => ({
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/bench', patientId: 'p1' },
    prefetch: { patient: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value: ref }] } },
  });
  // Tokens are signed beforehand: signing is the EHR's work, not the service's.
  const tokens = await Promise.all(Array.from({ length: calls * 2 + 20 }, () => ehr.sign(audience)));
  const timed = async (n: number, concurrency: number, one: (i: number) => Promise<unknown>) => {
    const times: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const t = performance.now();
          await one(i);
          times.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    return { n, perSecond: n / seconds, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99) };
  };
  let t = 0;
  const card = async (i: number) => {
    const answer = await call('POST', `/cds-services/${PATIENT_VIEW_SERVICE}`, `Bearer ${tokens[t++]}`, hook(patients[i % pathways]!.ref));
    if (answer.cards.length !== 1) throw new Error('no card');
  };
  const read = (i: number) => call('GET', `/v1/pathways/${patients[i % pathways]!.id}`, `Bearer ${KEY}`);
  await timed(10, 1, card); // the key set's first fetch and the JIT's warm-up
  await timed(10, 1, read);
  const rows: string[] = [];
  for (const concurrency of [1, 16]) {
    const cds = await timed(calls / 2, concurrency, card);
    const api = await timed(calls / 2, concurrency, read);
    rows.push(
      `| ${concurrency} | ${cds.n} | ${cds.p50.toFixed(1)} | ${cds.p95.toFixed(1)} | ${cds.p99.toFixed(1)} | ${cds.perSecond.toFixed(0)} | ${api.p50.toFixed(1)} | ${api.p95.toFixed(1)} | ${(cds.p95 / api.p95).toFixed(2)}x |`,
    );
  }
  console.log(`CDS Hooks patient-view, ${pathways} pathways, PostgreSQL record store (ms)`);
  console.log('| concurrency | calls | card p50 | card p95 | card p99 | cards/s | GET pathway p50 | GET pathway p95 | p95 ratio |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  agent.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  worker.shutdown();
  await running;
  await store.close();
  await ehr.stop();
  await env.teardown();
  await postgres.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
