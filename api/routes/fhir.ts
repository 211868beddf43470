/**
 * FHIR R4: a pathway as a Bundle (with what the patient answered at home), a definition as a
 * PlanDefinition (and its $package, with the Questionnaires it names), and scores from the EHR as
 * reassessments. Bodies and answers are application/fhir+json (application/json is accepted
 * too); refusals are OperationOutcomes naming each element at fault, never echoing a value.
 * Roles and care teams are checked as for the same read or change through /v1.
 */
import { Router, type Request, type Response } from 'express';
import type { Questionnaire, Resource } from '@medplum/fhirtypes';
import type { PathwayDefinition } from '../../clinical/definition';
import { isClosed } from '../../clinical/pathway';
import { ReassessmentInputSchema } from '../../clinical/events';
import type { DefinitionRegistry } from '../../clinical/registry';
import { alreadyRecordedOutcome, effectiveTimeRefusal, importAnswer, recordedOutcome, type ReassessmentResult } from '../../fhir/import-answer';
import { issue, operationOutcome, readObservationBundle, recordedBefore, type ImportedReassessment } from '../../fhir/observation-import';
import { pathwayBundle } from '../../fhir/pathway-bundle';
import type { AnsweredQuestionnaire } from '../../fhir/questionnaire-responses';
import { definitionPackage, planDefinition } from '../../fhir/plan-definition';
import type { PathwayView } from '../../workflows/messages';
import { requirePermission, type Principal } from '../auth';
import { actorOf, scopeOf, type Scope } from '../caller';
import { FHIR_JSON, problemOutcome } from '../fhir-outcome';
import type { PathwayService } from '../pathways-service';
import { HttpProblem, invalid } from '../problem';
import { FhirExportRequestSchema, PathwayIdSchema, PatientRefSchema } from '../schemas';

function send(res: Response, status: number, resource: Resource): void {
  res.status(status).type(FHIR_JSON).json(resource);
}

/** The pathway, if the patient reference is its patient's: the subject of an export must be right. */
async function pathwayOfPatient(service: PathwayService, pathwayId: string, patientRef: string, scope: Scope): Promise<PathwayView> {
  const found = await service.lookup(patientRef, scope).catch((err: unknown) => {
    if (err instanceof HttpProblem && err.status === 404) return null;
    throw err;
  });
  if (found?.pathwayId === pathwayId) return found;
  await service.get(pathwayId, scope); // 404 when the pathway itself is unknown or out of scope
  throw new HttpProblem(422, "patientRef is not this pathway's patient", { errors: [{ field: 'patientRef', message: "not this pathway's patient" }] });
}

/** Records one reassessment, unless its Observations were recorded before. */
async function recordOne(service: PathwayService, view: PathwayView, r: ImportedReassessment, principal: Principal): Promise<ReassessmentResult> {
  const expressions = r.entries.map((i) => `Bundle.entry[${i}].resource`);
  switch (recordedBefore(view.reassessments, r)) {
    case 'all':
      return { reassessment: r, status: 200, outcome: alreadyRecordedOutcome() };
    case 'changed':
      return {
        reassessment: r,
        status: 409,
        outcome: operationOutcome([
          issue('conflict', expressions.map((e) => `${e}.valueQuantity.value`), 'recorded before with another value or effective time: an amended score is not applied; a clinician records a new reassessment'),
        ]),
      };
    case 'some':
      return {
        reassessment: r,
        status: 409,
        outcome: operationOutcome([issue('conflict', expressions.map((e) => `${e}.id`), 'some of these Observations were recorded before in another reassessment')]),
      };
    case 'none':
      break;
  }
  try {
    const input = ReassessmentInputSchema.parse(r.input);
    const result = await service.change(view.pathwayId, 'reassessments', actorOf(principal), input, scopeOf(principal), r.idempotencyKey);
    return { reassessment: r, status: 201, outcome: recordedOutcome(result.decisions) };
  } catch (err) {
    if (err instanceof HttpProblem && err.status >= 400 && err.status < 500) {
      return effectiveTimeRefusal(r, err.extra.errors ?? []) ?? { reassessment: r, status: err.status, outcome: problemOutcome(err, expressions) };
    }
    throw err;
  }
}

