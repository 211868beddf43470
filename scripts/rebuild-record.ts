/**
 * `npm run rebuild-record`: rebuilds the record store from every running pathway workflow
 * (server/rebuild-record.ts), with the service's own settings. Needs TEMPORAL_ADDRESS and
 * DATABASE_URL: the embedded default keeps both inside the running service.
 */
import { Client } from '@temporalio/client';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore } from '../record/store';
import { loadConfig } from '../config';
import { createLogger } from '../observability/log';
import { EncryptionCodec, payloadKeysFor } from '../temporal/payload-codec';
import { rebuildRecord } from '../server/rebuild-record';
import { connectTemporal } from '../temporal/connection';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  if (!config.temporal.address || !config.record.databaseUrl) {
    throw new Error('set TEMPORAL_ADDRESS and DATABASE_URL to the deployment to rebuild (the embedded default keeps both inside the running service)');
  }
  const keys = payloadKeysFor({ key: config.payloadKey, previousKeys: config.payloadPreviousKeys, production: config.production, dataDir: config.dataDir });
  const store = await openRecordStore({ url: config.record.databaseUrl });
  const temporal = await connectTemporal(config, log);
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace, dataConverter: { payloadCodecs: [new EncryptionCodec(keys.current, keys.previous)] } });
    const result = await rebuildRecord(client, { store, cipher: new NoteCipher(keys.current, keys.previous) }, log);
    if (result.failed > 0) process.exitCode = 1;
  } finally {
    await temporal.close();
    await store.close();
  }
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'rebuild failed', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
