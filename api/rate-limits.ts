/**
 * Rate limits (express-rate-limit): failed authentications per client address, so keys cannot be
 * guessed at speed, and requests per API key, so one client cannot starve the others. A refusal
 * is a 429 problem with Retry-After. Counts live in this process's memory: each API process
 * limits on its own.
 */
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { RateLimits } from '../config';
import { HttpProblem } from './problem';

const common = (limits: RateLimits) => ({
  windowMs: limits.windowSeconds * 1000,
  // RateLimit and RateLimit-Policy headers on every answer, and Retry-After on a 429.
  standardHeaders: 'draft-7' as const,
  legacyHeaders: false,
  // The client address comes from the socket, or from X-Forwarded-For only behind HTTP_TRUST_PROXY proxies.
  validate: { xForwardedForHeader: false },
});

/**
 * Counts and refuses only requests without a valid key, placed between identifying the key and
 * refusing it: a valid key is never locked out by someone else's guesses from the same address.
 */
export function authFailureLimit(limits: RateLimits): RequestHandler {
  return rateLimit({
    ...common(limits),
    limit: limits.authFailures,
    keyGenerator: (req: Request) => ipKeyGenerator(req.ip ?? 'unknown'),
    skip: (req: Request) => req.principal !== undefined,
    handler: (_req, _res, next) => next(new HttpProblem(429, 'too many failed authentications from this address; wait as long as Retry-After says')),
  });
}

/** After authentication: requests per key. */
export function perKeyLimit(limits: RateLimits): RequestHandler {
  return rateLimit({
    ...common(limits),
    limit: limits.perKey,
    keyGenerator: (req: Request) => `key:${req.principal!.id}`,
    handler: (_req, _res, next) => next(new HttpProblem(429, 'this API key sent too many requests; wait as long as Retry-After says')),
  });
}
