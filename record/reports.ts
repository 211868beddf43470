/**
 * Cohort outcomes for a clinical lead's review: per stage, how many entered, responded,
 * escalated, completed, were withdrawn or referred urgently; the median time in stage and the
 * median change in pain and ODI from the stage's reference to its exit; and per procedure type,
 * how often the reassessment after it found a response. Computed by PostgreSQL from the stage
 * episodes, so closed pathways count for as long as their records are kept.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Stage } from '../clinical/definition';
import { STAGES } from '../clinical/vocabulary';
import { AGGREGATES, FAN_OUT, FEW, finestIn, LEVELS, PROCEDURES_WITH_NEXT_REASSESSMENT, type Measure } from './outcome-aggregates';
import type { RecordDb } from './store';

export interface OutcomeFilters {
  careTeam?: string;
  /** A scoped caller sees only these teams. */
  careTeams?: readonly string[];
  definitionId?: string;
  definitionVersion?: number;
  /** Episodes entered (procedures performed) from this time, inclusive. */
  from?: string;
  /** ... up to this time, exclusive. */
  to?: string;
}

export interface StageOutcome {
  stage: Stage;
  entered: number;
  responded: number;
  escalated: number;
  completed: number;
  withdrawn: number;
  closed: number;
  urgentReferral: number;
  stillInStage: number;
  /** Median days from entering the stage to leaving it (stages left only). */
  medianDaysInStage: number | null;
  /** Median pain relief at exit, in percent of the stage's reference pain (references above 0 only). */
  medianPainReliefPercent: number | null;
  /** Median ODI improvement at exit, in points (reference minus exit; positive is better). */
  medianOdiChange: number | null;
}

export interface ProcedureOutcome {
  type: string;
  performed: number;
  /** Followed by a reassessment in the same stage. */
  reassessed: number;
  responded: number;
  /** responded / reassessed, or null before any reassessment. */
  responseRate: number | null;
}

export interface OutcomesReport {
  filters: OutcomeFilters;
  stages: StageOutcome[];
  procedures: ProcedureOutcome[];
}

/** The filters on a pathway's scope, on the pathways (`pw`) or on an aggregate's own columns. */
function pathwayConditions(f: OutcomeFilters, on: 'pw' | 'aggregate' = 'pw'): RawBuilder<boolean> {
  const col = (c: string) => (on === 'pw' ? sql.ref(`pw.${c}`) : sql.ref(c));
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (f.careTeams) parts.push(f.careTeams.length ? sql`${col('care_team')} in (${sql.join([...f.careTeams])})` : sql`false`);
  if (f.careTeam) parts.push(sql`${col('care_team')} = ${f.careTeam}`);
  if (f.definitionId) parts.push(sql`${col('definition_id')} = ${f.definitionId}`);
  if (f.definitionVersion !== undefined) parts.push(sql`${col('definition_version')} = ${f.definitionVersion}`);
  return sql<boolean>`${sql.join(parts, sql` and `)}`;
}

function between(column: RawBuilder<unknown>, f: OutcomeFilters): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (f.from) parts.push(sql`${column} >= ${new Date(f.from)}`);
  if (f.to) parts.push(sql`${column} < ${new Date(f.to)}`);
  return sql<boolean>`${sql.join(parts, sql` and `)}`;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

/**
 * The report from the aggregates kept as the rows change (record/outcome-aggregates.ts); a date
 * range is not kept there, so a report bounded by dates is computed from its rows.
 */
export async function outcomesReport(db: RecordDb, f: OutcomeFilters): Promise<OutcomesReport> {
  return f.from || f.to ? outcomesFromRows(db, f) : outcomesFromAggregates(db, f);
}

