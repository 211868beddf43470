/**
 * The time-skipping Temporal test server, one per test file.
 *
 * Its clock is global to the server: one pathway stuck on it (the test server has known races,
 * temporalio/sdk-java#2606 and #3088, that leave a workflow task started for ever and the clock
 * locked with it) would stop time for every file after it. A server of its own per file keeps such
 * a failure to the file where it happened, which then says what the server held (pathway-driver).
 */
import { spawn } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { silentLogger } from '../../observability/log';
import { ensureSearchAttributes } from '../../temporal/connection';
import { freePort } from './service-process';

export interface TimeSkippingServer {
  address: string;
  stop(): Promise<void>;
}

/**
 * Launches the server from its installed executable, waiting up to a minute for its port: the
 * SDK's own launcher allows 5 s, which a busy machine's JVM can miss.
 */
async function launch(executable: string): Promise<TimeSkippingServer> {
  const port = await freePort();
  const child = spawn(executable, [String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const address = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the time-skipping server exited (${child.exitCode}): ${stderr}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        // It refuses search attributes it does not know, as a production cluster does.
        await ensureSearchAttributes(connection, 'default', silentLogger);
      } finally {
        await connection.close();
      }
      return { address, stop };
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the time-skipping server did not answer within 60 s: ${err instanceof Error ? err.message : String(err)}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Starts a server and connects a time-skipping environment to it. The SDK builds a time-skipping
 * environment only around a server it starts itself; its static `create` also accepts an existing
 * one. Without an installed executable (users with internet and no Java), the SDK downloads and
 * starts its own.
 */
export async function startTimeSkipping(executable: EphemeralServerExecutable): Promise<{ env: TestWorkflowEnvironment; stop(): Promise<void> }> {
  if (executable.type !== 'existing-path') {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable } });
    await ensureSearchAttributes(env.connection, 'default', silentLogger);
    return { env, stop: () => env.teardown() };
  }
  const server = await launch(executable.path);
  try {
    const create = (TestWorkflowEnvironment as unknown as { create(opts: object): Promise<TestWorkflowEnvironment> }).create;
    const env = await create.call(TestWorkflowEnvironment, {
      server: { type: 'existing' },
      address: server.address,
      namespace: 'default',
      supportsTimeSkipping: true,
    });
    return {
      env,
      async stop() {
        await env.teardown();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
