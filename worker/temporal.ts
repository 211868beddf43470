/**
 * Reaching Temporal: either an existing cluster (TEMPORAL_ADDRESS) or the embedded default,
 * a Temporal dev server whose SQLite file lives in the data folder so pathways survive restarts.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { PATHWAY_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { Config } from './config';
import type { Logger } from '../observability/log';
import { resolveDevServer } from './temporal-servers';
import { untilReachable } from './until-reachable';

export interface TemporalConnections {
  address: string;
  namespace: string;
  connection: Connection;
  nativeConnection: NativeConnection;
  /** The Web UI, when this process runs the embedded dev server. */
  uiUrl?: string;
  close(): Promise<void>;
}

function connectionOptions(config: Config['temporal'], address: string): ConnectionOptions & { apiKey?: string } {
  const { tls, apiKey } = config;
  const read = (file?: string) => (file ? readFileSync(file) : undefined);
  return {
    address,
    ...(apiKey ? { apiKey } : {}),
    ...(tls
      ? {
          tls: {
            serverNameOverride: tls.serverName,
            serverRootCACertificate: read(tls.caPath),
            ...(tls.certPath && tls.keyPath ? { clientCertPair: { crt: read(tls.certPath)!, key: read(tls.keyPath)! } } : {}),
          },
        }
      : apiKey
        ? { tls: true }
        : {}),
  };
}

/** Starts the embedded dev server (SQLite in the data folder, Web UI on) and connects to it. */
async function startEmbedded(config: Config, log: Logger, uiCodecEndpoint?: string): Promise<TemporalConnections> {
  const { executable, source } = resolveDevServer();
  mkdirSync(config.dataDir, { recursive: true });
  const dbFilename = path.join(config.dataDir, 'temporal.sqlite');
  const { port, uiPort } = config.temporal.devServer;
  log.info('starting embedded Temporal dev server', { executableSource: source, dbFilename, port, uiPort });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      dbFilename,
      ip: '127.0.0.1',
      port,
      ui: true,
      uiPort,
      namespace: config.temporal.namespace,
      log: { format: 'json', level: 'warn' },
      // The Web UI decrypts payloads through the API's codec endpoint (api/routes/codec.ts).
      ...(uiCodecEndpoint ? { extraArgs: ['--ui-codec-endpoint', uiCodecEndpoint] } : {}),
    },
  });
  return {
    address: env.address,
    namespace: config.temporal.namespace,
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    close: () => env.teardown(),
  };
}

export async function connectTemporal(config: Config, log: Logger, opts: { uiCodecEndpoint?: string } = {}): Promise<TemporalConnections> {
  const address = config.temporal.address;
  if (!address) return startEmbedded(config, log, opts.uiCodecEndpoint);
  const options = connectionOptions(config.temporal, address);
  log.info('connecting to Temporal', { address, namespace: config.temporal.namespace });
  const connection = await untilReachable('Temporal', address, () => Connection.connect(options), log);
  const nativeConnection = await untilReachable('Temporal', address, () => NativeConnection.connect(options), log);
  return {
    address,
    namespace: config.temporal.namespace,
    connection,
    nativeConnection,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

const GRPC_UNIMPLEMENTED = 12;

/** Registers the search attributes the dashboards filter on, once; existing ones are left alone. */
export async function ensureSearchAttributes(connection: Connection, namespace: string, log: Logger): Promise<void> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // The time-skipping test server can add search attributes but not list them.
    if ((err as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw err;
  }
  const missing = PATHWAY_SEARCH_ATTRIBUTES.filter((key) => !(key.name in existing));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]])),
  });
  log.info('registered search attributes', { names: missing.map((k) => k.name).join(',') });
}
