/**
 * A real PostgreSQL server from the machine's own packages (Debian's `postgresql`), started in a
 * scratch folder on a free loopback port. Used by the test run (once per run) and the benchmarks.
 * PostgreSQL refuses to run as root, so as root (CI) the server runs as the `postgres` user the
 * Debian package creates. `npm test` installs the package first when it is missing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './service-process';
import { findPostgresBinDir } from './system-tools';

/** The folder of PostgreSQL's server programs (test/harness/system-tools.ts); fails when there is none. */
export function postgresBinDir(): string {
  const bin = findPostgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed: `npm test` installs Debian\'s postgresql package as root or with sudo, or set PATHWAY_POSTGRES_BIN');
  return bin;
}

function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export interface PostgresServer {
  /** A superuser connection to the `postgres` database. */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown); the data stays, so `start` brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and deletes its data. */
  destroy(): Promise<void>;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited while starting (${child.exitCode}):\n${output()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 30 s:\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Initialises a cluster in a new scratch folder and starts it. Fails loudly if it cannot. */
export async function startPostgresServer(opts: { port?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = runAs();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-pg-'));
  if (user.uid !== undefined) chownSync(dataDir, user.uid, user.gid!);
  execFileSync(path.join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], {
    ...user,
    stdio: 'pipe',
  });
  const port = opts.port ?? (await freePort());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let log = '';

  const start = async () => {
    log = '';
    child = spawn(
      path.join(bin, 'postgres'),
      // Durability is not what a test measures; the socket folder is the data folder so nothing needs /run.
      ['-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
      { ...user, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    await waitUntilReady(url, child, () => log);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGINT');
    await exited;
  };
  await start();
  return {
    url,
    port,
    dataDir,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new, empty database on the server, for one test file or one benchmark. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
