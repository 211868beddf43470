/**
 * What-if throughput: a candidate version (the conservative response threshold raised from 30%
 * to 50%) tried on 1,000 and on 10,000 recorded pathways of a real PostgreSQL record store, as
 * POST /v1/definitions/{id}/{version}/simulate runs it (read, replay, keep the result). Prints
 * the time, the cost per pathway and its ratio between the two sizes (flat is the goal), the
 * reading alone, and a check that the pathways' own version reproduces every decision.
 *
 * Seeding: 2,000 seeded pathways of every kind (test/harness/recorded-pathways.ts) driven
 * through the pure model and written as their workflows write them; the rest are copies made
 * by SQL under new ids.
 *
 *   npm run bench:simulate            (BENCH_SIMULATE_SIZES=1000,10000 by default)
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { loadDefinitions } from '../clinical/registry';
import { cohortEnrolments, readHistories } from '../record/histories';
import { NoteCipher } from '../record/note-cipher';
import { runSimulation } from '../record/simulations';
import { openRecordStore, type RecordStore } from '../record/store';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { randomPathway } from '../test/harness/recorded-pathways';

const DISTINCT = 2_000;
const SIZES = (process.env.BENCH_SIMULATE_SIZES ?? '1000,10000').split(',').map(Number);
const T0 = Date.UTC(2025, 0, 6, 9);

async function seed(store: RecordStore, total: number): Promise<string[]> {
  const v2 = loadDefinitions().get('psps-lumbar', 2)!;
  const cipher = new NoteCipher(randomBytes(32));
  const distinct = Math.min(DISTINCT, total);
  const started = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < distinct; i++) {
    const p = randomPathway(i, v2, T0 + i * 3_600_000);
    await p.write(store.db, cipher);
    ids.push(p.state.pathwayId);
  }
  console.log(`seeded ${distinct} distinct pathways in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (let c = 1; distinct * c < total; c++) {
    const suffix = `-copy-${c}`;
    await sql`insert into pathways select enrolment_id || ${suffix}, pathway_id || ${suffix}, care_team, definition_id, definition_version, stage, status, next_due_at, next_due_kind, overdue, undelivered, pause_kind, pending_workup, enrolled_at, stage_entered_at, closed_at, baseline_pain_nrs, baseline_odi, latest_pain_nrs, latest_odi, latest_at, version, snapshot, last_entry_at, recorded_at
      from pathways where enrolment_id not like '%-copy-%'`.execute(store.db);
    await sql`insert into timeline_entries select enrolment_id || ${suffix}, seq, at, event, rule_id, entry, reason_enc from timeline_entries where enrolment_id not like '%-copy-%'`.execute(store.db);
    await sql`insert into reassessments select enrolment_id || ${suffix}, ordinal, at, stage, pain_nrs, odi, pgic, daily_mme, responding, rule_id, record, note_enc from reassessments where enrolment_id not like '%-copy-%'`.execute(store.db);
    await sql`insert into procedures select enrolment_id || ${suffix}, ordinal, type, stage, performed_at, recorded_at, outcome, record, note_enc from procedures where enrolment_id not like '%-copy-%'`.execute(store.db);
  }
  await sql`analyze`.execute(store.db);
  return ids;
}

async function main(): Promise<void> {
  const postgres = await startPostgresServer();
  const store = await openRecordStore({ url: await createDatabase(postgres.url, 'bench_simulate') });
  try {
    const largest = Math.max(...SIZES);
    const distinctIds = await seed(store, largest);
    const v2 = loadDefinitions().get('psps-lumbar', 2)!;
    const candidate = structuredClone(v2);
    candidate.version = 3;
    candidate.stages.conservative.response.painReductionPercent = 50;
    const cohortOf = (size: number) => (size >= largest ? { definitionId: 'psps-lumbar' } : { definitionId: 'psps-lumbar', pathwayIds: distinctIds.slice(0, size) });

    // Warm-up, and the simulator's first duty: the pathways' own version reproduces every decision.
    const own = await runSimulation(store.db, v2, cohortOf(Math.min(1000, largest)), 'bench', { keep: false });
    console.log(`own version (v2) over ${own.summary.pathways} pathways: ${own.summary.differing} differ (must be 0)`);

    const rows: string[] = [];
    let first: number | undefined;
    for (const size of SIZES) {
      const cohort = cohortOf(size);
      const readStarted = performance.now();
      const { enrolmentIds } = await cohortEnrolments(store.db, cohort);
      let entries = 0;
      await readHistories(store.db, enrolmentIds, (h) => void (entries += h.timeline.length));
      const readMs = performance.now() - readStarted;
      const cpu = process.cpuUsage();
      const started = performance.now();
      const simulation = await runSimulation(store.db, candidate, cohort, 'bench');
      const ms = performance.now() - started;
      const cpuMs = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1000;
      const perPathway = ms / simulation.summary.pathways;
      first ??= perPathway;
      const s = simulation.summary;
      rows.push(
        `| ${s.pathways.toLocaleString('en')} | ${(ms / 1000).toFixed(1)} | ${Math.round(s.pathways / (ms / 1000))} | ${perPathway.toFixed(2)} | ${(perPathway / first).toFixed(2)} | ${(cpuMs / s.pathways).toFixed(2)} | ${(readMs / 1000).toFixed(1)} | ${(entries / s.pathways).toFixed(1)} | ${s.differing} |`,
      );
      console.log(
        `candidate over ${s.pathways}: escalations ${s.recorded.escalations} -> ${s.candidate.escalations}, SCS trials ${s.recorded.scsTrials} -> ${s.candidate.scsTrials}, revision referrals ${s.recorded.revisionReferrals} -> ${s.candidate.revisionReferrals}, completed ${s.recorded.completed} -> ${s.candidate.completed}, procedures a month ${s.recorded.proceduresPerMonth} -> ${s.candidate.proceduresPerMonth}`,
      );
    }
    console.log('\n| pathways | simulate s (read, replay, keep) | pathways per s | ms per pathway | per pathway vs first size | main-thread CPU ms per pathway | reading alone s | timeline entries per pathway | differing |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(`\nload average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await store.close();
    await postgres.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
