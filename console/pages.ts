/**
 * The console's pages: static HTML shells without data (every page fills itself from /v1 with
 * the session cookie), so they hold nothing to cache and are sent with no-store.
 */
import { INTERVENTIONAL_PROCEDURES, PROCEDURE_NAMES, RED_FLAGS, SCS_PROCEDURES, STAGE_NAMES, STAGES, WORKUP_ITEMS, WORKUP_NAMES } from '../clinical/vocabulary';
import type { ConsoleAssets, PageName } from './assets';

/** The clinic's words the forms offer, from the clinical model itself, so the browser needs no copy of its schemas. */
export const VOCABULARY = {
  stages: STAGES,
  redFlags: RED_FLAGS,
  procedures: [...INTERVENTIONAL_PROCEDURES, ...SCS_PROCEDURES],
  workupItems: WORKUP_ITEMS,
  names: { ...STAGE_NAMES, ...PROCEDURE_NAMES, ...WORKUP_NAMES },
};
// JSON inside <script> may not close the element.
const vocabulary = JSON.stringify(VOCABULARY).replace(/</g, '\\u003c');

const TITLES: Record<PageName, string> = {
  worklist: 'Worklist',
  pathway: 'Pathway',
  dashboard: 'Cohort dashboard',
  enrol: 'Enrol a patient',
  definitions: 'Pathway definitions',
  'sign-in': 'Sign in',
};

const NAV: Array<[PageName, string, string]> = [
  ['worklist', '/', 'Worklist'],
  ['enrol', '/enrol', 'Enrol'],
  ['dashboard', '/dashboard', 'Cohort dashboard'],
  ['definitions', '/definitions', 'Definitions'],
];

export function renderPage(page: PageName, assets: ConsoleAssets): string {
  const nav =
    page === 'sign-in'
      ? ''
      : `<nav aria-label="Console"><ul>${NAV.map(([p, href, text]) => `<li><a href="${href}"${p === page ? ' aria-current="page"' : ''}>${text}</a></li>`).join('')}</ul></nav>
      <div class="who" id="who" aria-live="polite"></div>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${TITLES[page]} · Pathway</title>
  <link rel="stylesheet" href="${assets.style}">
  <script type="application/json" id="vocabulary">${vocabulary}</script>
  <script type="module" src="${assets.scripts[page]}"></script>
</head>
<body data-page="${page}">
  <a class="skip" href="#main">Skip to the content</a>
  <header class="bar">
    <span class="brand">Pathway</span>
    ${nav}
  </header>
  <main id="main" tabindex="-1">
    <h1 id="title">${TITLES[page]}</h1>
    <div id="app"><p class="muted">Loading…</p></div>
  </main>
</body>
</html>
`;
}
