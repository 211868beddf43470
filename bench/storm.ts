/**
 * Timer storms: many reassessments falling due in the same minute (clinics book follow-ups on the
 * same weekday mornings). On the production-like Temporal server (temporal-server with its own
 * PostgreSQL) and the record store on another PostgreSQL, with the worker as production runs it
 * (`PATHWAY_ROLE=worker`, a process of its own): first one worker, then two. Prints, per storm,
 * how long until every reassessment-due reminder is in the record (due-to-recorded p50/p99/max,
 * from the due time in the workflow to the commit of the reminder's row), the record-write lag
 * (the workflow's decision to that commit, and the service's own write-lag gauge), the workflow
 * task schedule-to-start p99 from the workers' SDK metrics, and each worker's peak RSS. Prints
 * figures; asserts no time.
 *
 *   npm run bench:storm
 *   PATHWAY_STORM_PATHWAYS=2000 PATHWAY_STORM_DUE=500 npm run bench:storm
 *
 * PATHWAY_STORM_PATHWAYS (100,000): active pathways at the first storm, PATHWAY_STORM_DUE (10,000)
 * of them due within one minute; PATHWAY_STORM_WORKERS ("1,2"): a storm for each worker count,
 * each with its own M pathways, enrolled just before it; PATHWAY_STORM_CONCURRENCY (48):
 * enrolments in flight; PATHWAY_STORM_WINDOW_SECONDS (60): the minute the due times share.
 * The workers take every other setting from the environment, as in production (for example
 * PATHWAY_WORKFLOW_CACHE_SIZE, PATHWAY_DB_POOL_SIZE, PATHWAY_WORKER_*).
 *
 * Real time cannot skip 42 days, so the M pathways of a storm carry the pathway definition with
 * its conservative reassessment interval set, pathway by pathway, to the time from its enrolment
 * to its place in the storm's minute; everything else in the definition is as published (without
 * the patient questionnaires, whose invitation a week before would otherwise go out at enrolment).
 * The other pathways use the published definition: due in six weeks.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import pg from 'pg';
import { loadDefinitions } from '../clinical/registry';
import type { PathwayDefinition } from '../clinical/definition';
import { EncryptionCodec } from '../temporal/payload-codec';
import { WORKFLOW_TYPE, confirmEnrolment, type PathwayWorkflowInput } from '../workflows/messages';
import { scrape, type Scrape } from '../test/harness/metrics';
import { createDatabase, startPostgresServer, type PostgresServer } from '../test/harness/postgres-server';
import { ServiceProcess, freePort } from '../test/harness/service-process';
import { startProductionTemporal, type ProductionTemporal } from '../test/harness/temporal-server';
import { percentile } from './stats';

const ACTOR = { id: 'bench', role: 'clinician' as const };
const CARE_TEAMS = 20;
const DAY_MS = 24 * 60 * 60 * 1000;
const MiB = 1024 * 1024;
const EventType = proto.api.enums.v1.EventType;
/** Storm pathways whose histories are read for the server's side of the figures. */
const HISTORY_SAMPLE = 200;

