/**
 * Where the machine's own Chromium and PostgreSQL are, for the tests, the benchmarks and the test
 * command's set-up (scripts/install-system-packages.ts, which installs Debian's packages when they
 * are missing).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The system's Chromium, or undefined. */
export function findChromium(): string | undefined {
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

/** The folder of PostgreSQL's server programs: PATHWAY_POSTGRES_BIN, else Debian's newest, else PATH; or undefined. */
export function findPostgresBinDir(): string | undefined {
  const explicit = process.env.PATHWAY_POSTGRES_BIN;
  if (explicit) return explicit;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(path.join(debian, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], 'bin');
  }
  try {
    return path.dirname(execFileSync('which', ['postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return undefined;
  }
}
