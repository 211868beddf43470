/**
 * A coordinator's, a clinician's and a clinical lead's morning in the console, in headless
 * Chromium at desktop (1366 px) and phone (390 px) width, against the real service (dev server,
 * worker, record store, API over HTTP): the urgent-referral resume, an undelivered message
 * acknowledged, a discharge previewed before it is saved, a back-dated reassessment, focus back
 * on the row acted on, no page scrolling sideways, and axe-core on every page and state.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CareTeamMessage } from '../../clinical/care-team-messages';
import type { Actor } from '../../clinical/events';
import { KEYS } from '../harness/api';
import { launchChromium, seriousViolations } from '../harness/browser';
import { serveConsole, startBackend, type Backend, type ConsoleServer } from '../harness/console';
import { RecordingChannel } from '../harness/temporal';

/** Refuses for good the messages of the pathways named, as a care team's webhook answering 410 would. */
class RefusingChannel extends RecordingChannel {
  readonly refused = new Set<string>();
  override async deliver(message: CareTeamMessage) {
    if (message.pathwayId && this.refused.has(message.pathwayId)) throw ApplicationFailure.nonRetryable('webhook refused the message (410)', 'WebhookRejected');
    return super.deliver(message);
  }
}

const channel = new RefusingChannel();
let backend: Backend;
let site: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  backend = await startBackend(channel);
  site = await serveConsole(backend);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await backend?.stop();
});

const CLINICIAN: Actor = { id: 'dr-seed', role: 'clinician' };
const COORDINATOR: Actor = { id: 'coord-seed', role: 'coordinator' };

async function enrol(team: string, painNrs: number, odi: number, redFlags: string[] = []): Promise<string> {
  const { pathway } = await backend.service.enrol({ patientRef: `ref-${randomUUID()}`, careTeam: team, baseline: { painNrs, odi }, redFlags } as never, COORDINATOR, {});
  return pathway.pathwayId;
}
const change = (id: string, kind: 'reassessments' | 'procedures' | 'actions' | 'red-flags', input: unknown, actor: Actor = CLINICIAN) => backend.service.change(id, kind, actor, input, {});

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function signIn(role: 'coordinator' | 'clinician', width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: width > 700 ? 900 : 844 } });
  const page = await context.newPage();
  await page.goto(`${site.url}/sign-in`);
  await page.click(`#sign-in-${role}`);
  await page.waitForSelector('#worklist');
  return page;
}

const WIDEST = `[...document.querySelectorAll('body *')]
  .filter((e) => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 8)
  .map((e) => e.tagName + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.') + ' ' + Math.round(e.getBoundingClientRect().right))`;

/** axe-core finds nothing serious or critical, and (on a phone) the page does not scroll sideways. */
async function checkPage(page: Page, what: string, width: number): Promise<void> {
  expect(await seriousViolations(page), `axe on ${what} at ${width} px`).toEqual([]);
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
  // The widest elements past the right edge (outside scroll regions), to say what pushes the page.
  const culprits = overflow > 0 ? await page.evaluate(WIDEST) : [];
  expect(overflow, `${what} scrolls sideways at ${width} px: ${JSON.stringify(culprits)}`).toBeLessThanOrEqual(0);
}

const row = (page: Page, id: string) => page.locator(`#worklist [data-pathway-id="${id}"]`);

async function worklistShows(page: Page, team: string, check: () => Promise<boolean>): Promise<void> {
  await until(
    'the worklist change',
    async () => {
      await page.goto(`${site.url}/?careTeam=${team}&dueSoonDays=60`);
      await page.waitForSelector('#worklist table, #worklist .empty');
      return check();
    },
    (ok) => ok,
  );
}

