/**
 * The console as a SMART on FHIR app (SMART App Launch 2.x): discovery at the EHR FHIR server's
 * .well-known/smart-configuration, authorization code with PKCE (openid-client), the launch
 * context (patient) from the token answer, the person from the ID token's fhirUser and the
 * configured claims, and reads from the EHR's FHIR server with the launch's access token.
 */
import * as oidc from 'openid-client';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import type { Principal } from '../api/auth';
import type { SmartConfig } from '../config';
import { SignInRefused, exchangeCode, principalFromClaims } from './oidc';

/** What the session keeps between the redirect to the EHR's authorization server and its answer. */
export interface PendingLaunch {
  iss: string;
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** The launch, kept in the (encrypted) session: the EHR's FHIR server, the token and the patient in context. */
export interface SmartContext {
  iss: string;
  accessToken: string;
  /** The EHR's Patient id from the launch context. */
  patientId: string;
  expiresAt: number;
}

export class LaunchRefused extends Error {}

const isLoopbackHttp = (url: URL) => url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
const FHIR_JSON = 'application/fhir+json';

interface SmartConfiguration {
  issuer?: string;
  jwks_uri?: string;
  authorization_endpoint: string;
  token_endpoint: string;
  capabilities?: string[];
  code_challenge_methods_supported?: string[];
}

export class SmartApp {
  private readonly configurations = new Map<string, Promise<oidc.Configuration>>();

  constructor(private readonly settings: SmartConfig) {}

  /** An iss the hospital allows, without a trailing slash; anything else is refused (no launching into a stranger's server). */
  allowedIss(iss: unknown): string {
    const normalized = typeof iss === 'string' ? iss.replace(/\/$/, '') : undefined;
    if (!normalized || !this.settings.issuers.includes(normalized)) throw new LaunchRefused('this EHR is not configured to launch Pathway');
    return normalized;
  }

  get standaloneIss(): string {
    return this.settings.issuers[0]!;
  }

  /** SMART discovery, cached per server; again after a failure. */
  private configuration(iss: string): Promise<oidc.Configuration> {
    let found = this.configurations.get(iss);
    if (!found) {
      found = (async () => {
        const res = await fetch(`${iss}/.well-known/smart-configuration`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`smart-configuration answered ${res.status}`);
        const smart = (await res.json()) as SmartConfiguration;
        if (!smart.issuer || !smart.jwks_uri) throw new Error('the EHR offers no OpenID Connect (issuer, jwks_uri) in its smart-configuration');
        if (smart.code_challenge_methods_supported && !smart.code_challenge_methods_supported.includes('S256')) throw new Error('the EHR does not support PKCE with S256');
        const config = new oidc.Configuration(
          { issuer: smart.issuer, authorization_endpoint: smart.authorization_endpoint, token_endpoint: smart.token_endpoint, jwks_uri: smart.jwks_uri },
          this.settings.clientId,
          undefined,
          this.settings.clientSecret ? oidc.ClientSecretBasic(this.settings.clientSecret) : oidc.None(),
        );
        if (isLoopbackHttp(new URL(iss))) oidc.allowInsecureRequests(config);
        return config;
      })().catch((err: unknown) => {
        this.configurations.delete(iss);
        throw err;
      });
      this.configurations.set(iss, found);
    }
    return found;
  }

  /** The authorization request: an EHR launch (with its launch token) or a standalone launch. */
  async start(iss: string, launch: string | undefined): Promise<{ url: string; pending: PendingLaunch }> {
    const config = await this.configuration(iss);
    const pending: PendingLaunch = { iss, codeVerifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: `${launch ? 'launch' : 'launch/patient'} ${this.settings.scope}`,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      // SMART: the FHIR server the token is for.
      aud: iss,
      ...(launch ? { launch } : {}),
    });
    return { url: url.href, pending };
  }

  /** The code for tokens; the person from fhirUser and the claims; the patient in context. */
  async finish(callbackQuery: string, pending: PendingLaunch): Promise<{ principal: Principal; context: SmartContext }> {
    const config = await this.configuration(pending.iss);
    const tokens = await exchangeCode(config, this.settings.redirectUrl, callbackQuery, pending);
    const claims = tokens.claims()! as Record<string, unknown>;
    const names = this.settings.claims;
    // The timeline names the person by the configured claim, else by their fhirUser (e.g. Practitioner/123).
    const principal = principalFromClaims({ ...claims, [names.username]: claims[names.username] ?? claims.fhirUser }, names);
    const patientId = tokens.patient;
    if (typeof patientId !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(patientId)) throw new SignInRefused('the launch gave no patient in context');
    return {
      principal,
      context: { iss: pending.iss, accessToken: tokens.access_token, patientId, expiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000 },
    };
  }

  private async read<T>(context: SmartContext, path: string): Promise<T> {
    if (Date.now() >= context.expiresAt) throw new LaunchRefused('the EHR launch has expired: launch Pathway from the EHR again');
    const res = await fetch(`${context.iss}/${path}`, { headers: { authorization: `Bearer ${context.accessToken}`, accept: FHIR_JSON }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`the EHR's FHIR server answered ${res.status} to ${path.split('?')[0]}`);
    return (await res.json()) as T;
  }

  /** The clinic's patient reference: the identifier of the configured system on the EHR's Patient in context. */
  async clinicReference(context: SmartContext, system: string): Promise<string | undefined> {
    const patient = await this.read<Patient>(context, `Patient/${context.patientId}`);
    return patient.identifier?.find((i) => i.system === system)?.value;
  }

  /** The patient's pain NRS and ODI Observations, most recent first. */
  async recentScores(context: SmartContext, codes: string[], count = 20): Promise<Observation[]> {
    const query = new URLSearchParams({ patient: context.patientId, code: codes.join(','), _sort: '-date', _count: String(count) });
    const bundle = await this.read<Bundle<Observation>>(context, `Observation?${query}`);
    return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Observation => r?.resourceType === 'Observation');
  }
}
