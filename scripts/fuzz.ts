/**
 * `npm run fuzz`: schemathesis against /openapi.json of a running service (the embedded default,
 * in a temporary data folder), once with each role's local key, a bounded number of examples per
 * operation. Fails on any server error, schema violation, undocumented status or header, accepted
 * invalid input, method answered without 405, or ignored authentication; and on any 500 the
 * service logged.
 *
 * schemathesis comes from PyPI into a virtualenv outside the work tree, keyed by version
 * (`${XDG_CACHE_HOME:-~/.cache}/pathway/schemathesis-<version>`); it needs python3.
 * FUZZ_MAX_EXAMPLES (default 20) bounds the examples per operation and phase.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_KEYS } from '../api/auth';
import { freePort } from '../test/harness/service-process';

const SCHEMATHESIS_VERSION = '4.32.5';
const ROOT = path.join(__dirname, '..');
const maxExamples = Number(process.env.FUZZ_MAX_EXAMPLES ?? 20);

// Schema-valid requests that the pathway's state refuses (409), that name no pathway (404) or that
// the role may not send (403) are right to be refused: acceptance of valid data is not a check here.
const CHECKS = ['all'];
const EXCLUDED_CHECKS = ['positive_data_acceptance'];

function schemathesis(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const venv = path.join(cache, 'pathway', `schemathesis-${SCHEMATHESIS_VERSION}`);
  const st = path.join(venv, 'bin', 'st');
  if (existsSync(st)) return st;
  console.log(`[fuzz] installing schemathesis ${SCHEMATHESIS_VERSION} into ${venv}`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  };
  run('python3', ['-m', 'venv', venv]);
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  return st;
}

interface LogLine {
  msg?: string;
  level?: string;
  api?: string;
}

async function main(): Promise<number> {
  const st = schemathesis();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-fuzz-'));
  // schemathesis reads its settings from its working folder: a body over the API's size limit is
  // refused with 413, which is a rejection of invalid data too.
  writeFileSync(
    path.join(dataDir, 'schemathesis.toml'),
    '[checks.negative_data_rejection]\nexpected-statuses = ["400", "401", "403", "404", "406", "413", "415", "422", "428", "5xx"]\n',
  );
  const lines: LogLine[] = [];
  const service = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PATHWAY_ENV: 'development',
      PATHWAY_DATA_DIR: dataDir,
      HTTP_HOST: '127.0.0.1',
      PORT: String(await freePort()),
      TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      // The fuzzer is one client sending thousands of requests, many without a valid key.
      PATHWAY_RATE_LIMIT_PER_KEY: '1000000',
      PATHWAY_RATE_LIMIT_AUTH_FAILURES: '1000000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  service.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.startsWith('{')) {
        try {
          lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line of ours
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => service.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 180_000;
    let url: string | undefined;
    while (!url) {
      url = lines.find((l) => l.msg === 'pathway service ready')?.api;
      if (service.exitCode !== null || Date.now() > deadline) throw new Error('the service did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    const failed: string[] = [];
    for (const { key, role } of LOCAL_KEYS) {
      console.log(`[fuzz] ${role}: schemathesis ${SCHEMATHESIS_VERSION}, at most ${maxExamples} examples per operation and phase`);
      const started = Date.now();
      // Not spawnSync: the service's log lines must keep being read while schemathesis runs.
      const child = spawn(
        st,
        [
          'run', `${url}/openapi.json`,
          '--header', `Authorization: Bearer ${key}`,
          '--checks', CHECKS.join(','),
          '--exclude-checks', EXCLUDED_CHECKS.join(','),
          '--max-examples', String(maxExamples),
          '--no-color',
        ],
        // schemathesis keeps a cache in its working folder: the temporary one, not the work tree.
        { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir },
      );
      // Each of its lines carries the role, and its pytest-style closing banner ("=== 3 warnings in
      // 28s ===") is reworded, so that whoever reads CI's output does not take it for the tests' summary.
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => console.log(`[fuzz ${role}] ${unbannered(line)}`));
      }
      const run = { status: await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code))) };
      console.log(`[fuzz] ${role}: exit ${run.status} in ${Math.round((Date.now() - started) / 1000)} s`);
      if (run.status !== 0) failed.push(role);
    }
    const serverErrors = lines.filter((l) => l.msg === 'unexpected error').length;
    const answered = lines.filter((l) => l.msg === 'http request').length;
    console.log(`[fuzz] ${answered} requests answered; ${serverErrors} server errors logged; roles with failures: ${failed.join(', ') || 'none'}`);
    return failed.length === 0 && serverErrors === 0 ? 0 : 1;
  } finally {
    service.kill('SIGINT');
    const timer = setTimeout(() => service.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[fuzz] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

/** "===== 3 warnings in 27.69s =====" → "3 warnings (27.69 s)"; other lines as they are. */
function unbannered(line: string): string {
  const banner = /^=+ (.*?) =+$/.exec(line);
  return banner ? banner[1]!.replace(/ in (\d+(?:\.\d+)?)s$/, ' ($1 s)') : line;
}
