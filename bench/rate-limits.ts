/**
 * What the shared rate limits cost (record/rate-limits.ts): one upsert a request on PostgreSQL.
 * Prints the time of one count, alone and with many requests of one key at once (they queue on
 * that key's row), and with many keys at once; the throughput of one key is the ceiling on what
 * a single API key can send, whatever the number of API processes. BENCH_COUNTS sets the size.
 */
import { performance } from 'node:perf_hooks';
import { countHit } from '../record/rate-limits';
import { openRecordStore, type RecordDb } from '../record/store';
import { createDatabase, startPostgresServer } from '../test/harness/postgres-server';
import { percentile } from './stats';

const COUNTS = Number(process.env.BENCH_COUNTS ?? 4000);
const CONCURRENCY = 16;

async function run(db: RecordDb, label: string, keyOf: (i: number) => string, concurrency: number) {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < COUNTS; i = next++) {
        const t = performance.now();
        await countHit(db, keyOf(i), 60_000);
        times.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} p50 ${percentile(times, 50).toFixed(2)} ms  p99 ${percentile(times, 99).toFixed(2)} ms  ${Math.round(COUNTS / seconds)} counts/s`);
}

async function main() {
  const postgres = await startPostgresServer();
  const store = await openRecordStore({ url: await createDatabase(postgres.url, 'bench_rate_limits'), poolSize: CONCURRENCY });
  try {
    console.log(`${COUNTS} counts each, pool of ${CONCURRENCY}`);
    await run(store.db, 'one key, one at a time', () => 'requests:key:a', 1);
    await run(store.db, `one key, ${CONCURRENCY} at once`, () => 'requests:key:b', CONCURRENCY);
    await run(store.db, `${CONCURRENCY} keys, ${CONCURRENCY} at once`, (i) => `requests:key:c${i % CONCURRENCY}`, CONCURRENCY);
  } finally {
    await store.close();
    await postgres.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
