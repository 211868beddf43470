/**
 * The worker's memory as active pathways grow, and what a pathway evicted from its workflow
 * cache costs when it wakes. One local dev server, PostgreSQL for the record store, and the
 * worker as production runs it (`PATHWAY_ROLE=worker`, server/main.ts) in a process of its
 * own, so the resident set read from /proc is the worker's alone. Pathways are enrolled with
 * the raw Temporal client (update-with-start of `confirmEnrolment`, as the API does), and are
 * then idle, waiting on their timers, as most pathways are. Prints figures; asserts no time.
 *
 *   npm run bench:memory
 *
 * The worker takes its workflow cache size from PATHWAY_WORKFLOW_CACHE_SIZE, as in production
 * (unset: the service's default). BENCH_PATHWAYS (default 100,000) is the target,
 * BENCH_SEED_MINUTES (default 20) caps the seeding, BENCH_CONCURRENCY (default 32) is the
 * enrolments in flight, BENCH_WAKES (default 1,000) the evicted pathways woken at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadDefinitions } from '../clinical/registry';
import { silentLogger } from '../observability/log';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { ServiceProcess, freePort } from '../test/harness/service-process';
import { loadConfig } from '../config';
import { EncryptionCodec } from '../temporal/payload-codec';
import { ensureSearchAttributes } from '../temporal/connection';
import { resolveDevServer } from '../temporal/servers';
import { WORKFLOW_TYPE, confirmEnrolment, recordReassessment, type PathwayWorkflowInput } from '../workflows/messages';
import { percentile } from './stats';

const ACTOR = { id: 'bench', role: 'clinician' as const };
const CARE_TEAMS = 20;
const MiB = 1024 * 1024;

const setting = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number`);
  return value;
};

/** The worker process's resident set now, in bytes (Linux /proc); undefined once it has exited. */
function residentSet(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const mib = (bytes: number) => (bytes / MiB).toFixed(0);
const thousands = (n: number) => n.toLocaleString('en-GB');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** From the worker's own metrics: its main thread's V8 heap (the workflow thread's is not in it) and the pathways in its cache. */
async function workerMetrics(port: number): Promise<{ mainHeap?: number; cached?: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { mainHeap: value('nodejs_heap_size_used_bytes'), cached: value('temporal_sticky_cache_size') };
}

interface Checkpoint {
  pathways: number;
  rss: number;
  mainHeap?: number;
  cached?: number;
  /** The highest resident set sampled (once a second) while seeding up to here. */
  peakWhileSeeding: number;
  enrolmentsPerSecond: number;
  minutes: number;
}

async function main(): Promise<void> {
  const target = setting('BENCH_PATHWAYS', 100_000);
  const seedMinutes = setting('BENCH_SEED_MINUTES', 20);
  const concurrency = setting('BENCH_CONCURRENCY', 32);
  const wakes = setting('BENCH_WAKES', 1000);
  // The worker child reads the same environment, so this is the cache it runs with.
  const cacheSize = loadConfig(process.env).worker.workflowCacheSize;

  const [env, postgres] = await Promise.all([
    TestWorkflowEnvironment.createLocal({ server: { executable: resolveDevServer().executable, log: { format: 'json', level: 'error' } } }),
    startPostgresServer(),
  ]);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-bench-memory-'));
  let worker: ServiceProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stopEverything = () =>
    (stopped ??= (async () => {
      if (worker) await worker.interrupt();
      await Promise.all([env.teardown(), postgres.destroy()]);
      rmSync(dataDir, { recursive: true, force: true });
    })());
  try {
    await ensureSearchAttributes(env.connection, 'default', silentLogger);
    const databaseUrl = await createDatabase(postgres.url, 'bench_worker_memory');
    const payloadKey = randomBytes(32);
    const taskQueue = `bench-memory-${randomUUID()}`;
    // Payloads encrypted as in production: the worker decrypts inputs and encrypts results.
    const client = new Client({ connection: env.connection, dataConverter: { payloadCodecs: [new EncryptionCodec(payloadKey)] } });
    const definition = loadDefinitions().get('psps-lumbar')!;

    const metricsPort = await freePort();
    worker = ServiceProcess.start({
      PATHWAY_METRICS_PORT: String(metricsPort),
      PATHWAY_ROLE: 'worker',
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      DATABASE_URL: databaseUrl,
      PATHWAY_PAYLOAD_KEY: payloadKey.toString('hex'),
      PATHWAY_DATA_DIR: dataDir,
    });
    await worker.waitFor((l) => l.msg === 'pathway service ready');
    const pid = worker.pid;
    const rssNow = (): number => {
      const rss = residentSet(pid);
      if (rss === undefined) throw new Error(`the worker exited; its last lines:\n${worker!.output.slice(-20).join('\n')}`);
      return rss;
    };
    await sleep(3000);
    const idle = rssNow();
    console.log(`worker process ${pid}: workflow cache ${thousands(cacheSize)} pathways (PATHWAY_WORKFLOW_CACHE_SIZE), idle RSS ${mib(idle)} MiB`);
    console.log(`seeding up to ${thousands(target)} pathways, ${concurrency} enrolments in flight, for at most ${seedMinutes} minutes`);

    const ids: string[] = [];
    let failures = 0;
    const enrol = async (i: number): Promise<void> => {
      const pathwayId = `pw-${randomBytes(16).toString('hex')}`;
      const input: PathwayWorkflowInput = {
        enrollment: { pathwayId, careTeam: `team-${i % CARE_TEAMS}`, definition, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: ACTOR },
      };
      try {
        await client.workflow.executeUpdateWithStart(confirmEnrolment, {
          startWorkflowOperation: new WithStartWorkflowOperation(WORKFLOW_TYPE, { workflowId: pathwayId, taskQueue, args: [input], workflowIdConflictPolicy: 'FAIL' }),
        });
        ids.push(pathwayId);
      } catch (err) {
        if (++failures > 100) throw new Error(`more than 100 enrolments failed; the last: ${String(err)}`);
      }
    };

    // Checkpoints: the cache just filled, 1k, 2.5k, 5k, 10k, then every 10k. Seeding pauses at
    // each until the enrolments in flight have answered, so the figure is of settled pathways.
    const marks = new Set([1000, 2500, 5000, ...Array.from({ length: Math.floor(target / 10_000) }, (_, k) => (k + 1) * 10_000), target]);
    if (cacheSize > 0 && cacheSize < target) marks.add(cacheSize);
    const checkpoints: Checkpoint[] = [];
    const started = performance.now();
    const seedDeadline = started + seedMinutes * 60_000;
    let peak = 0;
    const sampler = setInterval(() => {
      const rss = residentSet(pid);
      if (rss !== undefined) peak = Math.max(peak, rss);
      // Enrolments in flight would wait for a worker that has gone: stop here with what it said.
      else void stopEverything().finally(() => {
        console.error(`the worker exited while seeding; its last lines:\n${worker!.output.slice(-20).join('\n')}`);
        process.exit(1);
      });
    }, 1000);
    let next = 0;
    for (const mark of [...marks].filter((m) => m <= target).sort((a, b) => a - b)) {
      const from = ids.length;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < mark && performance.now() < seedDeadline) await enrol(next++);
        }),
      );
      if (ids.length === from) break;
      await sleep(2000);
      const rss = rssNow();
      peak = Math.max(peak, rss);
      checkpoints.push({ pathways: ids.length, rss, ...(await workerMetrics(metricsPort)), peakWhileSeeding: peak, enrolmentsPerSecond: (ids.length - from) / ((performance.now() - t - 2000) / 1000), minutes: (performance.now() - started) / 60_000 });
      const c = checkpoints.at(-1)!;
      console.log(`  ${thousands(c.pathways).padStart(7)} pathways: RSS ${mib(c.rss)} MiB (peak ${mib(c.peakWhileSeeding)}, main-thread heap ${c.mainHeap === undefined ? '?' : mib(c.mainHeap)}, ${c.cached ?? '?'} cached), ${c.enrolmentsPerSecond.toFixed(1)} enrolments/s, ${c.minutes.toFixed(1)} min`);
      if (performance.now() >= seedDeadline) break;
    }
    clearInterval(sampler);
    const seeded = ids.length;

    // One at a time, so each latency is one pathway's own wake-up: cached (the most recently
    // enrolled, still in memory) against evicted (the oldest, which replay their history).
    const wake = async (which: string[]): Promise<number[]> => {
      const latencies: number[] = [];
      for (const id of which) {
        const t = performance.now();
        await client.workflow.getHandle(id).executeUpdate(recordReassessment, { args: [{ actor: ACTOR, input: { painNrs: 7 } }] });
        latencies.push(performance.now() - t);
      }
      return latencies.sort((a, b) => a - b);
    };
    const recent = Math.min(200, Math.floor(cacheSize / 2), seeded);
    const cachedWakes = recent > 0 ? await wake(ids.slice(seeded - recent)) : [];
    const evictedCount = Math.min(wakes, Math.max(0, seeded - cacheSize - recent));
    const evictedWakes = await wake(ids.slice(0, evictedCount));
    await sleep(2000);
    const afterWakes = rssNow();
    const problems = worker.lines.filter((l) => l.level === 'warn' || l.level === 'error');

    console.log();
    console.log(`Worker memory: one worker process, workflow cache ${thousands(cacheSize)} pathways, ${os.cpus().length} cores, Node ${process.version}`);
    console.log('active pathways | worker RSS MiB | of which main-thread heap | in cache | peak RSS while seeding | enrolments/s (since previous) | minutes');
    const row = (what: string, rss: number, c?: Checkpoint) =>
      console.log(
        `${what.padStart(15)} | ${mib(rss).padStart(14)} | ${(c?.mainHeap === undefined ? '' : mib(c.mainHeap)).padStart(25)} | ${String(c?.cached ?? '').padStart(8)} | ${(c ? mib(c.peakWhileSeeding) : '').padStart(22)} | ${(c ? c.enrolmentsPerSecond.toFixed(1) : '').padStart(29)} | ${(c ? c.minutes.toFixed(1) : '').padStart(7)}`,
      );
    row('0 (idle)', idle);
    for (const c of checkpoints) row(thousands(c.pathways), c.rss, c);
    row('after wakes', afterWakes);
    const atCache = checkpoints.find((c) => c.pathways >= cacheSize && cacheSize > 0);
    if (atCache) console.log(`per cached pathway as the cache fills: ${((atCache.rss - idle) / atCache.pathways / 1024).toFixed(0)} KiB of RSS over idle (the garbage collector's headroom comes later)`);
    // Growth once the cache has long been full (at twice its size, or 1,000): flat if nothing else holds memory per pathway.
    const settled = checkpoints.find((c) => c.pathways >= Math.max(1000, 2 * cacheSize));
    const last = checkpoints.at(-1);
    if (settled && last && last.pathways > settled.pathways) {
      console.log(`beyond the cache: ${((last.rss - settled.rss) / MiB / ((last.pathways - settled.pathways) / 1000)).toFixed(1)} MiB per 1,000 more pathways (${thousands(settled.pathways)} → ${thousands(last.pathways)})`);
    }
    if (seeded < target) console.log(`reached ${thousands(seeded)} of ${thousands(target)} pathways in the ${seedMinutes}-minute cap`);
    console.log(`enrolments that failed: ${failures}; worker log lines at warn or error: ${problems.length}${problems.length ? ` (first: ${problems[0]!.msg})` : ''}`);
    console.log();
    console.log('wake-up (a reassessment update, one at a time) | n     | p50 ms | p99 ms | max ms');
    for (const [what, l] of [['cached (most recently enrolled)', cachedWakes], ['evicted (oldest; replays its history)', evictedWakes]] as const) {
      if (l.length === 0) console.log(`${what.padEnd(46)} | none: ${what.startsWith('cached') ? 'no cache' : 'every pathway fits in the cache'}`);
      else console.log(`${what.padEnd(46)} | ${String(l.length).padEnd(5)} | ${percentile(l, 50).toFixed(1).padStart(6)} | ${percentile(l, 99).toFixed(1).padStart(6)} | ${l.at(-1)!.toFixed(1).padStart(6)}`);
    }
    if (cachedWakes.length && evictedWakes.length) console.log(`evicted/cached p50: ${(percentile(evictedWakes, 50) / percentile(cachedWakes, 50)).toFixed(2)}×`);
  } finally {
    await stopEverything();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
