/**
 * Rate limits (express-rate-limit): failed authentications per client address, so keys cannot be
 * guessed at speed, and requests per API key, so one client cannot starve the others. A refusal
 * is a 429 problem with Retry-After. With DATABASE_URL the counts live in PostgreSQL and every
 * API process behind the load balancer counts against one budget; the embedded record store
 * (one process) counts in memory.
 */
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { RateLimits } from '../config';
import { countHit, currentCount, forgetCount, forgetEndedWindows, uncountHit } from '../record/rate-limits';
import type { RecordStore } from '../record/store';
import { HttpProblem } from './problem';

/** express-rate-limit's Store on the record store's pool (record/rate-limits.ts). */
export class PostgresRateLimitStore implements Store {
  readonly localKeys = false;
  private windowMs = 60_000;
  private lastSweep = 0;

  constructor(
    private readonly store: RecordStore,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    this.sweepNowAndThen();
    const { hits, resetAt } = await countHit(this.store.db, this.prefix + key, this.windowMs);
    return { totalHits: hits, resetTime: resetAt };
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const count = await currentCount(this.store.db, this.prefix + key);
    return count && { totalHits: count.hits, resetTime: count.resetAt };
  }

  async decrement(key: string): Promise<void> {
    await uncountHit(this.store.db, this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await forgetCount(this.store.db, this.prefix + key);
  }

  /** Once a window per process, ended windows' rows go; a failure is only a row kept longer. */
  private sweepNowAndThen(): void {
    if (Date.now() - this.lastSweep < this.windowMs) return;
    this.lastSweep = Date.now();
    forgetEndedWindows(this.store.db).catch(() => undefined);
  }
}

/** Where a limit keeps its counts: PostgreSQL when the record is there, else this process's memory. */
function storeFor(record: RecordStore, prefix: string): Store | undefined {
  return record.kind === 'postgresql' ? new PostgresRateLimitStore(record, prefix) : undefined;
}

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
export function authFailureLimit(limits: RateLimits, record: RecordStore): RequestHandler {
  return rateLimit({
    ...common(limits),
    store: storeFor(record, 'auth-failures:'),
    limit: limits.authFailures,
    keyGenerator: (req: Request) => ipKeyGenerator(req.ip ?? 'unknown'),
    skip: (req: Request) => req.principal !== undefined,
    handler: (_req, _res, next) => next(new HttpProblem(429, 'too many failed authentications from this address; wait as long as Retry-After says')),
  });
}

/** After authentication: requests per key. */
export function perKeyLimit(limits: RateLimits, record: RecordStore): RequestHandler {
  return rateLimit({
    ...common(limits),
    store: storeFor(record, 'requests:'),
    limit: limits.perKey,
    keyGenerator: (req: Request) => `key:${req.principal!.id}`,
    handler: (_req, _res, next) => next(new HttpProblem(429, 'this API key sent too many requests; wait as long as Retry-After says')),
  });
}
