/**
 * An EHR's signing side for CDS Hooks on loopback: a key pair, its JSON Web Key Set served over
 * HTTP, and JWTs signed as the specification has an EHR sign them (jose).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type CryptoKey } from 'jose';

export interface EhrSigner {
  iss: string;
  jwksUrl: string;
  /** A JWT for one call of `audience`; `header` and `claims` override what an EHR sends. */
  sign(audience: string, opts?: { header?: Record<string, unknown>; claims?: Record<string, unknown> }): Promise<string>;
  stop(): Promise<void>;
}

export async function startEhrSigner(iss = 'https://ehr.example/cds'): Promise<EhrSigner> {
  const { publicKey, privateKey } = await generateKeyPair('ES384');
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return {
    iss,
    jwksUrl,
    sign: (audience, opts = {}) => signWith(privateKey, { alg: 'ES384', kid, typ: 'JWT', jku: jwksUrl, ...opts.header }, { iss, aud: audience, jti: randomUUID(), ...opts.claims }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function signWith(key: CryptoKey, header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, ...claims }).setProtectedHeader(header as { alg: string }).sign(key);
}

/** A signer whose key no EHR configuration names: its tokens must be refused. */
export async function strangerToken(iss: string, audience: string, jku?: string): Promise<string> {
  const { privateKey } = await generateKeyPair('ES384');
  return signWith(privateKey, { alg: 'ES384', kid: 'stranger', typ: 'JWT', ...(jku ? { jku } : {}) }, { iss, aud: audience, jti: randomUUID() });
}

/** An unsigned token (alg none): never to be believed. */
export function unsignedToken(iss: string, audience: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss, aud: audience, iat: now, exp: now + 300, jti: randomUUID() })}.`;
}
