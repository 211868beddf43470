/**
 * The console's only way to the service: the same /v1 API as every client, with the session
 * cookie and, for changes, the session's CSRF token.
 */
import type { Role } from '../../clinical/permissions';

export interface SessionInfo {
  signedIn: boolean;
  principal?: { id: string; role: Role; careTeams?: string[] };
  csrfToken?: string;
  idleMinutes: number;
  methods: { oidc: boolean; local: Role[] };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: Array<{ field: string; message: string }> = [],
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

export async function loadSession(): Promise<SessionInfo> {
  const res = await fetch('/auth/session', { headers: { accept: 'application/json' }, cache: 'no-store' });
  const session = (await res.json()) as SessionInfo;
  csrfToken = session.csrfToken;
  return session;
}

export const signInUrl = (reason?: string) =>
  `/sign-in?${new URLSearchParams({ ...(reason ? { reason } : {}), returnTo: location.pathname + location.search })}`;

export async function api<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (res.status === 401) {
    location.assign(signInUrl('expired'));
    throw new ApiError(401, 'Your session has ended; sign in again.');
  }
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiError(res.status, json?.detail ?? `the service answered ${res.status}`, json?.errors ?? []);
  return json as T;
}

export async function signOut(): Promise<void> {
  await fetch('/auth/sign-out', { method: 'POST', headers: csrfToken ? { 'x-csrf-token': csrfToken } : {} });
  csrfToken = undefined;
}
