/**
 * `npm start`: runs the service until Ctrl-C (SIGINT) or SIGTERM, then stops cleanly.
 */
import { loadConfig } from '../config';
import { createLogger, outputFor } from '../observability/log';
import { startService, type RunningService } from './service';

// Whoever read the logs has gone (a closed pipe): there is nowhere left to write them, which is no reason to crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, outputFor(process.stdout, config.production));
  let service: RunningService | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Still starting (e.g. waiting for Temporal): nothing is running that needs stopping in order.
    if (!service) {
      log.info('stopped before start-up completed', { signal });
      process.exit(0);
    }
    log.info('stopping', { signal });
    service
      .stop()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  service = await startService(config, log);
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'failed to start', error: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
