/**
 * Reaching Temporal: either an existing cluster (TEMPORAL_ADDRESS) or the embedded default,
 * a Temporal dev server whose SQLite file lives in the data folder so pathways survive restarts.
 */
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection, isRetryableError, makeGrpcRetryInterceptor, type ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { PATHWAY_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { Config } from '../config';
import { resolveDevServer } from './servers';
import { untilReachable } from './until-reachable';
import { startDevServer } from './embedded-dev-server';
import { silentLogger, type Logger } from '../observability/log';

export interface TemporalConnections {
  address: string;
  namespace: string;
  connection: Connection;
  nativeConnection: NativeConnection;
  /** The Web UI, when this process runs the embedded dev server. */
  uiUrl?: string;
  close(): Promise<void>;
}

/**
 * The client side (API and activities' client) comes back within about a second of Temporal:
 * gRPC's own reconnection backoff grows to two minutes, and the SDK's retries wait up to five
 * seconds between attempts. Each API request bounds its calls with a deadline (api/temporal-deadline.ts).
 */
const CLIENT_RECOVERY: Pick<ConnectionOptions, 'channelArgs' | 'interceptors'> = {
  channelArgs: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
  interceptors: [
    makeGrpcRetryInterceptor({
      delayFunction: (attempt) => Math.min(1000, 100 * 2 ** attempt) * (0.8 + Math.random() * 0.4),
      retryableDecider: (attempt, status) => attempt < 10 && isRetryableError(status),
    }),
  ],
};

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
  const namespace = config.temporal.namespace;
  log.info('starting embedded Temporal dev server', { executableSource: source, dbFilename, port, uiPort });
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  if (executable.type === 'existing-path') {
    const server = startDevServer({ executable: executable.path, ip: '127.0.0.1', port, uiPort, dbFilename, namespace, uiCodecEndpoint }, log);
    const address = `127.0.0.1:${port}`;
    const gone = server.exited.then((code) => {
      throw new Error(`the Temporal dev server exited while starting (${code})`);
    });
    gone.catch(() => undefined); // it also exits when stopped later, which is no error
    try {
      const reach = <T>(connect: () => Promise<T>) =>
        Promise.race([untilReachable('Temporal dev server', address, connect, silentLogger, { initialMs: 200, maxMs: 1000, attempts: 60 }), gone]);
      const connection = await reach(async () => {
        const c = await Connection.connect({ address, connectTimeout: 2000, ...CLIENT_RECOVERY });
        await c.workflowService.describeNamespace({ namespace });
        return c;
      });
      const nativeConnection = await reach(() => NativeConnection.connect({ address }));
      return {
        address,
        namespace,
        connection,
        nativeConnection,
        uiUrl,
        async close() {
          await nativeConnection.close();
          await connection.close();
          await server.stop();
        },
      };
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  // No installed CLI: the SDK downloads one and runs it (its banner is not JSON).
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      dbFilename,
      ip: '127.0.0.1',
      port,
      ui: true,
      uiPort,
      namespace,
      log: { format: 'json', level: 'warn' },
      ...(uiCodecEndpoint ? { extraArgs: ['--ui-codec-endpoint', uiCodecEndpoint] } : {}),
    },
  });
  const connection = await Connection.connect({ address: env.address, ...CLIENT_RECOVERY });
  return {
    address: env.address,
    namespace,
    connection,
    nativeConnection: env.nativeConnection,
    uiUrl,
    async close() {
      await connection.close();
      await env.teardown();
    },
  };
}

export async function connectTemporal(config: Config, log: Logger, opts: { uiCodecEndpoint?: string } = {}): Promise<TemporalConnections> {
  const address = config.temporal.address;
  if (!address) return startEmbedded(config, log, opts.uiCodecEndpoint);
  const options = connectionOptions(config.temporal, address);
  log.info('connecting to Temporal', { address, namespace: config.temporal.namespace });
  const connection = await untilReachable('Temporal', address, () => Connection.connect({ ...options, ...CLIENT_RECOVERY }), log);
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
