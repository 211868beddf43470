/**
 * The care team's console in headless Chromium against the real service (dev server, worker,
 * API over HTTP) and a real OpenID Connect provider on loopback: the scenarios, each
 * page checked by axe-core, and the session's guarantees (CSRF, idle timeout, sign-out).
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS } from '../harness/api';
import { launchChromium, seriousViolations } from '../harness/browser';
import { serveConsole, startBackend, type Backend, type ConsoleServer } from '../harness/console';
import { startOidcProvider, type TestProvider } from '../harness/oidc-provider';
import { freePort } from '../harness/service-process';
import { readSession } from '../../record/sessions';

/** The session id inside express-session's signed cookie (`pathway.sid=s%3A<id>.<signature>`). */
const sessionIdOf = (cookie: string): string => decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)).slice(2).split('.')[0]!;

const team = `team-${randomUUID().slice(0, 8)}`;
const PEOPLE = {
  'ann.coordinator': { pathway_role: 'coordinator', pathway_care_teams: [team] },
  'dr.bo': { pathway_role: ['staff', 'clinician'], pathway_care_teams: team },
  'vi.viewer': { pathway_role: 'viewer', pathway_care_teams: [team] },
  'no.role': { pathway_care_teams: [team] },
};

let backend: Backend;
let provider: TestProvider;
let site: ConsoleServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  backend = await startBackend();
  const [port, idpPort] = [await freePort(), await freePort()];
  const redirectUrl = `http://127.0.0.1:${port}/auth/callback`;
  provider = await startOidcProvider({ port: idpPort, redirectUri: redirectUrl, postLogoutRedirectUri: `http://127.0.0.1:${port}/auth/signed-out`, people: PEOPLE });
  site = await serveConsole(backend, {
    port,
    oidc: {
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      redirectUrl,
      scope: 'openid profile pathway',
      claims: { username: 'preferred_username', role: 'pathway_role', careTeams: 'pathway_care_teams' },
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await provider?.stop();
  await backend?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  // Loopback only: the provider's own pages ask for web fonts this machine cannot reach.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return context.newPage();
}

/** Signs in through the provider's login and consent pages; resolves on the console's worklist. */
async function signIn(login: keyof typeof PEOPLE): Promise<Page> {
  const page = await newPage();
  await page.goto(`${site.url}/`);
  expect(new URL(page.url()).pathname).toBe('/sign-in');
  await page.click('#sign-in-oidc');
  await page.waitForSelector('input[name="login"]');
  expect(page.url().startsWith(provider.issuer)).toBe(true);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('button:has-text("Continue")');
  await page.click('button:has-text("Continue")');
  await page.waitForURL((url) => url.origin === site.url);
  return page;
}

const WORKLIST = () => `${site.url}/?dueSoonDays=60`;

/** Reloads the worklist until `check` holds: the worklist reads Temporal's visibility, a moment behind. */
async function worklistUntil(page: Page, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(WORKLIST());
    await page.waitForSelector('#worklist table, #worklist .empty');
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`the worklist did not show it in ${timeoutMs} ms: ${await page.locator('#worklist').innerText()}`);
    await page.waitForTimeout(300);
  }
}

async function enrol(page: Page, patientRef: string, painNrs: number, odi: number): Promise<string> {
  await page.goto(`${site.url}/enrol`);
  await page.fill('#patient-ref', patientRef);
  await page.fill('#patient-name', `Patient ${patientRef.slice(-6)}`);
  await page.fill('#pain-nrs', String(painNrs));
  await page.fill('#odi', String(odi));
  await page.click('#enrol-form button[type="submit"]');
  const link = page.locator('#enrolled-link');
  await link.waitFor();
  const href = (await link.getAttribute('href'))!;
  // The reference did its work and is gone from the page.
  expect(await page.inputValue('#patient-ref')).toBe('');
  expect(await page.content()).not.toContain(patientRef);
  return href.split('/').pop()!;
}

async function noSeriousViolations(page: Page, what: string): Promise<void> {
  expect(await seriousViolations(page), `axe on ${what}`).toEqual([]);
}

const cookieHeader = async (page: Page) => (await page.context().cookies(site.url)).map((c) => `${c.name}=${c.value}`).join('; ');

