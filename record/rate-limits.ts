/**
 * Rate-limit counts in PostgreSQL, so every API process counts against one budget per key. A
 * window is fixed: the first hit after the last window ended starts a new one. Times come from
 * the database's clock, so processes whose clocks differ still agree on when a window ends.
 */
import { sql } from 'kysely';
import type { RecordDb } from './store';

export interface RateLimitCount {
  hits: number;
  resetAt: Date;
}

/** Counts one hit for `key` in one statement (the row lock orders concurrent hits from every process). */
export async function countHit(db: RecordDb, key: string, windowMs: number): Promise<RateLimitCount> {
  const ends = sql<Date>`now() + make_interval(secs => ${windowMs / 1000})`;
  const row = await db
    .insertInto('rate_limits')
    .values({ key, hits: 1, reset_at: ends })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        hits: sql`case when rate_limits.reset_at <= now() then 1 else rate_limits.hits + 1 end`,
        reset_at: sql`case when rate_limits.reset_at <= now() then excluded.reset_at else rate_limits.reset_at end`,
      }),
    )
    .returning(['hits', 'reset_at'])
    .executeTakeFirstOrThrow();
  return { hits: row.hits, resetAt: new Date(row.reset_at) };
}

/** The count of `key` in its current window, if one is running. */
export async function currentCount(db: RecordDb, key: string): Promise<RateLimitCount | undefined> {
  const row = await db.selectFrom('rate_limits').select(['hits', 'reset_at']).where('key', '=', key).where('reset_at', '>', sql<Date>`now()`).executeTakeFirst();
  return row ? { hits: row.hits, resetAt: new Date(row.reset_at) } : undefined;
}

/** Takes one hit back (a request the limit should not have counted). */
export async function uncountHit(db: RecordDb, key: string): Promise<void> {
  await db.updateTable('rate_limits').set({ hits: sql`greatest(hits - 1, 0)` }).where('key', '=', key).execute();
}

export async function forgetCount(db: RecordDb, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

/** Removes the rows of windows that have ended, so the table holds only the keys counted lately. */
export async function forgetEndedWindows(db: RecordDb): Promise<void> {
  await db.deleteFrom('rate_limits').where('reset_at', '<=', sql<Date>`now()`).execute();
}
