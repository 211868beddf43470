/**
 * Idempotency-Key on every POST (IETF draft "The Idempotency-Key HTTP Header Field"): the
 * first answer to a key is kept in the record store with a digest of the request. A retry with
 * the same key and request gets that answer (`Idempotent-Replayed: true`), whatever happened
 * to the pathway since; the same key with another request is a 422. A retry that arrives while
 * the first request is still being answered (or after its process died with the claim) runs the
 * request again: every POST here is idempotent by the key (a change is the Temporal update whose id
 * derives from it, which Temporal applies once and answers alike; an enrolment is one
 * update-with-start; an import is keyed by Observation ids), so it gets the first answer within
 * seconds instead of waiting for the claim to go stale. Answers that say nothing definite (5xx,
 * 429) are not kept, so a retry runs again.
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { claimKey, completeKey, releaseKey } from '../record/idempotency';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordStore } from '../record/store';
import { FHIR_JSON, isFhirAnswer } from './fhir-outcome';
import { HttpProblem, problemAnswer } from './problem';
import { IdempotencyKeySchema } from './schemas';

/** A claim older than this belongs to a request whose process died; a retry takes it over. */
const STALE_AFTER_MS = 2 * 60 * 1000;

/** Answers that are kept: the request reached a definite outcome. */
const keeps = (status: number) => status < 500 && status !== 401 && status !== 403 && status !== 408 && status !== 429;

const digestOf = (req: Request) =>
  createHash('sha256')
    .update(`${req.method} ${req.baseUrl}${req.path}\u0000${JSON.stringify(req.body ?? null)}`)
    .digest('hex');

declare module 'express-serve-static-core' {
  interface Request {
    /** The Idempotency-Key the request carries, checked once here for every route. */
    idempotencyKey?: string;
  }
}

export function idempotency(record: { store: RecordStore; cipher: NoteCipher }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('idempotency-key');
    if (req.method !== 'POST' || given === undefined) return next();
    if (!IdempotencyKeySchema.safeParse(given).success) {
      return next(new HttpProblem(400, 'invalid Idempotency-Key', { errors: [{ field: 'Idempotency-Key', message: '8-128 letters, digits or . _ : -' }] }));
    }
    req.idempotencyKey = given;
    const keyHash = createHash('sha256').update(`${req.principal!.id}\u0000${given}`).digest('hex');
    void (async () => {
      const claim = await claimKey(record.store.db, record.cipher, keyHash, digestOf(req), STALE_AFTER_MS);
      if (claim.kind === 'mismatch') throw new HttpProblem(422, 'this Idempotency-Key was used for a different request', { errors: [{ field: 'Idempotency-Key', message: 'already used with another body or path' }] });
      // Another request holds the claim (alive, or dead with its process): run alongside it, never release its claim.
      const owned = claim.kind === 'new';
      if (claim.kind === 'replay') {
        const { status, body, location } = claim.body as { status: number; body: unknown; location?: string };
        if (location) res.location(location);
        const type = isFhirAnswer(res) ? FHIR_JSON : status >= 400 ? 'application/problem+json' : 'application/json';
        res.set('Idempotent-Replayed', 'true').status(status).type(type).send(JSON.stringify(body));
        return;
      }
      // Keep the answer as it is sent: the first one only (a late result after the 503 at the
      // Temporal deadline changes nothing, and is not sent twice).
      const send = res.json.bind(res);
      let answered = false;
      res.json = (body: unknown) => {
        if (answered || res.headersSent) return res;
        answered = true;
        const status = res.statusCode;
        const settle = keeps(status)
          ? completeKey(record.store.db, record.cipher, keyHash, status, { status, body, location: res.get('location') })
          : owned
            ? releaseKey(record.store.db, keyHash)
            : Promise.resolve();
        settle
          .then(
            () => {
              // A 503 at the deadline may have set its status while this answer was being kept.
              if (res.statusCode !== status) res.status(status).removeHeader('Retry-After');
              send(body);
            },
            // The answer could not be kept: say nothing definite, and let the retry run again.
            () => {
              if (owned) void releaseKey(record.store.db, keyHash).catch(() => undefined);
              const { type, body: problem } = problemAnswer(res, new HttpProblem(503, 'the answer could not be confirmed; retry with the same Idempotency-Key'));
              res.status(503).set('Retry-After', '2').type(type);
              send(problem);
            },
          )
          .catch(() => undefined);
        return res;
      };
      if (!res.get('Idempotent-Replayed')) res.set('Idempotent-Replayed', 'false');
      next();
    })().catch(next);
  };
}
