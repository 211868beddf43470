/**
 * `npm run verify-record [-- --repair]`: compares the record of every running pathway with its
 * workflow (server/verify-record.ts) and names each difference; with --repair, rewrites the record
 * of each pathway that differs from its workflow's whole state; then the outcomes report's aggregates
 * against the rows (--repair derives them again). Exits 1 while a difference remains.
 * Needs TEMPORAL_ADDRESS and DATABASE_URL, like rebuild-record.
 */
import { Client } from '@temporalio/client';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore } from '../record/store';
import { loadConfig } from '../config';
import { createLogger } from '../observability/log';
import { EncryptionCodec, payloadKeysFor } from '../temporal/payload-codec';
import { verifyRecord } from '../server/verify-record';
import { connectTemporal } from '../temporal/connection';

async function main(): Promise<void> {
  const repair = process.argv.includes('--repair');
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (!config.temporal.address || !config.record.databaseUrl) {
    throw new Error('set TEMPORAL_ADDRESS and DATABASE_URL to the deployment to verify (the embedded default keeps both inside the running service)');
  }
  const keys = payloadKeysFor({ key: config.payloadKey, previousKeys: config.payloadPreviousKeys, production: config.production, dataDir: config.dataDir });
  const store = await openRecordStore({ url: config.record.databaseUrl });
  const temporal = await connectTemporal(config, log);
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace, dataConverter: { payloadCodecs: [new EncryptionCodec(keys.current, keys.previous)] } });
    const result = await verifyRecord(client, { store, cipher: new NoteCipher(keys.current, keys.previous) }, log, { repair, taskQueue: config.temporal.taskQueue });
    for (const { pathwayId, differences } of result.differing) console.log(`${pathwayId}${repair ? ' (repaired)' : ''}\n  ${differences.join('\n  ')}`);
    console.log(`${result.pathways} running pathways checked, ${result.differing.length} differing, ${result.repaired} repaired, ${result.failed} could not be checked`);
    for (const { table, differing } of result.aggregates) console.log(`${table}: ${differing} rows differ from the record's rows${repair ? ' (rebuilt)' : ''}`);
    if (result.failed > 0 || ((result.differing.length > 0 || result.aggregates.length > 0) && !repair)) process.exitCode = 1;
  } finally {
    await temporal.close();
    await store.close();
  }
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'verification failed', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
