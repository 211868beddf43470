/**
 * Activities that keep the clinical record in the record store: the pathway workflow's writes
 * (idempotent: a retry or a replayed workflow writes nothing twice), the digest's counts, and
 * the daily retention sweep.
 */
import type { NoteCipher } from '../record/note-cipher';
import type { RecordBatch } from '../record/batch';
import { digestCounts, type DigestCounts } from '../record/read';
import { purgeExpired, type PurgeResult } from '../record/retention';
import type { RecordStore } from '../record/store';
import { writeBatch, writeDeliveryOutcome } from '../record/write';

export interface RecordDeps {
  store: RecordStore;
  cipher: NoteCipher;
  /** Days a closed pathway's record is kept; unset: kept. */
  recordRetentionDays?: number;
  /** Days an Idempotency-Key and its first answer are kept. */
  idempotencyKeyDays: number;
}

export function recordActivities(deps: RecordDeps) {
  return {
    /** Writes a pathway's change into the record store; throws (to be retried) while the database is down. */
    async writePathwayRecord(batch: RecordBatch): Promise<{ applied: boolean }> {
      return writeBatch(deps.store.db, deps.cipher, batch);
    },
    /** How a message handed over at closing went (the pathway's own workflow has completed). */
    async recordDeliveryOutcome(outcome: { enrolmentId: string; messageId: string; messageType: string; outcome: string; at: string }): Promise<void> {
      await writeDeliveryOutcome(deps.store.db, outcome);
    },
    /** Counts of what each care team has due and overdue, for the daily digest. */
    async collectDigestCounts(at: number): Promise<DigestCounts[]> {
      return digestCounts(deps.store.db, at);
    },
    /** Deletes records past the hospital's retention, and idempotency keys past theirs. */
    async purgeExpiredRecords(at: number): Promise<PurgeResult> {
      return purgeExpired(deps.store.db, { recordRetentionDays: deps.recordRetentionDays, idempotencyKeyDays: deps.idempotencyKeyDays, now: at });
    },
  };
}
