/**
 * Record stores for tests: a fresh database on the run's real PostgreSQL server, or the
 * embedded default (PGlite) in a scratch folder. Each opens with the schema migrated.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { NoteCipher } from '../../record/note-cipher';
import { openRecordStore, type RecordStore } from '../../record/store';
import { createDatabase } from './postgres-server';

export type Backend = 'postgresql' | 'embedded';
export const BACKENDS: Backend[] = ['postgresql', 'embedded'];

let counter = 0;

/** A new, empty store of the kind asked for; `close` also deletes an embedded store's files. */
export async function freshRecordStore(backend: Backend): Promise<RecordStore & { url?: string }> {
  if (backend === 'postgresql') {
    const url = await createDatabase(inject('postgresUrl'), `record_${process.pid}_${Date.now()}_${counter++}`);
    return { ...(await openRecordStore({ url })), url };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-record-'));
  const store = await openRecordStore({ dataDir: dir });
  return {
    ...store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const testCipher = (): NoteCipher => new NoteCipher(randomBytes(32));
