/**
 * /v1/worklist: what a care team must act on, most urgent first.
 */
import { Router } from 'express';
import { requirePermission } from '../auth';
import type { PathwayService } from '../pathways-service';
import { invalid } from '../problem';
import { WorklistQuerySchema } from '../schemas';

export function worklistRouter(service: PathwayService): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const query = WorklistQuerySchema.safeParse(req.query);
    if (!query.success) throw invalid(query.error);
    const scope = principal.careTeams ? { careTeams: principal.careTeams } : {};
    const items = await service.worklist(scope, query.data.careTeam, query.data.dueSoonDays);
    res.json({ generatedAt: new Date().toISOString(), items });
  });
  return router;
}