const whole = (name: string, fallback: number, argIndex: number): number => {
  const raw = process.argv[2 + argIndex] ?? process.env[name] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number (got ${raw})`);
  return value;
};
const thousands = (n: number) => Math.round(n).toLocaleString('en-GB');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);

function residentSet(pid: number): { rss?: number; peak?: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return {};
  }
}

/** Runs `work(i)` for i < count, `concurrency` at a time. */
async function inParallel(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

/** A histogram's p-th percentile from its cumulative buckets (the bucket's upper bound), summed over every label set, between two scrapes. */
function histogramPercentile(before: Scrape, after: Scrape, name: string, p: number): { value: number; below: number; count: number } | undefined {
  const buckets = new Map<number, number>();
  for (const [series, value] of after.series) {
    if (!series.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(series)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + value - (before.series.get(series) ?? 0));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count === 0) return undefined;
  const rank = (p / 100) * count;
  const at = sorted.findIndex(([, c]) => c >= rank);
  return { value: sorted[at]![0], below: at > 0 ? sorted[at - 1]![0] : 0, count };
}

const sumOf = (s: Scrape, name: string) => [...s.series].filter(([k]) => k === name || k.startsWith(`${name}{`)).reduce((n, [, v]) => n + v, 0);

interface Worker {
  name: string;
  process: ServiceProcess;
  metricsUrl: string;
}

interface StormFigures {
  workers: number;
  active: number;
  due: number;
  /** Pathways whose reminder is in the record, and the reminder rows (one each: none written twice). */
  recorded: number;
  reminderRows: number;
  dueSpanSeconds: number;
  enrolPerSecond: number;
  /** From the first due time until the last reminder was in the record. */
  allRecordedAfterMs: number;
  dueToRecorded: number[];
  dueToDecided: number[];
  writeLag: number[];
  gaugeLagMaxSeconds: number;
  scheduleToStartP99?: number;
  /** The bucket below it, so the figure reads as a range. */
  scheduleToStartBucketBelow?: number;
  /** From a sample of histories: timer fired after its due time, and the reminder's workflow task started after it was scheduled. */
  timerLate: number[];
  historyScheduleToStart: number[];
  activityScheduleToStartP99?: number;
  workflowTasks: number;
  /** Workflow tasks for a pathway not in the worker's cache, which replayed its history first. */
  cacheMisses: number;
  forcedEvictions: number;
  failedTasks: number;
  peakRss: number[];
}

async function main(): Promise<void> {
  const pathways = whole('PATHWAY_STORM_PATHWAYS', 100_000, 0);
  const due = whole('PATHWAY_STORM_DUE', 10_000, 1);
  const concurrency = whole('PATHWAY_STORM_CONCURRENCY', 48, 2);
  const windowSeconds = whole('PATHWAY_STORM_WINDOW_SECONDS', 60, 3);
  const workerCounts = (process.env.PATHWAY_STORM_WORKERS ?? '1,2').split(',').map(Number);
  if (due === 0 || due > pathways) throw new Error('PATHWAY_STORM_DUE must be between 1 and PATHWAY_STORM_PATHWAYS');
  if (workerCounts.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n < workerCounts[i - 1]!))) throw new Error('PATHWAY_STORM_WORKERS: worker counts, rising, such as 1,2');

  // Temporal on a PostgreSQL of its own, as production runs it; the record store on another.
  const [temporalPg, recordPg] = await Promise.all([startPostgresServer(), startPostgresServer()]);
  let temporal: ProductionTemporal | undefined;
  const workers: Worker[] = [];
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-bench-storm-'));
  let agent: pg.Pool | undefined;
  let connection: Connection | undefined;
  try {
    // Commit timestamps say when each reminder's row reached the record, at no cost to the writer.
    await setCommitTimestamps(recordPg);
    temporal = await startProductionTemporal(temporalPg.url);
    const databaseUrl = await createDatabase(recordPg.url, 'bench_storm');
    const payloadKey = randomBytes(32);
    const taskQueue = `bench-storm-${randomBytes(4).toString('hex')}`;
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: temporal.namespace, dataConverter: { payloadCodecs: [new EncryptionCodec(payloadKey)] } });
    const published = loadDefinitions().get('psps-lumbar')!;

    const startWorker = async (): Promise<Worker> => {
      const name = `storm-worker-${workers.length + 1}`;
      const metricsPort = await freePort();
      const process = ServiceProcess.start({
        PATHWAY_ROLE: 'worker',
        PATHWAY_INSTANCE: name,
        PATHWAY_METRICS_PORT: String(metricsPort),
        TEMPORAL_ADDRESS: temporal!.address,
        TEMPORAL_NAMESPACE: temporal!.namespace,
        TEMPORAL_TASK_QUEUE: taskQueue,
        DATABASE_URL: databaseUrl,
        PATHWAY_PAYLOAD_KEY: payloadKey.toString('hex'),
        PATHWAY_DATA_DIR: dataDir,
      });
      await process.waitFor((l) => l.msg === 'pathway service ready', 180_000);
      const worker = { name, process, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
      workers.push(worker);
      return worker;
    };
    await startWorker();
    agent = new pg.Pool({ connectionString: databaseUrl, max: 8 });

    let failures = 0;
    const enrol = async (careTeam: string, definition: PathwayDefinition): Promise<void> => {
      const pathwayId = `pw-${randomBytes(16).toString('hex')}`;
      const input: PathwayWorkflowInput = { enrollment: { pathwayId, careTeam, definition, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: ACTOR } };
      try {
        await client.workflow.executeUpdateWithStart(confirmEnrolment, {
          startWorkflowOperation: new WithStartWorkflowOperation(WORKFLOW_TYPE, { workflowId: pathwayId, taskQueue, args: [input], workflowIdConflictPolicy: 'FAIL' }),
        });
      } catch (err) {
        if (++failures > 100) throw new Error(`more than 100 enrolments failed; the last: ${String(err)}`);
      }
    };

    console.log(`timer storm: ${thousands(pathways)} active pathways, ${thousands(due)} due within ${windowSeconds} s, workers ${workerCounts.join(' then ')}; ${os.cpus().length} cores, Node ${process.version}`);
    // The pathways due in six weeks, enrolled first; their rate predicts how long a storm's enrolment takes.
    const far = pathways - due;
    let t = performance.now();
    let lastReport = t;
    let enrolled = 0;
    await inParallel(far, concurrency, async (i) => {
      await enrol(`team-${i % CARE_TEAMS}`, published);
      enrolled++;
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        console.log(`  enrolled ${thousands(enrolled)} of ${thousands(far)} (${(enrolled / ((lastReport - t) / 1000)).toFixed(1)}/s)`);
      }
    });
    let rate = far > 0 ? far / ((performance.now() - t) / 1000) : 20;
    if (far > 0) console.log(`enrolled ${thousands(far)} pathways due in six weeks, ${concurrency} at a time: ${seconds(performance.now() - t)} s, ${rate.toFixed(1)} starts/s`);

    const storms: StormFigures[] = [];
    let active = far;
    for (const [k, count] of workerCounts.entries()) {
      while (workers.length < count) await startWorker();
      // The storm's minute begins once its pathways are enrolled (projected from the last rate, with room to spare).
      const stormAt = Date.now() + Math.ceil(((due / rate) * 1.4 + 30) * 1000);
      const careTeam = `storm-${k + 1}`;
      t = performance.now();
      let late = 0;
      await inParallel(due, concurrency, async (i) => {
        const dueAt = stormAt + Math.floor((i / due) * windowSeconds * 1000);
        const interval = dueAt - Date.now();
        if (interval < 5000) late++;
        await enrol(careTeam, stormDefinition(published, Math.max(interval, 1000)));
      });
      const enrolSeconds = (performance.now() - t) / 1000;
      rate = due / enrolSeconds;
      active += due;
      console.log(`storm ${k + 1}: enrolled its ${thousands(due)} pathways in ${enrolSeconds.toFixed(1)} s (${rate.toFixed(1)} starts/s); due from ${new Date(stormAt).toISOString().slice(11, 19)}, ${((stormAt - Date.now()) / 1000).toFixed(0)} s from now${late ? `; ${late} enrolled less than 5 s before their due time` : ''}`);
      storms.push(await runStorm({ agent, client, workers, careTeam, due, active, enrolPerSecond: rate }));
      const s = storms.at(-1)!;
      console.log(`storm ${k + 1}: ${thousands(s.recorded)} of ${thousands(s.due)} pathways' reminders recorded (${thousands(s.reminderRows)} rows) ${seconds(s.allRecordedAfterMs)} s after the first due time`);
    }

    const problems = workers.flatMap((w) => w.process.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${w.name}: ${l.msg}`));
    console.log();
    console.log('Timer storm on the production-like Temporal server, the record store on PostgreSQL');
    const ms = (xs: number[], p: number) => (xs.length ? percentile(xs, p).toFixed(0) : '-');
    console.log('workers | active pathways | due in one minute | due times span s | recorded | all recorded after s | due-to-recorded p50 / p99 / max ms | due-to-decided p50 / p99 ms | record-write lag p50 / p99 ms | write-lag gauge max s | WFT schedule-to-start p99 ms (metrics bucket) | reminder WFT schedule-to-start p50 / p99 ms (histories) | timer fired after due p50 / p99 ms (histories) | activity schedule-to-start p99 ms (bucket) | workflow tasks (failed) | of which cache misses (forced evictions) | peak RSS MiB per worker');
    for (const s of storms) {
      console.log(
        [
          s.workers,
          thousands(s.active),
          thousands(s.due),
          s.dueSpanSeconds.toFixed(1),
          thousands(s.recorded),
          seconds(s.allRecordedAfterMs),
          `${ms(s.dueToRecorded, 50)} / ${ms(s.dueToRecorded, 99)} / ${s.dueToRecorded.length ? s.dueToRecorded.at(-1)!.toFixed(0) : '-'}`,
          `${ms(s.dueToDecided, 50)} / ${ms(s.dueToDecided, 99)}`,
          `${ms(s.writeLag, 50)} / ${ms(s.writeLag, 99)}`,
          s.gaugeLagMaxSeconds.toFixed(1),
          s.scheduleToStartP99 === undefined ? '-' : `${s.scheduleToStartBucketBelow}-${s.scheduleToStartP99}`,
          `${ms(s.historyScheduleToStart, 50)} / ${ms(s.historyScheduleToStart, 99)}`,
          `${ms(s.timerLate, 50)} / ${ms(s.timerLate, 99)}`,
          s.activityScheduleToStartP99 === undefined ? '-' : `≤ ${s.activityScheduleToStartP99}`,
          `${thousands(s.workflowTasks)} (${s.failedTasks})`,
          `${thousands(s.cacheMisses)} (${thousands(s.forcedEvictions)})`,
          s.peakRss.map((b) => (b / MiB).toFixed(0)).join(' / '),
        ].join(' | '),
      );
    }
    for (const s of storms) {
      const perMinute = s.allRecordedAfterMs > 0 ? (s.recorded / (s.allRecordedAfterMs / 60_000)) : 0;
      console.log(`${s.workers} worker(s): ${thousands(perMinute)} reminders recorded a minute through the storm (${thousands(perMinute / s.workers)} a worker)`);
    }
    if (storms.length === 2) {
      const [one, two] = storms as [StormFigures, StormFigures];
      const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`;
      console.log(`two workers / one: time until all recorded ${ratio(two.allRecordedAfterMs, one.allRecordedAfterMs)}, due-to-recorded p50 ${ratio(percentile(two.dueToRecorded, 50), percentile(one.dueToRecorded, 50))}, p99 ${ratio(percentile(two.dueToRecorded, 99), percentile(one.dueToRecorded, 99))}`);
    }
    console.log(`enrolments that failed: ${failures}; worker log lines at warn or error: ${problems.length}${problems.length ? ` (first: ${problems[0]})` : ''}`);
    const settings = Object.entries(process.env).filter(([k]) => /^PATHWAY_(WORKFLOW_|DB_POOL)/.test(k));
    console.log(`worker settings: ${settings.length ? settings.map(([k, v]) => `${k}=${v}`).join(' ') : 'the defaults'}`);
  } finally {
    await Promise.all(workers.map((w) => w.process.interrupt()));
    await agent?.end().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await temporal?.stop();
    await Promise.all([temporalPg.destroy(), recordPg.destroy()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The published definition with its conservative reassessment `intervalMs` after enrolment, and no questionnaires at home. */
function stormDefinition(published: PathwayDefinition, intervalMs: number): PathwayDefinition {
  const { patientQuestionnaires: _invitations, ...rest } = published;
  return { ...rest, stages: { ...rest.stages, conservative: { ...rest.stages.conservative, reassessEveryDays: intervalMs / DAY_MS } } };
}

async function setCommitTimestamps(server: PostgresServer): Promise<void> {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query('ALTER SYSTEM SET track_commit_timestamp = on');
  await c.end();
  await server.stop();
  await server.start();
}

/** Waits out one storm: the reminders of `careTeam`'s pathways, from their due times until all are in the record. */
async function runStorm(opts: { agent: pg.Pool; client: Client; workers: Worker[]; careTeam: string; due: number; active: number; enrolPerSecond: number }): Promise<StormFigures> {
  const { agent, client, workers, careTeam, due } = opts;
  const reminders = async () =>
    Number(
      (await agent.query(`select count(distinct t.enrolment_id) as n from timeline_entries t join pathways p using (enrolment_id) where p.care_team = $1 and t.event = 'reminder'`, [careTeam])).rows[0].n,
    );
  const dueRows = await agent.query(`select min(next_due_at) as first, max(next_due_at) as last from pathways where care_team = $1`, [careTeam]);
  const firstDue = new Date(dueRows.rows[0].first).getTime();
  const dueSpanSeconds = (new Date(dueRows.rows[0].last).getTime() - firstDue) / 1000;
  await sleep(Math.max(0, firstDue - Date.now() - 3000));
  const before = await Promise.all(workers.map((w) => scrape(w.metricsUrl)));
  const peakRss = workers.map(() => 0);
  let gaugeLagMaxSeconds = 0;
  let samples = 0;
  const sample = async () => {
    workers.forEach((w, i) => (peakRss[i] = Math.max(peakRss[i]!, residentSet(w.process.pid).rss ?? 0)));
    // The gauge reads the record store: every 5 s, nearer a scraper's pace than every second.
    if (samples++ % 5 !== 0) return;
    for (const w of workers) {
      const s = await scrape(w.metricsUrl).catch(() => undefined);
      gaugeLagMaxSeconds = Math.max(gaugeLagMaxSeconds, sumOf(s ?? { text: '', series: new Map() }, 'pathway_record_store_write_lag_seconds'));
    }
  };
  // Done when every reminder is in, or nothing new came for three minutes after the last due time.
  let recorded = 0;
  let progressAt = Date.now();
  const lastDue = firstDue + dueSpanSeconds * 1000;
  for (;;) {
    await sample();
    const n = await reminders();
    if (n > recorded) progressAt = Date.now();
    recorded = n;
    if (recorded >= due) break;
    if (Date.now() > lastDue && Date.now() - progressAt > 180_000) break;
    await sleep(1000);
  }
  await sample();
  // The task after each reminder's delivery follows within moments: counted too.
  await sleep(5000);
  const after = await Promise.all(workers.map((w) => scrape(w.metricsUrl)));
  const merged = (s: Scrape[]): Scrape => ({ text: '', series: s.reduce((m, x) => { for (const [k, v] of x.series) m.set(`${k}`, (m.get(k) ?? 0) + v); return m; }, new Map<string, number>()) });
  const [b, a] = [merged(before), merged(after)];
  const schedule = histogramPercentile(b, a, 'temporal_workflow_task_schedule_to_start_latency', 99);
  const rows = (
    await agent.query(
      `select extract(epoch from (t.entry->'numbers'->>'dueAt')::timestamptz) * 1000 as due,
              extract(epoch from t.at) * 1000 as decided,
              extract(epoch from pg_xact_commit_timestamp(t.xmin)) * 1000 as recorded
         from timeline_entries t join pathways p using (enrolment_id)
        where p.care_team = $1 and t.event = 'reminder'`,
      [careTeam],
    )
  ).rows.map((r) => ({ due: Number(r.due), decided: Number(r.decided), recorded: Number(r.recorded) }));
  const sorted = (xs: number[]) => xs.sort((x, y) => x - y);
  // The server's side, from histories: when the reminder's timer fired, and how long its workflow task waited for a worker.
  const sampled = (await agent.query(`select pathway_id from pathways where care_team = $1 order by random() limit ${HISTORY_SAMPLE}`, [careTeam])).rows.map((r) => r.pathway_id as string);
  const timerLate: number[] = [];
  const historyScheduleToStart: number[] = [];
  await inParallel(sampled.length, 8, async (i) => {
    const dueRow = (await agent.query(`select extract(epoch from (t.entry->'numbers'->>'dueAt')::timestamptz) * 1000 as due from timeline_entries t join pathways p using (enrolment_id) where p.pathway_id = $1 and t.event = 'reminder'`, [sampled[i]])).rows[0];
    const events = (await client.workflow.getHandle(sampled[i]!).fetchHistory()).events ?? [];
    const fired = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED);
    if (fired < 0 || !dueRow) return;
    const at = (k: number) => tsToMs(events[k]!.eventTime!);
    timerLate.push(at(fired) - Number(dueRow.due));
    const scheduled = events.findIndex((e, k) => k > fired && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const started = events.findIndex((e, k) => k > scheduled && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    if (scheduled > 0 && started > 0) historyScheduleToStart.push(at(started) - at(scheduled));
  });
  return {
    workers: workers.length,
    active: opts.active,
    due,
    recorded,
    reminderRows: rows.length,
    dueSpanSeconds,
    enrolPerSecond: opts.enrolPerSecond,
    allRecordedAfterMs: rows.length ? rows.reduce((m, r) => Math.max(m, r.recorded), 0) - firstDue : 0,
    dueToRecorded: sorted(rows.map((r) => r.recorded - r.due)),
    dueToDecided: sorted(rows.map((r) => r.decided - r.due)),
    writeLag: sorted(rows.map((r) => r.recorded - r.decided)),
    gaugeLagMaxSeconds,
    scheduleToStartP99: schedule?.value,
    scheduleToStartBucketBelow: schedule?.below,
    timerLate: sorted(timerLate),
    historyScheduleToStart: sorted(historyScheduleToStart),
    activityScheduleToStartP99: histogramPercentile(b, a, 'temporal_activity_schedule_to_start_latency', 99)?.value,
    workflowTasks: schedule?.count ?? 0,
    cacheMisses: sumOf(a, 'temporal_sticky_cache_miss') - sumOf(b, 'temporal_sticky_cache_miss'),
    forcedEvictions: sumOf(a, 'temporal_sticky_cache_total_forced_eviction') - sumOf(b, 'temporal_sticky_cache_total_forced_eviction'),
    failedTasks: sumOf(a, 'temporal_workflow_task_execution_failed') - sumOf(b, 'temporal_workflow_task_execution_failed'),
    peakRss,
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
