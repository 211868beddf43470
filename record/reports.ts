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

function pathwayConditions(f: OutcomeFilters): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (f.careTeams) parts.push(f.careTeams.length ? sql`pw.care_team in (${sql.join([...f.careTeams])})` : sql`false`);
  if (f.careTeam) parts.push(sql`pw.care_team = ${f.careTeam}`);
  if (f.definitionId) parts.push(sql`pw.definition_id = ${f.definitionId}`);
  if (f.definitionVersion !== undefined) parts.push(sql`pw.definition_version = ${f.definitionVersion}`);
  return sql<boolean>`${sql.join(parts, sql` and `)}`;
}

function between(column: RawBuilder<unknown>, f: OutcomeFilters): RawBuilder<boolean> {
  const parts: RawBuilder<unknown>[] = [sql`true`];
  if (f.from) parts.push(sql`${column} >= ${new Date(f.from)}`);
  if (f.to) parts.push(sql`${column} < ${new Date(f.to)}`);
  return sql<boolean>`${sql.join(parts, sql` and `)}`;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

export async function outcomesReport(db: RecordDb, f: OutcomeFilters): Promise<OutcomesReport> {
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

  const byStage = new Map(stageRows.rows.map((r) => [r.stage as string, r]));
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

  const procedureRows = await sql<{ type: string; performed: unknown; reassessed: unknown; responded: unknown }>`
    select p.type,
      count(*) as performed,
      count(next.ordinal) as reassessed,
      count(*) filter (where next.responding) as responded
    from procedures p
    join pathways pw on pw.enrolment_id = p.enrolment_id
    left join lateral (
      select r.ordinal, r.responding from reassessments r
      where r.enrolment_id = p.enrolment_id and r.stage = p.stage and r.at >= p.performed_at
      order by r.at, r.ordinal limit 1
    ) next on true
    where p.type <> 'psychological-evaluation' and ${pathwayConditions(f)} and ${between(sql`p.performed_at`, f)}
    group by p.type
    order by p.type`.execute(db);

  const procedures = procedureRows.rows.map((r): ProcedureOutcome => {
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
