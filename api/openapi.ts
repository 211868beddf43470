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
  WorklistItemSchema,
  WorklistQuerySchema,
} from './schemas';

type JsonSchema = Record<string, unknown>;

const schema = (s: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const json = (description: string, body: JsonSchema) => ({ description, content: { 'application/json': { schema: body } } });

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'A retried request with the same key returns the first answer and applies nothing twice',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
};
const pathwayId = { name: 'pathwayId', in: 'path', required: true, schema: { type: 'string', pattern: '^pw-[0-9a-f]{32}$' } };

const ERRORS = {
  '400': problem('Invalid input: every field at fault is listed'),
  '401': problem('No or unknown API key'),
  '403': problem('The role or care team of the key may not do this'),
  '415': problem('The body is not application/json'),
};

const CHANGE_TEXT: Record<keyof typeof CHANGE_KINDS, string> = {
  reassessments: 'Record a reassessment (clinician): evaluated at once against the stage rules',
  procedures: 'Record a procedure (coordinator): interventional procedures, psychological evaluation, SCS trial, implant',
  workup: 'Record a work-up result or the surgical consult (coordinator)',
  'red-flags': 'Report red flags (clinician): urgent referral at once',
  actions: 'Override (with a reason): escalate or discharge (clinician); hold, resume, withdraw (coordinator); close after urgent referral (clinician)',
};

const queryParameters = (s: z.ZodType) =>
  Object.entries(schema(s, 'input').properties as Record<string, JsonSchema>).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));

export function openApiDocument(): JsonSchema {
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
            ...ERRORS,
            '404': problem('No such pathway'),
            '409': problem('The change conflicts with the pathway state'),
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
      },
    },
    security: [{ apiKey: [] }, { session: [] }],
    paths: {
      '/healthz': { get: { summary: 'The process answers', security: [], responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Temporal is reachable', security: [], responses: { '200': { description: 'ready' }, '503': { description: 'Temporal unreachable' } } } },
      '/v1/pathways': {
        post: {
          summary: 'Enroll a patient (coordinator)',
          operationId: 'enroll',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: schema(EnrollRequestSchema, 'input') } } },
          responses: {
            '201': json('Enrolled: the pathway and its first due date', {
              type: 'object',
              properties: { pathway: { $ref: '#/components/schemas/Pathway' }, firstDue: {} },
            }),
            ...ERRORS,
            '409': problem('The patient already has an active pathway; pathwayId names it'),
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
            ...ERRORS,
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
            ...ERRORS,
          },
        },
      },
      '/v1/definitions': {
        get: { summary: 'The pathway definitions on offer', operationId: 'definitions', responses: { '200': json('Definitions', { type: 'object' }), ...ERRORS } },
      },
      '/v1/definitions/{id}/{version}': {
        get: {
          summary: "A definition and its rules, each as a sentence a clinician can read with that version's numbers",
          operationId: 'definition',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'version', in: 'path', required: true, schema: { type: 'integer' } },
          ],
          responses: { '200': json('The definition and its rules', { type: 'object' }), ...ERRORS, '404': problem('No such definition') },
        },
      },
      '/v1/pathways/summary': {
        get: {
          summary: 'Counts by stage and status, per care team',
          operationId: 'summary',
          parameters: [{ name: 'careTeam', in: 'query', required: false, schema: { type: 'string' } }],
          responses: { '200': json('Counts per care team', { type: 'object' }), ...ERRORS },
        },
      },
      '/v1/pathways/lookup': {
        post: {
          summary: "Find a patient's current or latest pathway by the clinic's patient reference",
          operationId: 'lookup',
          requestBody: { required: true, content: { 'application/json': { schema: schema(LookupRequestSchema, 'input') } } },
          responses: { '200': json('The pathway', { type: 'object', properties: { pathway: { $ref: '#/components/schemas/Pathway' } } }), ...ERRORS, '404': problem('No pathway') },
        },
      },
      '/v1/pathways/{pathwayId}': {
        get: {
          summary: 'The full state and timeline, including for closed pathways',
          operationId: 'get',
          parameters: [pathwayId],
          responses: { '200': json('The pathway', { type: 'object', properties: { pathway: { $ref: '#/components/schemas/Pathway' } } }), ...ERRORS, '404': problem('No such pathway') },
        },
      },
      ...changePaths,
    },
  };
}
