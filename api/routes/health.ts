/**
 * Liveness (the process answers) and readiness (Temporal and the record store answer, and
 * nothing the service needs there is missing). No authentication, no data: load balancers and
 * orchestrators call these, and probes give up after a second.
 */
import { Router } from 'express';
import { RETRY_AFTER_SECONDS } from '../temporal-deadline';

/** Readiness answers within this, whatever Temporal or the database do. */
export const READY_WITHIN_MS = 800;

/** What keeps the service from working, in words an operator acts on; empty when nothing does. */
export type ReadinessCheck = () => Promise<string[]>;

export interface ReadinessChecks {
  temporal: () => Promise<boolean>;
  /** The record store (PostgreSQL or the embedded one). */
  database: () => Promise<boolean>;
  /** What else must be there once Temporal answers: search attributes, a worker polling (temporal/readiness.ts). */
  missing?: ReadinessCheck;
}

/** A check that answers `late` past the deadline, `failed(err)` when it throws, and that probes arriving meanwhile share. */
function bounded<T>(check: () => Promise<T>, late: T, failed: (err: unknown) => T = () => late): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return async () => {
    inFlight ??= check()
      .catch(failed)
      .finally(() => {
        inFlight = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    const tooLate = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(late), READY_WITHIN_MS);
    });
    const answer = await Promise.race([inFlight, tooLate]);
    clearTimeout(timer);
    return answer;
  };
}

export function healthRouter(checks: ReadinessChecks): Router {
  const router = Router();
  const temporalCheck = bounded(checks.temporal, false);
  const databaseCheck = bounded(checks.database, false);
  const missingCheck = checks.missing
    ? bounded(checks.missing, [`the checks of Temporal's task queue and workers did not answer within ${READY_WITHIN_MS} ms`], (err) => [
        err instanceof Error ? err.message : String(err),
      ])
    : async () => [];
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [temporal, database, missing] = await Promise.all([temporalCheck(), databaseCheck(), missingCheck()]);
    const ready = temporal && database && missing.length === 0;
    if (!ready) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', temporal, database, ...(missing.length > 0 ? { missing } : {}) });
  });
  return router;
}
