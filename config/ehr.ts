/**
 * The EHR's side of the integration, configured per hospital: which EHRs may call the CDS Hooks
 * service (their issuer and where their signing keys are), and which of the EHR patient's
 * identifiers is the clinic's patient reference that pathways are found by.
 */
import { z } from 'zod';
import { EnrolmentInputSchema } from '../clinical/events';

const CareTeamSchema = EnrolmentInputSchema.shape.careTeam;

const isLoopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
/** https, or plain http on loopback only (an EHR on the same machine, as in the tests). */
export const SecureUrlSchema = z
  .string()
  .url()
  .refine((v) => new URL(v).protocol === 'https:' || (new URL(v).protocol === 'http:' && isLoopback(new URL(v))), 'https, or http on loopback only');

export const CdsClientSchema = z
  .object({
    /** The EHR's `iss` claim. */
    iss: z.string().min(1),
    /** Its JSON Web Key Set: the keys a call's JWT must be signed with. */
    jwksUrl: SecureUrlSchema,
    /** Other key-set URLs a JWT may name in its `jku` header; any other `jku` is refused. */
    jku: z.array(SecureUrlSchema).default([]),
    /** The EHR's FHIR server, which the service may read the patient from with the hook's fhirAuthorization (when not prefetched). */
    fhirServer: SecureUrlSchema.optional(),
    /** Care teams whose pathways the EHR's cards may show; absent, every team. */
    careTeams: z.array(CareTeamSchema).min(1).optional(),
  })
  .strict();
export type CdsClient = z.infer<typeof CdsClientSchema>;

export interface EhrSettings {
  /** The identifier system, among the EHR Patient's identifiers, of the clinic's patient reference. */
  patientIdentifierSystem: string;
  cdsClients: CdsClient[];
}

/** PATHWAY_CDS_CLIENTS: a JSON list of clients; a message naming what is wrong. */
export function parseCdsClients(json: string | undefined): CdsClient[] | string {
  if (!json) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return 'not valid JSON';
  }
  const parsed = z.array(CdsClientSchema).safeParse(raw);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  const issuers = parsed.data.map((c) => c.iss);
  if (new Set(issuers).size !== issuers.length) return 'an issuer is listed twice';
  return parsed.data;
}

/** Where the EHR launches the console as a SMART app (the launch URL to register). */
export const SMART_LAUNCH_PATH = '/smart/launch';
/** Where the EHR's authorization server sends the browser back (the redirect URI to register). */
export const SMART_CALLBACK_PATH = '/smart/callback';
