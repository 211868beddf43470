/**
 * Retention the hospital decides: a closed pathway's records are deleted only once it has been
 * closed longer than the configured retention (unset: kept), whatever Temporal's namespace
 * retention is. Idempotency keys are kept for their own, shorter time.
 */
import { DAY_MS } from '../clinical/rules';
import { purgeOrphanIdentities } from './patients';
import type { RecordDb } from './store';
import { ENROLMENT_CHILD_TABLES } from './schema';
import { addDifference, figuresOf } from './outcome-aggregates';
import { lockEnrolment } from './write';

/** Pathways deleted in one transaction: each holds its enrolment's lock until the end. */
const PURGE_CHUNK = 200;
export interface PurgeResult {
  pathways: number;
  idempotencyKeys: number;
}

export async function purgeExpired(db: RecordDb, opts: { recordRetentionDays?: number; idempotencyKeyDays: number; now?: number }): Promise<PurgeResult> {
  const now = opts.now ?? Date.now();
  let pathways = 0;
  if (opts.recordRetentionDays !== undefined) {
    const before = new Date(now - opts.recordRetentionDays * DAY_MS);
    // In chunks: each chunk takes its enrolments' locks (in one order, before any count), so a
    // write to one of them waits or goes first and its figures are never counted off twice.
    for (;;) {
      const purged = await db.transaction().execute(async (trx) => {
        const chunk = await trx.selectFrom('pathways').select('enrolment_id').where('closed_at', '<', before).orderBy('enrolment_id').limit(PURGE_CHUNK).execute();
        if (!chunk.length) return 0;
        for (const { enrolment_id } of chunk) await lockEnrolment(trx, enrolment_id);
        const ids = chunk.map((c) => c.enrolment_id);
        const expired = trx.selectFrom('pathways').select('enrolment_id').where('enrolment_id', 'in', ids).where('closed_at', '<', before);
        const figures = await figuresOf(trx, (await expired.execute()).map((e) => e.enrolment_id));
        for (const table of ENROLMENT_CHILD_TABLES) await trx.deleteFrom(table).where('enrolment_id', 'in', expired).execute();
        const deleted = await trx
          .deleteFrom('pathways')
          .where('enrolment_id', 'in', ids)
          .where('closed_at', '<', before)
          .returning(['pathway_id', 'care_team', 'stage', 'status', 'overdue', 'undelivered'])
          .execute();
        // The summary's counts lose what was deleted: one update a bucket, in the buckets' key order
        // as every writer takes them (record/write.ts), so the purge never deadlocks with a write.
        const lost = new Map<string, { care_team: string; stage: string; status: string; total: number; overdue: number; undelivered: number }>();
        for (const gone of deleted) {
          const key = JSON.stringify([gone.care_team, gone.stage, gone.status]);
          const bucket = lost.get(key) ?? { care_team: gone.care_team, stage: gone.stage, status: gone.status, total: 0, overdue: 0, undelivered: 0 };
          bucket.total++;
          if (gone.overdue) bucket.overdue++;
          if (gone.undelivered) bucket.undelivered++;
          lost.set(key, bucket);
        }
        for (const key of [...lost.keys()].sort()) {
          const b = lost.get(key)!;
          await trx
            .updateTable('pathway_counts')
            .set((eb) => ({ total: eb('total', '-', b.total), overdue: eb('overdue', '-', b.overdue), undelivered: eb('undelivered', '-', b.undelivered) }))
            .where('care_team', '=', b.care_team)
            .where('stage', '=', b.stage)
            .where('status', '=', b.status)
            .execute();
        }
        // Then the outcomes report's aggregates lose the deleted rows' figures, in the same order.
        await addDifference(trx, figures, figures.map(() => new Map()));
        // Who the patient was goes with their last enrolment's record.
        await purgeOrphanIdentities(trx, deleted.map((d) => d.pathway_id));
        return deleted.length;
      });
      pathways += purged;
      if (purged === 0) break;
    }
  }
  const keys = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<', new Date(now - opts.idempotencyKeyDays * DAY_MS))
    .executeTakeFirst();
  return { pathways, idempotencyKeys: Number(keys.numDeletedRows) };
}
