/**
 * Every answer of a FHIR endpoint is FHIR, refusals and failures included: an HttpProblem as an
 * OperationOutcome (application/fhir+json), one issue per field at fault or one for the whole
 * request, never echoing a value. The FHIR routes are marked as early as the path is known, so
 * that what is refused before them (401, 405, 413, 415, 429, a malformed body) answers in FHIR too.
 */
import type { NextFunction, Request, Response } from 'express';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, operationOutcome } from '../fhir/observation-import';
import type { HttpProblem } from './problem';

export const FHIR_JSON = 'application/fhir+json';

/** POST /v1/fhir, POST /v1/pathways/{id}/fhir, GET /v1/definitions/{id}/{version}/fhir and its $package. */
const FHIR_PATH = /^\/v1\/(?:fhir|pathways\/[^/]+\/fhir|definitions\/[^/]+\/[^/]+\/fhir(?:\/\$package)?)\/?$/i;

export function markFhirRoutes(req: Request, res: Response, next: NextFunction): void {
  if (FHIR_PATH.test(req.path)) res.locals.fhir = true;
  next();
}

export const isFhirAnswer = (res: Response): boolean => res.locals.fhir === true;

const ISSUE_CODE: Record<number, OperationOutcomeIssue['code']> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  409: 'conflict',
  413: 'too-long',
  415: 'not-supported',
  422: 'business-rule',
  429: 'throttled',
  503: 'transient',
};

/** A field name that is an element's path ("patientRef", "baseline.odi"); "(body)" or a header is not. */
const ELEMENT = /^[A-Za-z][A-Za-z0-9_]*(?:\[\d+\])?(?:\.[A-Za-z][A-Za-z0-9_]*(?:\[\d+\])?)*$/;

/** A refusal as an OperationOutcome; `expression` names the elements at fault when the fields do not. */
export function problemOutcome(problem: HttpProblem, expression?: string[]): OperationOutcome {
  const code = ISSUE_CODE[problem.status] ?? 'exception';
  const whole = (text: string): OperationOutcomeIssue => {
    const { expression: _none, ...rest } = issue(code, [], text);
    return expression && expression.length > 0 ? { ...rest, expression } : rest;
  };
  const errors = problem.extra.errors ?? [];
  if (errors.length === 0) return operationOutcome([whole(problem.detail)]);
  return operationOutcome(errors.map((e) => (expression || !ELEMENT.test(e.field) ? whole(`${e.field}: ${e.message}`) : issue(code, [e.field], e.message))));
}
