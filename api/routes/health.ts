/**
 * Liveness (the process answers) and readiness (Temporal answers, and nothing the service
 * needs there is missing). No authentication, no data: load balancers and orchestrators call these.
 */
import { Router } from 'express';

/** What keeps the service from working, in words an operator acts on; empty when nothing does. */
export type ReadinessCheck = () => Promise<string[]>;

export function healthRouter(isTemporalReachable: () => Promise<boolean>, readiness?: ReadinessCheck): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const temporal = await isTemporalReachable().catch(() => false);
    const missing = temporal && readiness ? await readiness().catch((err: unknown) => [`readiness check failed (${err instanceof Error ? err.name : 'error'})`]) : [];
    const ready = temporal && missing.length === 0;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', temporal, ...(missing.length > 0 ? { missing } : {}) });
  });
  return router;
}
