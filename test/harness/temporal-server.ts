/**
 * A production-like Temporal server for the test run: the Temporal server itself (the version
 * docker-compose.yml runs, installed by scripts/install-temporal-servers.ts) on the run's
 * PostgreSQL, with persistence and SQL visibility in their own databases, the schemas set up by
 * temporal-sql-tool, the `default` namespace registered and the pathway search attributes
 * added, as in production. Loopback ports only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { silentLogger } from '../../observability/log';
import { ensureSearchAttributes } from '../../temporal/connection';
import { serverInstall, serverInstallDir, TEMPORAL_SERVER_VERSION } from '../../temporal/servers';
import { createServer } from 'node:net';
import { msToTs } from '@temporalio/common/lib/time';

export interface ProductionTemporal {
  address: string;
  namespace: string;
  stop(): Promise<void>;
  /** Kills the server as a crash would (SIGKILL) and waits until it has gone. */
  kill(): Promise<void>;
  /** Starts it again on the same databases and ports, and resolves once the namespace answers. */
  restart(): Promise<void>;
}

const DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;

function sqlTool(tool: string, db: { host: string; port: number; user: string; password: string }, database: string, args: string[]): void {
  execFileSync(
    tool,
    ['--plugin', 'postgres12', '--ep', db.host, '-p', String(db.port), '-u', db.user, '--pw', db.password, '--db', database, ...args],
    { stdio: 'pipe' },
  );
}

/** Sets up both databases with the schemas the installed server ships with. */
function setUpSchemas(tool: string, schemaDir: string, db: Parameters<typeof sqlTool>[1]): void {
  for (const [kind, database] of [['temporal', DATABASES.persistence], ['visibility', DATABASES.visibility]] as const) {
    sqlTool(tool, db, database, ['create-database']);
    sqlTool(tool, db, database, ['setup-schema', '-v', '0.0']);
    sqlTool(tool, db, database, ['update-schema', '-d', path.join(schemaDir, kind, 'versioned')]);
  }
}

function serverConfig(db: Parameters<typeof sqlTool>[1], ports: number[], dynamicConfigFile: string): unknown {
  const [frontend, frontendHttp, frontendMembership, history, historyMembership, matching, matchingMembership, worker, workerMembership] = ports;
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${db.host}:${db.port}`,
      connectProtocol: 'tcp',
      user: db.user,
      password: db.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: object = {}) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra } });
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      // A few shards, as a small production cluster would have (the number is fixed for a cluster's life).
      numHistoryShards: 4,
      datastores: { default: store(DATABASES.persistence, 20), visibility: store(DATABASES.visibility, 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: rpc(frontend!, frontendMembership!, { httpPort: frontendHttp }),
      history: rpc(history!, historyMembership!),
      matching: rpc(matching!, matchingMembership!),
      worker: rpc(worker!, workerMembership!),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/**
 * A free loopback port below 32768: the server stores membership ports in a smallint column,
 * and the system's ephemeral ports (what port 0 gives) lie above it.
 */
async function freeLowPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

async function until<T>(what: string, deadlineMs: number, attempt: () => Promise<T>, output: () => string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal server: ${what} failed within ${deadlineMs / 1000} s: ${String(err)}\n${output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Starts the server on the PostgreSQL at `postgresUrl` (a superuser URL). Fails loudly if it cannot. */
export async function startProductionTemporal(postgresUrl: string, namespace = 'default'): Promise<ProductionTemporal> {
  const installed = serverInstall();
  if (!existsSync(installed.server) || !existsSync(installed.sqlTool) || !existsSync(installed.postgresSchemaDir)) {
    throw new Error(`Temporal server ${TEMPORAL_SERVER_VERSION} is not installed in ${serverInstallDir()}: run npm run install-temporal-servers (needs Go)`);
  }
  const url = new URL(postgresUrl);
  const db = { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  setUpSchemas(installed.sqlTool, installed.postgresSchemaDir, db);

  const root = mkdtempSync(path.join(os.tmpdir(), 'pathway-temporal-server-'));
  mkdirSync(path.join(root, 'config'));
  const dynamicConfigFile = path.join(root, 'config', 'dynamic.yaml');
  // Search attributes added at start-up are seen at once, not after the cache's minute.
  writeFileSync(dynamicConfigFile, stringify({ 'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }] }));
  const ports: number[] = [];
  while (ports.length < 9) ports.push(await freeLowPort(ports));
  writeFileSync(path.join(root, 'config', 'development.yaml'), stringify(serverConfig(db, ports, dynamicConfigFile)));
  const address = `127.0.0.1:${ports[0]}`;

  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  let child: ChildProcess;
  let exited: Promise<void>;
  const spawnServer = () => {
    child = spawn(installed.server, ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const spawned = child;
    exited = new Promise<void>((resolve) => spawned.once('exit', () => resolve()));
  };
  const tail = () => (child.exitCode !== null ? `(exited ${child.exitCode})\n` : '') + output.slice(-4000);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(root, { recursive: true, force: true });
  };
  const answering = async () => {
    const connection = await until('frontend start', 90_000, async () => {
      if (child.exitCode !== null) throw new Error('server exited');
      const c = await Connection.connect({ address, connectTimeout: 2000 });
      await c.workflowService.getSystemInfo({});
      return c;
    }, tail);
    return connection;
  };
  spawnServer();
  try {
    const connection = await answering();
    try {
      await until('namespace registration', 60_000, async () => {
        try {
          await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
        } catch (err) {
          if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
        }
      }, tail);
      // The frontend knows a new namespace once its namespace cache refreshes (every few seconds).
      await until('namespace availability', 60_000, () => connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'readiness-probe' } }), tail);
      await until('search attributes', 60_000, () => ensureSearchAttributes(connection, namespace, silentLogger), tail);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const restart = async () => {
    await kill();
    spawnServer();
    const connection = await answering();
    try {
      await until('namespace availability', 60_000, () => connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'readiness-probe' } }), tail);
    } finally {
      await connection.close();
    }
  };
  return { address, namespace, stop, kill, restart };
}
