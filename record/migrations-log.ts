/**
 * The audit of bulk definition migrations: who asked, why, after which simulation, which
 * pathways, and a result per pathway (moved, refused with the reason, already moved, not running).
 */
import type { RecordDb } from './store';

export type MigrationOutcomeName = 'moved' | 'refused' | 'already-moved' | 'not-running';

export interface MigrationRecord {
  migrationId: string;
  definition: { id: string; version: number };
  simulationId: string;
  requestedBy: string;
  reason: string;
  stageMapping: Record<string, string>;
  pathways: number;
  createdAt: string;
  finishedAt: string | null;
  counts: Record<MigrationOutcomeName, number>;
  results: Array<{ pathwayId: string; outcome: MigrationOutcomeName; message: string | null; fromVersion: number | null; at: string }>;
}

export async function createMigration(
  db: RecordDb,
  m: { migrationId: string; definitionId: string; toVersion: number; simulationId: string; requestedBy: string; reason: string; stageMapping: Record<string, string>; pathways: number },
  now = new Date(),
): Promise<void> {
  await db
    .insertInto('definition_migrations')
    .values({
      migration_id: m.migrationId,
      definition_id: m.definitionId,
      to_version: m.toVersion,
      simulation_id: m.simulationId,
      requested_by: m.requestedBy,
      reason: m.reason,
      stage_mapping: JSON.stringify(m.stageMapping),
      pathways: m.pathways,
      created_at: now,
      finished_at: null,
    })
    .execute();
}

export async function migrationResult(db: RecordDb, migrationId: string, pathwayId: string): Promise<{ outcome: MigrationOutcomeName; message: string | null } | undefined> {
  const row = await db.selectFrom('definition_migration_results').select(['outcome', 'message']).where('migration_id', '=', migrationId).where('pathway_id', '=', pathwayId).executeTakeFirst();
  return row ? { outcome: row.outcome as MigrationOutcomeName, message: row.message } : undefined;
}

/** Keeps a pathway's result once; a second write answers with the first. */
export async function recordMigrationResult(
  db: RecordDb,
  r: { migrationId: string; pathwayId: string; outcome: MigrationOutcomeName; message: string | null; fromVersion: number | null },
): Promise<{ outcome: MigrationOutcomeName; message: string | null }> {
  await db
    .insertInto('definition_migration_results')
    .values({ migration_id: r.migrationId, pathway_id: r.pathwayId, outcome: r.outcome, message: r.message, from_version: r.fromVersion, at: new Date() })
    .onConflict((oc) => oc.columns(['migration_id', 'pathway_id']).doNothing())
    .execute();
  return (await migrationResult(db, r.migrationId, r.pathwayId))!;
}

export async function finishMigration(db: RecordDb, migrationId: string, now = new Date()): Promise<void> {
  await db.updateTable('definition_migrations').set({ finished_at: now }).where('migration_id', '=', migrationId).where('finished_at', 'is', null).execute();
}

export async function readMigration(db: RecordDb, migrationId: string): Promise<MigrationRecord | undefined> {
  const row = await db.selectFrom('definition_migrations').selectAll().where('migration_id', '=', migrationId).executeTakeFirst();
  if (!row) return undefined;
  const results = await db.selectFrom('definition_migration_results').selectAll().where('migration_id', '=', migrationId).orderBy('at').execute();
  const counts: Record<MigrationOutcomeName, number> = { moved: 0, refused: 0, 'already-moved': 0, 'not-running': 0 };
  for (const r of results) counts[r.outcome as MigrationOutcomeName]++;
  const parse = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  return {
    migrationId: row.migration_id,
    definition: { id: row.definition_id, version: row.to_version },
    simulationId: row.simulation_id,
    requestedBy: row.requested_by,
    reason: row.reason,
    stageMapping: parse(row.stage_mapping),
    pathways: row.pathways,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
    counts,
    results: results.map((r) => ({ pathwayId: r.pathway_id, outcome: r.outcome as MigrationOutcomeName, message: r.message, fromVersion: r.from_version, at: new Date(r.at).toISOString() })),
  };
}
