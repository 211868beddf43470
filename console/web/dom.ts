/**
 * Building the page from data without innerHTML, so nothing the service returns is ever read as markup.
 */
import { vocabulary } from './vocabulary';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function replace(target: Element, ...children: Array<Child | Child[]>): void {
  target.replaceChildren(...children.flat().filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (c instanceof Node ? c : String(c))));
}

export const app = (): HTMLElement => document.getElementById('app')!;

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });
export const when = (iso: string | null | undefined) => (iso ? dateTime.format(new Date(iso)) : '–');
export const day = (iso: string | null | undefined) => (iso ? dateOnly.format(new Date(iso)) : '–');

/** The clinic's words for the service's codes: the vocabulary's name ("scs" → "spinal cord stimulation"), else the code spelt out. */
export const words = (code: string) => vocabulary.names?.[code] ?? code.replace(/-/g, ' ').replace(/\bscs\b/g, 'SCS');
export const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
export const label = (code: string) => capital(words(code));

export function badge(text: string, tone: string): HTMLElement {
  return h('span', { class: `badge badge-${tone}` }, text);
}

export function message(kind: 'error' | 'info', text: string, details: string[] = []): HTMLElement {
  return h('div', { class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('p', {}, text), details.length ? h('ul', {}, details.map((d) => h('li', {}, d))) : null);
}
