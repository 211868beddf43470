/**
 * Errors as application/problem+json (RFC 9457), with a list of field errors for invalid input
 * (on the FHIR routes, as OperationOutcomes: api/fhir-outcome.ts).
 * Details name fields and constraints, never the values that were sent.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { ZodError } from 'zod';
import { isStoreUnavailable } from '../record/store';
import { FHIR_JSON, isFhirAnswer, problemOutcome } from './fhir-outcome';

export interface FieldError {
  field: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict with the pathway',
  412: 'Precondition failed',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Service unavailable',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; [key: string]: unknown } = {},
    /** Seconds a client should wait before retrying (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
  }
}

export function fieldErrors(error: ZodError, prefix: string[] = []): FieldError[] {
  return error.issues.map((i) => ({ field: [...prefix, ...i.path.map(String)].join('.') || '(body)', message: i.message }));
}

export function invalid(error: ZodError, prefix: string[] = []): HttpProblem {
  const errors = fieldErrors(error, prefix);
  return new HttpProblem(400, `invalid ${errors.map((e) => e.field).join(', ')}`, { errors });
}

/** The answer to a problem: an OperationOutcome on a FHIR route, problem details elsewhere. */
export function problemAnswer(res: Response, problem: HttpProblem): { type: string; body: unknown } {
  if (isFhirAnswer(res)) return { type: FHIR_JSON, body: problemOutcome(problem) };
  return {
    type: 'application/problem+json',
    body: {
      type: `https://pathway.invalid/problems/${problem.status}`,
      title: TITLES[problem.status] ?? 'Error',
      status: problem.status,
      detail: problem.detail,
      ...problem.extra,
    },
  };
}

export function sendProblem(res: Response, problem: HttpProblem): void {
  if (problem.retryAfterSeconds !== undefined) res.set('Retry-After', String(problem.retryAfterSeconds));
  const { type, body } = problemAnswer(res, problem);
  res.status(problem.status).type(type).json(body);
}

/**
 * An error and its causes, each as class and message (and gRPC code), for a log line: "connection
 * refused" or "deadline exceeded" is usually in a cause. Errors here never carry request data:
 * failure messages are written without patient data, and bodies are never put into errors.
 */
export function errorChain(err: unknown, depth = 6): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && parts.length < depth; e = (e as { cause?: unknown }).cause) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      break;
    }
    const code = (e as { code?: unknown }).code;
    parts.push(`${e.name}${typeof code === 'number' || typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}`);
  }
  return parts.join(' <- ');
}

/** The last middleware: turns every error into a problem, and never leaks internals or data. */
export function problemHandler(onUnexpected: (err: unknown, req: Request, res: Response) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // An answer already went out (a 503 after the deadline); what the handler did later is moot.
    if (res.headersSent) return;
    if (err instanceof HttpProblem) return sendProblem(res, err);
    // body-parser's own errors carry a status and a type.
    const status = typeof err?.status === 'number' ? err.status : undefined;
    if (err?.type === 'entity.too.large') return sendProblem(res, new HttpProblem(413, 'the body is larger than the limit'));
    if (err?.type === 'entity.parse.failed') return sendProblem(res, new HttpProblem(400, 'the body is not valid JSON', { errors: [{ field: '(body)', message: 'not valid JSON' }] }));
    if (err?.type === 'charset.unsupported' || err?.type === 'encoding.unsupported') return sendProblem(res, new HttpProblem(415, 'unsupported charset or encoding'));
    if (status && status >= 400 && status < 500) return sendProblem(res, new HttpProblem(status, 'the request was refused'));
    if (isStoreUnavailable(err)) {
      return sendProblem(res, new HttpProblem(503, 'the record store is unavailable; retry shortly (with the same Idempotency-Key, a retry is safe)', {}, 5));
    }
    onUnexpected(err, req, res);
    sendProblem(res, new HttpProblem(500, 'an unexpected error; it has been logged'));
  };
}
