/**
 * Installs the pinned Temporal servers from package registries into the tools cache
 * (outside the work tree, keyed by version). Does nothing for what is already installed.
 *
 *   tsx scripts/install-temporal-servers.ts [--only cli|test-server|server]
 *
 * - Temporal CLI (dev server, SQLite persistence, Web UI): `go install` from Go modules.
 * - Time-skipping test server: the Java program from Maven Central, with a launcher script.
 * - Temporal server and its SQL schema tool (the production-like server of the tests, on
 *   PostgreSQL): `go install` from Go modules, with the schema files of the same module.
 *
 * A missing toolchain (no Go, no Java or Maven) is a warning, not an error: the code that
 * starts servers then falls back to the SDK's own download, which works with internet.
 * A toolchain that is present but fails to install is an error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
  TEMPORAL_SERVER_MODULE,
  TEMPORAL_SERVER_PACKAGES,
  TEMPORAL_SERVER_VERSION,
  TEST_SERVER_ARTIFACT,
  TEST_SERVER_MAIN_CLASS,
  cliInstallPath,
  serverInstall,
  serverInstallDir,
  testServerInstallDir,
  testServerInstallPath,
  toolsCacheDir,
} from '../temporal/servers';

function has(command: string, args: string[] = ['--version']): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

function log(message: string): void {
  console.log(`[install-temporal-servers] ${message}`);
}

/** Builds into a scratch folder beside the target, then renames, so a stopped install never looks complete. */
function installAtomically(finalDir: string, build: (scratchDir: string) => void): void {
  mkdirSync(path.dirname(finalDir), { recursive: true });
  const scratch = mkdtempSync(`${finalDir}.partial-`);
  chmodSync(scratch, 0o755);
  try {
    build(scratch);
    rmSync(finalDir, { recursive: true, force: true });
    renameSync(scratch, finalDir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function installCli(): void {
  const target = cliInstallPath();
  if (existsSync(target)) {
    log(`Temporal CLI ${TEMPORAL_CLI_VERSION} already installed: ${target}`);
    return;
  }
  if (!has('go', ['version'])) {
    log('WARNING: Go is not installed; the dev server will come from the Temporal SDK download (needs internet).');
    return;
  }
  log(`building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (a few minutes the first time)`);
  const started = Date.now();
  installAtomically(path.dirname(target), (scratch) => {
    execFileSync('go', ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      stdio: 'inherit',
      env: { ...process.env, GOBIN: scratch, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
    });
  });
  log(`Temporal CLI installed in ${((Date.now() - started) / 1000).toFixed(0)} s: ${target}`);
}

const LAUNCHER = `#!/bin/sh
# Temporal time-skipping test server (${TEST_SERVER_ARTIFACT.groupId}:${TEST_SERVER_ARTIFACT.artifactId}:${TEST_SERVER_ARTIFACT.version}).
# Started by the Temporal SDK as \`<this file> <port>\`. A small heap and the client compiler
# keep the JVM's start well inside the few seconds the SDK waits for the port.
dir=$(cd "$(dirname "$0")/.." && pwd)
java=java
[ -n "$JAVA_HOME" ] && java="$JAVA_HOME/bin/java"
exec "$java" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -cp "$dir/lib/*" ${TEST_SERVER_MAIN_CLASS} "$@"
`;

function pom(): string {
  const { groupId, artifactId, version } = TEST_SERVER_ARTIFACT;
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>pathway.tools</groupId>
  <artifactId>temporal-test-server-install</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>
  </dependencies>
</project>
`;
}

function installTestServer(): void {
  const target = testServerInstallPath();
  if (existsSync(target)) {
    log(`time-skipping test server ${TEST_SERVER_ARTIFACT.version} already installed: ${target}`);
    return;
  }
  if (!has('java', ['-version']) || !has('mvn', ['-v'])) {
    log('WARNING: Java or Maven is missing; the test server will come from the Temporal SDK download (needs internet).');
    return;
  }
  log(`fetching time-skipping test server ${TEST_SERVER_ARTIFACT.version} with Maven`);
  const started = Date.now();
  installAtomically(testServerInstallDir(), (scratch) => {
    writeFileSync(path.join(scratch, 'pom.xml'), pom());
    execFileSync(
      'mvn',
      ['-q', '-B', '-f', path.join(scratch, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(scratch, 'lib')}`],
      { stdio: 'inherit' },
    );
    mkdirSync(path.join(scratch, 'bin'));
    const launcher = path.join(scratch, 'bin', 'temporal-test-server');
    writeFileSync(launcher, LAUNCHER);
    chmodSync(launcher, 0o755);
  });
  log(`time-skipping test server installed in ${((Date.now() - started) / 1000).toFixed(0)} s: ${target}`);
}

/** The module cache marks files read-only; the copies must stay removable by a later install. */
function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) makeWritable(file);
    else chmodSync(file, 0o644);
  }
}

function installServer(): void {
  const target = serverInstall();
  if (existsSync(target.server) && existsSync(target.sqlTool) && existsSync(target.postgresSchemaDir)) {
    log(`Temporal server ${TEMPORAL_SERVER_VERSION} already installed: ${serverInstallDir()}`);
    return;
  }
  if (!has('go', ['version'])) {
    log('WARNING: Go is not installed; the tests\' production-like Temporal server cannot be installed (they will fail).');
    return;
  }
  log(`building Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with go install (several minutes the first time)`);
  const started = Date.now();
  const env = { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  installAtomically(serverInstallDir(), (scratch) => {
    const bin = path.join(scratch, 'bin');
    mkdirSync(bin);
    const packages = [TEMPORAL_SERVER_PACKAGES.server, TEMPORAL_SERVER_PACKAGES.sqlTool].map((p) => `${TEMPORAL_SERVER_MODULE}/${p}@${TEMPORAL_SERVER_VERSION}`);
    execFileSync('go', ['install', ...packages], { stdio: 'inherit', env: { ...env, GOBIN: bin } });
    renameSync(path.join(bin, 'server'), path.join(bin, 'temporal-server'));
    renameSync(path.join(bin, 'sql'), path.join(bin, 'temporal-sql-tool'));
    // The schema files ship in the module, which go install has just put in the module cache.
    const { Dir } = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], { env, encoding: 'utf8' })) as { Dir: string };
    const schema = path.join(scratch, 'schema', 'postgresql');
    cpSync(path.join(Dir, 'schema', 'postgresql', 'v12'), path.join(schema, 'v12'), { recursive: true });
    makeWritable(path.join(scratch, 'schema'));
  });
  log(`Temporal server installed in ${((Date.now() - started) / 1000).toFixed(0)} s: ${serverInstallDir()}`);
}

function main(): void {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;
  if (only !== undefined && only !== 'cli' && only !== 'test-server' && only !== 'server') {
    console.error('usage: install-temporal-servers [--only cli|test-server|server]');
    process.exit(2);
  }
  log(`tools cache: ${toolsCacheDir()}`);
  if (only === undefined || only === 'cli') installCli();
  if (only === undefined || only === 'test-server') installTestServer();
  if (only === undefined || only === 'server') installServer();
}

main();
