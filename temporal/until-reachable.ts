/**
 * Start-up against a dependency that may not be up yet (Temporal, the database): try, and on
 * failure log one line naming what and where, then try again with exponential backoff.
 */
import type { Logger } from '../observability/log';

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Give up after this many attempts (unlimited when unset). */
  attempts?: number;
}

export const STARTUP_BACKOFF: Backoff = { initialMs: 1000, maxMs: 30_000 };

export async function untilReachable<T>(what: string, address: string, connect: () => Promise<T>, log: Logger, backoff: Backoff = STARTUP_BACKOFF): Promise<T> {
  let delay = backoff.initialMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const connected = await connect();
      if (attempt > 1) log.info(`${what} reachable`, { address, attempts: attempt });
      return connected;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (backoff.attempts !== undefined && attempt >= backoff.attempts) throw new Error(`${what} unreachable at ${address} after ${attempt} attempts: ${error}`);
      log.warn(`${what} unreachable at ${address}; retrying in ${Math.round(delay / 1000)} s`, { address, attempt, retryInMs: delay, error });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  }
}
