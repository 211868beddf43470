/**
 * Dashboards on the record store at each of BENCH_SIZES pathways (100,000 and 1,000,000), through
 * the real API over HTTP, on a real PostgreSQL server: p50 and p95 of the list (first page, and the
 * page at nine tenths of its rows), a care team's list, the summary, a care team's worklist and the
 * outcomes report, and their growth from the first size to the last; the report computed from the
 * rows beside it (same figures?) and the worklist's query plan. Up to BENCH_PAGE_THROUGH_UP_TO it
 * pages through every list to the end and checks that no pathway is missing.
 *
 * Seeding: 1,000 pathways are driven through the pure model (every stage and status) and
 * written as their workflows would write them; the rest are copies made by set-based SQL
 * (generate_series) with new ids, care teams, due dates and stage exits.
 *
 *   npm run bench:record
 *   BENCH_SIZES=10000,100000 npm run bench:record
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { sql, type RawBuilder } from 'kysely';
import { createApp } from '../api/app';
import { ApiKeyStore, hashKey } from '../api/auth';
import { PathwayService } from '../api/pathways-service';
import type { Actor } from '../clinical/events';
import { applyEvent, enroll, pendingWorkup, type PathwayEvent, type PathwayState } from '../clinical/pathway';
import { loadDefinitions } from '../clinical/registry';
import { DAY_MS } from '../clinical/rules';
import { NOTHING_RECORDED, recordBatch } from '../record/batch';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore, type RecordStore } from '../record/store';
import { writeBatch } from '../record/write';
import { rebuildOutcomeAggregates } from '../record/outcome-aggregates';
import { outcomesFromAggregates, outcomesFromRows } from '../record/reports';
import { WORKLIST_DUE, WORKLIST_RANK } from '../record/read';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { silentLogger } from '../observability/log';
import { percentile } from './stats';

const KEY = 'bench-viewer-key-00001';
const TEAMS = 20;
const CLINICIAN: Actor = { id: 'bench', role: 'clinician' };
const SAMPLES = 60;
/** Sizes to grow to and measure at, in order (multiples of the 1,000 templates). */
const SIZES = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
/** The report computed from the rows (the old way) takes seconds at a million: a few samples. */
const DIRECT_SAMPLES = Number(process.env.BENCH_DIRECT_SAMPLES ?? 3);
/** Paging through every list to check none is missing: up to this size (BENCH_PAGE_THROUGH_UP_TO). */
const PAGE_THROUGH_UP_TO = Number(process.env.BENCH_PAGE_THROUGH_UP_TO ?? 100_000);

/** One of a few trajectories, so the seed has every stage and status. */
function drive(i: number, now: number): PathwayState {
  const definition = loadDefinitions().get('psps-lumbar')!;
  const start = now - (i % 200) * DAY_MS;
  let s = enroll({ pathwayId: `pw-${i.toString(16).padStart(32, '0')}`, careTeam: `team-${i % TEAMS}`, definition, baseline: { painNrs: 8, odi: 44 }, redFlags: [], enrolledBy: CLINICIAN }, start).state;
  const apply = (e: PathwayEvent, day: number) => {
    s = applyEvent(s, e, start + day * DAY_MS).state;
  };
  const reassess = (painNrs: number, odi: number, day: number) => apply({ type: 'reassessment', actor: CLINICIAN, input: { painNrs, odi } }, day);
  switch (i % 6) {
    case 0:
      break;
    case 1:
      reassess(4, 30, 42);
      reassess(3, 28, 84);
      break;
    case 2:
      reassess(8, 44, 42);
      apply({ type: 'procedure', actor: CLINICIAN, input: { type: 'epidural-steroid-injection', performedAt: new Date(start + 50 * DAY_MS).toISOString() } }, 50);
      reassess(i % 12 === 2 ? 3 : 7, 40, 78);
      break;
    case 3:
      apply({ type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } }, 10);
      break;
    case 4:
      apply({ type: 'action', actor: CLINICIAN, input: { action: 'hold', reason: 'admitted elsewhere' } }, 5);
      break;
    case 5:
      apply({ type: 'action', actor: CLINICIAN, input: { action: 'withdraw', reason: 'moved away' } }, 20);
      break;
  }
  return s;
}