describe.each([1366, 390])('a morning at %i px', (width) => {
  const team = `team-${width}-${randomUUID().slice(0, 6)}`;
  let urgent: string;
  let undelivered: string;
  let responding: string;
  let backdated: string;

  beforeAll(async () => {
    urgent = await enrol(team, 6, 35, ['progressive-motor-deficit']);
    undelivered = await enrol(team, 7, 40);
    channel.refused.add(undelivered);
    await change(undelivered, 'actions', { action: 'escalate', reason: 'Fast track after the MDT review' });
    responding = await enrol(team, 8, 46);
    await change(responding, 'actions', { action: 'escalate', reason: 'No relief after conservative care' });
    await change(responding, 'procedures', { type: 'epidural-steroid-injection' }, COORDINATOR);
    await change(responding, 'reassessments', { painNrs: 3, odi: 28 });
    backdated = await enrol(team, 7, 42);
    await until('the undelivered message', () => backend.service.get(undelivered, {}), (p) => p.undelivered.some((u) => !u.resolvedAt));
  });

  it("the coordinator's worklist says what is due, acknowledges the undelivered message from its row, and keeps the focus there", async () => {
    const page = await signIn('coordinator', width);
    await worklistShows(page, team, async () => (await row(page, undelivered).getAttribute('data-category')) === 'undelivered');
    await checkPage(page, 'the worklist', width);

    // The urgent referral is a clinician's: the coordinator is told so, and offered no Resume.
    expect(await row(page, urgent).locator('button[data-action="resume"]').count()).toBe(0);
    expect(await row(page, urgent).innerText()).toContain('For a clinician: resume or close');
    // The undelivered row shows the item still due and how soon, and the acknowledgement.
    const text = await row(page, undelivered).innerText();
    expect(text).toMatch(/Not delivered: care-team notification/);
    expect(text).toMatch(/Procedure/);
    expect(text).toMatch(/due in 28 days/);
    // A routine row says when, in days, and offers no action the rules would refuse (a coordinator records no reassessment).
    expect(await row(page, backdated).innerText()).toMatch(/due in 42 days/);
    expect(await row(page, backdated).locator('button[data-action="reassessment"], button[data-action="procedure"]').count()).toBe(0);

    await row(page, undelivered).locator('button[data-action="acknowledge"]').click();
    const dialog = page.locator('dialog[data-action="acknowledge"]');
    await dialog.locator('textarea[name="reason"]').fill('Phoned the patient and the team');
    await dialog.locator('.preview .consequence').waitFor();
    expect(await dialog.locator('.preview .consequence').innerText()).toContain('take the undelivered messages off the worklist');
    await checkPage(page, 'the acknowledge dialog', width);
    await dialog.locator('button[type="submit"]').click();
    await page.waitForSelector('#worklist-notice .message-info');
    expect(await page.locator('#worklist-notice').innerText()).toContain(`Recorded for pathway ${undelivered.slice(3, 11)}: Undelivered message acknowledged (1)`);
    // Focus is back on the row acted on, which has left "message not delivered" for its due item.
    await page.waitForFunction(`document.activeElement?.closest('[data-pathway-id]')?.getAttribute('data-pathway-id') === '${undelivered}'`);
    expect(await row(page, undelivered).getAttribute('data-category')).not.toBe('undelivered');
    const { timeline } = await backend.service.get(undelivered, {});
    expect(timeline.at(-1)).toMatchObject({ ruleId: 'override.acknowledge', actor: { id: 'local-coordinator', role: 'coordinator' }, reason: 'Phoned the patient and the team' });
    await page.context().close();
  });

  it('the clinician resumes the urgent referral, previews a discharge before saving it, and records a back-dated reassessment', async () => {
    const page = await signIn('clinician', width);
    await worklistShows(page, team, async () => (await row(page, urgent).count()) === 1);
    await checkPage(page, "the clinician's worklist", width);

    // Urgent referral: Resume and Close, Resume first; no reassessment the rules would refuse.
    await page.goto(`${site.url}/pathways/${urgent}`);
    await page.waitForSelector('#actions button');
    expect(await page.locator('#actions button').evaluateAll((b) => b.map((x) => x.getAttribute('data-action')))).toEqual(['resume', 'close', 'withdraw']);
    expect(await page.locator('.timeline').innerText()).toContain('Red flag: progressive motor deficit');
    await checkPage(page, 'a pathway in urgent referral', width);
    await page.click('#actions button[data-action="resume"]');
    const resume = page.locator('dialog[data-action="resume"]');
    await resume.locator('textarea[name="reason"]').fill('Imaging excluded compression; stepped care may go on');
    await resume.locator('.preview .consequence').waitFor();
    expect(await resume.locator('.preview .consequence').innerText()).toContain('resume stepped care');
    await resume.locator('button[type="submit"]').click();
    await page.waitForSelector('body[data-status="active"]');
    expect(await page.locator('#latest-decisions').innerText()).toContain(`Recorded for pathway ${urgent.slice(3, 11)}`);
    expect(await page.locator('#actions button[data-action="reassessment"]').count()).toBe(1);

    // A second responding score would discharge: the dialog says so, and nothing is recorded until Save.
    await page.goto(`${site.url}/pathways/${responding}`);
    await page.waitForSelector('#scores-chart');
    await checkPage(page, 'a pathway page', width);
    const before = (await backend.service.get(responding, {})).timeline.length;
    await page.click('#actions button[data-action="reassessment"]');
    const dialog = page.locator('dialog[data-action="reassessment"]');
    await dialog.locator('input[name="painNrs"]').fill('3');
    await dialog.locator('input[name="odi"]').fill('26');
    await dialog.locator('.preview .consequence').waitFor();
    expect(await dialog.locator('.preview .consequence').innerText()).toContain('Saving this reassessment will count as a response and discharge the patient to self-management');
    expect(await dialog.locator('.preview').innerText()).toMatch(/Pain relief 63% from NRS 8 to 3 \(needs 50%\)/);
    await checkPage(page, 'the reassessment dialog with its preview', width);
    const unchanged = await backend.service.get(responding, {});
    expect([unchanged.status, unchanged.timeline.length]).toEqual(['active', before]);
    await dialog.locator('button[type="submit"]').click();
    await page.waitForSelector('body[data-status="completed"]');
    expect(await page.locator('#latest-decisions').innerText()).toContain('discharged to self-management');

    // Back-dated: a date before the pathway's last event is refused beside the field, in words, before sending.
    await page.goto(`${site.url}/pathways/${backdated}`);
    await page.click('#actions button[data-action="reassessment"]');
    const back = page.locator('dialog[data-action="reassessment"]');
    await back.locator('input[name="painNrs"]').fill('5');
    await back.locator('input[name="assessedAt"]').fill('2020-01-01T09:00');
    await back.locator('button[type="submit"]').click();
    await back.locator('.field-error:not([hidden])').waitFor();
    expect(await back.locator('.field-error:not([hidden])').innerText()).toMatch(/Too early: the earliest allowed is the last recorded event/);
    await checkPage(page, 'a dialog with a field problem', width);
    // A time between the enrolment and now is taken, and the timeline keeps both times.
    const enrolled = (await backend.service.get(backdated, {})).enrolledAt;
    // A second after the enrolment, to the second: the form takes seconds when given.
    const at = new Date(Math.ceil((Date.parse(enrolled) + 1000) / 1000) * 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
    await back.locator('input[name="assessedAt"]').fill(local);
    await back.locator('button[type="submit"]').click();
    await page.waitForSelector('#latest-decisions li');
    const recorded = await backend.service.get(backdated, {});
    expect(recorded.reassessments.at(-1)!.at).toBe(at.toISOString());
    // The timeline dates the entry by when the assessment happened.
    await page.waitForSelector(`.timeline li[data-event="reassessment"] time[datetime="${at.toISOString()}"]`);
    await page.context().close();
  });

  it("the lead's dashboard counts what needs attention and filters every part it says it filters", async () => {
    const page = await signIn('clinician', width);
    await page.goto(`${site.url}/dashboard?careTeam=${team}`);
    await page.waitForSelector('#headline');
    await page.waitForSelector('#cohort-table');
    await page.waitForSelector('#outcomes h2 + *');
    await checkPage(page, 'the dashboard', width);
    expect(await page.locator('#headline').innerText()).toMatch(/Active/);
    // A range that ends before it starts is explained, not drawn as zeros.
    await page.fill('#f-from', '2026-06-30');
    await page.fill('#f-to', '2026-01-01');
    await page.click('.filters button[type="submit"]');
    await page.waitForSelector('#f-to-error:not([hidden])');
    expect(await page.locator('#f-to-error').innerText()).toContain('after');
    // A 503 says so in plain words, names no internals, and offers Retry, which loads the page.
    let refusals = 1;
    await page.route('**/v1/worklist*', (route) =>
      refusals-- > 0
        ? route.fulfill({ status: 503, headers: { 'retry-after': '2', 'content-type': 'application/problem+json' }, body: JSON.stringify({ status: 503, detail: 'Temporal did not answer in time' }) })
        : route.continue(),
    );
    await page.goto(`${site.url}/?careTeam=${team}&dueSoonDays=60`);
    await page.waitForSelector('#worklist .message-error button.retry');
    const said = await page.locator('#worklist .message-error').innerText();
    expect(said).toContain('The worklist could not load: the service is busy or restarting. Nothing is lost; retry in 2 seconds.');
    expect(said).not.toContain('Temporal');
    await checkPage(page, 'the worklist after a 503', width);
    await page.click('#worklist button.retry');
    await page.waitForSelector('#worklist table');
    await page.unroute('**/v1/worklist*');
    await page.goto(`${site.url}/enrol`);
    await page.waitForSelector('#enrol-form');
    await checkPage(page, 'the enrolment page', width);
    // Wrong fields are said beside them before sending; a second enrolment of one patient links to the first.
    const ref = `ref-${randomUUID()}`;
    await page.fill('#patient-ref', 'ab c');
    await page.fill('#care-team', team);
    await page.fill('#pain-nrs', '7.25');
    await page.click('#enrol-form button[type="submit"]');
    expect(await page.locator('#patient-ref-error').innerText()).toContain("Enter the clinic's reference");
    expect(await page.locator('#pain-nrs-error').innerText()).toContain('at most one decimal');
    await checkPage(page, 'the enrolment page with field problems', width);
    await page.fill('#patient-ref', ref);
    await page.fill('#patient-name', 'Ana Ruiz');
    await page.fill('#pain-nrs', '7');
    await page.fill('#odi', '40');
    await page.click('#enrol-form button[type="submit"]');
    const first = (await (await page.waitForSelector('#enrolled-link')).getAttribute('href'))!;
    // Who the patient is leaves the form once enrolled: the same patient again.
    await page.fill('#patient-ref', ref);
    await page.fill('#patient-name', 'Ana Ruiz');
    await page.click('#enrol-form button[type="submit"]');
    expect(await (await page.waitForSelector('#existing-link')).getAttribute('href')).toBe(first);
    await page.goto(`${site.url}/sign-in`);
    await page.waitForSelector('main');
    await checkPage(page, 'the sign-in page', width);
    await page.context().close();
  });
});

describe('the preview for machine clients', () => {
  it('answers the decisions a change would take, records nothing, and refuses as the change would', async () => {
    const team = `team-api-${randomUUID().slice(0, 6)}`;
    const id = await enrol(team, 8, 46);
    const post = (path: string, body: unknown) =>
      fetch(`${site.url}/v1/pathways/${id}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.clinician!.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = await backend.service.get(id, {});
    const res = await post('actions/preview', { action: 'escalate', reason: 'No relief after six weeks' });
    expect(res.status).toBe(200);
    const preview = (await res.json()) as { preview: boolean; decisions: Array<{ ruleId: string; stageAfter: string }>; pathway: { stage: string } };
    expect(preview.preview).toBe(true);
    expect(preview.decisions).toEqual([expect.objectContaining({ ruleId: 'override.escalate', stageAfter: 'interventional' })]);
    expect(preview.pathway.stage).toBe('interventional');
    const after = await backend.service.get(id, {});
    expect([after.stage, after.timeline.length]).toEqual([before.stage, before.timeline.length]);
    // The change itself then takes the decisions the preview said, by the same rules.
    const done = await post('actions', { action: 'escalate', reason: 'No relief after six weeks' });
    const decided = (await done.json()) as { decisions: Array<Record<string, unknown>> };
    const gist = (d: Record<string, unknown>) => [d.event, d.ruleId, d.summary, d.stageBefore, d.stageAfter, d.statusAfter, JSON.stringify(d.numbers ?? null)];
    expect(decided.decisions.map(gist)).toEqual(preview.decisions.map((d) => gist(d as unknown as Record<string, unknown>)));
    // The same refusal as the change: in interventional care a psychological evaluation does not belong.
    const refused = await post('procedures/preview', { type: 'psychological-evaluation', outcome: 'cleared' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { detail: string }).detail).toContain('does not belong to the interventional stage');
    expect((await post('reassessments/preview', { painNrs: 11 })).status).toBe(400);
    const viewer = await fetch(`${site.url}/v1/pathways/${id}/reassessments/preview`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.viewer!.key}`, 'content-type': 'application/json' }, body: '{"painNrs":3}' });
    expect(viewer.status).toBe(403);
  });
});
