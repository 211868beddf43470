/**
 * The HTTP API, built by a factory from its dependencies: no globals, so tests and the
 * service build as many as they need.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from '../worker/log';
import { authenticate, type ApiKeyStore } from './auth';
import { openApiDocument } from './openapi';
import type { PathwayService } from './pathways-service';
import { HttpProblem, problemHandler } from './problem';
import type { DefinitionRegistry } from '../clinical/registry';
import { definitionsRouter } from './routes/definitions';
import { healthRouter } from './routes/health';
import { pathwaysRouter } from './routes/pathways';
import { worklistRouter } from './routes/worklist';

export interface AppDeps {
  pathways: PathwayService;
  definitions: DefinitionRegistry;
  apiKeys: ApiKeyStore;
  logger: Logger;
  isTemporalReachable: () => Promise<boolean>;
  /** Largest accepted JSON body. */
  bodyLimit?: string;
  /** The care team's console (console/): its pages and sign-in, and the session cookie /v1 also accepts. */
  console?: { router: Router; sessions: RequestHandler };
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One log line a request: id, method, route pattern, status, duration. Never a body, a query or an id of a patient. */
function requestLog(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.set('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info('http request', {
        requestId,
        method: req.method,
        route: req.route ? `${req.baseUrl}${req.route.path}` : '(unmatched)',
        status: res.statusCode,
        durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        keyId: req.principal?.id,
      });
    });
    next();
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
  app.use(requestLog(deps.logger));
  app.use(healthRouter(deps.isTemporalReachable));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  if (deps.console) app.use(deps.console.router);
  const sessions = deps.console ? [deps.console.sessions] : [];
  app.use('/v1', requireJson, express.json({ limit: deps.bodyLimit ?? '64kb', strict: true }), ...sessions, authenticate(deps.apiKeys));
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
