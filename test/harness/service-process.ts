/**
 * Runs the service as `npm start` does, in a child process, and reads its JSON log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The settings of `npm start` on the embedded default, each server on a free port and the data in
 * a new folder (the caller removes it).
 */
export async function embeddedDefaultEnv(dataDir: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    PATHWAY_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    PATHWAY_METRICS_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
    ...extra,
  };
}

export interface LogLine {
  msg?: string;
  level?: string;
  [key: string]: unknown;
}

export class ServiceProcess {
  readonly lines: LogLine[] = [];
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.output.push(line);
        if (line.startsWith('{')) {
          try {
            this.lines.push(JSON.parse(line) as LogLine);
          } catch {
            // not one of ours
          }
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** `root`: another copy of the code, as a release other than this one (test/harness/worker-release.ts). */
  static start(env: Record<string, string>, root = ROOT): ServiceProcess {
    // As `npm start` runs it: one node process with tsx's loader, so signals reach the service itself.
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: root,
      // Metrics off unless a test asks: several services (and test runs) share this machine.
      env: { ...process.env, LOG_LEVEL: 'info', PATHWAY_METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(child);
  }

  /** The node process itself (not a launcher): what a benchmark reads the memory of. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves with the first log line that matches, or fails with what the process printed. */
  async waitFor(match: (l: LogLine) => boolean, timeoutMs = 120_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`service did not log the expected line (exit ${this.child.exitCode}):\n${this.output.slice(-40).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ctrl-C, then the exit code. */
  async interrupt(timeoutMs = 60_000): Promise<number | null> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
