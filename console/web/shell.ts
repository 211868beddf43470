/**
 * What every signed-in page shares: the session, the person and their role, sign-out.
 */
import { may, type Permission } from '../../clinical/permissions';
import { loadSession, signInUrl, signOut, type SessionInfo } from './api';
import { h, replace } from './dom';
import { failure } from './states';

export type Person = NonNullable<SessionInfo['principal']>;

export interface Shell {
  person: Person;
  can(permission: Permission): boolean;
}

export async function startPage(): Promise<Shell> {
  const session = await loadSession();
  if (!session.signedIn || !session.principal) {
    location.assign(signInUrl());
    throw new Error('not signed in');
  }
  const person = session.principal;
  const can = (permission: Permission) => may(person.role, permission);
  const who = document.getElementById('who');
  if (who) {
    replace(
      who,
      h('span', { class: 'person' }, h('strong', {}, person.id), ` · ${person.role}`, person.careTeams ? ` · ${person.careTeams.join(', ')}` : ''),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          id: 'sign-out',
          onclick: async () => location.assign(await signOut()),
        },
        'Sign out',
      ),
    );
  }
  if (!can('enrol')) document.querySelector('nav a[href="/enrol"]')?.parentElement?.remove();
  return { person, can };
}

/** Runs a page, turning a failure to load into a message rather than a blank page. */
export function run(page: (shell: Shell) => Promise<void>): void {
  startPage()
    .then(page)
    .catch((err: unknown) => {
      if (err instanceof Error && err.message === 'not signed in') return;
      replace(document.getElementById('app')!, failure(err, 'the page', () => location.reload()));
    });
}
