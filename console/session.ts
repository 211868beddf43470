/**
 * Console sessions: a random id in an HttpOnly, SameSite=Lax cookie (Secure unless the service
 * runs on the plain-http embedded default), the person and a CSRF token held server-side, ended
 * after an idle timeout (automatic logoff) or by signing out. Machine clients with an API key
 * never get a session.
 */
import type { RequestHandler } from 'express';
import session, { Store, type SessionData } from 'express-session';
import type { NoteCipher } from '../record/note-cipher';
import { deleteSession, purgeEndedSessions, readSession, touchSession, writeSession } from '../record/sessions';
import type { RecordStore } from '../record/store';

export const SESSION_COOKIE = 'pathway.sid';

/**
 * Sessions in the record store, so a restart signs nobody out and several API processes share
 * them. Each is forgotten once idle for longer than the timeout; ended ones are purged.
 */
export class RecordSessionStore extends Store {
  private readonly sweeper: NodeJS.Timeout;
  /** When this process last moved each session's end on. */
  private readonly movedOn = new Map<string, number>();
  /**
   * A request moves its session's end on only if this long has passed since it last did: a write
   * spared on most requests, for a session that may end this much before its idle timeout.
   */
  private readonly moveOnEveryMs: number;

  constructor(
    private readonly record: { store: RecordStore; cipher: NoteCipher },
    private readonly idleMs: number,
  ) {
    super();
    this.moveOnEveryMs = Math.min(idleMs / 10, 60_000);
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [sid, at] of this.movedOn) if (now - at >= this.moveOnEveryMs) this.movedOn.delete(sid);
    // A purge that fails (the database is down) is simply tried again at the next sweep.
    purgeEndedSessions(this.db).catch(() => undefined);
  }

  private get db() {
    return this.record.store.db;
  }

  private expiry(): Date {
    return new Date(Date.now() + this.idleMs);
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    readSession(this.db, this.record.cipher, sid).then((data) => cb(null, data as SessionData | null), cb);
  }

  override set(sid: string, data: SessionData, cb?: (err?: unknown) => void): void {
    const now = Date.now();
    writeSession(this.db, this.record.cipher, sid, data, this.expiry()).then(() => (this.movedOn.set(sid, now), cb?.()), (err) => cb?.(err));
  }

  override touch(sid: string, _data: SessionData, cb?: (err?: unknown) => void): void {
    const now = Date.now();
    const last = this.movedOn.get(sid);
    if (last !== undefined && now - last < this.moveOnEveryMs) return cb?.();
    touchSession(this.db, sid, this.expiry()).then(() => (this.movedOn.set(sid, now), cb?.()), (err) => cb?.(err));
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.movedOn.delete(sid);
    deleteSession(this.db, sid).then(() => cb?.(), (err) => cb?.(err));
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

export interface ConsoleSessionOptions {
  idleMs: number;
  /** Where sessions are kept; the payload key also signs the cookies (the same in every API process). */
  record: { store: RecordStore; cipher: NoteCipher };
  /** Secure cookies; off only on the plain-http embedded default. */
  secureCookies: boolean;
}

export interface ConsoleSessions {
  middleware: RequestHandler;
  store: RecordSessionStore;
  idleMs: number;
}

export function consoleSessions(opts: ConsoleSessionOptions): ConsoleSessions {
  const store = new RecordSessionStore(opts.record, opts.idleMs);
  const sessions = session({
    name: SESSION_COOKIE,
    store,
    // Derived from the payload key, so every API process, and the next one after a restart, knows
    // the cookies; after a key rotation the previous keys' secrets still verify them.
    secret: opts.record.cipher.derivedSecrets('console-session-cookie'),
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
