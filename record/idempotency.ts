/**
 * The API's Idempotency-Key records (IETF draft "The Idempotency-Key HTTP Header Field"): the
 * first answer to a key is kept, encrypted, with a digest of the request it answered. A retry
 * with the same key and request gets that answer, whatever happened since; the same key with
 * another request is refused; a key whose request is still being answered is refused as in
 * flight, until it is stale (its process died) and the retry takes it over.
 */
import { sql } from 'kysely';
import type { NoteCipher } from './note-cipher';
import type { RecordDb } from './store';

// Whole milliseconds, so the time read back compares equal in a takeover.
const MILLISECOND_NOW = sql<Date>`date_trunc('milliseconds', now())`;

export type KeyClaim =
  | { kind: 'new' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'mismatch' }
  | { kind: 'in-flight' };

export async function claimKey(db: RecordDb, cipher: NoteCipher, keyHash: string, digest: string, staleAfterMs: number): Promise<KeyClaim> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ key_hash: keyHash, request_digest: digest, status: null, response_enc: null, completed_at: null, created_at: MILLISECOND_NOW })
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .returning('key_hash')
    .executeTakeFirst();
  if (inserted) return { kind: 'new' };
  const row = await db.selectFrom('idempotency_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  if (!row) return claimKey(db, cipher, keyHash, digest, staleAfterMs);
  if (row.request_digest !== digest) return { kind: 'mismatch' };
  if (row.completed_at && row.status !== null && row.response_enc !== null) {
    return { kind: 'replay', status: row.status, body: JSON.parse(cipher.decrypt(row.response_enc)) };
  }
  // Taken over only if nobody else took it over first (the created_at it had is the claim).
  const takenOver = await db
    .updateTable('idempotency_keys')
    .set({ created_at: MILLISECOND_NOW })
    .where('key_hash', '=', keyHash)
    .where('completed_at', 'is', null)
    .where(sql<Date>`date_trunc('milliseconds', created_at)`, '=', row.created_at)
    .where('created_at', '<', new Date(Date.now() - staleAfterMs))
    .executeTakeFirst();
  return Number(takenOver.numUpdatedRows) > 0 ? { kind: 'new' } : { kind: 'in-flight' };
}

/** Keeps the first answer. */
export async function completeKey(db: RecordDb, cipher: NoteCipher, keyHash: string, status: number, body: unknown): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status, response_enc: cipher.encrypt(JSON.stringify(body)), completed_at: sql`now()` })
    .where('key_hash', '=', keyHash)
    .where('completed_at', 'is', null)
    .execute();
}

/** Forgets a claim whose request got no definite answer (a 5xx), so a retry runs it again. */
export async function releaseKey(db: RecordDb, keyHash: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('key_hash', '=', keyHash).where('completed_at', 'is', null).execute();
}