async function seedTemplates(store: RecordStore, cipher: NoteCipher, n: number, now: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const state = drive(i, now);
    await writeBatch(store.db, cipher, recordBatch(`template-${i}`, state, pendingWorkup(state), NOTHING_RECORDED).batch);
  }
}

const PATHWAY_COLUMNS = sql.raw(`pathway_id, care_team, definition_id, definition_version, stage, status, next_due_at, next_due_kind, overdue, undelivered,
  pause_kind, pending_workup, enrolled_at, stage_entered_at, closed_at, baseline_pain_nrs, baseline_odi, latest_pain_nrs, latest_odi, latest_at,
  version, snapshot, last_entry_at, recorded_at`);
/** Copies made at once: one statement a table for this many copies of every template. */
const COPIES_AT_ONCE = 50;

/**
 * Copies the templates until there are `total` pathways, set-based (generate_series: one
 * statement a table for COPIES_AT_ONCE copies): new ids, care teams and due dates, and each
 * copy's stage exits moved by up to a day, so the medians' values are as many as the episodes.
 */
async function grow(store: RecordStore, templates: number, total: number): Promise<void> {
  const have = Number((await sql<{ n: number }>`select count(*) as n from pathways`.execute(store.db)).rows[0]!.n);
  if ((total - have) % templates) throw new Error(`sizes are multiples of ${templates}`);
  const first = have / templates;
  const last = total / templates - 1;
  for (const table of ['pathways', 'stage_episodes', 'reassessments', 'procedures']) {
    await sql`create unlogged table if not exists ${sql.table(`bench_template_${table}`)} as select * from ${sql.table(table)} where enrolment_id like 'template-%'`.execute(store.db);
  }
  const copy = sql.raw(`t.enrolment_id || '-c' || c`);
  for (let from = first; from <= last; from += COPIES_AT_ONCE) {
    const to = Math.min(last, from + COPIES_AT_ONCE - 1);
    const copies = sql`cross join generate_series(${from}::integer, ${to}::integer) c`;
    await sql`insert into pathways (enrolment_id, ${PATHWAY_COLUMNS})
      select ${copy}, 'pw-' || md5(${copy}), 'team-' || (abs(hashtext(${copy})) % ${TEAMS}),
        definition_id, definition_version, stage, status,
        next_due_at + (abs(hashtext(c || t.enrolment_id)) % 86400) * interval '1 minute', next_due_kind, overdue, undelivered, pause_kind, pending_workup,
        enrolled_at, stage_entered_at, closed_at, baseline_pain_nrs, baseline_odi, latest_pain_nrs, latest_odi, latest_at, version, snapshot, last_entry_at, recorded_at
      from bench_template_pathways t ${copies}`.execute(store.db);
    await sql`insert into stage_episodes select ${copy}, entered_seq, stage, entered_at,
        exited_at + (abs(hashtext(${copy} || entered_seq)) % 86400) * interval '1 second', exit, to_stage, responded, urgent_referral,
        reference_pain_nrs, reference_odi, exit_pain_nrs, exit_odi
      from bench_template_stage_episodes t ${copies}`.execute(store.db);
    await sql`insert into reassessments select ${copy}, ordinal, at, stage, pain_nrs, odi, pgic, daily_mme, responding, rule_id, record, note_enc
      from bench_template_reassessments t ${copies}`.execute(store.db);
    await sql`insert into procedures select ${copy}, ordinal, type, stage, performed_at, recorded_at, outcome, record, note_enc
      from bench_template_procedures t ${copies}`.execute(store.db);
  }
  // Copies made by SQL bypass the writer, so the summary's counts and the report's aggregates are derived again from the rows.
  await sql`delete from pathway_counts`.execute(store.db);
  await sql`insert into pathway_counts (care_team, stage, status, total, overdue, undelivered)
    select care_team, stage, status, count(*), count(*) filter (where overdue), count(*) filter (where undelivered)
    from pathways group by care_team, stage, status`.execute(store.db);
  await rebuildOutcomeAggregates(store.db);
  // As autovacuum would have by then: statistics and the visibility map (index-only scans).
  await sql`vacuum analyze`.execute(store.db);
}

