/**
 * The HTTP API, built by a factory from its dependencies: no globals, so tests and the
 * service build as many as they need.
 *
 * The order of checks: the path and its methods (405, OPTIONS), the key (401, and 429 for an
 * address that keeps failing), the key's rate (429), and only then the body (415, 413, 400), so
 * nothing about a request is read before its sender is known.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from '../observability/log';
import type { Metrics } from '../observability/metrics';
import { requestContext } from '../observability/request-context';
import { identify, requirePrincipal, type ApiKeyStore } from './auth';
import { methodCheck } from './methods';
import { openApiDocument } from './openapi';
import type { PathwayService } from './pathways-service';
import { HttpProblem, errorChain, problemHandler } from './problem';
import { DEFAULT_RATE_LIMITS, type RateLimits } from '../config';
import { authFailureLimit, perKeyLimit } from './rate-limits';
import type { DefinitionRegistry } from '../clinical/registry';
import { markFhirRoutes } from './fhir-outcome';
import { cdsHooksRouter, type CdsHooksOptions } from './routes/cds-hooks';
import { codecRouter, type CodecOptions } from './routes/codec';
import { definitionsRouter } from './routes/definitions';
import { fhirRouter } from './routes/fhir';
import { healthRouter, type ReadinessCheck } from './routes/health';
import { idempotency } from './idempotency';
import { reportsRouter } from './routes/reports';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordStore } from '../record/store';
import { pathwaysRouter } from './routes/pathways';
import { definitionQuestionnairesRouter, questionnairesRouter } from './routes/questionnaires';
import type { InstrumentRegistry } from '../clinical/instruments';
import type { QuestionnaireService } from '../patients/questionnaire-service';
import { patientRouter, type PatientPageLimits } from '../patients/router';
import { worklistRouter } from './routes/worklist';
import { temporalDeadline, temporalUnavailableHandler } from './temporal-deadline';

export interface AppDeps {
  pathways: PathwayService;
  definitions: DefinitionRegistry;
  apiKeys: ApiKeyStore;
  logger: Logger;
  isTemporalReachable: () => Promise<boolean>;
  /** The record store: reads, readiness and the Idempotency-Key answers. */
  record: { store: RecordStore; cipher: NoteCipher };
  /** The connection the pathway service calls Temporal through: each request's calls get a deadline on it. */
  temporal?: { connection: Pick<Connection, 'withDeadline'>; deadlineMs: number };
  rateLimits?: RateLimits;
  /** Proxies in front of the API whose X-Forwarded-For is believed (0: none). */
  trustProxy?: number;
  /** Largest accepted JSON body. */
  bodyLimit?: string;
  /** What else /readyz checks once Temporal answers (temporal/readiness.ts). */
  readiness?: ReadinessCheck;
  /** Counts requests by route and status (observability/metrics.ts). */
  metrics?: Metrics;
  /** The Temporal Web UI's remote codec at /codec (api/routes/codec.ts). */
  codec?: CodecOptions;
  /** Patients' questionnaires: their link pages (/p), the local outbox, and the care team's routes. */
  patients?: { questionnaires: QuestionnaireService; instruments: InstrumentRegistry; outbox?: Router; limits?: PatientPageLimits };
  /** The care team's console (console/): its pages and sign-in, and the session cookie /v1 also accepts. */
  console?: { router: Router; sessions: RequestHandler };
  /** CDS Hooks for the EHR (api/routes/cds-hooks.ts): absent when no EHR is configured to call it. */
  cds?: CdsHooksOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The route pattern that answered (`/v1/pathways/:pathwayId`), never the path with its ids: its
 * OpenAPI template, or the Express route it matched. A route that threw answers from outside its
 * router, where Express has reset the base path; the base is then the part of the path before
 * the segments the pattern matched.
 */
function routeOf(req: Request, res: Response): string {
  if (typeof res.locals.route === 'string') return res.locals.route;
  if (!req.route) return '(unmatched)';
  const pattern = String(req.route.path);
  if (req.baseUrl) return `${req.baseUrl}${pattern}`;
  const segments = req.originalUrl.split('?')[0]!.split('/').filter(Boolean);
  const own = pattern.split('/').filter(Boolean).length;
  const base = segments.slice(0, segments.length - own).join('/');
  return `${base ? `/${base}` : ''}${pattern}`;
}

