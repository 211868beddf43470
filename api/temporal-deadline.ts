/**
 * Every request waits for Temporal (and, through updates and queries, for the worker) a bounded
 * time, then answers 503 with Retry-After: never a hang, never a 500 for a dependency that is down.
 *
 * The deadline is set on the Temporal connection for everything the request's handler calls
 * (the client's own retries stop at it); a timer answers at the deadline in case a call is still
 * waiting between two retries.
 */
import type { Connection } from '@temporalio/client';
import { WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcServiceError } from '@temporalio/client';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../observability/log';
import { HttpProblem, errorChain, sendProblem } from './problem';

/** What a client is told to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** gRPC codes that mean Temporal (or the worker behind it) did not answer, not that it refused. */
const UNAVAILABLE_CODES = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  // An update the server could not hand to the workflow: its workflow task timed out or is failing
  // (a worker too busy, or gone, to take it in time). Retried with the same key, it is safe.
  9, // FAILED_PRECONDITION
  14, // UNAVAILABLE
]);

/** True when the error, or one of its causes, says Temporal did not answer in time. */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(e) && UNAVAILABLE_CODES.has(e.code)) return true;
  }
  return false;
}

/** The 503: a change may have been recorded before the answer was lost, so it never says "not applied". */
export function temporalUnavailable(method: string): HttpProblem {
  const change = method !== 'GET' && method !== 'HEAD';
  return new HttpProblem(
    503,
    change
      ? 'Temporal did not answer in time. The change may or may not have been recorded: retry it with the same Idempotency-Key, which is safe.'
      : 'Temporal did not answer in time; retry later.',
  );
}

export function sendTemporalUnavailable(req: Request, res: Response): void {
  res.set('Retry-After', String(RETRY_AFTER_SECONDS));
  sendProblem(res, temporalUnavailable(req.method));
}

/** Error middleware: Temporal not answering becomes the 503, logged with its causes (never request data). */
export function temporalUnavailableHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (!isTemporalUnavailable(err)) return next(err);
    logger.warn('temporal unavailable', { requestId: res.locals.requestId, method: req.method, route: res.locals.route, error: errorChain(err) });
    if (!res.headersSent) sendTemporalUnavailable(req, res);
  };
}

/** Runs the rest of the request with a deadline on every Temporal call it makes. */
export function temporalDeadline(connection: Pick<Connection, 'withDeadline'>, deadlineMs: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const done = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const timer = setTimeout(() => {
      if (!res.headersSent) sendTemporalUnavailable(req, res);
    }, deadlineMs + 250);
    void done.then(() => clearTimeout(timer));
    void connection.withDeadline(Date.now() + deadlineMs, () => {
      next();
      return done;
    });
  };
}
