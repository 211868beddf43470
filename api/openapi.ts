/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests.
 */
import { z } from 'zod';
import {
  CHANGE_KINDS,
  ChangeResultSchema,
  EnrolmentRequestSchema,
  FhirExportRequestSchema,
  ListQuerySchema,
  LookupRequestSchema,
  OutcomesQuerySchema,
  AccessEntrySchema,
  PathwayRowSchema,
  PathwayViewSchema,
  PatientCorrectionSchema,
  QuestionnaireSchema,
  RedFlagReviewSchema,
  PatientIdentitySchema,
  ProblemSchema,
  SummaryQuerySchema,
  WorklistItemSchema,
  WorklistQuerySchema,
} from './schemas';
import { DiffQuerySchema, DraftRequestSchema, MigrateRequestSchema, ReasonSchema, SimulateRequestSchema } from './routes/definitions';

type JsonSchema = Record<string, unknown>;

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } } };
const problem = (description: string, headers?: JsonSchema) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const json = (description: string, body: JsonSchema, headers?: JsonSchema) => ({ description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: body } } });

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Send one on every POST: a retried request with the same key returns the first answer and applies nothing twice',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
};
const pathwayId = { name: 'pathwayId', in: 'path', required: true, schema: { type: 'string', pattern: '^pw-[0-9a-f]{32}$' } };
const definitionIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const versionParams = [definitionIdParam, { name: 'version', in: 'path', required: true, schema: { type: 'integer' } }];

