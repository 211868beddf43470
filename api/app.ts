/**
 * The HTTP API, built by a factory from its dependencies: no globals, so tests and the
 * service build as many as they need.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../observability/log';
import type { Metrics } from '../observability/metrics';
import { requestContext } from '../observability/request-context';
import { authenticate, type ApiKeyStore } from './auth';
import { openApiDocument } from './openapi';
import type { PathwayService } from './pathways-service';
import { HttpProblem, problemHandler } from './problem';
import type { DefinitionRegistry } from '../clinical/registry';
import { codecRouter, type CodecOptions } from './routes/codec';
import { definitionsRouter } from './routes/definitions';
import { healthRouter, type ReadinessCheck } from './routes/health';
import { pathwaysRouter } from './routes/pathways';
import { worklistRouter } from './routes/worklist';

export interface AppDeps {
  pathways: PathwayService;
  definitions: DefinitionRegistry;
  apiKeys: ApiKeyStore;
  logger: Logger;
  isTemporalReachable: () => Promise<boolean>;
  /** What else /readyz checks once Temporal answers (worker/readiness.ts). */
  readiness?: ReadinessCheck;
  /** Largest accepted JSON body. */
  bodyLimit?: string;
  /** Counts requests by route and status (observability/metrics.ts). */
  metrics?: Metrics;
  /** The Temporal Web UI's remote codec at /codec (api/routes/codec.ts). */
  codec?: CodecOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The route pattern that answered (`/v1/pathways/:pathwayId`), never the path with its ids. A
 * route that threw answers from outside its router, where Express has reset the base path; the
 * base is then the part of the path before the segments the pattern matched.
 */
function routePattern(req: Request): string {
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
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = routePattern(req);
      const durationMs = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      metrics?.httpRequestDuration.observe({ method: req.method, route, status: String(res.statusCode) }, durationMs / 1000);
      logger.info('http request', { requestId, method: req.method, route, status: res.statusCode, durationMs, keyId: req.principal?.id });
    });
    // Everything done for this request, Temporal calls included, carries its id (observability/request-context.ts).
    requestContext.run({ requestId }, () => next());
  };
}

function requireJson(req: Request, _res: Response, next: NextFunction) {
  if ((req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') && !req.is('application/json')) {
    return next(new HttpProblem(415, 'send the body as application/json'));
  }
  next();
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLog(deps.logger, deps.metrics));
  app.use(healthRouter(deps.isTemporalReachable, deps.readiness));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  if (deps.codec) app.use('/codec', codecRouter({ ...deps.codec, apiKeys: deps.apiKeys, logger: deps.logger }));
  app.use('/v1', requireJson, express.json({ limit: deps.bodyLimit ?? '64kb', strict: true }), authenticate(deps.apiKeys));
  app.use('/v1/pathways', pathwaysRouter(deps.pathways));
  app.use('/v1/worklist', worklistRouter(deps.pathways));
  app.use('/v1/definitions', definitionsRouter(deps.definitions));
  app.use((_req, _res, next) => next(new HttpProblem(404, 'no such resource')));
  app.use(
    problemHandler((err) => {
      // The error's class and message only: a stack or a cause might quote request data.
      deps.logger.error('unexpected error', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }),
  );
  return app;
}
