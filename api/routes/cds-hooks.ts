/**
 * CDS Hooks 2.0: discovery (GET /cds-services, open, as the specification has it) and the
 * patient-view service, which answers the EHR's signed call with one card for a patient who has a
 * pathway in the care teams the EHR is configured for, and no card otherwise. The patient is the
 * one the EHR shows: its Patient resource (prefetched, or read from the EHR's FHIR server with
 * the hook's fhirAuthorization) carries the clinic's patient reference as an identifier, which
 * finds the pathway through the record store's keyed hash, as every lookup does.
 */
import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Patient } from '@medplum/fhirtypes';
import { z } from 'zod';
import { CdsAuthError, CdsAuthenticator } from '../../ehr/cds-auth';
import { pathwayCard } from '../../ehr/pathway-card';
import type { CdsClient, EhrSettings } from '../../config/ehr';
import type { Logger } from '../../observability/log';
import type { PathwayService } from '../pathways-service';
import { HttpProblem, invalid } from '../problem';
import type { RateLimits } from '../../config';
import type { RecordStore } from '../../record/store';
import { authFailureLimit, perKeyLimit } from '../rate-limits';

export const PATIENT_VIEW_SERVICE = 'pathway-status';

export interface CdsHooksOptions {
  settings: EhrSettings;
  /** The service's public base URL: the JWT's audience is this + /cds-services/{id}. */
  publicUrl: string;
  /** The console's SMART launch address, opened by the card's link. */
  launchUrl: string;
  logger: Logger;
}

const HookRequestSchema = z.object({
  hook: z.literal('patient-view'),
  hookInstance: z.string().min(1).max(200),
  fhirServer: z.string().url().optional(),
  fhirAuthorization: z.object({ access_token: z.string().min(1), token_type: z.literal('Bearer') }).passthrough().optional(),
  context: z.object({ userId: z.string().min(1).max(200), patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/), encounterId: z.string().optional() }).passthrough(),
  prefetch: z.object({ patient: z.object({ resourceType: z.literal('Patient') }).passthrough().nullable().optional() }).passthrough().optional(),
});
type HookRequest = z.infer<typeof HookRequestSchema>;

/** The Patient resource: prefetched, or read from the EHR's configured FHIR server with the hook's token. */
async function patientOf(body: HookRequest, client: CdsClient): Promise<Patient | undefined> {
  const prefetched = body.prefetch?.patient;
  if (prefetched) return prefetched as Patient;
  if (!client.fhirServer || !body.fhirAuthorization || body.fhirServer?.replace(/\/$/, '') !== client.fhirServer.replace(/\/$/, '')) return undefined;
  const res = await fetch(`${client.fhirServer.replace(/\/$/, '')}/Patient/${body.context.patientId}`, {
    headers: { authorization: `Bearer ${body.fhirAuthorization.access_token}`, accept: 'application/fhir+json' },
    signal: AbortSignal.timeout(3000),
  }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return (await res.json()) as Patient;
}

export function cdsHooksRouter(service: PathwayService, opts: CdsHooksOptions, limits: RateLimits, record: RecordStore): Router {
  const router = Router();
  const authenticator = new CdsAuthenticator(opts.settings.cdsClients);
  const base = opts.publicUrl.replace(/\/$/, '');
  // EHRs call from the browser too; the JWT, not a cookie, authenticates.
  router.use(cors({ origin: '*', allowedHeaders: ['Authorization', 'Content-Type'], methods: ['GET', 'POST'] }));

  router.get('/', (_req, res) => {
    res.json({
      services: [
        {
          hook: 'patient-view',
          id: PATIENT_VIEW_SERVICE,
          title: 'Spinal pain pathway',
          description: "Where the patient's stepped-care pathway for persistent spinal pain stands: stage, status, what is due and by when, overdue or urgent; a link opens the pathway.",
          prefetch: { patient: 'Patient/{{context.patientId}}' },
        },
      ],
    });
  });

  /** The EHR's JWT, checked before anything else is read; its client rides on the request. */
  const authenticate = async (req: Request, res: Response, next: NextFunction) => {
    if (req.params.id !== PATIENT_VIEW_SERVICE) return next(new HttpProblem(404, 'no such CDS service'));
    try {
      const { client } = await authenticator.verify(req.get('authorization'), `${base}/cds-services/${PATIENT_VIEW_SERVICE}`);
      res.locals.cdsClient = client;
      req.principal = { id: `cds:${client.iss}`, role: 'viewer', ...(client.careTeams ? { careTeams: client.careTeams } : {}) };
      next();
    } catch (err) {
      if (!(err instanceof CdsAuthError)) return next(err);
      opts.logger.warn('cds hooks call refused', { requestId: res.locals.requestId, reason: err.message });
      res.locals.cdsRefusal = err.message;
      next();
    }
  };
  const refuseUnauthenticated = (req: Request, res: Response, next: NextFunction) => {
    if (req.principal) return next();
    res.set('WWW-Authenticate', 'Bearer realm="cds-services"');
    next(new HttpProblem(401, String(res.locals.cdsRefusal)));
  };

  // As /v1: failed authentications per address, then calls per EHR, then the body.
  router.post('/:id', authenticate, authFailureLimit(limits, record), refuseUnauthenticated, perKeyLimit(limits, record), express.json({ limit: '256kb' }), async (req: Request, res) => {
    const client = res.locals.cdsClient as CdsClient;
    const body = HookRequestSchema.safeParse(req.body);
    if (!body.success) throw invalid(body.error);
    const patient = await patientOf(body.data, client);
    // CDS Hooks: the data the service needs was neither prefetched nor readable.
    if (!patient) throw new HttpProblem(412, 'prefetch the patient (Patient/{{context.patientId}}), or send fhirServer and fhirAuthorization');
    const patientRef = patient.identifier?.find((i) => i.system === opts.settings.patientIdentifierSystem)?.value;
    const view = patientRef
      ? await service.lookup(patientRef, client.careTeams ? { careTeams: client.careTeams } : {}).catch((err: unknown) => {
          if (err instanceof HttpProblem && err.status === 404) return null;
          throw err;
        })
      : null;
    res.set('Cache-Control', 'no-store');
    res.json({ cards: view ? [pathwayCard(view, { launchUrl: opts.launchUrl, uuid: randomUUID() })] : [] });
  });
  return router;
}
