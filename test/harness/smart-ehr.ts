/**
 * An EHR on loopback for SMART App Launch tests: an authorization server (`oidc-provider`, with
 * PKCE, the package's development login and consent pages, the SMART launch parameters and the
 * patient in context in the token answer) and a small FHIR endpoint beside it that publishes
 * .well-known/smart-configuration and serves Patients and Observations only to a token whose
 * launch context is that patient.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import Provider from 'oidc-provider';
import type { Person } from './oidc-provider';

export interface SmartEhr {
  /** The FHIR base URL: the launch's iss. */
  fhirBase: string;
  issuer: string;
  clientId: string;
  patients: Map<string, Patient>;
  observations: Observation[];
  /** FHIR requests served, as "METHOD path" with whether a valid token came with them. */
  fhirRequests: Array<{ path: string; authorized: boolean }>;
  /** A launch token the EHR hands the app for this patient (the EHR launch). */
  launch(patientId: string): string;
  stop(): Promise<void>;
}

const STANDALONE = '(standalone)';

export async function startSmartEhr(opts: { port: number; redirectUri: string; people: Record<string, Person>; standalonePatient: string }): Promise<SmartEhr> {
  const issuer = `http://127.0.0.1:${opts.port}`;
  const fhirBase = `${issuer}/fhir`;
  const clientId = 'pathway-console-smart';
  const launches = new Map<string, string>();
  const patients = new Map<string, Patient>();
  const observations: Observation[] = [];
  const fhirRequests: SmartEhr['fhirRequests'] = [];
  // The launch context follows the authorization request through its state, then its code, to the token.
  const launchOfState = new Map<string, string>();
  const launchOfCode = new Map<string, string>();
  const patientOfToken = new Map<string, string>();

  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, token_endpoint_auth_method: 'none', redirect_uris: [opts.redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    scopes: ['openid', 'launch', 'launch/patient', 'fhirUser', 'profile', 'pathway', 'patient/Patient.rs', 'patient/Observation.rs'],
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['preferred_username', 'name'], pathway: ['pathway_role', 'pathway_care_teams'] },
    extraParams: ['launch', 'aud'],
    // SMART: fhirUser (and here the role claims) in the ID token itself, not only at userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    cookies: { keys: ['test-smart-ehr-cookie-key-00000001'] },
    async findAccount(_ctx, id) {
      const person = opts.people[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, fhirUser: `Practitioner/${id}`, ...person }) };
    },
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => console.error('smart ehr server_error', err));
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth' && typeof ctx.query.state === 'string') {
      const launch = typeof ctx.query.launch === 'string' ? ctx.query.launch : STANDALONE;
      // SMART: the app names this FHIR server as the audience.
      if (ctx.query.aud === fhirBase) launchOfState.set(ctx.query.state, launch);
    }
    await next();
    const location = ctx.response.get('location');
    if (location) {
      const to = new URL(location, issuer);
      const [code, state] = [to.searchParams.get('code'), to.searchParams.get('state')];
      if (code && state && launchOfState.has(state)) launchOfCode.set(code, launchOfState.get(state)!);
    }
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.path === '/token' && ctx.status === 200 && typeof body?.access_token === 'string') {
      const launch = launchOfCode.get(String((ctx.oidc as { params?: { code?: unknown } } | undefined)?.params?.code));
      const patient = launch === STANDALONE ? opts.standalonePatient : launch ? launches.get(launch) : undefined;
      if (patient) {
        body.patient = patient;
        patientOfToken.set(body.access_token, patient);
      }
    }
  });
  const providerHandler = provider.callback();

  const fhir = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url!, issuer);
    const path = url.pathname.slice('/fhir/'.length);
    const send = (status: number, body: unknown, type = 'application/fhir+json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(JSON.stringify(body));
    };
    if (path === '.well-known/smart-configuration') {
      return send(
        200,
        {
          issuer,
          jwks_uri: `${issuer}/jwks`,
          authorization_endpoint: `${issuer}/auth`,
          token_endpoint: `${issuer}/token`,
          grant_types_supported: ['authorization_code'],
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
          scopes_supported: ['openid', 'fhirUser', 'launch', 'launch/patient', 'patient/*.rs'],
          capabilities: ['launch-ehr', 'launch-standalone', 'client-public', 'context-ehr-patient', 'context-standalone-patient', 'sso-openid-connect', 'permission-patient', 'permission-v2'],
        },
        'application/json',
      );
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const inContext = token ? patientOfToken.get(token) : undefined;
    fhirRequests.push({ path: `${req.method} ${path.split('?')[0]}`, authorized: Boolean(inContext) });
    const denied = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', details: { text: 'not this launch' } }] };
    const patientRead = /^Patient\/([A-Za-z0-9\-.]+)$/.exec(path);
    if (patientRead) {
      if (patientRead[1] !== inContext) return send(inContext ? 403 : 401, denied);
      const patient = patients.get(patientRead[1]!);
      return patient ? send(200, patient) : send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    }
    if (path === 'Observation') {
      const patient = url.searchParams.get('patient');
      if (!inContext || patient !== inContext) return send(inContext ? 403 : 401, denied);
      const codes = (url.searchParams.get('code') ?? '').split(',').filter(Boolean);
      const found = observations
        .filter((o) => o.subject?.reference === `Patient/${patient}`)
        .filter((o) => codes.length === 0 || o.code.coding?.some((c) => codes.includes(`${c.system}|${c.code}`)))
        .sort((a, b) => (b.effectiveDateTime ?? '').localeCompare(a.effectiveDateTime ?? ''));
      const bundle: Bundle<Observation> = { resourceType: 'Bundle', type: 'searchset', total: found.length, entry: found.map((resource) => ({ fullUrl: `${fhirBase}/Observation/${resource.id}`, resource, search: { mode: 'match' } })) };
      return send(200, bundle);
    }
    send(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported' }] });
  };

  const server = http.createServer((req, res) => (req.url?.startsWith('/fhir/') ? fhir(req, res) : providerHandler(req, res)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  if ((server.address() as AddressInfo).port !== opts.port) throw new Error('the test EHR is not on its port');
  return {
    fhirBase,
    issuer,
    clientId,
    patients,
    observations,
    fhirRequests,
    launch(patientId) {
      const id = randomUUID();
      launches.set(id, patientId);
      return id;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
