/**
 * Worker processes note that they are alive every few seconds; readiness reads when one was last
 * seen on its task queue. Temporal's own list of pollers keeps a worker that died for about a
 * minute (a long poll's length), too long for a load balancer to stop sending changes.
 */
import { sql } from 'kysely';
import type { RecordDb } from './store';

/** How often a worker notes itself, and how long after its last note it counts as gone. */
export const PRESENCE_EVERY_MS = 5_000;
export const PRESENCE_GONE_AFTER_MS = 20_000;

export async function notePresence(db: RecordDb, instance: string, taskQueue: string): Promise<void> {
  await db
    .insertInto('worker_presence')
    .values({ instance, task_queue: taskQueue, seen_at: sql`now()` })
    .onConflict((oc) => oc.column('instance').doUpdateSet({ task_queue: taskQueue, seen_at: sql`now()` }))
    .execute();
}

export async function forgetPresence(db: RecordDb, instance: string): Promise<void> {
  await db.deleteFrom('worker_presence').where('instance', '=', instance).execute();
}

/** Milliseconds since a worker of the task queue was last seen, by the database's clock; null if never. */
export async function sinceWorkerSeen(db: RecordDb, taskQueue: string): Promise<number | null> {
  const row = await db
    .selectFrom('worker_presence')
    .select(sql<number>`extract(epoch from (now() - max(seen_at))) * 1000`.as('ms'))
    .where('task_queue', '=', taskQueue)
    .executeTakeFirst();
  return row?.ms === null || row?.ms === undefined ? null : Number(row.ms);
}

/** Notes the worker now and every few seconds until stopped (then it is forgotten at once). */
export function keepPresence(db: RecordDb, instance: string, taskQueue: string, onError: (err: unknown) => void): () => Promise<void> {
  const note = () => notePresence(db, instance, taskQueue).catch(onError);
  void note();
  const timer = setInterval(note, PRESENCE_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await forgetPresence(db, instance).catch(onError);
  };
}