describe('the care team uses the console', () => {
  let coordinator: Page;
  let clinician: Page;
  let first: string;
  let second: string;

  it('a coordinator signs in, enrols a patient and finds them on the worklist', async () => {
    coordinator = await signIn('ann.coordinator');
    await coordinator.waitForSelector('#worklist');
    expect(await coordinator.locator('#who').innerText()).toContain('ann.coordinator');
    await noSeriousViolations(coordinator, 'the sign-in landing worklist');

    await coordinator.goto(`${site.url}/enrol`);
    await coordinator.waitForSelector('#enrol-form');
    await noSeriousViolations(coordinator, 'the enrolment page');
    const firstRef = `ref-${randomUUID()}`;
    first = await enrol(coordinator, firstRef, 8, 46);
    second = await enrol(coordinator, `ref-${randomUUID()}`, 6, 30);

    await worklistUntil(coordinator, async () => (await coordinator.locator(`tr[data-pathway-id="${first}"]`).count()) === 1);
    const row = coordinator.locator(`tr[data-pathway-id="${first}"]`);
    expect(await row.innerText()).toContain('Reassessment');
    await noSeriousViolations(coordinator, 'the worklist with rows');

    // A page at a time: "Show more" adds the next page under the first.
    await coordinator.goto(`${site.url}/?dueSoonDays=60&pageSize=1`);
    await coordinator.waitForSelector('#worklist table');
    expect(await coordinator.locator('#worklist tbody tr').count()).toBe(1);
    expect(await coordinator.locator('#worklist caption').innerText()).toContain('more below');
    await coordinator.click('#worklist-more');
    await coordinator.locator('#worklist tbody tr').nth(1).waitFor();
    const shown = await coordinator.locator('#worklist tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-pathway-id')));
    expect(new Set(shown).size).toBe(2);

    // Lookup by the clinic's reference opens the pathway, which shows the care team who the patient is.
    await coordinator.fill('#lookup-ref', firstRef);
    await coordinator.click('form:has(#lookup-ref) button[type="submit"]');
    await coordinator.waitForURL((url) => url.pathname === `/pathways/${first}`);
    await coordinator.waitForSelector('#scores-chart');
    expect(await coordinator.locator('#patient').innerText()).toContain(firstRef);
  });

  it('the coordinator records a procedure from the worklist row once a clinician has escalated', async () => {
    clinician = await signIn('dr.bo');
    await clinician.goto(`${site.url}/pathways/${first}`);
    await clinician.click('#actions button[data-action="escalate"]');
    await clinician.fill('dialog[data-action="escalate"] textarea[name="reason"]', 'No meaningful relief after six weeks');
    await clinician.click('dialog[data-action="escalate"] button[type="submit"]');
    await clinician.waitForSelector('#latest-decisions li');
    expect(await clinician.locator('#latest-decisions').innerText()).toContain('Moved from conservative care to interventional care');

    await worklistUntil(coordinator, async () => (await coordinator.locator(`tr[data-pathway-id="${first}"] button[data-action="procedure"]`).count()) === 1);
    await coordinator.click(`tr[data-pathway-id="${first}"] button[data-action="procedure"]`);
    const dialog = coordinator.locator('dialog[data-action="procedure"]');
    await dialog.waitFor();
    await noSeriousViolations(coordinator, 'the procedure dialog');
    await dialog.locator('select[name="type"]').selectOption('epidural-steroid-injection');
    await dialog.locator('button[type="submit"]').click();
    await coordinator.waitForSelector('.message-info');
    expect(await coordinator.locator('.message-info').innerText()).toContain(`Recorded for pathway ${first.slice(3, 11)}: Epidural steroid injection recorded`);

    // The timeline records the person, not a shared key.
    const { timeline } = await backend.service.get(first, {});
    expect(timeline.find((e) => e.event === 'procedure')?.actor).toEqual({ id: 'ann.coordinator', role: 'coordinator' });
    expect(timeline.find((e) => e.event === 'enrolled')?.actor).toEqual({ id: 'ann.coordinator', role: 'coordinator' });
  });

  it('a clinician records a reassessment and sees the decision and the chart update', async () => {
    await clinician.goto(`${site.url}/pathways/${first}`);
    await clinician.waitForSelector('#scores-chart');
    expect(await clinician.getAttribute('#scores-chart', 'data-points')).toBe('1');
    await noSeriousViolations(clinician, 'a pathway page');

    await clinician.click('#actions button[data-action="reassessment"]');
    const dialog = clinician.locator('dialog[data-action="reassessment"]');
    await dialog.locator('input[name="painNrs"]').fill('3');
    await dialog.locator('input[name="odi"]').fill('28');
    await dialog.locator('button[type="submit"]').click();
    await clinician.waitForSelector('#latest-decisions li');
    const decisions = await clinician.locator('#latest-decisions').innerText();
    // A sentence with rounded numbers first, the rule's sentence beneath; no raw keys.
    expect(decisions).toContain('Pain relief 63% from NRS 8 to 3 (needs 50%); pain at or below NRS 3 is acceptable: responding');
    expect(await clinician.locator('#latest-decisions [data-rule-id="response.interventional"]').count()).toBe(1);
    expect(decisions).not.toMatch(/painReliefPercent|response\.interventional/);
    expect(decisions).toMatch(/pain relief from the stage reference is at least 50%/);
    await clinician.waitForSelector('#scores-chart[data-points="2"]');
    expect(await clinician.locator('#scores tbody tr').count()).toBe(2);
    expect(await clinician.locator('.timeline').innerText()).toContain('dr.bo (clinician)');
  });

  it('a wrong score is explained beside its field in plain words, and nothing is sent', async () => {
    const before = (await backend.service.get(first, {})).timeline.length;
    await clinician.click('#actions button[data-action="reassessment"]');
    const dialog = clinician.locator('dialog[data-action="reassessment"]');
    await dialog.locator('input[name="painNrs"]').fill('11');
    await dialog.locator('button[type="submit"]').click();
    await dialog.locator('.field-error:not([hidden])').waitFor();
    expect(await dialog.locator('.field-error:not([hidden])').innerText()).toBe('Pain NRS is a number from 0 to 10, with at most one decimal (e.g. 4.5).');
    expect(await dialog.locator('input[name="painNrs"]').getAttribute('aria-invalid')).toBe('true');
    await dialog.locator('button:has-text("Cancel")').click();
    expect((await backend.service.get(first, {})).timeline.length).toBe(before);
  });

  it('a red flag puts the pathway at the top of the worklist', async () => {
    await clinician.goto(`${site.url}/pathways/${second}`);
    await clinician.click('#actions button[data-action="red-flags"]');
    const dialog = clinician.locator('dialog[data-action="red-flags"]');
    await dialog.locator('input[value="infection"]').check();
    await dialog.locator('button[type="submit"]').click();
    await clinician.waitForSelector('#latest-decisions li');
    expect(await clinician.locator('#latest-decisions').innerText()).toMatch(/urgent referral/i);

    await worklistUntil(coordinator, async () => (await coordinator.locator('#worklist tbody tr').first().getAttribute('data-pathway-id')) === second);
    const top = coordinator.locator('#worklist tbody tr').first();
    expect(await top.getAttribute('data-category')).toBe('urgent-referral');
    expect(await top.innerText()).toContain('Urgent referral');
  });

  it('a viewer sees no action buttons, and a forged request is refused', async () => {
    const viewer = await signIn('vi.viewer');
    await worklistUntil(viewer, async () => (await viewer.locator(`tr[data-pathway-id="${first}"]`).count()) === 1);
    expect(await viewer.locator('#worklist button').count()).toBe(0);
    expect(await viewer.locator('a[href="/enrol"]').count()).toBe(0);
    await viewer.goto(`${site.url}/pathways/${first}`);
    await viewer.waitForSelector('#scores-chart');
    expect(await viewer.locator('#actions button').count()).toBe(0);
    await noSeriousViolations(viewer, 'a pathway page for a viewer');

    // The viewer's own session, with its CSRF token: the role is refused, as for an API key.
    const asViewer = await viewer.evaluate(async (id) => {
      const session = (await (await fetch('/auth/session')).json()) as { csrfToken: string };
      const res = await fetch(`/v1/pathways/${id}/actions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken }, body: JSON.stringify({ action: 'hold', reason: 'forged by a viewer' }) });
      return { status: res.status, body: (await res.json()) as { detail: string } };
    }, first);
    expect(asViewer.status).toBe(403);
    expect(asViewer.body.detail).toContain('viewer');

    // A request that carries the coordinator's cookie but not the session's token (cross-site request forgery).
    const forged = await fetch(`${site.url}/v1/pathways/${first}/actions`, {
      method: 'POST',
      headers: { cookie: await cookieHeader(coordinator), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'withdraw', reason: 'forged request' }),
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { detail: string }).detail).toContain('CSRF');
    const wrongToken = await fetch(`${site.url}/v1/pathways/${first}/actions`, {
      method: 'POST',
      headers: { cookie: await cookieHeader(coordinator), 'content-type': 'application/json', 'x-csrf-token': 'x'.repeat(43) },
      body: JSON.stringify({ action: 'withdraw', reason: 'forged request' }),
    });
    expect(wrongToken.status).toBe(403);
    expect((await backend.service.get(first, {})).status).toBe('active');
  });

  it('the cohort dashboard shows the care team and the outcomes report or that it is not available', async () => {
    await clinician.goto(`${site.url}/dashboard`);
    await clinician.waitForSelector('#cohort-table');
    const row = clinician.locator('#cohort-table tbody tr', { hasText: team });
    expect(await row.locator('td').first().innerText()).toBe('2');
    await clinician.waitForSelector('#outcomes-unavailable, #outcomes-stages');
    await noSeriousViolations(clinician, 'the cohort dashboard');
  });

  it('draws the outcomes report of the agreed contract, and passes the filters on', async () => {
    // GET /v1/reports/outcomes is the system of record's (built beside this console): here the
    // browser answers it with a report of the agreed shape, to check what the dashboard makes of one.
    const asked: URL[] = [];
    await clinician.route('**/v1/reports/outcomes*', (route) => {
      asked.push(new URL(route.request().url()));
      return route.fulfill({
        json: {
          filters: {},
          stages: [
            { stage: 'conservative', entered: 40, responded: 12, escalated: 20, withdrawn: 2, urgentReferral: 1, completed: 0, stillInStage: 5, medianDaysInStage: 44.5, medianPainReliefPercent: 18.2, medianOdiChange: -6 },
            { stage: 'interventional', entered: 20, responded: 9, escalated: 6, withdrawn: 1, urgentReferral: 0, completed: 0, stillInStage: 4, medianDaysInStage: null, medianPainReliefPercent: null, medianOdiChange: null },
          ],
          procedures: [{ type: 'epidural-steroid-injection', performed: 10, reassessed: 8, responded: 6, responseRate: 0.75 }],
        },
      });
    });
    try {
      await clinician.goto(`${site.url}/dashboard`);
      await clinician.waitForSelector('#outcomes-stages');
      await clinician.selectOption('#f-team', team);
      await clinician.selectOption('#f-definition', 'psps-lumbar@1');
      await clinician.fill('#f-from', '2026-01-01');
      await clinician.fill('#f-to', '2026-06-30');
      await clinician.click('.filters button[type="submit"]');
      await clinician.waitForURL((url) => url.searchParams.get('careTeam') === team);
      await clinician.waitForSelector('#outcomes-stages');
      const last = asked.at(-1)!;
      expect(Object.fromEntries(last.searchParams)).toEqual({ careTeam: team, definitionId: 'psps-lumbar', definitionVersion: '1', from: '2026-01-01T00:00:00.000Z', to: '2026-06-30T23:59:59.999Z' });
      const conservative = await clinician.locator('#outcomes-stages tbody tr').first().innerText();
      expect(conservative).toContain('44.5');
      expect(conservative).toContain('18.2%');
      expect(await clinician.locator('#outcomes-procedures tbody tr').first().innerText()).toContain('75%');
      expect(await clinician.locator('#chart-responders').count()).toBe(1);
      await noSeriousViolations(clinician, 'the dashboard with an outcomes report');
    } finally {
      await clinician.unroute('**/v1/reports/outcomes*');
    }
  });

  it('sign-out ends the session on the server', async () => {
    const cookie = await cookieHeader(coordinator);
    expect((await fetch(`${site.url}/v1/worklist`, { headers: { cookie } })).status).toBe(200);
    await coordinator.goto(WORKLIST());
    await coordinator.click('#sign-out');
    // The provider's session ends too: it asks, then sends the browser back to sign-in.
    await coordinator.waitForURL((url) => url.origin === provider.issuer);
    await coordinator.click('button[name="logout"][value="yes"]');
    await coordinator.waitForURL((url) => url.origin === site.url && url.pathname === '/sign-in');
    await coordinator.waitForSelector('[role="status"]');
    expect(await coordinator.locator('main').innerText()).toContain('You have signed out');
    await noSeriousViolations(coordinator, 'the sign-in page');
    // The old cookie, replayed, opens nothing.
    expect((await fetch(`${site.url}/v1/worklist`, { headers: { cookie } })).status).toBe(401);
    const page = await fetch(`${site.url}/`, { headers: { cookie }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/sign-in/);
    // Signing in again asks for the login: the next person at this workstation is not the last.
    await coordinator.click('#sign-in-oidc');
    await coordinator.waitForSelector('input[name="login"]');
  });

  it('works from the keyboard: an action opens its dialog with the focus inside, and records', async () => {
    await clinician.goto(`${site.url}/pathways/${first}`);
    await clinician.waitForSelector('#actions button[data-action="hold"]');
    await clinician.focus('#actions button[data-action="hold"]');
    await clinician.keyboard.press('Enter');
    await clinician.waitForSelector('dialog[data-action="hold"][open]');
    expect(await clinician.locator('dialog[data-action="hold"] :focus').count()).toBe(1);
    await clinician.focus('dialog[data-action="hold"] textarea[name="reason"]');
    await clinician.keyboard.type('Patient asked to pause for surgery elsewhere');
    await clinician.keyboard.press('Tab');
    await clinician.keyboard.press('Enter');
    await clinician.waitForSelector('#latest-decisions li');
    // The page reloads the pathway after showing the decisions.
    await clinician.waitForSelector('body[data-status="on-hold"]');
    // Escape closes a dialog without recording.
    await clinician.focus('#actions button[data-action="resume"]');
    await clinician.keyboard.press('Enter');
    await clinician.waitForSelector('dialog[data-action="resume"][open]');
    await clinician.keyboard.press('Escape');
    await clinician.waitForSelector('dialog[data-action="resume"]', { state: 'detached' });
    expect((await backend.service.get(first, {})).status).toBe('on-hold');
  });

  it('refuses a person whose claims name no Pathway role', async () => {
    const page = await newPage();
    await page.goto(`${site.url}/sign-in`);
    await page.click('#sign-in-oidc');
    await page.fill('input[name="login"]', 'no.role');
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    await page.click('button:has-text("Continue")');
    await page.waitForURL((url) => url.origin === site.url && url.searchParams.get('error') === 'claims');
    await page.waitForSelector('[role="alert"]');
    expect(await page.locator('[role="alert"]').innerText()).toContain('no Pathway role');
  });
});

describe('sessions, local sign-in and production', () => {
  it('serves pages with no-store and assets with hashed names and a year of caching', async () => {
    const page = await fetch(`${site.url}/sign-in`);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/assets\/sign-in-[A-Z0-9]+\.js)"/.exec(await page.text())![1]!;
    const asset = await fetch(`${site.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('the embedded default signs in as each local role; the cookie is HttpOnly and SameSite', async () => {
    const local = await serveConsole(backend);
    try {
      const page = await newPage();
      await page.goto(`${local.url}/dashboard`);
      await page.waitForSelector('#sign-in-clinician');
      await noSeriousViolations(page, 'the local sign-in page');
      await page.click('#sign-in-clinician');
      await page.waitForURL((url) => url.pathname === '/dashboard');
      await page.waitForSelector('#cohort-table, .empty');
      expect(await page.locator('#who').innerText()).toContain('local-clinician');
      const res = await fetch(`${local.url}/auth/local`, { method: 'POST', body: new URLSearchParams({ role: 'viewer' }), redirect: 'manual' });
      expect(res.status).toBe(303);
      const setCookie = res.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      expect(setCookie).not.toMatch(/Secure/); // plain http, embedded default only
      // Another site may not sign a browser in.
      const crossSite = await fetch(`${local.url}/auth/local`, { method: 'POST', headers: { origin: 'https://elsewhere.invalid' }, body: new URLSearchParams({ role: 'clinician' }), redirect: 'manual' });
      expect(crossSite.status).toBe(403);
    } finally {
      await local.stop();
    }
  });

  it('with Secure cookies, a session cookie is only ever sent over https', async () => {
    const secure = await serveConsole(backend, { secureCookies: true });
    try {
      const plain = await fetch(`${secure.url}/auth/local`, { method: 'POST', body: new URLSearchParams({ role: 'viewer' }), redirect: 'manual' });
      expect(plain.headers.get('set-cookie')).toBeNull();
      const proxied = await fetch(`${secure.url}/auth/local`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' }, body: new URLSearchParams({ role: 'viewer' }), redirect: 'manual' });
      expect(proxied.headers.get('set-cookie')).toMatch(/; Secure/);
    } finally {
      await secure.stop();
    }
  });

  it('keeps sessions in the record store: a restarted API (or another one) knows them; nothing readable rests there', async () => {
    const first = await serveConsole(backend);
    const res = await fetch(`${first.url}/auth/local`, { method: 'POST', body: new URLSearchParams({ role: 'clinician' }), redirect: 'manual' });
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${first.url}/v1/worklist`, { headers: { cookie } })).status).toBe(200);
    await first.stop();
    const second = await serveConsole(backend);
    try {
      expect((await fetch(`${second.url}/v1/worklist`, { headers: { cookie } })).status).toBe(200);
      const sid = sessionIdOf(cookie);
      const rows = await backend.record.store.db.selectFrom('console_sessions').selectAll().execute();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.sid_hash).not.toContain(sid);
        expect(row.data_enc).not.toMatch(/clinician|principal/);
      }
      // Signing out ends it for every API process.
      const csrf = (await (await fetch(`${second.url}/auth/session`, { headers: { cookie } })).json()) as { csrfToken?: string };
      const out = await fetch(`${second.url}/auth/sign-out`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf.csrfToken ?? '' }, redirect: 'manual' });
      expect(out.status).toBeLessThan(400);
      expect((await fetch(`${second.url}/v1/worklist`, { headers: { cookie } })).status).toBe(401);
      expect(await readSession(backend.record.store.db, backend.record.cipher, sid)).toBeNull();
    } finally {
      await second.stop();
    }
  });

  it('ends a session after the idle timeout (automatic logoff)', async () => {
    const idle = await serveConsole(backend, { idleMs: 1500 });
    try {
      const res = await fetch(`${idle.url}/auth/local`, { method: 'POST', body: new URLSearchParams({ role: 'clinician' }), redirect: 'manual' });
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      expect((await fetch(`${idle.url}/v1/worklist`, { headers: { cookie } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2500));
      expect((await fetch(`${idle.url}/v1/worklist`, { headers: { cookie } })).status).toBe(401);
      expect(await readSession(backend.record.store.db, backend.record.cipher, sessionIdOf(cookie))).toBeNull();

      // The page, left alone, leaves the screen when the session ends.
      const page = await newPage();
      await page.goto(`${idle.url}/sign-in`);
      await page.click('#sign-in-coordinator');
      await page.waitForSelector('#worklist');
      await page.waitForURL((url) => url.pathname === '/sign-in' && url.searchParams.get('reason') === 'expired', { timeout: 10_000 });
      await page.waitForSelector('[role="status"]');
      expect(await page.locator('main').innerText()).toContain('Your session has ended');
    } finally {
      await idle.stop();
    }
  });

  it('production without a provider refuses console sign-in; API keys still work', async () => {
    const production = await serveConsole(backend, { production: true });
    try {
      const session = (await (await fetch(`${production.url}/auth/session`)).json()) as { methods: unknown };
      expect(session.methods).toEqual({ oidc: false, local: [] });
      expect((await fetch(`${production.url}/auth/local`, { method: 'POST', body: new URLSearchParams({ role: 'clinician' }), redirect: 'manual' })).status).toBe(404);
      expect((await fetch(`${production.url}/auth/sign-in`, { redirect: 'manual' })).status).toBe(404);
      expect((await fetch(`${production.url}/v1/worklist`, { headers: { authorization: `Bearer ${KEYS.viewer!.key}` } })).status).toBe(200);
      const page = await newPage();
      await page.goto(`${production.url}/`);
      await page.waitForSelector('.message-info');
      expect(await page.locator('main').innerText()).toContain('Console sign-in is not configured');
      expect(await page.locator('main button').count()).toBe(0);
    } finally {
      await production.stop();
    }
  });
});