/** The report computed directly from the stage episodes and procedures, by PostgreSQL. */
export async function outcomesFromRows(db: RecordDb, f: OutcomeFilters): Promise<OutcomesReport> {
  const stageRows = await sql<Record<string, unknown>>`
    select e.stage,
      count(*) as entered,
      count(*) filter (where e.responded) as responded,
      count(*) filter (where e.exit = 'escalated') as escalated,
      count(*) filter (where e.exit = 'completed') as completed,
      count(*) filter (where e.exit = 'withdrawn') as withdrawn,
      count(*) filter (where e.exit = 'closed') as closed,
      count(*) filter (where e.urgent_referral) as urgent_referral,
      count(*) filter (where e.exited_at is null) as still_in_stage,
      percentile_cont(0.5) within group (order by extract(epoch from (e.exited_at - e.entered_at)) / 86400)
        filter (where e.exited_at is not null) as median_days,
      percentile_cont(0.5) within group (order by (e.reference_pain_nrs - e.exit_pain_nrs) / e.reference_pain_nrs * 100)
        filter (where e.exit_pain_nrs is not null and e.reference_pain_nrs > 0) as median_relief,
      percentile_cont(0.5) within group (order by e.reference_odi - e.exit_odi)
        filter (where e.exit_odi is not null and e.reference_odi is not null) as median_odi
    from stage_episodes e join pathways pw on pw.enrolment_id = e.enrolment_id
    where ${pathwayConditions(f)} and ${between(sql`e.entered_at`, f)}
    group by e.stage`.execute(db);

  const procedureRows = await sql<{ type: string; performed: unknown; reassessed: unknown; responded: unknown }>`
    select p.type,
      count(*) as performed,
      count(next.ordinal) as reassessed,
      count(*) filter (where next.responding) as responded
    ${PROCEDURES_WITH_NEXT_REASSESSMENT}
    where p.type <> 'psychological-evaluation' and ${pathwayConditions(f)} and ${between(sql`p.performed_at`, f)}
    group by p.type
    order by p.type`.execute(db);
  return toReport(f, stageRows.rows, procedureRows.rows);
}

/**
 * The report from the aggregates: the same figures as outcomesFromRows, read from a few hundred
 * rows. `few`: a bucket of at most this many values is read value by value (0 walks every level).
 */
export async function outcomesFromAggregates(db: RecordDb, f: OutcomeFilters, few: number = FEW): Promise<OutcomesReport> {
  const where = pathwayConditions(f, 'aggregate');
  const counted = AGGREGATES.stages.counts;
  const [stageRows, procedureRows, bucketRows] = await Promise.all([
    sql<Record<string, unknown>>`select stage, ${sql.join(counted.map((c) => sql`sum(${sql.ref(c)}) as ${sql.ref(c)}`))}
      from outcome_stage_counts where ${where} group by stage`.execute(db),
    sql<{ type: string; performed: unknown; reassessed: unknown; responded: unknown }>`
      select type, sum(performed) as performed, sum(reassessed) as reassessed, sum(responded) as responded
      from outcome_procedure_counts where ${where} group by type having sum(performed) > 0 order by type`.execute(db),
    sql<{ measure: Measure; stage: string; bucket: number; n: unknown }>`
      select measure, stage, bucket, sum(n) as n from outcome_measure_buckets where level = ${LEVELS[0]} and ${where}
      group by measure, stage, bucket having sum(n) > 0 order by measure, stage, bucket`.execute(db),
  ]);
  // percentile_cont(0.5) over n values: the values at ranks floor and ceil of (n - 1) / 2, found by
  // walking down from the widest buckets to the one that holds each rank, then its values.
  const medians = new Map<string, { ranks: [number, number]; at: number; found: Array<number | undefined> }>();
  type Wanted = { median: string; i: number; measure: string; stage: string; level: number; bucket: number; n: number; offset: number };
  let walking: Wanted[] = [];
  for (const [median, buckets] of grouped(bucketRows.rows, (r) => `${r.measure} ${r.stage}`)) {
    const total = buckets.reduce((n, b) => n + Number(b.n), 0);
    const at = 0.5 * (total - 1);
    const m = { ranks: [Math.floor(at), Math.ceil(at)] as [number, number], at, found: [undefined, undefined] as Array<number | undefined> };
    medians.set(median, m);
    m.ranks.forEach((rank, i) => {
      const { row, offset } = locate(buckets, rank);
      walking.push({ median, i, measure: row.measure, stage: row.stage, level: LEVELS[0], bucket: Number(row.bucket), n: Number(row.n), offset });
    });
  }
  const range = (w: Wanted, width: number) => [w.bucket * width, (w.bucket + 1) * width] as const;
  const within = (ws: Wanted[], width: (w: Wanted) => number) =>
    sql.join(
      [...new Map(ws.map((w) => [`${w.measure} ${w.stage} ${w.level} ${w.bucket}`, w])).values()].map((w) => {
        const [from, to] = range(w, width(w));
        return sql`(measure = ${w.measure} and stage = ${w.stage} and bucket >= ${from}::double precision and bucket < ${to}::double precision)`;
      }),
      sql` or `,
    );
  while (walking.length) {
    const finest = LEVELS[LEVELS.length - 1]!;
    // A bucket that holds few values, or is of the finest level, is read value by value.
    const [read, down] = [walking.filter((w) => w.n <= few || w.level === finest), walking.filter((w) => !(w.n <= few || w.level === finest))];
    const [values, next] = await Promise.all([
      read.length
        ? sql<{ measure: Measure; stage: string; bucket: number; value: number; n: unknown }>`
            select measure, stage, bucket, value, sum(n) as n from outcome_measure_values
            where (${within(read, (w) => finestIn(w.level))}) and ${where}
            group by measure, stage, bucket, value having sum(n) > 0 order by measure, stage, value`.execute(db)
        : undefined,
      down.length
        ? sql<{ measure: Measure; stage: string; bucket: number; n: unknown }>`
            select measure, stage, level, bucket, sum(n) as n from outcome_measure_buckets
            where level = ${down[0]!.level + 1} and (${within(down, () => FAN_OUT)}) and ${where}
            group by measure, stage, level, bucket having sum(n) > 0 order by measure, stage, bucket`.execute(db)
        : undefined,
    ]);
    for (const w of read) {
      const [from, to] = range(w, finestIn(w.level));
      const inBucket = values!.rows.filter((v) => v.measure === w.measure && v.stage === w.stage && Number(v.bucket) >= from && Number(v.bucket) < to);
      medians.get(w.median)!.found[w.i] = Number(locate(inBucket, w.offset).row.value);
    }
    walking = down.map((w) => {
      const [from, to] = range(w, FAN_OUT);
      const { row, offset } = locate(next!.rows.filter((b) => b.measure === w.measure && b.stage === w.stage && Number(b.bucket) >= from && Number(b.bucket) < to), w.offset);
      return { ...w, level: w.level + 1, bucket: Number(row.bucket), n: Number(row.n), offset };
    });
  }
  const medianOf = (measure: Measure, stage: string): number | null => {
    const m = medians.get(`${measure} ${stage}`);
    if (!m || m.found[0] === undefined || m.found[1] === undefined) return null;
    const [lo, hi] = m.found as [number, number];
    // As PostgreSQL interpolates (float8_lerp): lo + (hi - lo) * proportion.
    return m.ranks[1] > m.ranks[0] ? lo + (hi - lo) * (m.at - m.ranks[0]) : lo;
  };
  const stages = stageRows.rows.map((r) => ({
    ...r,
    median_days: medianOf('days', r.stage as string),
    median_relief: medianOf('relief', r.stage as string),
    median_odi: medianOf('odi', r.stage as string),
  }));
  return toReport(f, stages, procedureRows.rows);
}

