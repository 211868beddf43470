/**
 * /v1/worklist: what a care team must act on, most urgent first, a page at a time.
 */
import { Router } from 'express';
import { requirePermission } from '../auth';
import { scopeOf } from '../caller';
import type { PathwayService } from '../pathways-service';
import { invalid } from '../problem';
import { WorklistQuerySchema } from '../schemas';
import { disclosureFor } from './pathways';

export function worklistRouter(service: PathwayService): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const query = WorklistQuerySchema.safeParse(req.query);
    if (!query.success) throw invalid(query.error);
    res.json(await service.worklist(query.data, scopeOf(principal), disclosureFor(req, res, principal)));
  });
  return router;
}
