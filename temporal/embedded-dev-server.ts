/**
 * The embedded default's Temporal dev server (`temporal server start-dev`), run as a child whose
 * output goes through the service's logger: its JSON log lines and its start-up banner become
 * JSON lines of the service, so every line an operator reads is JSON.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LogFields, Logger } from '../observability/log';

export interface DevServerOptions {
  executable: string;
  ip: string;
  port: number;
  uiPort: number;
  dbFilename: string;
  namespace: string;
  uiCodecEndpoint?: string;
}

const LEVELS: Record<string, keyof Logger> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', dpanic: 'error', panic: 'error', fatal: 'error' };
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

function forward(log: Logger, line: string): void {
  const text = line.replace(ANSI, '').trim();
  if (!text) return;
  const fields: LogFields = { source: 'temporal-dev-server' };
  try {
    const entry = JSON.parse(text) as Record<string, unknown>;
    for (const key of ['error', 'namespace', 'service', 'component']) {
      if (typeof entry[key] === 'string') fields[key] = entry[key] as string;
    }
    log[LEVELS[String(entry.level).toLowerCase()] ?? 'info'](String(entry.msg ?? 'dev server log'), fields);
  } catch {
    log.info(text, fields);
  }
}

export function startDevServer(opts: DevServerOptions, log: Logger): { stop(): Promise<void>; exited: Promise<number | null> } {
  const args = [
    'server',
    'start-dev',
    '--ip', opts.ip,
    '--port', String(opts.port),
    '--ui-port', String(opts.uiPort),
    '--db-filename', opts.dbFilename,
    '--namespace', opts.namespace,
    '--log-format', 'json',
    '--log-level', 'warn',
    ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
  ];
  // Its own process group: a Ctrl-C in the terminal reaches the service, which stops it in order.
  const child = spawn(opts.executable, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Once stopping, its components' complaints about each other going away are noise, not news.
  let stopping = false;
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream! }).on('line', (line) => stopping || forward(log, line));
  // Should the service exit without stopping it (a signal during start-up), it goes too.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      process.off('exit', orphaned);
      resolve(code);
    });
    child.once('error', (err) => {
      log.error('the Temporal dev server could not start', { executable: opts.executable, error: err.message });
      resolve(null);
    });
  });
  return {
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
