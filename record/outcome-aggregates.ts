/**
 * The outcomes report's figures, kept as the rows change (migration 0010), so the report reads a
 * few hundred rows however many stage episodes there are. Per care team, definition and version:
 * - `outcome_stage_counts`: per stage, the episodes entered, responded, escalated, ... still in it;
 * - `outcome_procedure_counts`: per procedure type, performed, reassessed after and responded;
 * - `outcome_measure_buckets` and `outcome_measure_values`: for each median (days in stage, pain
 *   relief, ODI change) how many episodes have each value, and how many fall in each bucket of the
 *   value at a few levels of width (LEVELS). A median is found by walking down from the widest
 *   buckets to the one that holds the middle, then its values: exactly what `percentile_cont(0.5)`
 *   gives over the rows.
 *
 * Each figure of an episode or a procedure is computed by one SQL expression (below), for a rebuild
 * from every row and for one enrolment's write alike. A writer takes an enrolment's figures before
 * it changes the enrolment's rows and again after, and adds the difference; so a retry's rows that
 * replace a failed attempt's move the aggregates back exactly. The aggregates' rows are updated in
 * one order: the tables in AGGREGATES' order (after `pathway_counts`), each table's rows in the
 * order of their keys, as `pathway_counts` is (record/write.ts), so writers never lock them crosswise.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { RecordDatabase } from './schema';

type Db = Kysely<RecordDatabase> | Transaction<RecordDatabase>;

const SCOPE = ['care_team', 'definition_id', 'definition_version'] as const;

interface Aggregate {
  table: string;
  keys: readonly string[];
  counts: readonly string[];
}

/** In the order every writer updates them. */
export const AGGREGATES = {
  stages: {
    table: 'outcome_stage_counts',
    keys: [...SCOPE, 'stage'],
    counts: ['entered', 'responded', 'escalated', 'completed', 'withdrawn', 'closed', 'urgent_referral', 'still_in_stage'],
  },
  procedures: { table: 'outcome_procedure_counts', keys: [...SCOPE, 'type'], counts: ['performed', 'reassessed', 'responded'] },
  buckets: { table: 'outcome_measure_buckets', keys: ['level', 'measure', 'stage', 'bucket', ...SCOPE], counts: ['n'] },
  values: { table: 'outcome_measure_values', keys: ['measure', 'stage', 'bucket', 'value', ...SCOPE], counts: ['n'] },
} as const satisfies Record<string, Aggregate>;

const ORDER: readonly Aggregate[] = [AGGREGATES.stages, AGGREGATES.procedures, AGGREGATES.buckets, AGGREGATES.values];

/** The medians the report gives, each one value of an episode that has left its stage. */
export const MEASURES = {
  days: sql`case when e.exited_at is not null then (extract(epoch from (e.exited_at - e.entered_at)) / 86400)::double precision end`,
  relief: sql`case when e.exit_pain_nrs is not null and e.reference_pain_nrs > 0
    then ((e.reference_pain_nrs - e.exit_pain_nrs) / e.reference_pain_nrs * 100)::double precision end`,
  odi: sql`case when e.exit_odi is not null and e.reference_odi is not null then (e.reference_odi - e.exit_odi)::double precision end`,
} as const;
export type Measure = keyof typeof MEASURES;

const flag = (condition: RawBuilder<unknown>) => sql`case when ${condition} then 1 else 0 end`;

/** One row an episode: its scope, stage, what it counts for and its measures. */
function episodeFigures(where: RawBuilder<unknown>) {
  return sql`select pw.care_team, pw.definition_id, pw.definition_version, e.stage,
      1 as entered,
      ${flag(sql`e.responded`)} as responded,
      ${flag(sql`e.exit = 'escalated'`)} as escalated,
      ${flag(sql`e.exit = 'completed'`)} as completed,
      ${flag(sql`e.exit = 'withdrawn'`)} as withdrawn,
      ${flag(sql`e.exit = 'closed'`)} as closed,
      ${flag(sql`e.urgent_referral`)} as urgent_referral,
      ${flag(sql`e.exited_at is null`)} as still_in_stage,
      ${MEASURES.days} as days, ${MEASURES.relief} as relief, ${MEASURES.odi} as odi
    from stage_episodes e join pathways pw on pw.enrolment_id = e.enrolment_id
    where ${where}`;
}

/** One row a procedure (psychological evaluations aside): its scope, type, and the reassessment after it. */
function procedureFigures(where: RawBuilder<unknown>) {
  return sql`select pw.care_team, pw.definition_id, pw.definition_version, p.type,
      1 as performed,
      ${flag(sql`next.ordinal is not null`)} as reassessed,
      ${flag(sql`next.responding`)} as responded
    ${PROCEDURES_WITH_NEXT_REASSESSMENT}
    where p.type <> 'psychological-evaluation' and ${where}`;
}

/**
 * Procedures (p) with their pathway (pw) and the first reassessment in the same stage after them
 * (next), which says whether the procedure was followed up and helped: one rule for the report's
 * aggregates and for the report computed from the rows.
 */
