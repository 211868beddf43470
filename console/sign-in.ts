/**
 * /auth: who is signed in, sign-in (OpenID Connect, or the embedded default's local roles) and
 * sign-out, which ends the session on the server.
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { hasCsrfToken, type Principal } from '../api/auth';
import { HttpProblem } from '../api/problem';
import { ROLES, type Role } from '../clinical/permissions';
import type { Logger } from '../observability/log';
import { SignInRefused, type OidcSignIn, type PendingSignIn } from './oidc';
import { SESSION_COOKIE, type ConsoleSessions } from './session';

declare module 'express-session' {
  interface SessionData {
    signIn: PendingSignIn;
    /** The provider's ID token, kept on the server to end the provider's session at sign-out. */
    idToken: string;
  }
}

export interface SignInOptions {
  sessions: ConsoleSessions;
  /** The hospital's provider, when configured. */
  oidc?: OidcSignIn;
  /** The embedded default (no provider, not production): sign in as any local role. */
  localSignIn: boolean;
  logger: Logger;
}

/** Only a path of this console: never an address elsewhere (an open redirect). */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !value.startsWith('/auth/') ? value : '/';
}

/** A new session id for the person (no fixation), with a fresh CSRF token. */
export async function startSession(req: Request, principal: Principal): Promise<void> {
  await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
  req.session.principal = principal;
  req.session.csrfToken = randomBytes(32).toString('base64url');
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

const SIGNED_OUT = '/sign-in?reason=signed-out';

const noStore = (res: Response) => res.set('Cache-Control', 'no-store');

export function signInRouter(opts: SignInOptions): Router {
  const router = Router();
  router.use(opts.sessions.middleware);

  router.get('/session', (req, res) => {
    noStore(res);
    const { principal, csrfToken } = req.session;
    res.json({
      signedIn: Boolean(principal),
      ...(principal ? { principal, csrfToken } : {}),
      idleMinutes: opts.sessions.idleMs / 60_000,
      methods: { oidc: Boolean(opts.oidc), local: opts.localSignIn ? ROLES : [] },
    });
  });

  router.get('/sign-in', async (req, res) => {
    if (!opts.oidc) throw new HttpProblem(404, 'sign-in through an OpenID Connect provider is not configured');
    let started;
    try {
      started = await opts.oidc.start(safeReturnTo(req.query.returnTo));
    } catch (err) {
      opts.logger.warn('the OpenID Connect provider did not answer', { error: err instanceof Error ? err.message : String(err) });
      res.set('Retry-After', '30');
      throw new HttpProblem(503, 'the sign-in provider does not answer; try again shortly');
    }
    req.session.signIn = started.pending;
    noStore(res).redirect(303, started.url);
  });

  router.get('/callback', async (req, res) => {
    const pending = req.session.signIn;
    noStore(res);
    if (!opts.oidc || !pending) return res.redirect(303, '/sign-in?error=expired');
    // One answer per sign-in: a replayed callback finds nothing to finish.
    delete req.session.signIn;
    if (typeof req.query.error === 'string') return res.redirect(303, '/sign-in?error=refused');
    try {
      const q = req.originalUrl.indexOf('?');
      const { principal, idToken } = await opts.oidc.finish(q >= 0 ? req.originalUrl.slice(q) : '', pending);
      await startSession(req, principal);
      req.session.idToken = idToken;
      opts.logger.info('console sign-in', { method: 'oidc', actor: principal.id, role: principal.role });
      res.redirect(303, pending.returnTo);
    } catch (err) {
      // The reason only: never a token or a claim's value.
      opts.logger.warn('console sign-in refused', { method: 'oidc', reason: err instanceof SignInRefused ? err.message : err instanceof Error ? err.name : 'error' });
      res.redirect(303, `/sign-in?error=${err instanceof SignInRefused ? 'claims' : 'failed'}`);
    }
  });

  router.post('/local', express.urlencoded({ extended: false, limit: '1kb' }), async (req, res) => {
    if (!opts.localSignIn) throw new HttpProblem(404, 'local sign-in exists only in the embedded default');
    // A form of this console only: another site may not sign a browser in (login CSRF).
    const origin = req.get('origin');
    if (origin && origin !== `${req.protocol}://${req.get('host')}`) throw new HttpProblem(403, 'sign in from the console\'s own page');
    const role = req.body?.role as Role;
    if (!ROLES.includes(role)) throw new HttpProblem(400, 'choose a local role', { errors: [{ field: 'role', message: ROLES.join(', ') }] });
    await startSession(req, { id: `local-${role}`, role });
    opts.logger.info('console sign-in', { method: 'local', actor: `local-${role}`, role });
    noStore(res).redirect(303, safeReturnTo(req.body?.returnTo));
  });

  // Ends the session here, then says where the browser goes: the provider's end-session page, or sign-in.
  router.post('/sign-out', async (req, res) => {
    if (req.session.principal && !hasCsrfToken(req)) throw new HttpProblem(403, 'send the session\'s CSRF token in X-CSRF-Token');
    const { idToken } = req.session;
    await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    let next = SIGNED_OUT;
    if (opts.oidc && idToken) {
      next = (await opts.oidc.endSessionUrl(idToken).catch((err: unknown) => {
        opts.logger.warn('could not end the provider\'s session', { error: err instanceof Error ? err.name : 'error' });
        return undefined;
      })) ?? SIGNED_OUT;
    }
    noStore(res).json({ next });
  });

  // Where the provider sends the browser back after ending its own session.
  router.get('/signed-out', (_req, res) => noStore(res).redirect(303, SIGNED_OUT));

  return router;
}
