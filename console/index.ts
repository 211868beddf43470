/**
 * The care team's console: built once when the API starts, mounted by createApp beside /v1.
 */
import type { RequestHandler, Router } from 'express';
import type { OidcConfig, SmartConfig } from '../config';
import type { PathwayService } from '../api/pathways-service';
import type { Logger } from '../observability/log';
import { buildConsoleAssets } from './assets';
import { OidcSignIn } from './oidc';
import { consoleRouter } from './router';
import { consoleSessions, type RecordSessionStore } from './session';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordStore } from '../record/store';
import { signInRouter } from './sign-in';
import { SmartApp } from './smart';
import { smartLaunchRouter } from './smart-launch';

export interface ConsoleOptions {
  idleMs: number;
  /** Sessions are kept in the record store. */
  record: { store: RecordStore; cipher: NoteCipher };
  oidc?: OidcConfig;
  production: boolean;
  /** Off only on the plain-http embedded default. */
  secureCookies: boolean;
  logger: Logger;
  /** The console as a SMART app of the EHR (/smart): the pathway of the patient in context. */
  smart?: { config: SmartConfig; pathways: PathwayService; patientIdentifierSystem: string };
}

export interface CareConsole {
  /** Pages, assets and /auth. */
  router: Router;
  /** Reads the session cookie of /v1 requests (and skips those with an API key). */
  sessions: RequestHandler;
  store: RecordSessionStore;
  /** How people sign in: the provider, the local roles, or nobody (production without a provider). */
  signIn: 'oidc' | 'local' | 'none';
}

export async function createConsole(opts: ConsoleOptions): Promise<CareConsole> {
  const assets = await buildConsoleAssets();
  const sessions = consoleSessions({ idleMs: opts.idleMs, record: opts.record, secureCookies: opts.secureCookies });
  const localSignIn = !opts.oidc && !opts.production;
  const signIn = signInRouter({ sessions, oidc: opts.oidc ? new OidcSignIn(opts.oidc) : undefined, localSignIn, logger: opts.logger });
  return {
    router: consoleRouter({
      assets,
      sessions,
      signIn,
      ...(opts.smart
        ? { smart: smartLaunchRouter({ app: new SmartApp(opts.smart.config), sessions, pathways: opts.smart.pathways, patientIdentifierSystem: opts.smart.patientIdentifierSystem, logger: opts.logger }) }
        : {}),
    }),
    sessions: sessions.middleware,
    store: sessions.store,
    signIn: opts.oidc ? 'oidc' : localSignIn ? 'local' : 'none',
  };
}