export const PROCEDURES_WITH_NEXT_REASSESSMENT = sql`from procedures p
    join pathways pw on pw.enrolment_id = p.enrolment_id
    left join lateral (
      select r.ordinal, r.responding from reassessments r
      where r.enrolment_id = p.enrolment_id and r.stage = p.stage and r.at >= p.performed_at
      order by r.at, r.ordinal limit 1
    ) next on true`;

/**
 * How a median's values are counted: in buckets of 64^-level units (a day, a percent, an ODI point)
 * at each of LEVELS, each bucket the sum of 64 buckets of the next level. The finest bucket of a
 * value is floor(value * 64^2); a coarser one is that divided by a power of 64 (exact in binary),
 * floored, so they nest exactly. A median's walk reads at most 64 buckets a scope at each level,
 * and a bucket's values once it holds few, however many episodes there are.
 */
export const FAN_OUT = 64;
export const LEVELS = [-1, 0, 1, 2] as const;
/** A bucket of at most this many values is read value by value, without going down a level. */
export const FEW = 1024;
const FINEST = 2;
/** The width of a level's bucket in finest buckets. */
export const finestIn = (level: number) => FAN_OUT ** (FINEST - level);

/** One row an episode and measure it has a value for, with its finest bucket. */
function measureFigures(where: RawBuilder<unknown>) {
  const one = (m: Measure) =>
    sql`select ${m}::text as measure, f.stage, floor(f.${sql.ref(m)} * ${sql.lit(FAN_OUT ** FINEST)}) as fine, f.${sql.ref(m)} as value, f.care_team, f.definition_id, f.definition_version
      from (${episodeFigures(where)}) f where f.${sql.ref(m)} is not null`;
  return sql.join((Object.keys(MEASURES) as Measure[]).map(one), sql` union all `);
}

const cols = (names: readonly string[]) => sql.join(names.map((c) => sql.ref(c)));
const sums = (names: readonly string[]) => sql.join(names.map((c) => sql`sum(${sql.ref(c)})::integer as ${sql.ref(c)}`));

/** Each aggregate's rows as the rows in `where` make them (a set-based group by). */
function derived(where: RawBuilder<unknown>): Array<[Aggregate, RawBuilder<unknown>]> {
  const measures = measureFigures(where);
  return [
    [AGGREGATES.stages, sql`select ${cols(AGGREGATES.stages.keys)}, ${sums(AGGREGATES.stages.counts)} from (${episodeFigures(where)}) f group by ${cols(AGGREGATES.stages.keys)}`],
    [AGGREGATES.procedures, sql`select ${cols(AGGREGATES.procedures.keys)}, ${sums(AGGREGATES.procedures.counts)} from (${procedureFigures(where)}) f group by ${cols(AGGREGATES.procedures.keys)}`],
    [
      AGGREGATES.buckets,
      sql`select ${cols(AGGREGATES.buckets.keys)}, count(*)::integer as n from (
          select l.level, m.measure, m.stage, floor(m.fine / l.width) as bucket, ${cols(SCOPE)}
          from (${measures}) m cross join (values ${sql.join(LEVELS.map((l) => sql`(${sql.lit(l)}, ${sql.lit(finestIn(l))}::double precision)`))}) l (level, width)) f
        group by ${cols(AGGREGATES.buckets.keys)}`,
    ],
    [AGGREGATES.values, sql`select measure, stage, fine as bucket, value, ${cols(SCOPE)}, count(*)::integer as n from (${measures}) f group by measure, stage, fine, value, ${cols(SCOPE)}`],
  ];
}

/** An aggregate's rows: key (as JSON, which orders them) to the key's values and the counts. */
type Rows = Map<string, { key: unknown[]; counts: number[] }>;
/** What a set of rows adds to each aggregate, in ORDER. */
export type Figures = Rows[];

/**
 * What the enrolments' rows add to the aggregates now (read inside the writer's transaction): each
 * episode's and procedure's figures by the same SQL as a rebuild, counted here. A value's buckets
 * are computed as the rebuild's SQL computes them: a multiplication and divisions by powers of two,
 * exact in both, then floored.
 */
