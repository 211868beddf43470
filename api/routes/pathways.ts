/**
 * /v1/pathways: enrolment, the clinical events of a pathway, and the dashboard's list and summary.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ActionName } from '../../clinical/events';
import { may, type Permission } from '../../clinical/permissions';
import { requirePermission, type Principal } from '../auth';
import { actorOf, scopeOf } from '../caller';
import type { AccessContext, PathwayService } from '../pathways-service';
import { HttpProblem, invalid } from '../problem';
import {
  CHANGE_KINDS,
  EnrolmentRequestSchema,
  ListQuerySchema,
  LookupRequestSchema,
  PathwayIdSchema,
  PatientCorrectionSchema,
  SummaryQuerySchema,
  type ChangeKind,
} from '../schemas';

function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: string[] = []): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(result.error, prefix);
  return result.data;
}


/** Who is asking and why (the route), for the access entries. */
export function accessContext(req: Request, res: Response, p: Principal): AccessContext {
  return { actorId: p.id, actorRole: p.role, route: `${req.method} ${String(res.locals.route ?? req.baseUrl + req.path)}`, requestId: res.locals.requestId as string | undefined };
}

/** The reader's access context when their role may see who patients are; otherwise nothing is disclosed. */
export function disclosureFor(req: Request, res: Response, p: Principal): AccessContext | undefined {
  return may(p.role, 'read-identity') ? accessContext(req, res, p) : undefined;
}

const CHANGE_PERMISSION: Record<Exclude<ChangeKind, 'actions'>, Permission> = {
  reassessments: 'record-reassessment',
  procedures: 'record-procedure',
  workup: 'record-workup',
  'red-flags': 'report-red-flags',
};

export function pathwaysRouter(service: PathwayService): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const principal = requirePermission(req, 'enrol');
    const body = parse(EnrolmentRequestSchema, req.body);
    const { pathway, replayed } = await service.enrol(body, actorOf(principal), scopeOf(principal), req.idempotencyKey, disclosureFor(req, res, principal));
    res
      .status(201)
      .location(`/v1/pathways/${pathway.pathwayId}`)
      .set('Idempotent-Replayed', String(replayed))
      .json({ pathway, firstDue: pathway.due });
  });

  router.get('/', async (req, res) => {
    const principal = requirePermission(req, 'read');
    res.json(await service.list(parse(ListQuerySchema, req.query), scopeOf(principal), disclosureFor(req, res, principal)));
  });

  router.get('/summary', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const { careTeam } = parse(SummaryQuerySchema, req.query);
    res.json({ careTeams: await service.summary(scopeOf(principal), careTeam) });
  });

  router.post('/lookup', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const { patientRef } = parse(LookupRequestSchema, req.body);
    res.json({ pathway: await service.lookup(patientRef, scopeOf(principal), disclosureFor(req, res, principal)) });
  });

  router.get('/:pathwayId', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    res.json({ pathway: await service.get(id, scopeOf(principal), disclosureFor(req, res, principal)) });
  });

  router.get('/:pathwayId/access-log', async (req, res) => {
    const principal = requirePermission(req, 'read-access-log');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    res.json({ items: await service.accessLog(id, scopeOf(principal)) });
  });

  router.patch('/:pathwayId/patient', async (req, res) => {
    const principal = requirePermission(req, 'correct-identity');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    const correction = parse(PatientCorrectionSchema, req.body);
    res.json({ patient: await service.correctPatient(id, correction, scopeOf(principal), accessContext(req, res, principal)) });
  });

  /** A change's kind, pathway, body and principal, checked the same way for the change and its preview. */
  const changeRequest = (req: Request) => {
    const kind = req.params.kind as ChangeKind;
    if (!Object.hasOwn(CHANGE_KINDS, kind)) throw new HttpProblem(404, 'no such resource');
    // Refuse a role before reading its body; for actions, every role that may act at all may hold.
    requirePermission(req, kind === 'actions' ? 'action:hold' : CHANGE_PERMISSION[kind]);
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    const body = parse(CHANGE_KINDS[kind].schema, req.body);
    const principal = kind === 'actions' ? requirePermission(req, `action:${(body as { action: ActionName }).action}`) : req.principal!;
    return { kind, id, body, principal };
  };

  router.post('/:pathwayId/:kind', async (req, res) => {
    const { kind, id, body, principal } = changeRequest(req);
    const result = await service.change(id, kind, actorOf(principal), body, scopeOf(principal), req.idempotencyKey);
    res.json(result);
  });

  // What the same change would do, recording nothing: the decisions it would take, or its refusal.
  router.post('/:pathwayId/:kind/preview', async (req, res) => {
    const { kind, id, body, principal } = changeRequest(req);
    res.json({ preview: true, ...(await service.preview(id, kind, actorOf(principal), body, scopeOf(principal))) });
  });

  return router;
}
