/**
 * Dashboards on the record store at 10,000 and 100,000 pathways, through the real API over
 * HTTP, on a real PostgreSQL server: p50 and p95 of the list (first page, and the page at nine
 * tenths of its rows), a care team's list, the summary, a care team's worklist and the outcomes report,
 * and their growth from 10k to 100k. Then it pages through every list to the end and checks
 * that no pathway is missing.
 *
 * Seeding: 1,000 pathways are driven through the pure model (every stage and status) and
 * written as their workflows would write them; the rest are copies made by SQL with new ids,
 * care teams and due dates, which is how 100,000 are reached in seconds.
 *
 *   npm run bench:record
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
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
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { silentLogger } from '../observability/log';
import { percentile } from './stats';

const KEY = 'bench-viewer-key-00001';
const TEAMS = 20;
const CLINICIAN: Actor = { id: 'bench', role: 'clinician' };
const SAMPLES = 60;

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

/** Copies the templates until there are `total` pathways: new ids, teams and due dates. */
async function grow(store: RecordStore, templates: number, total: number): Promise<void> {
  const have = Number((await sql<{ n: number }>`select count(*) as n from pathways`.execute(store.db)).rows[0]!.n);
  const copies = Math.ceil((total - have) / templates);
  const from = Math.ceil(have / templates);
  for (let c = from; c < from + copies; c++) {
    const suffix = `-c${c}`;
    await sql`insert into pathways
      select enrolment_id || ${suffix}, 'pw-' || md5(enrolment_id || ${suffix}), 'team-' || (abs(hashtext(enrolment_id || ${suffix})) % ${TEAMS}),
        definition_id, definition_version, stage, status,
        next_due_at + (abs(hashtext(${suffix} || enrolment_id)) % 86400) * interval '1 minute', next_due_kind, overdue, undelivered, pause_kind, pending_workup,
        enrolled_at, stage_entered_at, closed_at, baseline_pain_nrs, baseline_odi, latest_pain_nrs, latest_odi, latest_at, version, snapshot, last_entry_at, recorded_at
      from pathways where enrolment_id like 'template-%' and enrolment_id not like '%-c%'
      limit ${Math.min(templates, total - have - (c - from) * templates)}`.execute(store.db);
    await sql`insert into stage_episodes select enrolment_id || ${suffix}, entered_seq, stage, entered_at, exited_at, exit, to_stage, responded, urgent_referral, reference_pain_nrs, reference_odi, exit_pain_nrs, exit_odi
      from stage_episodes e where enrolment_id like 'template-%' and enrolment_id not like '%-c%' and exists (select 1 from pathways p where p.enrolment_id = e.enrolment_id || ${suffix})`.execute(store.db);
    await sql`insert into reassessments select enrolment_id || ${suffix}, ordinal, at, stage, pain_nrs, odi, pgic, daily_mme, responding, rule_id, record, note_enc
      from reassessments r where enrolment_id like 'template-%' and enrolment_id not like '%-c%' and exists (select 1 from pathways p where p.enrolment_id = r.enrolment_id || ${suffix})`.execute(store.db);
    await sql`insert into procedures select enrolment_id || ${suffix}, ordinal, type, stage, performed_at, recorded_at, outcome, record, note_enc
      from procedures r where enrolment_id like 'template-%' and enrolment_id not like '%-c%' and exists (select 1 from pathways p where p.enrolment_id = r.enrolment_id || ${suffix})`.execute(store.db);
  }
  // Copies made by SQL bypass the writer, so the summary's counts are derived again from the rows.
  await sql`delete from pathway_counts`.execute(store.db);
  await sql`insert into pathway_counts (care_team, stage, status, total, overdue, undelivered)
    select care_team, stage, status, count(*), count(*) filter (where overdue), count(*) filter (where undelivered)
    from pathways group by care_team, stage, status`.execute(store.db);
  await sql`analyze`.execute(store.db);
}

async function main(): Promise<void> {
  const postgres = await startPostgresServer();
  const store = await openRecordStore({ url: await createDatabase(postgres.url, 'bench_record') });
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

  for (const size of [10_000, 100_000]) {
    const t = performance.now();
    await grow(store, templates, size);
    console.log(`grew to ${size} pathways in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const total = Number((await sql<{ n: number }>`select count(*) as n from pathways`.execute(store.db)).rows[0]!.n);
    const team = Number((await sql<{ n: number }>`select count(*) as n from pathways where care_team = 'team-7'`.execute(store.db)).rows[0]!.n);
    // A page deep in the list, at nine tenths of its rows (row 9,000 of 10,000; 90,000 of 100,000):
    // its cursor comes from paging there once.
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
    await measure(size, "outcomes report (a team)", () => '/v1/reports/outcomes?careTeam=team-7');
    const listed = await countAll('/v1/pathways');
    const listedTeam = await countAll('/v1/pathways?careTeam=team-7');
    console.log(`${size}: listed ${listed} of ${total} pathways, ${listedTeam} of ${team} in team-7: ${listed === total && listedTeam === team ? 'none missing' : 'SOME MISSING'}`);
  }

  console.log('\nwhat | 10k p50 ms | 10k p95 ms | 100k p50 ms | 100k p95 ms | growth p95 (100k / 10k)');
  for (const [what, bySize] of figures) {
    const a = bySize.get(10_000)!;
    const b = bySize.get(100_000)!;
    console.log(`${what.padEnd(26)} | ${a.p50.toFixed(1).padStart(10)} | ${a.p95.toFixed(1).padStart(10)} | ${b.p50.toFixed(1).padStart(11)} | ${b.p95.toFixed(1).padStart(11)} | ${(b.p95 / a.p95).toFixed(2)}`);
  }
  server.close();
  await store.close();
  await postgres.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
