/**
 * The test command's first step (npm's pretest): finds the machine's Chromium (the console's
 * browser tests) and PostgreSQL (the record store's tests and the production-like Temporal
 * server) and OpenSSL (a certificate for the SMTP test's server), and installs Debian's `chromium`,
 * `postgresql` and `openssl` packages when any is missing, as
 * root or through sudo without a password. Anywhere else it fails naming the command to run.
 */
import { spawnSync } from 'node:child_process';
import { findChromium, findPostgresBinDir } from '../test/harness/system-tools';

function log(message: string): void {
  console.log(`[install-system-packages] ${message}`);
}

function fail(message: string): never {
  console.error(`[install-system-packages] ${message}`);
  process.exit(1);
}

function succeeds(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

function missingPackages(): string[] {
  const missing: string[] = [];
  const chromium = findChromium();
  const postgres = findPostgresBinDir();
  if (chromium) log(`Chromium: ${chromium}`);
  else missing.push('chromium');
  if (postgres) log(`PostgreSQL: ${postgres}`);
  else missing.push('postgresql');
  // The SMTP test's server certificate.
  if (!succeeds('openssl', ['version'])) missing.push('openssl');
  return missing;
}

function main(): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const by = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!succeeds('apt-get', ['--version'])) fail(`${missing.join(' and ')} missing and this is not a Debian-like system: install them, then run the tests again (set PATHWAY_POSTGRES_BIN to PostgreSQL's bin folder if it is not on PATH)`);
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? [] : succeeds('sudo', ['-n', 'true']) ? ['sudo'] : undefined;
  if (!prefix) fail(`${missing.join(' and ')} missing, and installing needs root: run \`sudo apt-get update && sudo ${by}\`, then the tests again`);
  const run = (args: string[]) => {
    const [command, ...rest] = [...prefix, ...args];
    const result = spawnSync(command!, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) fail(`\`${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
  };
  log(`installing Debian's ${missing.join(' and ')}`);
  run(['apt-get', 'update', '-q']);
  run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...missing]);
  const still = missingPackages();
  if (still.length > 0) fail(`${still.join(' and ')} still missing after \`${by}\``);
}

main();
