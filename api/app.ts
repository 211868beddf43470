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
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from '../worker/log';
import { identify, requirePrincipal, type ApiKeyStore } from './auth';
import { methodCheck } from './methods';
import { openApiDocument } from './openapi';
import type { PathwayService } from './pathways-service';
import { HttpProblem, errorChain, problemHandler } from './problem';
import { DEFAULT_RATE_LIMITS, authFailureLimit, perKeyLimit, type RateLimits } from './rate-limits';
import type { DefinitionRegistry } from '../clinical/registry';
import { definitionsRouter } from './routes/definitions';
import { fhirRouter } from './routes/fhir';
import { healthRouter } from './routes/health';
import { idempotency } from './idempotency';
import { reportsRouter } from './routes/reports';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordStore } from '../record/store';
import { pathwaysRouter } from './routes/pathways';
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
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The full route of a request: its OpenAPI template, or the Express route it matched. */
const routeOf = (req: Request, res: Response): string =>
  (res.locals.route as string | undefined) ?? (req.route ? `${req.baseUrl}${req.route.path}` : '(unmatched)');

/** One log line a request: id, method, route pattern, status, duration. Never a body, a query or an id of a patient. */
function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info('http request', {
        requestId,
        method: req.method,
        route: routeOf(req, res),
        status: res.statusCode,
        durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        keyId: req.principal?.id,
      });
    });
    next();
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
  app.use(requestLog(deps.logger));
  // A JSON API: nothing may frame it, run scripts from it or sniff its types.
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      frameguard: { action: 'deny' },
    }),
  );
  app.use('/v1', noStore);
  app.use(methodCheck(openApiDocument()));
  app.use(healthRouter({ temporal: deps.isTemporalReachable, database: () => deps.record.store.ping(700) }));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.use(
    '/v1',
    identify(deps.apiKeys),
    authFailureLimit(limits),
    requirePrincipal,
    perKeyLimit(limits),
    requireJson,
    express.json({ type: JSON_TYPES, limit: deps.bodyLimit ?? '64kb', strict: true }),
    // From here on, the request waits only for Temporal: a slow upload is not a Temporal outage.
    ...(deps.temporal ? [temporalDeadline(deps.temporal.connection, deps.temporal.deadlineMs)] : []),
    idempotency(deps.record),
  );
  app.use('/v1', fhirRouter(deps.pathways, deps.definitions));
  app.use('/v1/pathways', pathwaysRouter(deps.pathways));
  app.use('/v1/worklist', worklistRouter(deps.pathways));
  app.use('/v1/definitions', definitionsRouter(deps.definitions));
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
