/**
 * Opens the record store: PostgreSQL at DATABASE_URL, or, for the embedded default, PGlite
 * (PostgreSQL compiled to WebAssembly, in this process) with its files in the data folder.
 * Both speak the same SQL through Kysely, so every query is written once, with bound parameters.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { migrateToLatest } from './migrations';
import type { RecordDatabase } from './schema';

// numeric and bigint columns come back as strings by default; counts here fit a JS number.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export type RecordDb = Kysely<RecordDatabase>;

export interface RecordStore {
  db: RecordDb;
  /** `postgresql` (DATABASE_URL) or `embedded` (PGlite in the data folder). */
  kind: 'postgresql' | 'embedded';
  /** Where it is, without credentials: for logs and /readyz. */
  location: string;
  /** Answers within `timeoutMs` whether the database answers a query. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface RecordStoreOptions {
  /** A PostgreSQL connection URL; unset, the embedded store under `dataDir`. */
  url?: string;
  dataDir?: string;
  /** How long a request waits for a pooled connection before failing (then the API answers 503). */
  connectTimeoutMs?: number;
  /** Statements running longer are cancelled by the server. */
  statementTimeoutMs?: number;
  poolSize?: number;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);

/** Whether an error means the database cannot be reached just now (the API answers 503, a write retries). */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && /timeout exceeded when trying to connect|Connection terminated|connection is closed|Client has encountered a connection error/i.test(e.message)) return true;
  }
  return false;
}

/** The URL with its password masked. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the store and brings its schema up to date. */
export async function openRecordStore(opts: RecordStoreOptions): Promise<RecordStore> {
  let db: RecordDb;
  let kind: RecordStore['kind'];
  let location: string;
  if (opts.url) {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 20,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000,
      statement_timeout: opts.statementTimeoutMs ?? 10_000,
      application_name: 'pathway',
    });
    // An idle client losing its server (a restart) must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    db = new Kysely<RecordDatabase>({ dialect: new PostgresDialect({ pool }) });
    kind = 'postgresql';
    location = describeUrl(opts.url);
  } else {
    if (!opts.dataDir) throw new Error('the embedded record store needs a data folder');
    const dir = path.join(opts.dataDir, 'record');
    mkdirSync(dir, { recursive: true });
    const lite = await PGlite.create(dir);
    db = new Kysely<RecordDatabase>({ dialect: new PGliteDialect(lite) });
    kind = 'embedded';
    location = dir;
  }
  try {
    await migrateToLatest(db as Kysely<unknown>);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
  return {
    db,
    kind,
    location,
    async ping(timeoutMs = 1000) {
      try {
        await withTimeout(sql`select 1`.execute(db), timeoutMs);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
