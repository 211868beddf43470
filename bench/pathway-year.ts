/**
 * A worst-case pathway-year (test/harness/pathway-year.ts: every stage, a red flag, holds, four
 * months lost to follow-up with weekly reminders) on the time-skipping server, with a real
 * worker writing its record to a real PostgreSQL. Prints the wall time of the year, its runs
 * (continue-as-new), the events and bytes of each, what the bytes are made of, and the time to
 * replay the longest run: what a pathway evicted from the worker's cache costs when its timer
 * fires. The history recorded before the early continue-as-new (one run for the whole year)
 * is replayed beside it.
 *
 *   npm run bench:year
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { careTeamChannel } from '../activities/care-team-channel';
import { silentLogger } from '../observability/log';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore } from '../record/store';
import { closeStarted } from '../test/harness/pathway-driver';
import { runPathwayYear } from '../test/harness/pathway-year';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { historiesOfRuns, type History } from '../test/harness/run-histories';
import { CONTINUE_AS_NEW_AFTER_EVENTS } from '../workflows/pathway';
import { ensureSearchAttributes } from '../temporal/connection';
import { resolveTimeSkippingServer } from '../temporal/servers';
import { WORKFLOW_INTERCEPTORS, createPathwayWorker } from '../worker/worker';
import { median } from './stats';

const YEARS = 4;
const REPLAYS = 5;
const BEFORE = path.join(__dirname, '..', 'test', 'workflows', 'histories', 'before-early-continue-as-new-pathway-year-running-run1.json');

const { History: HistoryMessage, HistoryEvent } = temporal.api.history.v1;
const EventType = temporal.api.enums.v1.EventType;

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const bytesOf = (history: History): number => HistoryMessage.encode(HistoryMessage.fromObject(history as object)).finish().length;

/** Bytes of a history by event type, largest first. */
function bytesByType(history: History): Array<{ type: string; events: number; bytes: number }> {
  const byType = new Map<string, { events: number; bytes: number }>();
  for (const event of history.events ?? []) {
    const type = EventType[Number(event.eventType)]!.replace('EVENT_TYPE_', '').toLowerCase();
    const row = byType.get(type) ?? { events: 0, bytes: 0 };
    row.events++;
    row.bytes += HistoryEvent.encode(HistoryEvent.fromObject(event as object)).finish().length;
    byType.set(type, row);
  }
  return [...byType].map(([type, row]) => ({ type, ...row })).sort((a, b) => b.bytes - a.bytes);
}

/** CPU time this process has used (every thread: client, worker, workflow threads), in ms. */
const ownCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * CPU time the time-skipping server (a child of this process) has used, in ms; null where /proc
 * cannot tell. Wall times on a shared machine swing with its load; CPU time much less.
 */