export async function figuresOf(db: Db, enrolmentIds: readonly string[]): Promise<Figures> {
  const out: Figures = ORDER.map(() => new Map());
  if (!enrolmentIds.length) return out;
  const where = sql`pw.enrolment_id in (${sql.join([...enrolmentIds])})`;
  const add = (i: number, key: unknown[], counts: number[]) => {
    const k = JSON.stringify(key);
    const row = out[i]!.get(k) ?? { key, counts: counts.map(() => 0) };
    counts.forEach((n, j) => (row.counts[j]! += n));
    out[i]!.set(k, row);
  };
  // One round trip: both kinds of rows as JSON (a double precision value goes through it exactly).
  const rows = await sql<{ kind: string; r: Record<string, unknown> }>`select 'episode' as kind, to_jsonb(e) as r from (${episodeFigures(where)}) e
    union all select 'procedure', to_jsonb(p) from (${procedureFigures(where)}) p`.execute(db);
  for (const e of rows.rows.filter((row) => row.kind === 'episode').map((row) => row.r)) {
    const scope = [e.care_team, e.definition_id, Number(e.definition_version)];
    add(0, [...scope, e.stage], AGGREGATES.stages.counts.map((c) => Number(e[c])));
    for (const m of Object.keys(MEASURES) as Measure[]) {
      if (e[m] === null || e[m] === undefined) continue;
      const value = Number(e[m]);
      const fine = Math.floor(value * FAN_OUT ** FINEST);
      for (const level of LEVELS) add(2, [level, m, e.stage, Math.floor(fine / finestIn(level)), ...scope], [1]);
      add(3, [m, e.stage, fine, value, ...scope], [1]);
    }
  }
  for (const p of rows.rows.filter((row) => row.kind === 'procedure').map((row) => row.r)) {
    add(1, [p.care_team, p.definition_id, Number(p.definition_version), p.type], AGGREGATES.procedures.counts.map((c) => Number(p[c])));
  }
  return out;
}

/**
 * Adds `after` minus `before` to the aggregates: the tables in ORDER, each table's rows in the
 * order of their keys, one statement a table (its rows are locked in the order of its values).
 */
export async function addDifference(trx: Transaction<RecordDatabase>, before: Figures, after: Figures): Promise<void> {
  for (const [i, a] of ORDER.entries()) {
    const deltas: Rows = new Map();
    const add = (rows: Rows, sign: 1 | -1) => {
      for (const [k, { key, counts }] of rows) {
        const d = deltas.get(k) ?? { key, counts: a.counts.map(() => 0) };
        counts.forEach((n, j) => (d.counts[j]! += sign * n));
        deltas.set(k, d);
      }
    };
    add(after[i]!, 1);
    add(before[i]!, -1);
    const changed = [...deltas.keys()].sort().map((k) => deltas.get(k)!).filter((d) => d.counts.some((n) => n !== 0));
    if (!changed.length) continue;
    const values = changed.map((d) => sql`(${sql.join([...d.key.map((v, j) => typed(a.keys[j]!, v)), ...d.counts])})`);
    await sql`insert into ${sql.table(a.table)} (${cols(a.keys)}, ${cols(a.counts)}) values ${sql.join(values)}
      on conflict (${cols(a.keys)}) do update set ${sql.join(a.counts.map((c) => sql`${sql.ref(c)} = ${sql.table(a.table)}.${sql.ref(c)} + excluded.${sql.ref(c)}`))}`.execute(trx);
  }
}

/** A key's value as its column's type, so a values list of parameters is typed as the table is. */
function typed(column: string, v: unknown): RawBuilder<unknown> {
  if (column === 'value' || column === 'bucket') return sql`${v}::double precision`;
  if (column === 'definition_version' || column === 'level') return sql`${v}::integer`;
  return sql`${v}::text`;
}

/** The aggregates derived again from every row, inside the caller's transaction (the migration's backfill). */
export async function deriveOutcomeAggregates(trx: Kysely<unknown>): Promise<void> {
  // Over every row: longer than a request's statement timeout allows, at a million episodes.
  await sql`set local statement_timeout = 0`.execute(trx);
  // Writers wait (their additions would otherwise be lost under the rebuild, or counted twice).
  await sql`lock table ${sql.join(ORDER.map((a) => sql.table(a.table)))} in exclusive mode`.execute(trx);
  for (const [a, query] of derived(sql`true`)) {
    await sql`delete from ${sql.table(a.table)}`.execute(trx);
    await sql`insert into ${sql.table(a.table)} (${cols(a.keys)}, ${cols(a.counts)}) ${query}`.execute(trx);
  }
}

/** The aggregates derived again from every row (a repair, a bulk load). */
export async function rebuildOutcomeAggregates(db: Kysely<RecordDatabase>): Promise<void> {
  await db.transaction().execute((trx) => deriveOutcomeAggregates(trx as unknown as Kysely<unknown>));
}

/** Per aggregate, how many of its rows differ from what the rows derive (rows at zero count as absent). */
export async function outcomeAggregateDifferences(db: Kysely<RecordDatabase>): Promise<Array<{ table: string; differing: number }>> {
  const out: Array<{ table: string; differing: number }> = [];
  for (const [a, query] of derived(sql`true`)) {
    const kept = sql`select * from ${sql.table(a.table)} where ${sql.join(a.counts.map((c) => sql`${sql.ref(c)} <> 0`), sql` or `)}`;
    const same = sql.join([...a.keys, ...a.counts].map((c) => sql`k.${sql.ref(c)} is not distinct from d.${sql.ref(c)}`), sql` and `);
    const r = await sql<{ n: number }>`select count(*)::integer as n from (${kept}) k full join (${query}) d
      on ${sql.join(a.keys.map((c) => sql`k.${sql.ref(c)} = d.${sql.ref(c)}`), sql` and `)}
      where not (${same})`.execute(db);
    out.push({ table: a.table, differing: Number(r.rows[0]!.n) });
  }
  return out;
}
