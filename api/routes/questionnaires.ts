/**
 * /v1/pathways/{id}/questionnaires: where the patient's questionnaires stand (sent, reminded,
 * opened, answered, expired, undelivered), sending a link again, and a clinician's review of a
 * red flag the patient reported at home.
 */
import { Router } from 'express';
import { z } from 'zod';
import { requirePermission } from '../auth';
import type { PathwayService } from '../pathways-service';
import { HttpProblem, invalid } from '../problem';
import { PathwayIdSchema, RedFlagReviewSchema } from '../schemas';
import { Conflict, NotFound, type QuestionnaireService } from '../../patients/questionnaire-service';
import type { Invitation } from '../../record/questionnaires';
import { accessContext, disclosureFor } from './pathways';
import { questionnaireResponseBundle } from '../../fhir/questionnaire-responses';
import { FHIR_BASE } from '../../fhir/codes';
import { subjectReference } from '../../fhir/subject';

/** The identifier system of the clinic's reference in exported subjects. */
const PATIENT_REFERENCE_SYSTEM = `${FHIR_BASE}/NamingSystem/patient-reference`;
import { instrumentsFor, type InstrumentId, type InstrumentRegistry } from '../../clinical/instruments';
import type { DefinitionRegistry } from '../../clinical/registry';
import { STAGES } from '../../clinical/vocabulary';

const QuestionnaireIdSchema = z.string().regex(/^qr-[0-9a-f]{24}$/, 'a questionnaire id');

/** What the care team sees of a questionnaire: its state and outcome, never the link. */
const view = (i: Invitation) => ({
  id: i.id,
  state: i.state,
  instruments: i.instruments,
  language: i.language,
  issuedAt: i.issuedAt,
  issuedBy: i.issuedBy,
  dueAt: i.dueAt,
  expiresAt: i.expiresAt,
  remindedAt: i.remindedAt,
  openedAt: i.openedAt,
  answeredAt: i.answeredAt,
  delivery: i.delivery,
  scores: i.scores,
  redFlags: i.redFlags,
  redFlagReview: i.redFlagReview,
  counted: i.counted,
});

function parse<T>(schema: z.ZodType<T>, value: unknown, prefix: string[] = []): T {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(r.error, prefix);
  return r.data;
}

export function questionnairesRouter(pathways: PathwayService, questionnaires: QuestionnaireService): Router {
  const router = Router();
  const scopeOf = (careTeams?: string[]) => (careTeams ? { careTeams } : {});

  router.get('/:pathwayId/questionnaires', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    await pathways.get(id, scopeOf(principal.careTeams));
    res.json({ items: (await questionnaires.list(id)).map(view) });
  });

  // What the patient answered, as FHIR QuestionnaireResponses and Observations derived from them.
  router.get('/:pathwayId/questionnaires/fhir', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    // Who the patient is goes in the subject only for those who may see it, and is audited.
    const pathway = await pathways.get(id, scopeOf(principal.careTeams), disclosureFor(req, res, principal));
    const answered = await questionnaires.answered(id);
    const subject = pathway.patient ? subjectReference({ system: PATIENT_REFERENCE_SYSTEM, patientRef: pathway.patient.reference }) : undefined;
    res.type('application/fhir+json').send(JSON.stringify(questionnaireResponseBundle(answered, subject)));
  });

  router.post('/:pathwayId/questionnaires', async (req, res) => {
    const principal = requirePermission(req, 'send-questionnaire');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    // Nothing to say but "send it": any field is a mistake the caller should hear of.
    parse(z.object({}).strict(), req.body ?? {});
    await pathways.get(id, scopeOf(principal.careTeams));
    try {
      res.status(201).json({ questionnaire: view(await questionnaires.issue(id, accessContext(req, res, principal))) });
    } catch (err) {
      if (err instanceof NotFound) throw new HttpProblem(404, err.message);
      if (err instanceof Conflict) throw new HttpProblem(409, err.message);
      throw err;
    }
  });

  router.post('/:pathwayId/questionnaires/:questionnaireId/review', async (req, res) => {
    const principal = requirePermission(req, 'report-red-flags');
    const id = parse(PathwayIdSchema, req.params.pathwayId, ['pathwayId']);
    const qid = parse(QuestionnaireIdSchema, req.params.questionnaireId, ['questionnaireId']);
    const body = parse(RedFlagReviewSchema, req.body);
    await pathways.get(id, scopeOf(principal.careTeams));
    try {
      const result = await questionnaires.review(id, qid, body.confirmed, { id: principal.id, role: principal.role }, body.note);
      res.json({ reviewed: body.confirmed ? 'confirmed' : 'not-confirmed', ...(result ? { change: result } : {}) });
    } catch (err) {
      if (err instanceof NotFound) throw new HttpProblem(404, err.message);
      throw err;
    }
  });

  return router;
}

/**
 * GET /v1/definitions/{id}/{version}/questionnaires: the FHIR Questionnaires a definition's
 * patients answer (beside its PlanDefinition at .../fhir), as a collection Bundle: the clinic's
 * own where it loaded them.
 */
export function definitionQuestionnairesRouter(definitions: DefinitionRegistry, instruments: InstrumentRegistry): Router {
  const router = Router();
  router.get('/:id/:version/questionnaires', (req, res) => {
    requirePermission(req, 'read');
    const version = Number(req.params.version);
    const definition = Number.isInteger(version) ? definitions.get(String(req.params.id), version) : undefined;
    if (!definition) throw new HttpProblem(404, 'no such pathway definition');
    const used = new Set(STAGES.flatMap((stage) => instrumentsFor(stage, false)));
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: instruments
        .all()
        .filter((q) => used.has(q.id as InstrumentId))
        .map((q) => ({ fullUrl: `https://pathway.invalid/fhir/Questionnaire/${q.id}`, resource: q })),
    };
    res.type('application/fhir+json').send(JSON.stringify(bundle));
  });
  return router;
}
