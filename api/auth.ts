/**
 * Who is calling: a machine client with a bearer API key, or a person signed in to the console
 * with a session cookie. Each key has an id, a role and optionally the care teams it is limited
 * to; only SHA-256 hashes of keys are configured or held in memory.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { ROLES, may, type Permission, type Role } from '../clinical/permissions';
import { HttpProblem } from './problem';
import { CareTeamSchema } from './schemas';

export const ApiKeyEntrySchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    role: z.enum(ROLES),
    careTeams: z.array(CareTeamSchema).min(1).optional(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'hex SHA-256 of the key'),
  })
  .strict();
export type ApiKeyEntry = z.infer<typeof ApiKeyEntrySchema>;

export interface Principal {
  id: string;
  role: Role;
  careTeams?: string[];
}

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** Keys for the embedded default only; the service refuses them in production. README.md lists them. */
export const LOCAL_KEYS: Array<{ key: string; id: string; role: Role }> = [
  { key: 'local-viewer-key', id: 'local-viewer', role: 'viewer' },
  { key: 'local-coordinator-key', id: 'local-coordinator', role: 'coordinator' },
  { key: 'local-clinician-key', id: 'local-clinician', role: 'clinician' },
  { key: 'local-lead-key', id: 'local-lead', role: 'lead' },
];

export class ApiKeyStore {
  private readonly byHash = new Map<string, Principal>();

  constructor(entries: ApiKeyEntry[]) {
    for (const e of entries) {
      if (this.byHash.has(e.sha256)) throw new Error(`API key ${e.id} repeats another key`);
      this.byHash.set(e.sha256, { id: e.id, role: e.role, ...(e.careTeams ? { careTeams: e.careTeams } : {}) });
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  authenticate(key: string): Principal | undefined {
    return this.byHash.get(hashKey(key));
  }
}

function parseEntries(json: string, source: string): ApiKeyEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`${source} is not valid JSON`);
  }
  const parsed = z.array(ApiKeyEntrySchema).safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${source} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Keys from PATHWAY_API_KEYS (JSON) and PATHWAY_API_KEYS_FILE; the local keys when neither is set outside production. */
export function loadApiKeys(opts: { inline?: string; file?: string; production: boolean }): { store: ApiKeyStore; local: boolean } {
  const entries = [
    ...(opts.inline ? parseEntries(opts.inline, 'PATHWAY_API_KEYS') : []),
    ...(opts.file ? parseEntries(readFileSync(opts.file, 'utf8'), 'PATHWAY_API_KEYS_FILE') : []),
  ];
  if (entries.length > 0) return { store: new ApiKeyStore(entries), local: false };
  if (opts.production) throw new Error('production mode needs API keys: set PATHWAY_API_KEYS or PATHWAY_API_KEYS_FILE');
  return { store: new ApiKeyStore(LOCAL_KEYS.map(({ key, id, role }) => ({ id, role, sha256: hashKey(key) }))), local: true };
}

/** A new random key and the entry to configure for it. */
export function newApiKey(id: string, role: Role, careTeams?: string[]): { key: string; entry: ApiKeyEntry } {
  const key = `pk_${randomBytes(24).toString('base64url')}`;
  return { key, entry: { id, role, ...(careTeams ? { careTeams } : {}), sha256: hashKey(key) } };
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

declare module 'express-session' {
  interface SessionData {
    /** The signed-in person (console/sign-in.ts sets it). */
    principal: Principal;
    /** Synchronizer token: cookie-authenticated unsafe requests must echo it in X-CSRF-Token. */
    csrfToken: string;
  }
}

const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether the request carries its session's CSRF token (compared in constant time). */
export function hasCsrfToken(req: Request): boolean {
  const given = req.get(CSRF_HEADER);
  const expected = req.session?.csrfToken;
  return given !== undefined && expected !== undefined && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** The key's scheme is case-insensitive (RFC 9110); the key itself is printable ASCII. */
const BEARER = /^bearer +([\x21-\x7e]{8,256})$/i;

/**
 * Sets the request's principal: a bearer API key when the request sends one (machine clients),
 * otherwise the console session's person, with CSRF protection for unsafe methods. Refusing a
 * request with neither is left to `requirePrincipal`.
 */
export function identify(store: ApiKeyStore): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    const session = req.session;
    if (!header && session?.principal) {
      if (!SAFE_METHODS.has(req.method) && !hasCsrfToken(req)) return next(new HttpProblem(403, "send the session's CSRF token in X-CSRF-Token"));
      req.principal = session.principal;
      return next();
    }
    const match = BEARER.exec(header ?? '');
    const principal = match ? store.authenticate(match[1]!) : undefined;
    if (principal) req.principal = principal;
    next();
  };
}

/** 401 for a request that `identify` found no valid key on. */
export function requirePrincipal(req: Request, res: Response, next: NextFunction): void {
  if (req.principal) return next();
  res.set('WWW-Authenticate', 'Bearer realm="pathway"');
  next(new HttpProblem(401, req.get('authorization') ? 'the API key is not valid' : 'send an API key as "Authorization: Bearer <key>", or sign in to the console'));
}

export function requirePermission(req: Request, permission: Permission): Principal {
  const principal = req.principal!;
  if (!may(principal.role, permission)) throw new HttpProblem(403, `role ${principal.role} may not ${permission}`);
  return principal;
}
