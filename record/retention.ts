/**
 * Retention the hospital decides: a closed pathway's records are deleted only once it has been
 * closed longer than the configured retention (unset: kept), whatever Temporal's namespace
 * retention is. Idempotency keys are kept for their own, shorter time.
 */
import { DAY_MS } from '../clinical/rules';
import { purgeOrphanIdentities } from './patients';
import type { RecordDb } from './store';

const CHILD_TABLES = ['timeline_entries', 'reassessments', 'procedures', 'red_flags', 'messages', 'stage_episodes'] as const;

export interface PurgeResult {
  pathways: number;
  idempotencyKeys: number;
}

export async function purgeExpired(db: RecordDb, opts: { recordRetentionDays?: number; idempotencyKeyDays: number; now?: number }): Promise<PurgeResult> {
  const now = opts.now ?? Date.now();
  let pathways = 0;
  if (opts.recordRetentionDays !== undefined) {
    const before = new Date(now - opts.recordRetentionDays * DAY_MS);
    pathways = await db.transaction().execute(async (trx) => {
      const expired = trx.selectFrom('pathways').select('enrolment_id').where('closed_at', '<', before);
      for (const table of CHILD_TABLES) await trx.deleteFrom(table).where('enrolment_id', 'in', expired).execute();
      const deleted = await trx.deleteFrom('pathways').where('closed_at', '<', before).returning(['pathway_id', 'care_team', 'stage', 'status', 'overdue', 'undelivered']).execute();
      // The summary's counts lose what was deleted.
      for (const gone of deleted) {
        await trx
          .updateTable('pathway_counts')
          .set((eb) => ({
            total: eb('total', '-', 1),
            overdue: eb('overdue', '-', gone.overdue ? 1 : 0),
            undelivered: eb('undelivered', '-', gone.undelivered ? 1 : 0),
          }))
          .where('care_team', '=', gone.care_team)
          .where('stage', '=', gone.stage)
          .where('status', '=', gone.status)
          .execute();
      }
      // Who the patient was goes with their last enrolment's record.
      await purgeOrphanIdentities(trx, deleted.map((d) => d.pathway_id));
      return deleted.length;
    });
  }
  const keys = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', new Date(now - opts.idempotencyKeyDays * DAY_MS))
    .executeTakeFirst();
  return { pathways, idempotencyKeys: Number(keys.numDeletedRows) };
}
