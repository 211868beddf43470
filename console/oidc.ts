/**
 * Sign-in through the hospital's OpenID Connect provider: authorization code with PKCE
 * (openid-client). The person's name for the timeline, role and care teams come from the claims
 * the settings name, read from the ID token and the userinfo answer.
 */
import * as oidc from 'openid-client';
import { ROLES, type Role } from '../clinical/permissions';
import type { Principal } from '../api/auth';
import type { OidcConfig } from '../config';

/** What the session keeps between the redirect to the provider and its answer. */
export interface PendingSignIn {
  codeVerifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

/**
 * The authorization code the provider sent back to `redirectUrl`, exchanged for tokens with the
 * PKCE verifier, state and nonce the sign-in (or SMART launch) began with.
 */
export function exchangeCode(
  config: oidc.Configuration,
  redirectUrl: string,
  callbackQuery: string,
  pending: { codeVerifier: string; state: string; nonce: string },
): ReturnType<typeof oidc.authorizationCodeGrant> {
  const current = new URL(redirectUrl);
  current.search = callbackQuery;
  return oidc.authorizationCodeGrant(config, current, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
}

export class SignInRefused extends Error {}

const isLoopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

/** The most capable role the claim names: a claim may be one value or a list (e.g. groups). */
function roleOf(value: unknown): Role | undefined {
  const values = Array.isArray(value) ? value : [value];
  return [...ROLES].reverse().find((role) => values.includes(role));
}

/** A list, or one string of space- or comma-separated teams; absent means every team. */
function careTeamsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const teams = (Array.isArray(value) ? value : String(value).split(/[\s,]+/)).map(String).filter(Boolean);
  return teams;
}

export function principalFromClaims(claims: Record<string, unknown>, names: OidcConfig['claims']): Principal {
  const id = claims[names.username] ?? claims.sub;
  if (typeof id !== 'string' || id.length < 1 || id.length > 120) throw new SignInRefused(`the provider sent no usable ${names.username} or sub claim`);
  const role = roleOf(claims[names.role]);
  if (!role) throw new SignInRefused(`the ${names.role} claim names no Pathway role (${ROLES.join(', ')})`);
  const careTeams = careTeamsOf(claims[names.careTeams]);
  if (careTeams && careTeams.length === 0) throw new SignInRefused(`the ${names.careTeams} claim names no care team`);
  return { id, role, ...(careTeams ? { careTeams } : {}) };
}

export class OidcSignIn {
  private configuration?: Promise<oidc.Configuration>;

  constructor(private readonly settings: OidcConfig) {}

  /** Discovery on first use, and again after a failure, so a provider down at start-up delays nothing. */
  private discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    this.configuration ??= oidc
      .discovery(
        issuer,
        this.settings.clientId,
        undefined,
        this.settings.clientSecret ? oidc.ClientSecretBasic(this.settings.clientSecret) : oidc.None(),
        { execute: isLoopback(issuer) && issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [], timeout: 10 },
      )
      .catch((err: unknown) => {
        this.configuration = undefined;
        throw err;
      });
    return this.configuration;
  }

  async start(returnTo: string): Promise<{ url: string; pending: PendingSignIn }> {
    const config = await this.discover();
    const pending: PendingSignIn = { codeVerifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), returnTo };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Exchanges the code the provider sent back for tokens, and reads the person from their claims. */
  async finish(callbackQuery: string, pending: PendingSignIn): Promise<{ principal: Principal; idToken: string }> {
    const config = await this.discover();
    const tokens = await exchangeCode(config, this.settings.redirectUrl, callbackQuery, pending);
    const idClaims = tokens.claims()!;
    const userinfo = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub) : {};
    return { principal: principalFromClaims({ ...idClaims, ...userinfo }, this.settings.claims), idToken: tokens.id_token! };
  }

  /**
   * Where to send the browser after signing out of Pathway, so the provider's session ends too
   * (on a shared workstation the next person must not be signed in as the last): the provider's
   * end-session address, which brings the browser back to /auth/signed-out; none if it has none.
   */
  async endSessionUrl(idToken: string): Promise<string | undefined> {
    const config = await this.discover();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: this.postLogoutRedirectUrl }).href;
  }

  /** The address to register with the provider as the post-logout redirect. */
  get postLogoutRedirectUrl(): string {
    return new URL('/auth/signed-out', this.settings.redirectUrl).href;
  }
}
