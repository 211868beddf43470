/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests.
 */
import { z } from 'zod';
import {
  CHANGE_KINDS,
  ChangeResultSchema,
  EnrollRequestSchema,
  ListQuerySchema,
  LookupRequestSchema,
  PathwayRowSchema,
  PathwayViewSchema,
  ProblemSchema,
  SummaryQuerySchema,
  WorklistItemSchema,
  WorklistQuerySchema,
} from './schemas';

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

/** Every answer an authenticated /v1 operation can give besides its own. */
const ANY = {
  '401': problem('No or unknown API key', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
  '403': problem('The role or care team of the key may not do this'),
  '429': problem('Too many requests from this key, or too many failed authentications from this address', retryAfter),
  '503': problem('Temporal (or the worker) did not answer in time; for a change, a retry with the same Idempotency-Key is safe', retryAfter),
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

const READY = { type: 'object', properties: { status: { enum: ['ready', 'unavailable'] }, temporal: { type: 'boolean' } }, required: ['status', 'temporal'] };

const CHANGE_TEXT: Record<keyof typeof CHANGE_KINDS, string> = {
  reassessments: 'Record a reassessment (clinician): evaluated at once against the stage rules',
  procedures: 'Record a procedure (coordinator): interventional procedures, psychological evaluation, SCS trial, implant',
  workup: 'Record a work-up result or the surgical consult (coordinator)',
  'red-flags': 'Report red flags (clinician): urgent referral at once',
  actions: 'Override (with a reason): escalate or discharge (clinician); hold, resume, withdraw (coordinator); close after urgent referral (clinician)',
};

const queryParameters = (s: z.ZodType) =>
  Object.entries(schema(s, 'input').properties as Record<string, JsonSchema>).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));

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
            '409': problem('The change conflicts with the pathway state (or the pathway is closed), or a request with the same Idempotency-Key is still in flight'),
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
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key with a role and optional care teams' } },
      schemas: {
        Problem: schema(ProblemSchema),
        Pathway: schema(PathwayViewSchema),
        ChangeResult: schema(ChangeResultSchema),
        PathwayRow: schema(PathwayRowSchema),
        WorklistItem: schema(WorklistItemSchema),
      },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/healthz': {
        get: { summary: 'The process answers', operationId: 'healthz', security: [], responses: { '200': json('ok', { type: 'object', properties: { status: { const: 'ok' } } }) } },
      },
      '/readyz': {
        get: {
          summary: 'Temporal answers (within a second, whatever Temporal does)',
          operationId: 'readyz',
          security: [],
          responses: {
            '200': json('ready', READY),
            '503': json('Temporal unreachable', READY, retryAfter),
          },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', operationId: 'openapi', security: [], responses: { '200': json('The OpenAPI 3.1 document', { type: 'object' }) } },
      },
      '/v1/pathways': {
        post: {
          summary: 'Enroll a patient (coordinator)',
          operationId: 'enroll',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(EnrollRequestSchema, 'input') } } },
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
            '409': problem('The patient already has an active pathway (pathwayId names it), or a request with the same Idempotency-Key is still in flight'),
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
            '200': json('The worklist', { type: 'object', properties: { generatedAt: { type: 'string' }, items: { type: 'array', items: { $ref: '#/components/schemas/WorklistItem' } } } }),
            ...READ,
          },
        },
      },
      '/v1/definitions': {
        get: { summary: 'The pathway definitions on offer', operationId: 'definitions', responses: { '200': json('Definitions', { type: 'object' }), ...ANY } },
      },
      '/v1/definitions/{id}/{version}': {
        get: {
          summary: "A definition and its rules, each as a sentence a clinician can read with that version's numbers",
          operationId: 'definition',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'path', required: true, schema: { type: 'integer' } },
          ],
          responses: { '200': json('The definition and its rules', { type: 'object' }), ...READ, '404': problem('No such definition or version') },
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
      ...changePaths,
    },
  };
}
