/**
 * /p/{token}: the patient's page. GET shows the questionnaire (and never uses the link up); POST
 * records the answers once. A forged, expired, replaced or used link gets a friendly page and
 * changes nothing. Rate-limited per address against guessing; no sign-in, no cookie.
 */
import express, { Router, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Answers, InstrumentRegistry } from '../clinical/instruments';
import type { PatientLanguage } from '../clinical/patient';
import type { Logger } from '../observability/log';
import { confirmationPage, noticePage, PATIENT_CSS, questionnairePage } from './page';
import type { OpenResult, QuestionnaireService, SubmitResult } from './questionnaire-service';

const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface PatientPageLimits {
  windowSeconds: number;
  /** Requests to /p per address per window. */
  perAddress: number;
  /** Links that do not open (forged, unknown) per address per window. */
  badLinks: number;
}

export const DEFAULT_PATIENT_PAGE_LIMITS: PatientPageLimits = { windowSeconds: 600, perAddress: 60, badLinks: 10 };

function send(res: Response, status: number, html: string): void {
  res
    .status(status)
    // The link is in the address: no referrer leaves the page, nothing is cached or indexed.
    .set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex, nofollow', 'X-Content-Type-Options': 'nosniff' })
    .type('html')
    .send(html);
}

/** The language of a page for a link that names none (forged, unknown): the browser's, if we speak it. */
const browserLanguage = (req: Request): PatientLanguage => (req.acceptsLanguages('en', 'es') === 'es' ? 'es' : 'en');

export function patientRouter(opts: { questionnaires: QuestionnaireService; instruments: InstrumentRegistry; logger: Logger; limits?: PatientPageLimits }): Router {
  const router = Router();
  const limits = opts.limits ?? DEFAULT_PATIENT_PAGE_LIMITS;
  const common = { windowMs: limits.windowSeconds * 1000, standardHeaders: 'draft-7' as const, legacyHeaders: false, validate: { xForwardedForHeader: false }, keyGenerator: (req: Request) => ipKeyGenerator(req.ip ?? 'unknown') };
  const tooMany = (req: Request, res: Response) => send(res, 429, noticePage(browserLanguage(req), 'too-many'));
  const everyRequest = rateLimit({ ...common, limit: limits.perAddress, handler: tooMany });
  // Only links that do not open count here (answered 404): guessing is slowed, patients are not.
  const badLinks = rateLimit({ ...common, limit: limits.badLinks, requestWasSuccessful: (_req, res) => res.statusCode !== 404, skipSuccessfulRequests: true, handler: tooMany });

  router.get('/p/patient.css', (_req, res) => {
    res.set({ 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' }).type('css').send(PATIENT_CSS);
  });

  const render = (req: Request, res: Response, result: OpenResult | SubmitResult, answers?: Answers, comment?: string) => {
    switch (result.kind) {
      case 'invalid':
        return send(res, 404, noticePage(browserLanguage(req), 'invalid'));
      case 'expired':
      case 'replaced':
        return send(res, 410, noticePage(result.language, result.kind));
      case 'answered':
        return send(res, 200, confirmationPage(result.language, result.advice));
      case 'form':
        return send(res, 200, questionnairePage({ registry: opts.instruments, instruments: result.instruments, language: result.language, action: req.originalUrl }));
      case 'problems':
        return send(res, 400, questionnairePage({ registry: opts.instruments, instruments: result.instruments, language: result.language, action: req.originalUrl, answers, comment, problems: result.problems }));
    }
  };

  router.get('/p/:token', everyRequest, badLinks, async (req, res) => {
    render(req, res, await opts.questionnaires.open(String(req.params.token)));
  });

  router.post('/p/:token', everyRequest, badLinks, express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 200 }), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const answers: Answers = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string' && k !== 'comment') answers[k] = v;
    const comment = typeof body.comment === 'string' && body.comment.trim() ? body.comment.trim().slice(0, 2000) : undefined;
    try {
      render(req, res, await opts.questionnaires.submit(String(req.params.token), answers, comment), answers, comment);
    } catch (err) {
      // Nothing was recorded: the patient is asked to send again (the pathway's update is idempotent on the link).
      opts.logger.warn('patient answers not recorded', { error: err instanceof Error ? err.constructor.name : 'unknown' });
      send(res.set('Retry-After', '60'), 503, noticePage(browserLanguage(req), 'unavailable'));
    }
  });

  return router;
}