/** One log line a request: id, method, route pattern, status, duration. Never a body, a query or an id of a patient. */
function requestLog(logger: Logger, metrics?: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routeOf(req, res);
      const durationMs = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      metrics?.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, durationMs / 1000);
      logger.info('http request', { requestId, method: req.method, route, status: res.statusCode, durationMs, keyId: req.principal?.id });
    });
    // Everything done for this request, Temporal calls included, carries its id (observability/request-context.ts).
    requestContext.run({ requestId }, () => next());
  };
}

/** JSON bodies: plain, or FHIR's own media type on the FHIR routes' behalf. */
const JSON_TYPES = ['application/json', 'application/fhir+json'];

/** Patient data must not stay in any cache, shared or private. */
function noStore(_req: Request, res: Response, next: NextFunction) {
  res.set('Cache-Control', 'no-store');
  next();
}

function requireJson(req: Request, _res: Response, next: NextFunction) {
  if ((req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') && !req.is(JSON_TYPES)) {
    return next(new HttpProblem(415, 'send the body as application/json (or application/fhir+json)'));
  }
  next();
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  app.disable('x-powered-by');
  // No ETag, so no 304: every answer is whole and fresh.
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy ?? 0);
  app.set('query parser', 'simple');
  app.use(requestLog(deps.logger, deps.metrics));
  app.use(markFhirRoutes);
  // A JSON API: nothing may frame it, run scripts from it or sniff its types.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      frameguard: { action: 'deny' },
    }),
  );
  app.use('/v1', noStore);
  app.use(methodCheck(openApiDocument()));
  app.use(healthRouter({ temporal: deps.isTemporalReachable, database: () => deps.record.store.ping(700), missing: deps.readiness }));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  if (deps.codec) app.use('/codec', ...(deps.console ? [deps.console.sessions] : []), codecRouter({ ...deps.codec, apiKeys: deps.apiKeys, logger: deps.logger }));
  if (deps.cds) app.use('/cds-services', cdsHooksRouter(deps.pathways, deps.cds, limits, deps.record.store));
  // The console's pages set their own security policy, which replaces the API's; so do the patient's.
  if (deps.console) app.use(deps.console.router);
  if (deps.patients) {
    app.use(patientRouter({ questionnaires: deps.patients.questionnaires, instruments: deps.patients.instruments, logger: deps.logger, limits: deps.patients.limits }));
    if (deps.patients.outbox) app.use(deps.patients.outbox);
  }
  app.use(
    '/v1',
    ...(deps.console ? [deps.console.sessions] : []),
    identify(deps.apiKeys),
    authFailureLimit(limits, deps.record.store),
    requirePrincipal,
    perKeyLimit(limits, deps.record.store),
    requireJson,
    express.json({ type: JSON_TYPES, limit: deps.bodyLimit ?? '64kb', strict: true }),
    // From here on, the request waits only for Temporal: a slow upload is not a Temporal outage.
    ...(deps.temporal ? [temporalDeadline(deps.temporal.connection, deps.temporal.deadlineMs)] : []),
    idempotency(deps.record),
  );
  const patients = deps.patients;
  app.use('/v1', fhirRouter(deps.pathways, deps.definitions, patients && { answered: (id) => patients.questionnaires.answered(id), questionnaires: () => patients.instruments.all() }));
  if (deps.patients) app.use('/v1/pathways', questionnairesRouter(deps.pathways, deps.patients.questionnaires));
  app.use('/v1/pathways', pathwaysRouter(deps.pathways));
  app.use('/v1/worklist', worklistRouter(deps.pathways));
  if (deps.patients) app.use('/v1/definitions', definitionQuestionnairesRouter(deps.definitions, deps.patients.instruments));
  app.use('/v1/definitions', definitionsRouter(deps.definitions, deps.record.store.db, deps.pathways));
  app.use('/v1/reports', reportsRouter(deps.pathways));
  app.use((_req, _res, next) => next(new HttpProblem(404, 'no such resource')));
  app.use(temporalUnavailableHandler(deps.logger));
  app.use(
    problemHandler((err, req, res) => {
      // Class, message and causes only: a stack could hold request data; causes say what failed underneath.
      deps.logger.error('unexpected error', { requestId: res.locals.requestId, method: req.method, route: routeOf(req, res), error: errorChain(err) });
    }),
  );
  return app;
}
