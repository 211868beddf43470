/**
 * Liveness (the process answers) and readiness (Temporal answers too). No authentication,
 * no data: load balancers and orchestrators call these, and probes give up after a second.
 */
import { Router } from 'express';
import { RETRY_AFTER_SECONDS } from '../temporal-deadline';

/** Readiness answers within this, whatever Temporal does. */
export const READY_WITHIN_MS = 800;

export function healthRouter(isTemporalReachable: () => Promise<boolean>): Router {
  const router = Router();
  // Probes arriving while a check is still waiting share it, so a hung Temporal does not pile checks up.
  let inFlight: Promise<boolean> | undefined;
  const check = (): Promise<boolean> => {
    inFlight ??= isTemporalReachable()
      .catch(() => false)
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_WITHIN_MS);
    });
    const temporal = await Promise.race([check(), late]);
    clearTimeout(timer);
    if (!temporal) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(temporal ? 200 : 503).json({ status: temporal ? 'ready' : 'unavailable', temporal });
  });
  return router;
}