function serverCpuMs(): number | null {
  try {
    const children = readdirSync(`/proc/${process.pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean),
    );
    const server = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('temporal-test-server'));
    if (!server) return null;
    const fields = readFileSync(`/proc/${server}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return null;
  }
}

/** Replays a history `REPLAYS` times on one replay worker: the first pays for the worker, the rest are the replay alone. */
async function replayTimes(bundleCode: string, history: History): Promise<{ first: number; median: number; cpu: number }> {
  const histories = Array.from({ length: REPLAYS }, (_, i) => ({ workflowId: `replay-${i}`, history }));
  const times: number[] = [];
  const cpu: number[] = [];
  let started = performance.now();
  let startedCpu = ownCpuMs();
  for await (const result of Worker.runReplayHistories({ workflowBundle: { code: bundleCode } }, histories)) {
    if (result.error) throw result.error;
    times.push(performance.now() - started);
    cpu.push(ownCpuMs() - startedCpu);
    started = performance.now();
    startedCpu = ownCpuMs();
  }
  return { first: times[0]!, median: median(times.slice(1)), cpu: median(cpu.slice(1)) };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [env, postgres, bundle] = await Promise.all([
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: resolveTimeSkippingServer().executable } }),
    startPostgresServer(),
    bundleWorkflowCode({
      workflowsPath: path.join(__dirname, '..', 'workflows', 'index.ts'),
      workflowInterceptorModules: [WORKFLOW_INTERCEPTORS],
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    }),
  ]);
  await ensureSearchAttributes(env.connection, 'default', silentLogger);
  const store = await openRecordStore({ url: await createDatabase(postgres.url, 'bench_year') });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await createPathwayWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: { code: bundle.code },
    channel: careTeamChannel({ webhooks: { careTeams: {} }, logger: silentLogger }),
    record: { store, cipher: new NoteCipher(randomBytes(32)), idempotencyKeyDays: 30 },
    client: env.client,
  });
  const running = worker.run();
  try {
    // The first year warms the worker (bundle, connections, JIT); the rest are measured.
    const years = [];
    for (let i = 0; i <= YEARS; i++) {
      const [cpu, server] = [ownCpuMs(), serverCpuMs()];
      const year = await runPathwayYear(env, taskQueue);
      const serverAfter = serverCpuMs();
      years.push({ ...year, cpuMs: ownCpuMs() - cpu, serverCpuMs: server === null || serverAfter === null ? null : serverAfter - server });
    }
    const measured = years.slice(1);
    const year = measured[0]!;
    const runs = await historiesOfRuns(env.client, year.pathway.id, year.firstRunId);
    const events = runs.map((r) => r.history.events!.length);
    const bytes = runs.map((r) => bytesOf(r.history));
    const longest = runs[events.indexOf(Math.max(...events))]!;
    const before = HistoryMessage.fromObject(JSON.parse(readFileSync(BEFORE, 'utf8')));
    const now = await replayTimes(bundle.code, longest.history);
    const then = await replayTimes(bundle.code, before);

    console.log(`\nA worst-case pathway-year on the time-skipping server (continue-as-new after ${CONTINUE_AS_NEW_AFTER_EVENTS} events)\n`);
    console.log(`  wall time of the year:  median ${median(measured.map((y) => y.wallMs)).toFixed(0)} ms  (${measured.map((y) => y.wallMs.toFixed(0)).join(', ')} ms; cold worker ${years[0]!.wallMs.toFixed(0)} ms)`);
    console.log(`  of which moving clock:  median ${median(measured.map((y) => y.clockMs)).toFixed(0)} ms  (the server firing the year's timers, the worker running what they start)`);
    const serverCpu = measured.map((y) => y.serverCpuMs).filter((ms): ms is number => ms !== null);
    console.log(`  CPU of the year:        median ${median(measured.map((y) => y.cpuMs)).toFixed(0)} ms in this process (worker, client)${serverCpu.length ? `, ${median(serverCpu).toFixed(0)} ms in the time-skipping server` : ''}`);
    console.log(`  timeline entries:       ${year.view.timeline.length}`);
    console.log(`  runs:                   ${runs.length}`);
    console.log(`  events per run:         ${events.join(', ')}  (longest ${Math.max(...events)})`);
    console.log(`  history bytes per run:  ${bytes.map(kib).join(', ')}  (all runs ${kib(bytes.reduce((a, b) => a + b, 0))})`);
    console.log(`  replay, longest run:    ${now.median.toFixed(0)} ms, ${now.cpu.toFixed(0)} ms CPU  (${Math.max(...events)} events; the first replay on a new replay worker ${now.first.toFixed(0)} ms)`);
    console.log(`  replay, before (1 run): ${then.median.toFixed(0)} ms, ${then.cpu.toFixed(0)} ms CPU  (${before.events.length} events)  -> ${(now.median / then.median).toFixed(2)}x\n`);
    console.log('  Bytes of the longest run by event type:');
    for (const row of bytesByType(longest.history)) {
      console.log(`    ${row.type.padEnd(40)} ${String(row.events).padStart(4)} events  ${kib(row.bytes).padStart(10)}  ${(row.bytes / row.events).toFixed(0).padStart(6)} B each`);
    }
    const carried = runs.slice(1).map((r) => bytesOf({ events: r.history.events!.slice(0, 1) }));
    if (carried.length > 0) console.log(`\n  First event of each continued run (the state carried over): ${carried.map(kib).join(', ')}`);
  } finally {
    await closeStarted(taskQueue);
    worker.shutdown();
    await running;
    await store.close();
    await env.teardown();
    await postgres.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
