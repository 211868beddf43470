/**
 * /v1/definitions: the pathway definitions on offer, each with its rules as sentences a
 * clinician can read, filled in with that version's own numbers.
 */
import { Router } from 'express';
import type { DefinitionRegistry } from '../../clinical/registry';
import { describeRules } from '../../clinical/rules';
import { requirePermission } from '../auth';
import { HttpProblem } from '../problem';

export function definitionsRouter(definitions: DefinitionRegistry): Router {
  const router = Router();
  router.get('/', (req, res) => {
    requirePermission(req, 'read');
    res.json({ items: definitions.list().map((d) => ({ id: d.id, version: d.version, title: d.title })) });
  });
  router.get('/:id/:version', (req, res) => {
    requirePermission(req, 'read');
    const version = Number(req.params.version);
    const definition = Number.isInteger(version) ? definitions.get(req.params.id!, version) : undefined;
    if (!definition) throw new HttpProblem(404, 'no such pathway definition');
    res.json({ definition, rules: describeRules(definition) });
  });
  return router;
}
