/**
 * Where the Temporal server executables come from.
 *
 * The SDK normally downloads its servers from the internet. Machines without internet
 * (hospital networks, this project's CI) install them from package registries instead:
 * the Temporal CLI through Go modules, the time-skipping test server from Maven Central
 * (see scripts/install-temporal-servers.ts). Each executable is resolved in this order:
 *   1. an explicit path in the environment (TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH);
 *   2. the pinned version installed in the tools cache;
 *   3. the SDK's own cached download, for users with internet and no Go or Java.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EphemeralServerExecutable } from '@temporalio/testing';

/** Pinned versions. `go install` refuses CLI releases from v1.6.0 on (their go.mod has replace directives). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_ARTIFACT = { groupId: 'io.temporal', artifactId: 'temporal-test-server', version: '1.38.0' };
export const TEST_SERVER_MAIN_CLASS = 'io.temporal.testserver.TestServer';
/**
 * The Temporal server itself, as production runs it (docker-compose.yml runs the same version):
 * for the test suite's production-like server on PostgreSQL. v1.29.1 is the 1.29 release the Go
 * module proxy serves.
 */
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER_PACKAGES = { server: 'cmd/server', sqlTool: 'cmd/tools/sql' } as const;

export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PATHWAY_TOOLS_DIR) return path.resolve(env.PATHWAY_TOOLS_DIR);
  const cacheHome = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'pathway', 'temporal');
}

export function cliInstallPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsCacheDir(env), 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

export function testServerInstallDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsCacheDir(env), 'temporal-test-server', TEST_SERVER_ARTIFACT.version);
}

export function testServerInstallPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(testServerInstallDir(env), 'bin', 'temporal-test-server');
}

export function serverInstallDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsCacheDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** The server, its SQL schema tool and the schema files they ship with, as installed. */
export function serverInstall(env: NodeJS.ProcessEnv = process.env): { server: string; sqlTool: string; postgresSchemaDir: string } {
  const dir = serverInstallDir(env);
  return {
    server: path.join(dir, 'bin', 'temporal-server'),
    sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'),
    postgresSchemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
}

export interface ResolvedExecutable {
  executable: EphemeralServerExecutable;
  /** Where it came from, for the start-up log. */
  source: 'environment' | 'tools-cache' | 'sdk-download';
}

function resolve(envVar: string, installed: string, env: NodeJS.ProcessEnv): ResolvedExecutable {
  const explicit = env[envVar];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`${envVar} points to ${explicit}, which does not exist`);
    return { executable: { type: 'existing-path', path: explicit }, source: 'environment' };
  }
  if (existsSync(installed)) return { executable: { type: 'existing-path', path: installed }, source: 'tools-cache' };
  return { executable: { type: 'cached-download' }, source: 'sdk-download' };
}

/** The Temporal CLI, whose `server start-dev` is the embedded default and the end-to-end test server. */
export function resolveDevServer(env: NodeJS.ProcessEnv = process.env): ResolvedExecutable {
  return resolve('TEMPORAL_CLI_PATH', cliInstallPath(env), env);
}

/** The time-skipping test server, started as `<executable> <port>`. */
export function resolveTimeSkippingServer(env: NodeJS.ProcessEnv = process.env): ResolvedExecutable {
  return resolve('TEMPORAL_TEST_SERVER_PATH', testServerInstallPath(env), env);
}