/**
 * Scores from the EHR: a transaction or batch Bundle of one patient's Observations becomes
 * reassessments of the patient's active pathway (POST /v1/fhir, and the SMART launch's import).
 * The caller's role is checked before.
 */
export async function importObservations(service: PathwayService, principal: Principal, body: unknown): Promise<{ status: number; resource: Resource }> {
  const read = readObservationBundle(body, PatientRefSchema);
  if (!read.ok) return { status: 400, resource: operationOutcome(read.issues) };
  const imported = read.value;
  const view = await service.lookup(imported.patientRef, scopeOf(principal)).catch((err: unknown) => {
    if (err instanceof HttpProblem && err.status === 404) return null;
    throw err;
  });
  if (!view || isClosed(view.status)) {
    const why = view ? `no active pathway for this patient: the latest is ${view.status}` : 'no active pathway for this patient';
    return { status: view ? 409 : 404, resource: operationOutcome([issue(view ? 'business-rule' : 'not-found', imported.subjectExpression, why)]) };
  }
  const results: ReassessmentResult[] = [];
  // In order of effective time: each is evaluated against the pathway as the previous left it.
  for (const r of imported.reassessments) results.push(await recordOne(service, view, r, principal));
  // A transaction is one reassessment, all or nothing: its refusal is the answer.
  const refused = results.find((r) => r.status >= 400);
  if (imported.bundleType === 'transaction' && refused) return { status: refused.status, resource: refused.outcome };
  return { status: 200, resource: importAnswer(imported, results) };
}

/** Where patients answer questionnaires at home: what a pathway's patient answered, and the instruments. */
export interface AtHome {
  answered(pathwayId: string): Promise<AnsweredQuestionnaire[]>;
  questionnaires(): Questionnaire[];
}

export function fhirRouter(service: PathwayService, definitions: DefinitionRegistry, atHome?: AtHome): Router {
  const router = Router();

  router.post('/pathways/:pathwayId/fhir', async (req, res) => {
    const principal = requirePermission(req, 'read');
    const id = PathwayIdSchema.safeParse(req.params.pathwayId);
    if (!id.success) throw invalid(id.error, ['pathwayId']);
    const body = FhirExportRequestSchema.safeParse(req.body);
    if (!body.success) throw invalid(body.error);
    const view = await pathwayOfPatient(service, id.data, body.data.patientRef, scopeOf(principal));
    const answered = atHome ? await atHome.answered(view.pathwayId) : [];
    send(res, 200, pathwayBundle(view, { patientRef: body.data.patientRef, system: body.data.identifierSystem }, new Date(), answered));
  });

  const definitionOf = (req: Request): PathwayDefinition => {
    requirePermission(req, 'read');
    const version = Number(req.params.version);
    const definition = Number.isInteger(version) ? definitions.get(String(req.params.id), version) : undefined;
    if (!definition) throw new HttpProblem(404, 'no such pathway definition');
    return definition;
  };
  router.get('/definitions/:id/:version/fhir', (req, res) => {
    send(res, 200, planDefinition(definitionOf(req), atHome?.questionnaires()));
  });
  // The PlanDefinition with the Questionnaires its actions name: FHIR's $package of the definition.
  router.get('/definitions/:id/:version/fhir/\\$package', (req, res) => {
    send(res, 200, definitionPackage(definitionOf(req), atHome?.questionnaires() ?? [], new Date()));
  });

  router.post('/fhir', async (req, res) => {
    const principal = requirePermission(req, 'record-reassessment');
    const answer = await importObservations(service, principal, req.body);
    send(res, answer.status, answer.resource);
  });

  return router;
}
