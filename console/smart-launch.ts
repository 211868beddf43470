/**
 * /smart: the console launched from the EHR (SMART App Launch 2.x). /smart/launch takes the EHR
 * launch (iss + launch) or a standalone launch (iss, or the first configured EHR); /smart/callback
 * signs the person in as console sign-in does and opens the pathway of the patient in context,
 * found by the clinic's identifier on the EHR's Patient (the record store's keyed-hash lookup), or
 * the enrolment page when the patient has none; POST /smart/import reads the patient's recent
 * pain NRS and ODI Observations from the EHR with the launch's token and records them as
 * POST /v1/fhir does (same rules, idempotent by Observation id).
 */
import { Router } from 'express';
import type { Bundle, BundleEntry, Observation } from '@medplum/fhirtypes';
import { hasCsrfToken } from '../api/auth';
import { FHIR_JSON, problemOutcome } from '../api/fhir-outcome';
import type { PathwayService } from '../api/pathways-service';
import { HttpProblem } from '../api/problem';
import { importObservations } from '../api/routes/fhir';
import { may } from '../clinical/permissions';
import { LOINC, scoreCode } from '../fhir/codes';
import type { Logger } from '../observability/log';
import type { ConsoleSessions } from './session';
import { startSession } from './sign-in';
import { LaunchRefused, type PendingLaunch, type SmartApp, type SmartContext } from './smart';
import { SignInRefused } from './oidc';

declare module 'express-session' {
  interface SessionData {
    smartLaunch: PendingLaunch;
    /** The EHR launch this session came from: its FHIR server, token and patient. */
    smart: SmartContext;
  }
}

export interface SmartLaunchOptions {
  app: SmartApp;
  sessions: ConsoleSessions;
  pathways: PathwayService;
  /** The identifier system of the clinic's patient reference among the EHR Patient's identifiers. */
  patientIdentifierSystem: string;
  logger: Logger;
}

const IMPORTED = (['painNrs', 'odi'] as const).map((f) => `${LOINC}|${scoreCode(f).coding.code}`);

export function smartLaunchRouter(opts: SmartLaunchOptions): Router {
  const router = Router();
  router.use(opts.sessions.middleware);

  router.get('/launch', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const launch = typeof req.query.launch === 'string' && /^[\x21-\x7e]{1,512}$/.test(req.query.launch) ? req.query.launch : undefined;
    let iss: string;
    try {
      // An EHR launch names its server; a standalone launch may leave it to the configuration.
      iss = req.query.iss === undefined && !launch ? opts.app.standaloneIss : opts.app.allowedIss(req.query.iss);
    } catch (err) {
      if (err instanceof LaunchRefused) throw new HttpProblem(403, err.message);
      throw err;
    }
    let started;
    try {
      started = await opts.app.start(iss, launch);
    } catch (err) {
      opts.logger.warn('the EHR did not answer the SMART launch', { error: err instanceof Error ? err.message : String(err) });
      res.set('Retry-After', '30');
      throw new HttpProblem(503, "the EHR's authorization server does not answer; launch again shortly");
    }
    req.session.smartLaunch = started.pending;
    res.redirect(303, started.url);
  });

  router.get('/callback', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const pending = req.session.smartLaunch;
    if (!pending) return res.redirect(303, '/sign-in?error=expired');
    delete req.session.smartLaunch;
    if (typeof req.query.error === 'string') return res.redirect(303, '/sign-in?error=refused');
    let target: string;
    try {
      const q = req.originalUrl.indexOf('?');
      const { principal, context } = await opts.app.finish(q >= 0 ? req.originalUrl.slice(q) : '', pending);
      await startSession(req, principal);
      req.session.smart = context;
      opts.logger.info('console sign-in', { method: 'smart', actor: principal.id, role: principal.role });
      const patientRef = await opts.app.clinicReference(context, opts.patientIdentifierSystem);
      const view = patientRef
        ? await opts.pathways.lookup(patientRef, principal.careTeams ? { careTeams: principal.careTeams } : {}).catch((err: unknown) => {
            if (err instanceof HttpProblem && err.status === 404) return null;
            throw err;
          })
        : null;
      // The patient's pathway, or the enrolment page when they have none.
      target = view ? `/pathways/${view.pathwayId}` : '/enrol?from=ehr';
    } catch (err) {
      opts.logger.warn('console sign-in refused', { method: 'smart', reason: err instanceof SignInRefused ? err.message : err instanceof Error ? err.name : 'error' });
      return res.redirect(303, `/sign-in?error=${err instanceof SignInRefused ? 'claims' : 'failed'}`);
    }
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    res.redirect(303, target);
  });

  router.post('/import', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const refuse = (problem: HttpProblem) => res.status(problem.status).type(FHIR_JSON).json(problemOutcome(problem));
    const principal = req.session.principal;
    if (!principal) return refuse(new HttpProblem(401, 'launch Pathway from the EHR first'));
    if (!hasCsrfToken(req)) return refuse(new HttpProblem(403, "send the session's CSRF token in X-CSRF-Token"));
    if (!may(principal.role, 'record-reassessment')) return refuse(new HttpProblem(403, `role ${principal.role} may not record-reassessment`));
    const context = req.session.smart;
    if (!context) return refuse(new HttpProblem(409, 'this session was not launched from the EHR'));
    let observations: Observation[];
    let patientRef: string | undefined;
    try {
      patientRef = await opts.app.clinicReference(context, opts.patientIdentifierSystem);
      observations = patientRef ? await opts.app.recentScores(context, IMPORTED) : [];
    } catch (err) {
      if (err instanceof LaunchRefused) return refuse(new HttpProblem(401, err.message));
      opts.logger.warn('the EHR FHIR server did not answer', { error: err instanceof Error ? err.message : String(err) });
      res.set('Retry-After', '30');
      return refuse(new HttpProblem(503, "the EHR's FHIR server does not answer; try again shortly"));
    }
    if (!patientRef) return refuse(new HttpProblem(404, "the EHR's patient carries no clinic patient reference"));
    if (observations.length === 0) return res.status(200).type(FHIR_JSON).json({ resourceType: 'Bundle', type: 'batch-response', entry: [] });
    // The EHR names its own Patient; the pathway is found by the clinic's reference, as POST /v1/fhir does.
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: observations.map((o): BundleEntry => ({
        resource: { ...o, subject: { identifier: { system: opts.patientIdentifierSystem, value: patientRef } } },
        request: { method: 'POST', url: 'Observation' },
      })),
    };
    const answer = await importObservations(opts.pathways, principal, batch);
    res.status(answer.status).type(FHIR_JSON).json(answer.resource);
  });
  return router;
}