/** Every answer an authenticated /v1 operation can give besides its own. */
const ANY = {
  '401': problem('No or unknown API key', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
  '403': problem('The role or care team of the key may not do this'),
  '429': problem('Too many requests from this key, or too many failed authentications from this address', retryAfter),
  '503': problem('Temporal (or the worker) or the record store did not answer in time; for a change, a retry with the same Idempotency-Key is safe', retryAfter),
};
/** A read: its query or path parameters may be refused. */
const READ = { '400': problem('Invalid parameter: every one at fault is listed'), ...ANY };
/** A change: a JSON body, and an Idempotency-Key. */
const WRITE = {
  '400': problem('Invalid input: every field at fault is listed'),
  ...ANY,
  '413': problem('The body is larger than the limit'),
  '415': problem('The body is not application/json'),
  '422': problem('The Idempotency-Key was used before with a different request'),
};
/** A read sent as a POST, so the patient reference stays out of URLs and logs. */
const { '422': _noIdempotency, ...LOOKUP } = WRITE;

const READY = {
  type: 'object',
  properties: { status: { enum: ['ready', 'unavailable'] }, temporal: { type: 'boolean' }, database: { type: 'boolean', description: 'the record store answers' } },
  required: ['status', 'temporal', 'database'],
};

// FHIR routes answer application/fhir+json, every refusal and failure included: an OperationOutcome
// (api/fhir-outcome.ts), also for what is refused before the route reads FHIR (401, 413, 415, 429, 503).
const fhir = (description: string, ref: string, headers?: JsonSchema) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/fhir+json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const outcome = (description: string, headers?: JsonSchema) => fhir(description, 'OperationOutcome', headers);
const FHIR_ERRORS = {
  '400': outcome('Invalid input: an issue per element at fault, or one for a body that is not JSON at all'),
  '401': outcome('No or unknown API key', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
  '403': outcome('The role or care team of the key may not do this'),
  '413': outcome('The body is larger than the limit'),
  '415': outcome('The body is not application/fhir+json or application/json'),
  '429': outcome('Too many requests from this key, or too many failed authentications from this address', retryAfter),
  '503': outcome('Temporal (or the worker) or the record store did not answer in time; for a change, a retry with the same Idempotency-Key is safe', retryAfter),
};
const fhirBody = (body: JsonSchema) => ({ required: true, content: { 'application/fhir+json': { schema: body }, 'application/json': { schema: body } } });

const FHIR_SCHEMAS: Record<string, JsonSchema> = {
  OperationOutcome: {
    type: 'object',
    description: 'FHIR R4 OperationOutcome',
    required: ['resourceType', 'issue'],
    properties: {
      resourceType: { const: 'OperationOutcome' },
      issue: {
        type: 'array',
        items: {
          type: 'object',
          required: ['severity', 'code'],
          properties: {
            severity: { enum: ['fatal', 'error', 'warning', 'information'] },
            code: { type: 'string' },
            details: { type: 'object', properties: { text: { type: 'string' }, coding: { type: 'array', items: { type: 'object' } } } },
            diagnostics: { type: 'string', description: 'For a decision: the rule as a sentence and its numbers' },
            expression: { type: 'array', items: { type: 'string' }, description: 'FHIRPath of the element at fault' },
          },
        },
      },
    },
  },
  Bundle: {
    type: 'object',
    description: 'FHIR R4 Bundle',
    required: ['resourceType', 'type'],
    properties: { resourceType: { const: 'Bundle' }, type: { type: 'string' }, timestamp: { type: 'string' }, entry: { type: 'array', items: { type: 'object' } } },
  },
  PlanDefinition: {
    type: 'object',
    description: 'FHIR R4 PlanDefinition',
    required: ['resourceType', 'status'],
    properties: { resourceType: { const: 'PlanDefinition' }, url: { type: 'string' }, version: { type: 'string' }, action: { type: 'array', items: { type: 'object' } } },
  },
  ObservationBundle: {
    type: 'object',
    description:
      "FHIR R4 Bundle (transaction: one effective time; batch: several) of Observations for one patient, identified by subject.identifier.value (the clinic's patient reference). Codes: LOINC 72514-3 pain NRS, LOINC 97909-6 ODI total, https://pathway.invalid/fhir/CodeSystem/scores pgic and daily-mme; valueQuantity with a UCUM unit; effectiveDateTime with its offset (it becomes the reassessment's assessedAt: not in the future, not before the pathway's last recorded event, within the definition's backdateWindowDays); an id (or a urn:uuid fullUrl) on each.",
    required: ['resourceType', 'type', 'entry'],
    properties: {
      resourceType: { const: 'Bundle' },
      type: { enum: ['transaction', 'batch'] },
      entry: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        items: {
          type: 'object',
          required: ['resource'],
          properties: {
            fullUrl: { type: 'string' },
            resource: { type: 'object', required: ['resourceType'], properties: { resourceType: { const: 'Observation' } } },
            request: { type: 'object', properties: { method: { enum: ['POST', 'PUT'] }, url: { type: 'string' } } },
          },
        },
      },
    },
  },
};

const CHANGE_TEXT: Record<keyof typeof CHANGE_KINDS, string> = {
  reassessments: 'Record a reassessment (clinician): evaluated at once against the stage rules',
  procedures: 'Record a procedure (coordinator): interventional procedures, psychological evaluation, SCS trial, implant',
  workup: 'Record a work-up result or the surgical consult (coordinator)',
  'red-flags': 'Report red flags (clinician): urgent referral at once',
  actions: 'Override (with a reason): escalate or discharge (clinician); hold, resume, withdraw, acknowledge undelivered messages (coordinator); close after urgent referral (clinician)',
};

// A whole number arrives as a string whose pattern the API checks; the parameter is stated as the integer it is.
const queryParameters = (s: z.ZodType) =>
  Object.entries(schema(s, 'input').properties as Record<string, JsonSchema>).map(([name, { pattern, ...property }]) => ({
    name,
    in: 'query',
    required: false,
    schema: property.type === 'integer' ? property : { ...property, ...(pattern ? { pattern } : {}) },
  }));

/** What can be done with the pathway an enrolment answers (OpenAPI links: clients and fuzzers follow them). */
const pathwayLinks = Object.fromEntries(
  ['get', ...Object.keys(CHANGE_KINDS).map((kind) => `post-${kind}`)].map((operationId) => [
    operationId,
    { operationId, parameters: { pathwayId: '$response.body#/pathway/pathwayId' } },
  ]),
);

export function openApiDocument(): JsonSchema & { paths: Record<string, Record<string, unknown>> } {
  const listParams = queryParameters(ListQuerySchema);
  const changePaths = Object.fromEntries(
    (Object.keys(CHANGE_KINDS) as Array<keyof typeof CHANGE_KINDS>).map((kind) => [
      `/v1/pathways/{pathwayId}/${kind}`,
      {
        post: {
          summary: CHANGE_TEXT[kind],
          operationId: `post-${kind}`,
          parameters: [pathwayId, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(CHANGE_KINDS[kind].schema, 'input') } } },
          responses: {
            '200': json('The decision taken and the new state', { $ref: '#/components/schemas/ChangeResult' }),
            ...WRITE,
            '404': problem('No such pathway, or not one of the care teams of the key'),
            '409': problem('The change conflicts with the pathway state (or the pathway is closed)'),
          },
        },
      },
    ]),
  );
  // The same bodies, answered by the workflow's rules without recording anything (a query, not an update).
  const changeResultJson = schema(ChangeResultSchema);
  const previewPaths = Object.fromEntries(
    (Object.keys(CHANGE_KINDS) as Array<keyof typeof CHANGE_KINDS>).map((kind) => [
      `/v1/pathways/{pathwayId}/${kind}/preview`,
      {
        post: {
          summary: `Preview: what this change would do, recorded nowhere (${kind}); the same permissions, validation and refusals as POST /v1/pathways/{pathwayId}/${kind}`,
          operationId: `preview-${kind}`,
          parameters: [pathwayId],
          requestBody: { required: true, content: { 'application/json': { schema: schema(CHANGE_KINDS[kind].schema, 'input') } } },
          responses: {
            '200': json('The decisions the change would take and the pathway it would leave; nothing is recorded', {
              // The change's own answer, marked as a preview (ChangeResult admits no other property, so it is extended here).
              ...changeResultJson,
              properties: { preview: { const: true }, ...(changeResultJson.properties as JsonSchema) },
              required: ['preview', ...((changeResultJson.required as string[] | undefined) ?? [])],
            }),
            ...WRITE,
            '404': problem('No such pathway, or not one of the care teams of the key'),
            '409': problem('The change would conflict with the pathway state (or the pathway is closed)'),
          },
        },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pathway',
      version: '1',
      description: 'Stepped-care pathways for persistent spinal pain syndrome, run as durable Temporal workflows.',
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key with a role and optional care teams' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'pathway.sid',
          description: "A person signed in to the console; requests other than GET/HEAD/OPTIONS also send the session's CSRF token (GET /auth/session) in X-CSRF-Token",
        },
      },
      schemas: {
        Problem: schema(ProblemSchema),
        Pathway: schema(PathwayViewSchema),
        ChangeResult: schema(ChangeResultSchema),
        PathwayRow: schema(PathwayRowSchema),
        WorklistItem: schema(WorklistItemSchema),
        ...FHIR_SCHEMAS,
      },
    },
    security: [{ apiKey: [] }, { session: [] }],
    paths: {
      '/healthz': {
        get: { summary: 'The process answers', operationId: 'healthz', security: [], responses: { '200': json('ok', { type: 'object', properties: { status: { const: 'ok' } } }) } },
      },
      '/readyz': {
        get: {
          summary: 'Temporal and the record store answer (within a second, whatever they do)',
          operationId: 'readyz',
          security: [],
          responses: {
            '200': json('ready', READY),
            '503': json('Temporal or the record store unreachable: the body says which', READY, retryAfter),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', operationId: 'openapi', security: [], responses: { '200': json('The OpenAPI 3.1 document', { type: 'object' }) } },
      },
      '/v1/pathways': {
        post: {
          summary: 'Enrol a patient (coordinator)',
          operationId: 'enroll',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(EnrolmentRequestSchema, 'input') } } },
          responses: {
            '201': {
              ...json(
                'Enrolled: the pathway and its first due date',
                { type: 'object', properties: { pathway: { $ref: '#/components/schemas/Pathway' }, firstDue: {} } },
                {
                  Location: { description: 'The new pathway', schema: { type: 'string' } },
                  'Idempotent-Replayed': { description: 'true when this answers a retry with the same Idempotency-Key', schema: { type: 'string', enum: ['true', 'false'] } },
                },
              ),
              links: pathwayLinks,
            },
            ...WRITE,
            '403': problem('The role or care team of the key may not do this; also when the patient has an active pathway of a care team the key may not see (nothing about it is revealed)'),
            '409': problem('The patient already has an active pathway (pathwayId names it)'),
          },
        },
        get: {
          summary: 'Dashboard list, soonest due first',
          operationId: 'list',
          parameters: listParams,
          responses: {
            '200': json('A page of pathways', {
              type: 'object',
              properties: { items: { type: 'array', items: { $ref: '#/components/schemas/PathwayRow' } }, nextPageToken: { type: ['string', 'null'] } },
            }),
            ...READ,
          },
        },
      },
      '/v1/worklist': {
        get: {
          summary: 'What a care team must act on, most urgent first: urgent referrals, undelivered messages, lost to follow-up, overdue, due today, due soon; with pending work-up items',
          operationId: 'worklist',
          parameters: queryParameters(WorklistQuerySchema),
          responses: {
            '200': json('A page of the worklist, most urgent first; nextPageToken is null on the last page', {
              type: 'object',
              properties: {
                generatedAt: { type: 'string' },
                items: { type: 'array', items: { $ref: '#/components/schemas/WorklistItem' } },
                nextPageToken: { type: ['string', 'null'] },
              },
            }),
            ...READ,
          },
        },
      },
      '/v1/definitions': {
        get: {
          summary: 'The versions of every pathway definition with their status (draft, published, retired) and who published them and why; drafts only for a lead',
          operationId: 'definitions',
          responses: { '200': json('Definition versions', { type: 'object' }), ...ANY },
        },
      },
      '/v1/definitions/validate': {
        post: {
          summary: 'Checks a definition (lead): the schema, then clinical sanity (thresholds in range, intervals positive, every stage reachable, every rule referenced); each error names the field path',
          operationId: 'definition-validate',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { '200': json('{ valid, errors: [{ field, message }] }', { type: 'object' }), ...WRITE },
        },
      },
      '/v1/definitions/{id}/diff': {
        get: {
          summary: 'What changed between two versions: each number, list or sentence, from what, to what',
          operationId: 'definition-diff',
          parameters: [definitionIdParam, ...queryParameters(DiffQuerySchema)],
          responses: { '200': json('The changes', { type: 'object' }), ...READ, '404': problem('No such definition or version') },
        },
      },
      '/v1/definitions/{id}/{version}': {
        get: {
          summary: "A version with its status and its rules, each as a sentence a clinician can read with that version's numbers (a draft also with its validation)",
          operationId: 'definition',
          parameters: versionParams,
          responses: { '200': json('The definition and its rules', { type: 'object' }), ...READ, '404': problem('No such definition or version') },
        },
        put: {
          summary: "Replaces a draft (lead); refused with every field at fault when it fails the schema or clinical sanity",
          operationId: 'definition-save-draft',
          parameters: [...versionParams, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'The whole definition, with the id and version of the path' } } } },
          responses: { '200': json('The draft as saved', { type: 'object' }), ...WRITE, '404': problem('No such definition or version'), '409': problem('Not a draft: a published version never changes') },
        },
      },
      '/v1/definitions/{id}/{version}/drafts': {
        post: {
          summary: 'A new draft copied from this version, under the next free version number (lead)',
          operationId: 'definition-draft',
          parameters: [...versionParams, idempotencyKey],
          requestBody: { required: false, content: { 'application/json': { schema: schema(DraftRequestSchema, 'input') } } },
          responses: { '201': json('The draft', { type: 'object' }), ...WRITE, '404': problem('No such definition or version') },
        },
      },
      '/v1/definitions/{id}/{version}/simulate': {
        post: {
          summary:
            "What-if (lead): the cohort's recorded pathways (a care team, a definition version, enrolment dates, or a list of pathways) replayed through this version's rules from the record store, never touching Temporal; per pathway the first difference (when, which rule, old and new numbers), and the cohort's figures, candidate against recorded",
          operationId: 'definition-simulate',
          parameters: [...versionParams, idempotencyKey],
          requestBody: { required: false, content: { 'application/json': { schema: schema(SimulateRequestSchema, 'input') } } },
          responses: { '201': json('The simulation (kept; the differing pathways listed)', { type: 'object' }), ...WRITE, '404': problem('No such definition or version') },
        },
      },
      '/v1/definitions/{id}/{version}/compare/{pathwayId}': {
        get: {
          summary: "One pathway's decisions side by side (lead): as recorded, and as this version would have taken them, with the index of the first that differs",
          operationId: 'definition-compare',
          parameters: [...versionParams, pathwayId],
          responses: { '200': json('{ recorded, simulated, firstDifference }', { type: 'object' }), ...READ, '404': problem('No such definition, version or pathway') },
        },
      },
      '/v1/definitions/simulations/{simulationId}': {
        get: {
          summary: 'A simulation as kept, with a result for every pathway of its cohort (lead)',
          operationId: 'definition-simulation',
          parameters: [{ name: 'simulationId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': json('The simulation', { type: 'object' }), ...READ, '404': problem('No such simulation') },
        },
      },
      '/v1/definitions/{id}/{version}/migrations': {
        post: {
          summary:
            "Moves running pathways of a simulated cohort to this published version (lead): needs a simulation of the same cohort made in the last day; an audited batch through Temporal, rate-limited, resumable, each pathway moved once by its workflow's validated update or refused with the reason",
          operationId: 'definition-migrate',
          parameters: [...versionParams, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(MigrateRequestSchema, 'input') } } },
          responses: {
            '202': json('Started: the migration id and how many pathways it moves; follow it at the Location', { type: 'object' }),
            ...WRITE,
            '404': problem('No such definition or version'),
            '409': problem('Not published; no recent simulation of this version; or the cohort changed since it'),
          },
        },
      },
      '/v1/definitions/migrations/{migrationId}': {
        get: {
          summary: 'A migration: who asked, why, after which simulation, its progress and a result per pathway (lead)',
          operationId: 'definition-migration',
          parameters: [{ name: 'migrationId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': json('The migration', { type: 'object' }), ...READ, '404': problem('No such migration') },
        },
      },
      '/v1/definitions/{id}/{version}/publish': {
        post: {
          summary: 'Publishes a draft with a reason (lead): new enrolments may use it at once; running pathways keep their version until migrated',
          operationId: 'definition-publish',
          parameters: [...versionParams, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(ReasonSchema, 'input') } } },
          responses: { '200': json('The published version', { type: 'object' }), ...WRITE, '404': problem('No such definition or version'), '409': problem('Not a draft') },
        },
      },
      '/v1/definitions/{id}/{version}/retire': {
        post: {
          summary: 'Retires a published version with a reason (lead): no new enrolments on it; pathways on it carry on',
          operationId: 'definition-retire',
          parameters: [...versionParams, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(ReasonSchema, 'input') } } },
          responses: { '200': json('The retired version', { type: 'object' }), ...WRITE, '404': problem('No such definition or version'), '409': problem('Not published, or the only published version of the id') },
        },
      },
      '/v1/pathways/summary': {
        get: {
          summary: 'Counts by stage and status, per care team',
          operationId: 'summary',
          parameters: queryParameters(SummaryQuerySchema),
          responses: { '200': json('Counts per care team', { type: 'object' }), ...READ },
        },
      },
      '/v1/pathways/lookup': {
        post: {
          summary: "Find a patient's current or latest pathway by the clinic's patient reference",
          operationId: 'lookup',
          requestBody: { required: true, content: { 'application/json': { schema: schema(LookupRequestSchema, 'input') } } },
          responses: {
            '200': json('The pathway', { type: 'object', properties: { pathway: { $ref: '#/components/schemas/Pathway' } } }),
            ...LOOKUP,
            '404': problem('No pathway for this patient, or not one of the care teams of the key'),
          },
        },
      },
      '/v1/pathways/{pathwayId}': {
        get: {
          summary: 'The full state and timeline, including for closed pathways',
          operationId: 'get',
          parameters: [pathwayId],
          responses: {
            '200': json('The pathway', { type: 'object', properties: { pathway: { $ref: '#/components/schemas/Pathway' } } }),
            ...READ,
            '404': problem('No such pathway, or not one of the care teams of the key'),
          },
        },
      },
      '/v1/pathways/{pathwayId}/patient': {
        patch: {
          summary: "Correct the patient's name, date of birth or contact (coordinator, clinician); recorded in the access entries",
          operationId: 'correctPatient',
          parameters: [pathwayId],
          requestBody: { required: true, content: { 'application/json': { schema: schema(PatientCorrectionSchema, 'input') } } },
          responses: {
            '200': json('Who the patient is now', { type: 'object', properties: { patient: schema(PatientIdentitySchema) } }),
            ...WRITE,
            '404': problem('No such pathway, or not one of the care teams of the key'),
            '409': problem('No identity is kept for this pathway (enrolled before identities were kept)'),
          },
        },
      },
      '/v1/pathways/{pathwayId}/questionnaires': {
        get: {
          summary: "The patient's questionnaires, newest first: sent, reminded, opened, answered, expired, undelivered or replaced, and what the answers became",
          operationId: 'questionnaires',
          parameters: [pathwayId],
          responses: {
            '200': json('The questionnaires', { type: 'object', properties: { items: { type: 'array', items: schema(QuestionnaireSchema) } } }),
            ...READ,
            '404': problem('No such pathway, or not one of the care teams of the key'),
          },
        },
        post: {
          summary: "Send the patient a link to their next reassessment's questionnaire now (coordinator, clinician); replaces an open one",
          operationId: 'sendQuestionnaire',
          parameters: [pathwayId],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', additionalProperties: false } } } },
          responses: {
            '201': json('Sent (or not delivered: see delivery)', { type: 'object', properties: { questionnaire: schema(QuestionnaireSchema) } }),
            ...WRITE,
            '404': problem('No such pathway, or not one of the care teams of the key'),
            '409': problem('The pathway is closed, or no mobile number or email is kept for the patient'),
          },
        },
      },
      '/v1/pathways/{pathwayId}/questionnaires/fhir': {
        get: {
          summary: "What the patient answered at home: a FHIR Bundle of QuestionnaireResponses and the Observations derived from them (derivedFrom); the subject is the clinic's reference only for the patient's care team (audited)",
          operationId: 'questionnaireResponses',
          parameters: [pathwayId],
          responses: { '200': fhir('A collection Bundle', 'Bundle'), ...READ, '404': problem('No such pathway, or not one of the care teams of the key') },
        },
      },
      '/v1/pathways/{pathwayId}/questionnaires/{questionnaireId}/review': {
        post: {
          summary: 'A clinician confirms a red flag the patient reported at home (the pathway goes to urgent referral) or finds it not present',
          operationId: 'reviewPatientRedFlags',
          parameters: [pathwayId, { name: 'questionnaireId', in: 'path', required: true, schema: { type: 'string', pattern: '^qr-[0-9a-f]{24}$' } }],
          requestBody: { required: true, content: { 'application/json': { schema: schema(RedFlagReviewSchema, 'input') } } },
          responses: {
            '200': json('Reviewed; with the change it made when confirmed', { type: 'object' }),
            ...WRITE,
            '404': problem('No patient-reported red flag waits for review there'),
          },
        },
      },
      '/v1/definitions/{id}/{version}/questionnaires': {
        get: {
          summary: "The FHIR Questionnaires the definition's patients answer at home (a collection Bundle; the clinic's own text where loaded)",
          operationId: 'definitionQuestionnaires',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'path', required: true, schema: { type: 'integer' } },
          ],
          responses: { '200': fhir('A Bundle of Questionnaires', 'Bundle'), ...READ, '404': problem('No such definition or version') },
        },
      },
      '/v1/pathways/{pathwayId}/access-log': {
        get: {
          summary: "Who saw, recorded, corrected or erased the patient's identity, when and why (clinician: clinical leads), newest first",
          operationId: 'accessLog',
          parameters: [pathwayId],
          responses: {
            '200': json('The access entries', { type: 'object', properties: { items: { type: 'array', items: schema(AccessEntrySchema) } } }),
            ...READ,
            '404': problem('No such pathway, or not one of the care teams of the key'),
          },
        },
      },
      '/v1/reports/outcomes': {
        get: {
          summary:
            'Cohort outcomes (clinical leads): per stage, patients who entered, responded, escalated, completed, were withdrawn or referred urgently, median days in stage, median pain relief and ODI change at exit; response rate per procedure type. Closed pathways included',
          operationId: 'outcomes',
          parameters: queryParameters(OutcomesQuerySchema),
          responses: {
            '200': json('The outcomes report', {
              type: 'object',
              properties: {
                filters: { type: 'object' },
                stages: { type: 'array', items: { type: 'object' } },
                procedures: { type: 'array', items: { type: 'object' } },
                questionnaires: {
                  type: 'array',
                  description: 'Questionnaires sent to patients in the range (replaced links excluded), per care team and stage: invitations, answeredBeforeDue, answeredLate, expired, completionPercent (answered of those no longer open)',
                  items: { type: 'object' },
                },
              },
            }),
            ...READ,
          },
        },
      },
      ...changePaths,
      ...previewPaths,
      '/v1/pathways/{pathwayId}/fhir': {
        post: {
          summary:
            "The pathway as a FHIR R4 Bundle (collection): CarePlan, Tasks due, the stage's Goal, an Observation per score, the QuestionnaireResponses the patient answered at home (their scores' Observations derivedFrom them), Procedures, ServiceRequests, a Provenance per automated decision. The clinic's patient reference in the body is the subject of this answer only: never stored or logged",
          operationId: 'fhir-export',
          parameters: [pathwayId],
          requestBody: fhirBody(schema(FhirExportRequestSchema, 'input')),
          responses: {
            '200': fhir('The pathway as a FHIR Bundle', 'Bundle'),
            ...FHIR_ERRORS,
            '404': outcome('No such pathway'),
            '422': outcome("patientRef is not this pathway's patient"),
          },
        },
      },
      '/v1/definitions/{id}/{version}/fhir': {
        get: {
          summary: 'The definition as a FHIR R4 PlanDefinition: an action per stage with its timing, conditions as sentences and related actions in order; the questionnaires patients answer at home as sub-actions naming each Questionnaire by canonical URL',
          operationId: 'fhir-plan-definition',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'path', required: true, schema: { type: 'integer' } },
          ],
          responses: { '200': fhir('The PlanDefinition', 'PlanDefinition'), ...FHIR_ERRORS, '404': outcome('No such definition') },
        },
      },
      '/v1/definitions/{id}/{version}/fhir/$package': {
        get: {
          summary: "The definition with what it depends on (FHIR's $package): a collection Bundle of the PlanDefinition and the Questionnaires its actions name by canonical URL (the clinic's own text where loaded; none for a definition that does not ask patients at home)",
          operationId: 'fhir-definition-package',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'path', required: true, schema: { type: 'integer' } },
          ],
          responses: { '200': fhir('The PlanDefinition and its Questionnaires', 'Bundle'), ...FHIR_ERRORS, '404': outcome('No such definition') },
        },
      },
      '/v1/fhir': {
        post: {
          summary:
            "Scores from the EHR (clinician): Observations of one patient become one reassessment per effective time of the patient's active pathway, evaluated at once. The Observations' ids are kept: sending them again records nothing twice",
          operationId: 'fhir-import',
          requestBody: fhirBody({ $ref: '#/components/schemas/ObservationBundle' }),
          responses: {
            '200': fhir('A transaction-response or batch-response Bundle: per Observation its status (201 recorded, 200 recorded before, 4xx refused) and an OperationOutcome with the decisions as information', 'Bundle'),
            ...FHIR_ERRORS,
            '404': outcome('No active pathway for this patient (or not in the care teams of the key)'),
            '409': outcome('The pathway is closed, or refuses the reassessment (a transaction)'),
            '422': outcome(
              "The pathway's rules refuse the effective time (a transaction): in the future, further back than the definition's backdateWindowDays, or before the pathway's last recorded event; a business-rule issue names each Observation's effectiveDateTime (in a batch, that entry answers 422)",
            ),
          },
        },
      },
    },
  };
}

