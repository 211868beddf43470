/**
 * Loading and failure, the same on every fetch: "Loading…" while it runs; when it fails, a
 * sentence in plain words and, for what a moment may cure (503, no answer), a Retry button.
 */
import { ApiError } from './api';
import { h, replace } from './dom';
import { inWords } from './words';

export const loading = (what: string): HTMLElement => h('p', { class: 'loading', role: 'status' }, `Loading ${what}…`);

/** A failure as the person reads it; the service's internals (which dependency is down) stay out. */
export function failureText(err: unknown, what: string): string {
  const e = err instanceof ApiError ? err : new ApiError(0, String(err));
  if (e.status === 0) return `${what} could not load: the service did not answer. Check the connection and retry.`;
  if (e.status === 503 || e.status === 502 || e.status === 504) {
    return `${what} could not load: the service is busy or restarting. Nothing is lost; retry ${e.retryAfter ? `in ${e.retryAfter} seconds` : 'in a moment'}.`;
  }
  if (e.status === 403) return `${what}: your role or care teams do not allow this.`;
  if (e.status === 404) return `${what}: not found, or not in your care teams.`;
  return `${what} could not load: ${inWords(e.message)}.`;
}

export const retryable = (err: unknown): boolean => !(err instanceof ApiError) || err.status === 0 || err.status >= 500 || err.status === 429;

export function failure(err: unknown, what: string, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'message message-error', role: 'alert' },
    h('p', {}, failureText(err, capitalise(what))),
    retry && retryable(err) ? h('button', { type: 'button', class: 'secondary retry', onclick: retry }, 'Retry') : null,
  );
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Fills `target` from a fetch: loading first, then what `render` makes of the answer, or the failure with Retry. */
export async function loadInto<T>(target: HTMLElement, what: string, fetcher: () => Promise<T>, render: (value: T) => void): Promise<boolean> {
  target.setAttribute('aria-busy', 'true');
  if (!target.hasChildNodes() || target.querySelector('.message-error')) replace(target, loading(what));
  try {
    const value = await fetcher();
    render(value);
    return true;
  } catch (err) {
    replace(target, failure(err, what, () => void loadInto(target, what, fetcher, render)));
    return false;
  } finally {
    target.removeAttribute('aria-busy');
  }
}
