/**
 * Liveness (the process answers) and readiness (Temporal answers too). No authentication,
 * no data: load balancers and orchestrators call these.
 */
import { Router } from 'express';

export function healthRouter(isTemporalReachable: () => Promise<boolean>): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const temporal = await isTemporalReachable().catch(() => false);
    res.status(temporal ? 200 : 503).json({ status: temporal ? 'ready' : 'unavailable', temporal });
  });
  return router;
}
