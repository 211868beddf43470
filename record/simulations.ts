/**
 * A what-if run over the record: the cohort's recorded pathways replayed through a candidate
 * version (clinical/simulate.ts), the figures and a result per pathway kept in `simulations`,
 * so a migration can show and require the simulation that preceded it.
 */
import { randomUUID } from 'node:crypto';
import type { PathwayDefinition } from '../clinical/definition';
import { simulatePathway, summarise, type CohortSummary, type SimulatedPathway } from '../clinical/simulate';
import { cohortEnrolments, readHistories, type Cohort } from './histories';
import type { RecordDb } from './store';

export interface Simulation {
  simulationId: string;
  definition: { id: string; version: number };
  cohort: Omit<Cohort, 'careTeams'>;
  cohortDigest: string;
  createdBy: string;
  createdAt: string;
  summary: CohortSummary;
  results: SimulatedPathway[];
}

/** Replays the cohort; `keep` false leaves no record (the benchmark). */
export async function runSimulation(
  db: RecordDb,
  candidate: PathwayDefinition,
  cohort: Cohort,
  by: string,
  opts: { keep?: boolean; now?: Date } = {},
): Promise<Simulation> {
  const { enrolmentIds, digest } = await cohortEnrolments(db, cohort);
  const results: SimulatedPathway[] = [];
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  await readHistories(db, enrolmentIds, (h) => {
    from = Math.min(from, Date.parse(h.timeline[0]!.at));
    to = Math.max(to, Date.parse(h.timeline[h.timeline.length - 1]!.at));
    results.push(simulatePathway(h, candidate));
  });
  const { careTeams: _scope, ...asked } = cohort;
  const simulation: Simulation = {
    simulationId: randomUUID(),
    definition: { id: candidate.id, version: candidate.version },
    cohort: asked,
    cohortDigest: digest,
    createdBy: by,
    createdAt: (opts.now ?? new Date()).toISOString(),
    summary: summarise(results, results.length ? { from, to } : { from: 0, to: 0 }),
    results,
  };
  if (opts.keep !== false) {
    await db
      .insertInto('simulations')
      .values({
        simulation_id: simulation.simulationId,
        definition_id: candidate.id,
        version: candidate.version,
        cohort: JSON.stringify(simulation.cohort),
        cohort_digest: digest,
        pathways: results.length,
        created_by: by,
        created_at: simulation.createdAt,
        summary: JSON.stringify(simulation.summary),
        results: JSON.stringify(results),
      })
      .execute();
  }
  return simulation;
}

export async function readSimulation(db: RecordDb, simulationId: string): Promise<Simulation | undefined> {
  const row = await db.selectFrom('simulations').selectAll().where('simulation_id', '=', simulationId).executeTakeFirst();
  if (!row) return undefined;
  const parse = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  return {
    simulationId: row.simulation_id,
    definition: { id: row.definition_id, version: row.version },
    cohort: parse(row.cohort),
    cohortDigest: row.cohort_digest,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    summary: parse(row.summary),
    results: parse(row.results),
  };
}
