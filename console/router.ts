/**
 * Serves the console at /: pages (no-store, a strict content security policy) for signed-in
 * people, the sign-in page for everyone, hashed assets with a year's cache lifetime, and /auth.
 */
import { Router, type RequestHandler, type Response } from 'express';
import type { ConsoleAssets, PageName } from './assets';
import { renderPage } from './pages';
import type { ConsoleSessions } from './session';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function consoleRouter(opts: { assets: ConsoleAssets; sessions: ConsoleSessions; signIn: Router; smart?: Router }): Router {
  const router = Router();
  const html = new Map<PageName, string>();
  const page = (res: Response, name: PageName) => {
    if (!html.has(name)) html.set(name, renderPage(name, opts.assets));
    res
      .set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'same-origin' })
      .type('html')
      .send(html.get(name));
  };

  router.get('/assets/:file', (req, res, next) => {
    const file = opts.assets.files.get(`/assets/${req.params.file}`);
    if (!file) return next();
    res.set({ 'Cache-Control': 'public, max-age=31536000, immutable', 'Content-Type': file.type, 'X-Content-Type-Options': 'nosniff' }).send(Buffer.from(file.body));
  });
  router.use('/auth', opts.signIn);
  if (opts.smart) router.use('/smart', opts.smart);
  router.get('/sign-in', (_req, res) => page(res, 'sign-in'));

  // Pages for signed-in people only; anyone else is sent to sign in and brought back.
  const signedIn: RequestHandler[] = [
    opts.sessions.middleware,
    (req, res, next) => {
      if (req.session.principal) return next();
      res.set('Cache-Control', 'no-store').redirect(303, `/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}`);
    },
  ];
  router.get('/', ...signedIn, (_req, res) => page(res, 'worklist'));
  router.get('/enrol', ...signedIn, (_req, res) => page(res, 'enrol'));
  router.get('/dashboard', ...signedIn, (_req, res) => page(res, 'dashboard'));
  router.get('/definitions', ...signedIn, (_req, res) => page(res, 'definitions'));
  router.get(/^\/pathways\/pw-[0-9a-f]{32}$/, ...signedIn, (_req, res) => page(res, 'pathway'));
  return router;
}
