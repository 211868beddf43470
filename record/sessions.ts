/**
 * Console sessions in the record store: found by a hash of their id, their data encrypted, each
 * ending at its expiry (moved on by every request: the idle timeout).
 */
import { createHash } from 'node:crypto';
import type { NoteCipher } from './note-cipher';
import type { RecordDb } from './store';

const hashOf = (sid: string): string => createHash('sha256').update(sid).digest('hex');

export async function readSession(db: RecordDb, cipher: NoteCipher, sid: string, now = new Date()): Promise<unknown | null> {
  const row = await db
    .selectFrom('console_sessions')
    .select('data_enc')
    .where('sid_hash', '=', hashOf(sid))
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return null;
  try {
    return JSON.parse(cipher.decrypt(row.data_enc));
  } catch {
    // Sealed with a key no longer configured: the person signs in again.
    return null;
  }
}

export async function writeSession(db: RecordDb, cipher: NoteCipher, sid: string, data: unknown, expiresAt: Date): Promise<void> {
  const data_enc = cipher.encrypt(JSON.stringify(data));
  await db
    .insertInto('console_sessions')
    .values({ sid_hash: hashOf(sid), data_enc, expires_at: expiresAt })
    .onConflict((oc) => oc.column('sid_hash').doUpdateSet({ data_enc, expires_at: expiresAt }))
    .execute();
}

/** Moves a live session's expiry on; an expired one stays ended. */
export async function touchSession(db: RecordDb, sid: string, expiresAt: Date, now = new Date()): Promise<void> {
  await db.updateTable('console_sessions').set({ expires_at: expiresAt }).where('sid_hash', '=', hashOf(sid)).where('expires_at', '>', now).execute();
}

export async function deleteSession(db: RecordDb, sid: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('sid_hash', '=', hashOf(sid)).execute();
}

/** Forgets ended sessions; returns how many. */
export async function purgeEndedSessions(db: RecordDb, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
