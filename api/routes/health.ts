/**
 * Liveness (the process answers) and readiness (Temporal and the record store answer too). No
 * authentication, no data: load balancers and orchestrators call these, and probes give up
 * after a second.
 */
import { Router } from 'express';
import { RETRY_AFTER_SECONDS } from '../temporal-deadline';

/** Readiness answers within this, whatever Temporal or the database do. */
export const READY_WITHIN_MS = 800;

export interface ReadinessChecks {
  temporal: () => Promise<boolean>;
  /** The record store (PostgreSQL or the embedded one). */
  database: () => Promise<boolean>;
}

/** A check that answers false past the deadline, and that probes arriving meanwhile share. */
function bounded(check: () => Promise<boolean>): () => Promise<boolean> {
  let inFlight: Promise<boolean> | undefined;
  return async () => {
    inFlight ??= check()
      .catch(() => false)
      .finally(() => {
        inFlight = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_WITHIN_MS);
    });
    const answer = await Promise.race([inFlight, late]);
    clearTimeout(timer);
    return answer;
  };
}

export function healthRouter(checks: ReadinessChecks): Router {
  const router = Router();
  const temporalCheck = bounded(checks.temporal);
  const databaseCheck = bounded(checks.database);
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [temporal, database] = await Promise.all([temporalCheck(), databaseCheck()]);
    const ready = temporal && database;
    if (!ready) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', temporal, database });
  });
  return router;
}
