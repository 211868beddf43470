/**
 * End-to-end latency and throughput of the API on a local dev server: enrolments and
 * reassessments over real HTTP, one at a time and eight at a time. Prints figures and the ratio
 * of concurrent to sequential throughput.
 *
 *   npm run bench:api
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { careTeamChannel } from '../activities/care-team-channel';
import { createApp } from '../api/app';
import { ApiKeyStore, hashKey } from '../api/auth';
import { PathwayService } from '../api/pathways-service';
import { loadDefinitions } from '../clinical/registry';
import { silentLogger } from '../observability/log';
import { ensureSearchAttributes } from '../worker/temporal';
import { resolveDevServer } from '../worker/temporal-servers';
import { createPathwayWorker } from '../worker/worker';

const KEY = 'bench-clinician-key-0001';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: resolveDevServer().executable, log: { format: 'json', level: 'error' } } });
  await ensureSearchAttributes(env.connection, 'default', silentLogger);
  const client = new Client({ connection: env.connection });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await createPathwayWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue, channel: careTeamChannel({ webhooks: { careTeams: {} }, logger: silentLogger }), client });
  const running = worker.run();
  const app = createApp({
    pathways: new PathwayService({ client, taskQueue, definitions: loadDefinitions(), patientKey: randomBytes(32).toString('hex') }),
    definitions: loadDefinitions(),
    apiKeys: new ApiKeyStore([{ id: 'bench', role: 'clinician', sha256: hashKey(KEY) }]),
    logger: silentLogger,
    isTemporalReachable: async () => true,
  });
  const server = await new Promise<import('node:http').Server>((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as { pathway: { pathwayId: string } };
  };

  const results: Array<{ what: string; concurrency: number; n: number; perSecond: number; p50: number; p95: number }> = [];
  async function measure(what: string, n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
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
    results.push({ what, concurrency, n, perSecond: n / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95) });
  }

  const ids: string[] = [];
  const enrol = async () => ids.push((await post('/v1/pathways', { patientRef: `bench-${randomUUID()}`, careTeam: 'bench', baseline: { painNrs: 8, odi: 40 } })).pathway.pathwayId);
  await measure('enrol', 40, 1, enrol);
  await measure('enrol', 80, 8, enrol);
  await measure('reassess', 40, 1, (i) => post(`/v1/pathways/${ids[i]}/reassessments`, { painNrs: 7 }));
  await measure('reassess', 80, 8, (i) => post(`/v1/pathways/${ids[40 + i]}/reassessments`, { painNrs: 7 }));

  console.log('operation | concurrency | n | per second | p50 ms | p95 ms | throughput vs sequential');
  for (const r of results) {
    const sequential = results.find((x) => x.what === r.what && x.concurrency === 1)!;
    console.log(`${r.what.padEnd(9)} | ${String(r.concurrency).padStart(11)} | ${String(r.n).padStart(2)} | ${r.perSecond.toFixed(1).padStart(10)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p95.toFixed(1).padStart(6)} | ${(r.perSecond / sequential.perSecond).toFixed(2)}`);
  }

  server.close();
  worker.shutdown();
  await running;
  await env.teardown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
