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
    /** Seconds the service asks to wait before a retry (503). */
    readonly retryAfter?: number,
    /** What else the problem names (a duplicate enrolment's pathwayId). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
let idleMs = 0;
let idleTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * The server ends a session after its idle timeout; the page follows at the same moment, so no
 * patient's data stays on an unattended screen.
 */
function restartIdleTimer(): void {
  if (!csrfToken || idleMs <= 0) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => location.assign(signInUrl('expired')), idleMs + 1000);
}

export async function loadSession(): Promise<SessionInfo> {
  const res = await fetch('/auth/session', { headers: { accept: 'application/json' }, cache: 'no-store' }).catch(() => {
    throw new ApiError(0, 'the service could not be reached');
  });
  if (!res.ok) throw new ApiError(res.status, `the service answered ${res.status}`, [], Number(res.headers.get('retry-after')) || undefined);
  const session = (await res.json()) as SessionInfo;
  csrfToken = session.csrfToken;
  idleMs = session.idleMinutes * 60_000;
  restartIdleTimer();
  return session;
}

export const signInUrl = (reason?: string) =>
  `/sign-in?${new URLSearchParams({ ...(reason ? { reason } : {}), returnTo: location.pathname + location.search })}`;

export async function api<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    // No answer at all: the network or the service is down; status 0 says so to the page.
    throw new ApiError(0, 'the service could not be reached');
  }
  restartIdleTimer();
  if (res.status === 401) {
    location.assign(signInUrl('expired'));
    throw new ApiError(401, 'Your session has ended; sign in again.');
  }
  const text = await res.text();
  let json: (Record<string, unknown> & { detail?: string; errors?: Array<{ field: string; message: string }> }) | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined; // a proxy's error page: the status says enough
  }
  if (!res.ok) {
    const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
    const { detail, errors, type: _t, title: _ti, status: _s, ...extra } = json ?? {};
    throw new ApiError(res.status, detail ?? `the service answered ${res.status}`, errors ?? [], Number.isFinite(retryAfter) ? retryAfter : undefined, extra);
  }
  return json as T;
}

/** Ends the session; resolves with where the browser goes next (the provider's sign-out page, or sign-in). */
export async function signOut(): Promise<string> {
  const res = await fetch('/auth/sign-out', { method: 'POST', headers: csrfToken ? { 'x-csrf-token': csrfToken } : {} });
  csrfToken = undefined;
  clearTimeout(idleTimer);
  const answer = res.ok ? ((await res.json()) as { next?: string }) : {};
  return answer.next ?? '/sign-in?reason=signed-out';
}