/** Rows in groups, each group in the rows' order. */
function grouped<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const group = out.get(key(r));
    if (group) group.push(r);
    else out.set(key(r), [r]);
  }
  return out;
}

/** The row (of rows in order, each counting n) that holds the rank, and the rank within it. */
function locate<T extends { n: unknown }>(rows: T[], rank: number): { row: T; offset: number } {
  let below = 0;
  for (const row of rows) {
    if (rank < below + Number(row.n)) return { row, offset: rank - below };
    below += Number(row.n);
  }
  throw new Error('the outcomes aggregates disagree with themselves: run verify-record --repair');
}

function toReport(
  f: OutcomeFilters,
  stageRows: Array<Record<string, unknown>>,
  procedureRows: Array<{ type: string; performed: unknown; reassessed: unknown; responded: unknown }>,
): OutcomesReport {
  const byStage = new Map(stageRows.map((r) => [r.stage as string, r]));
  const stages = STAGES.map((stage): StageOutcome => {
    const r = byStage.get(stage) ?? {};
    const n = (k: string) => Number(r[k] ?? 0);
    return {
      stage,
      entered: n('entered'),
      responded: n('responded'),
      escalated: n('escalated'),
      completed: n('completed'),
      withdrawn: n('withdrawn'),
      closed: n('closed'),
      urgentReferral: n('urgent_referral'),
      stillInStage: n('still_in_stage'),
      medianDaysInStage: num(r.median_days),
      medianPainReliefPercent: num(r.median_relief),
      medianOdiChange: num(r.median_odi),
    };
  });

  const procedures = procedureRows.map((r): ProcedureOutcome => {
    const reassessed = Number(r.reassessed);
    const responded = Number(r.responded);
    return {
      type: r.type,
      performed: Number(r.performed),
      reassessed,
      responded,
      responseRate: reassessed ? Math.round((responded / reassessed) * 1000) / 1000 : null,
    };
  });
  return { filters: f, stages, procedures };
}
