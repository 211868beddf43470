/**
 * /v1/reports: cohort outcomes for clinical leads, from the record store (closed pathways included).
 */
import { Router } from 'express';
import { requirePermission } from '../auth';
import { scopeOf } from '../caller';
import type { PathwayService } from '../pathways-service';
import { invalid } from '../problem';
import { OutcomesQuerySchema } from '../schemas';

export function reportsRouter(service: PathwayService): Router {
  const router = Router();
  router.get('/outcomes', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const query = OutcomesQuerySchema.safeParse(req.query);
    if (!query.success) throw invalid(query.error);
    res.json(await service.outcomes(query.data, scopeOf(principal)));
  });
  return router;
}
