/**
 * CDS Hooks 2.0 authentication: the EHR signs a JWT for each call (header alg, kid, typ JWT and
 * optionally jku; claims iss, aud = the service's URL, exp, iat, jti). It is believed only from a
 * configured issuer, with a key from that issuer's configured key set (or a jku the
 * configuration allows), once (jti), and within five minutes. jose does the cryptography.
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { CdsClient } from '../config/ehr';

export class CdsAuthError extends Error {}

/** What CDS Hooks requires a service to support (ES384, RS384), and their SHA-256 and SHA-512 siblings. */
const ALGORITHMS = ['ES384', 'RS384', 'ES256', 'RS256', 'ES512', 'RS512', 'PS256', 'PS384', 'PS512'];
const MAX_AGE_SECONDS = 300;

export class CdsAuthenticator {
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  /** jti of every token accepted, until it expires: a replayed call is refused. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly clients: readonly CdsClient[]) {}

  private keySet(url: string) {
    let set = this.keySets.get(url);
    if (!set) {
      set = createRemoteJWKSet(new URL(url), { timeoutDuration: 2000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
      this.keySets.set(url, set);
    }
    return set;
  }

  /** The client that signed the Authorization header's token for `audience`, or a CdsAuthError saying why not. */
  async verify(authorization: string | undefined, audience: string): Promise<{ client: CdsClient; claims: JWTPayload }> {
    const token = /^bearer +([A-Za-z0-9_.-]+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new CdsAuthError('send the EHR\'s signed JWT as "Authorization: Bearer <jwt>"');
    let iss: string | undefined;
    let jku: string | undefined;
    try {
      iss = decodeJwt(token).iss;
      jku = decodeProtectedHeader(token).jku;
    } catch {
      throw new CdsAuthError('the token is not a JWT');
    }
    const client = this.clients.find((c) => c.iss === iss);
    if (!client) throw new CdsAuthError('the issuer is not allowed');
    if (jku !== undefined && jku !== client.jwksUrl && !client.jku.includes(jku)) throw new CdsAuthError('the jku is not allowed for this issuer');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keySet(jku ?? client.jwksUrl), {
        issuer: client.iss,
        audience,
        algorithms: ALGORITHMS,
        typ: 'JWT',
        maxTokenAge: MAX_AGE_SECONDS,
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
      }));
    } catch (err) {
      throw new CdsAuthError(`the token is not valid: ${(err as { code?: string }).code ?? 'verification failed'}`);
    }
    this.forgetExpired();
    const jti = `${client.iss}\u0000${claims.jti}`;
    if (this.seen.has(jti)) throw new CdsAuthError('the token was used before (jti)');
    // Older tokens are refused by their iat anyway, so a jti need not be kept longer.
    this.seen.set(jti, ((claims.iat ?? 0) + MAX_AGE_SECONDS) * 1000);
    return { client, claims };
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [jti, expires] of this.seen) if (expires < now) this.seen.delete(jti);
  }
}