async function main(): Promise<void> {
  const postgres = await startPostgresServer();
  const url = await createDatabase(postgres.url, 'bench_record');
  const store = await openRecordStore({ url });
  // Seeding and the report from the rows take longer than a request's statement timeout at a million.
  const seeder = await openRecordStore({ url, statementTimeoutMs: 0 });
  const cipher = new NoteCipher(randomBytes(32));
  const record = { store, cipher };
  const definitions = loadDefinitions();
  const app = createApp({
    // Reads never call Temporal: a connection that is never opened stands in for it.
    pathways: new PathwayService({ client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }), taskQueue: 'bench', definitions, patientKey: randomBytes(32).toString('hex'), record }),
    definitions,
    apiKeys: new ApiKeyStore([{ id: 'bench', role: 'viewer', sha256: hashKey(KEY) }]),
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
  const get = async (path: string) => {
    const res = await fetch(base + path, { headers: { authorization: `Bearer ${KEY}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json() as Promise<{ items: Array<{ pathwayId: string }>; nextPageToken: string | null }>;
  };
  const now = Date.now();
  const templates = 1000;
  const seedStart = performance.now();
  await seedTemplates(store, cipher, templates, now);
  const perWrite = (performance.now() - seedStart) / templates;
  console.log(`seeded ${templates} pathways through the record writer: ${perWrite.toFixed(2)} ms a pathway (each its whole history in one batch)`);

  const figures = new Map<string, Map<number, { p50: number; p95: number }>>();
  const measure = async (size: number, what: string, path: () => string) => {
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t = performance.now();
      await get(path());
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const row = figures.get(what) ?? new Map();
    row.set(size, { p50: percentile(times, 50), p95: percentile(times, 95) });
    figures.set(what, row);
  };
  const countAll = async (path: string): Promise<number> => {
    const seen = new Set<string>();
    let token: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof get>> = await get(`${path}${path.includes('?') ? '&' : '?'}pageSize=200${token ? `&pageToken=${token}` : ''}`);
      for (const item of page.items) seen.add(item.pathwayId);
      token = page.nextPageToken;
    } while (token);
    return seen.size;
  };

  for (const size of SIZES) {
    const t = performance.now();
    await grow(seeder, templates, size);
    const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
    console.log(`grew to ${size} pathways in ${((performance.now() - t) / 1000).toFixed(1)} s (load average ${load})`);
    const count = async (q: RawBuilder<unknown>) => Number((await sql<{ n: number }>`select count(*) as n from ${q}`.execute(store.db)).rows[0]!.n);
    const total = await count(sql`pathways`);
    const team = await count(sql`pathways where care_team = 'team-7'`);
    const episodes = await count(sql`stage_episodes`);
    console.log(`${size}: ${episodes} stage episodes; team-7 holds ${team} pathways`);
    // A page deep in the list, at nine tenths of its rows: its cursor comes from paging there once.
    let deep = '';
    for (let rows = 0, token: string | null = null; rows < size * 0.9; ) {
      const r: Awaited<ReturnType<typeof get>> = await get(`/v1/pathways?pageSize=200${token ? `&pageToken=${token}` : ''}`);
      rows += r.items.length;
      token = r.nextPageToken;
      deep = token ?? '';
    }
    await measure(size, 'list, first page of 200', () => '/v1/pathways?pageSize=200');
    await measure(size, 'list, page at 9/10 of rows', () => `/v1/pathways?pageSize=200&pageToken=${deep}`);
    await measure(size, "a care team's list", () => '/v1/pathways?careTeam=team-7&pageSize=50');
    await measure(size, 'summary (all teams)', () => '/v1/pathways/summary');
    await measure(size, "a care team's worklist", () => '/v1/worklist?careTeam=team-7');
    await measure(size, 'outcomes report (all)', () => '/v1/reports/outcomes');
    await measure(size, 'outcomes report (a team)', () => '/v1/reports/outcomes?careTeam=team-7');

    // The same report computed from the rows, as it was before the aggregates: its time, and the same figures.
    const direct: number[] = [];
    let fromRows: unknown;
    for (let i = 0; i < DIRECT_SAMPLES; i++) {
      const started = performance.now();
      fromRows = await outcomesFromRows(seeder.db, {});
      direct.push(performance.now() - started);
    }
    direct.sort((a, b) => a - b);
    const served = (await get('/v1/reports/outcomes')) as unknown as { stages: unknown; procedures: unknown };
    const same = JSON.stringify({ stages: served.stages, procedures: served.procedures }) === JSON.stringify({ stages: (fromRows as typeof served).stages, procedures: (fromRows as typeof served).procedures });
    console.log(`${size}: outcomes report from the rows (in process, ${DIRECT_SAMPLES} samples): p50 ${percentile(direct, 50).toFixed(1)} ms; the API's figures ${same ? 'are the same' : 'DIFFER'}`);

    // The aggregates' report in process, without HTTP and the API around it.
    const inProcess: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const started = performance.now();
      await outcomesFromAggregates(store.db, {});
      inProcess.push(performance.now() - started);
    }
    inProcess.sort((a, b) => a - b);
    console.log(`${size}: outcomes report from the aggregates (in process): p50 ${percentile(inProcess, 50).toFixed(1)} ms, p95 ${percentile(inProcess, 95).toFixed(1)} ms`);

    // The worklist's first page as the record store asks it (record/read.ts): priorities 0-3, then
    // the active pathways due within the week, each a range of the index pathways_worklist.
    const soon = new Date(now + 7 * DAY_MS);
    for (const part of [sql`< 4`, sql`= 4 and (${sql.raw(WORKLIST_DUE)}) <= ${soon}`]) {
      const plan = await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off, timing off, summary on)
        select enrolment_id from pathways where care_team = 'team-7' and (${sql.raw(WORKLIST_RANK)}) ${part}
        order by (${sql.raw(WORKLIST_RANK)}), (${sql.raw(WORKLIST_DUE)}), enrolment_id limit 201`.execute(store.db);
      console.log(`${size}: the worklist's first page, planned:\n  ${plan.rows.map((r) => r['QUERY PLAN'].replace(/CASE WHEN .*? END/g, '(priority)')).join('\n  ')}`);
    }

    if (size <= PAGE_THROUGH_UP_TO) {
      const listed = await countAll('/v1/pathways');
      const listedTeam = await countAll('/v1/pathways?careTeam=team-7');
      console.log(`${size}: listed ${listed} of ${total} pathways, ${listedTeam} of ${team} in team-7: ${listed === total && listedTeam === team ? 'none missing' : 'SOME MISSING'}`);
    }
  }

  const [small, large] = [SIZES[0]!, SIZES[SIZES.length - 1]!];
  const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
  console.log(`\nwhat | ${SIZES.map((n) => `${k(n)} p50 ms | ${k(n)} p95 ms`).join(' | ')} | growth p95 (${k(large)} / ${k(small)})`);
  for (const [what, bySize] of figures) {
    const cells = SIZES.map((n) => `${bySize.get(n)!.p50.toFixed(1).padStart(8)} | ${bySize.get(n)!.p95.toFixed(1).padStart(8)}`);
    console.log(`${what.padEnd(26)} | ${cells.join(' | ')} | ${(bySize.get(large)!.p95 / bySize.get(small)!.p95).toFixed(2)}`);
  }
  server.close();
  await seeder.close();
  await store.close();
  await postgres.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
