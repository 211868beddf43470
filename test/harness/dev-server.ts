/**
 * A Temporal dev server of a test's own, which the test can stop (as a crash would) and start
 * again on the same port and SQLite file: the run's shared server must never go down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { resolveDevServer } from '../../temporal/servers';
import { freePort } from './service-process';

export class RestartableDevServer {
  private child: ChildProcess | undefined;
  private readonly output: string[] = [];

  private constructor(
    private readonly executable: string,
    readonly port: number,
    private readonly ports: { http: number; metrics: number },
    readonly dbFilename: string,
  ) {}

  static async create(dbFilename: string): Promise<RestartableDevServer> {
    const { executable } = resolveDevServer();
    if (executable.type !== 'existing-path') throw new Error('the outage test needs an installed Temporal CLI (npm run install-temporal-servers)');
    return new RestartableDevServer(executable.path, await freePort(), { http: await freePort(), metrics: await freePort() }, dbFilename);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the server and resolves once it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(
      this.executable,
      [
        'server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(this.port),
        '--http-port', String(this.ports.http), '--metrics-port', String(this.ports.metrics),
        '--db-filename', this.dbFilename, '--namespace', 'default', '--log-level', 'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (c: Buffer) => this.output.push(c.toString()));
    child.stderr!.on('data', (c: Buffer) => this.output.push(c.toString()));
    this.child = child;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the dev server exited (${child.exitCode}):\n${this.output.join('').slice(-2000)}`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        await connection.close();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the dev server did not answer in ${timeoutMs} ms: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Kills the server as a crash would (SIGKILL) and waits until it has gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }
}
