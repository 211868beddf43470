/**
 * Sign-in: through the hospital's OpenID Connect provider, or in the embedded default as one of
 * the local roles. Production without a provider offers no console sign-in.
 */
import { loadSession } from './api';
import { failure } from './states';
import { app, h, message, replace } from './dom';

const ROLE_TEXT: Record<string, string> = {
  viewer: 'reads worklists, pathways and the dashboard',
  coordinator: 'also enrols, records procedures and work-up, holds, resumes, withdraws',
  clinician: 'also records reassessments and red flags, escalates, discharges, closes',
  lead: "a clinician who also authors, tries, publishes the pathway definitions and moves running pathways to a new version",
};

const REASONS: Record<string, [string, 'info' | 'error']> = {
  'signed-out': ['You have signed out.', 'info'],
  expired: ['Your session has ended (signed out after a time without activity). Sign in again.', 'info'],
};
const ERRORS: Record<string, string> = {
  refused: 'The sign-in provider did not sign you in.',
  expired: 'That sign-in took too long or was already used; start again.',
  claims: 'Your account has no Pathway role or care team; ask the service desk.',
  failed: 'Sign-in failed; start again.',
};

async function page(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const returnTo = params.get('returnTo') ?? '/';
  const session = await loadSession();
  if (session.signedIn) {
    location.replace(returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/');
    return;
  }
  const notes = [];
  const reason = REASONS[params.get('reason') ?? ''];
  if (reason) notes.push(message(reason[1], reason[0]));
  const error = ERRORS[params.get('error') ?? ''];
  if (error) notes.push(message('error', error));
  const ways = [];
  if (session.methods.oidc) {
    ways.push(h('p', {}, h('a', { class: 'button', id: 'sign-in-oidc', href: `/auth/sign-in?${new URLSearchParams({ returnTo })}` }, 'Sign in with your hospital account')));
  }
  if (session.methods.local.length) {
    ways.push(
      h(
        'form',
        { method: 'post', action: '/auth/local', class: 'stack' },
        h('p', {}, 'Embedded default: no sign-in provider is configured, so you may sign in as one of the local roles.'),
        h('input', { type: 'hidden', name: 'returnTo', value: returnTo }),
        h(
          'ul',
          { class: 'roles' },
          session.methods.local.map((role) => h('li', {}, h('button', { type: 'submit', name: 'role', value: role, id: `sign-in-${role}` }, `Sign in as local ${role}`), h('span', { class: 'hint' }, ` ${ROLE_TEXT[role]}`))),
        ),
      ),
    );
  }
  if (ways.length === 0) {
    ways.push(message('info', 'Console sign-in is not configured on this server: in production it needs an OpenID Connect provider (PATHWAY_OIDC_ISSUER). Machine clients use API keys.'));
  }
  replace(app(), notes, ways, h('p', { class: 'muted' }, `For your patients' privacy you are signed out after ${session.idleMinutes} minutes without activity.`));
}

page().catch((err: unknown) => replace(app(), failure(err, 'the sign-in page', () => location.reload())));
