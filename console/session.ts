/**
 * Console sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure unless the service
 * runs on the plain-http embedded default), the person and a CSRF token held server-side, ended
 * after an idle timeout (automatic logoff) or by signing out. Machine clients with an API key
 * never get a session.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import session, { Store, type SessionData } from 'express-session';

export const SESSION_COOKIE = 'pathway.sid';

/**
 * Sessions in the API process's memory, each forgotten once idle for longer than the timeout.
 * A restart signs everyone out; several API processes need sticky routing to one of them.
 */
export class IdleSessionStore extends Store {
  private readonly sessions = new Map<string, { data: SessionData; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly idleMs: number) {
    super();
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    const entry = this.sessions.get(sid);
    if (entry && entry.expiresAt <= Date.now()) this.sessions.delete(sid);
    cb(null, entry && entry.expiresAt > Date.now() ? structuredClone(entry.data) : null);
  }

  override set(sid: string, data: SessionData, cb?: (err?: unknown) => void): void {
    this.sessions.set(sid, { data: structuredClone(data), expiresAt: Date.now() + this.idleMs });
    cb?.();
  }

  override touch(sid: string, _data: SessionData, cb?: (err?: unknown) => void): void {
    const entry = this.sessions.get(sid);
    if (entry) entry.expiresAt = Date.now() + this.idleMs;
    cb?.();
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.sessions.delete(sid);
    cb?.();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [sid, entry] of this.sessions) if (entry.expiresAt <= now) this.sessions.delete(sid);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

export interface ConsoleSessionOptions {
  idleMs: number;
  /** Secure cookies; off only on the plain-http embedded default. */
  secureCookies: boolean;
}

export interface ConsoleSessions {
  middleware: RequestHandler;
  store: IdleSessionStore;
  idleMs: number;
}

export function consoleSessions(opts: ConsoleSessionOptions): ConsoleSessions {
  const store = new IdleSessionStore(opts.idleMs);
  const sessions = session({
    name: SESSION_COOKIE,
    store,
    // The store lives in this process, so a secret of this process signs its cookies.
    secret: randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    // Behind a TLS-terminating proxy the request arrives as http: trust its X-Forwarded-Proto for the Secure cookie.
    proxy: opts.secureCookies,
    cookie: { httpOnly: true, secure: opts.secureCookies, sameSite: 'lax', path: '/', maxAge: opts.idleMs },
  });
  const middleware: RequestHandler = (req, res, next) => (req.get('authorization') ? next() : sessions(req, res, next));
  return { middleware, store, idleMs: opts.idleMs };
}
