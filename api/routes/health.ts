/**
 * Liveness (the process answers) and readiness (Temporal and the record store answer too).
 * No authentication, no data: load balancers and orchestrators call these.
 */
import { Router } from 'express';

export interface ReadinessChecks {
  temporal: () => Promise<boolean>;
  /** The record store (PostgreSQL or the embedded one). */
  database: () => Promise<boolean>;
}

export function healthRouter(checks: ReadinessChecks): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [temporal, database] = await Promise.all([checks.temporal().catch(() => false), checks.database().catch(() => false)]);
    const ready = temporal && database;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', temporal, database });
  });
  return router;
}
