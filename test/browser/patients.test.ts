/**
 * Who the patient is, in the console (headless Chromium against the real service): a coordinator
 * sees the patient's name and reference on the worklist and the pathway page and corrects them; a
 * viewer sees the same pathway with no one's name or reference anywhere on the page.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousViolations } from '../harness/browser';
import { serveConsole, startBackend, type Backend, type ConsoleServer } from '../harness/console';

const SHOTS = path.join(__dirname, '..', '..', '.data', 'test-screenshots');
const team = `team-${randomUUID().slice(0, 8)}`;
const patientRef = `MRN-${randomUUID().slice(0, 13)}`;
const name = `Rosa Okonkwo-Lindqvist ${randomUUID().slice(0, 4)}`;

let backend: Backend;
let site: ConsoleServer;
let browser: Browser;
let pathwayId: string;

beforeAll(async () => {
  backend = await startBackend();
  site = await serveConsole(backend);
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  const { pathway } = await backend.service.enrol(
    { patientRef, patient: { name, birthDate: '1958-11-02', contact: { mobile: '+447700900456', email: 'rosa@example.org', language: 'en' } }, careTeam: team, baseline: { painNrs: 7, odi: 40 }, redFlags: [] },
    { id: 'seed', role: 'coordinator' },
    {},
  );
  pathwayId = pathway.pathwayId;
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await backend?.stop();
});

async function signInAs(role: 'coordinator' | 'viewer', width = 1366): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
  await page.goto(`${site.url}/sign-in`);
  await page.click(`#sign-in-${role}`);
  await page.waitForSelector('#worklist');
  return page;
}

describe('the patient on the console', () => {
  it("shows a coordinator the patient's name and reference on the worklist and the pathway page, and lets them correct it", async () => {
    const page = await signInAs('coordinator');
    await page.goto(`${site.url}/?dueSoonDays=60`);
    const row = page.locator(`tr[data-pathway-id="${pathwayId}"]`);
    await row.waitFor();
    expect(await row.locator('.patient-name').innerText()).toBe(name);
    expect(await row.locator('.patient-ref').innerText()).toContain(patientRef);
    expect(await seriousViolations(page), 'axe on the worklist').toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'patients-worklist-coordinator.png'), fullPage: true });

    await page.goto(`${site.url}/pathways/${pathwayId}`);
    await page.waitForSelector('#patient');
    const panel = await page.locator('#patient').innerText();
    for (const shown of [name, patientRef, '+447700900456', 'rosa@example.org', '2 Nov 1958']) expect(panel).toContain(shown);
    expect(await page.locator('#title').innerText()).toContain(name);
    await page.click('#patient summary');
    expect(await seriousViolations(page), 'axe on the pathway page').toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'patients-pathway-coordinator.png'), fullPage: true });
    await page.fill('#patient-name', 'Rosa Lindqvist');
    await page.fill('#patient-email', '');
    await page.click('#patient-form button[type="submit"]');
    await page.locator('#patient dd', { hasText: 'Rosa Lindqvist' }).waitFor();
    const after = await page.locator('#patient').innerText();
    expect(after).not.toContain('rosa@example.org');
    const entries = await backend.service.accessLog(pathwayId, {});
    expect(entries.find((e) => e.action === 'corrected')).toMatchObject({ actor: { id: 'local-coordinator' }, fields: ['birthDate', 'contact', 'name'] });
  });

  it('shows a viewer the pathway and nobody\'s name or reference', async () => {
    const page = await signInAs('viewer');
    await page.goto(`${site.url}/?dueSoonDays=60`);
    await page.locator(`tr[data-pathway-id="${pathwayId}"]`).waitFor();
    expect(await page.locator('th', { hasText: 'Patient' }).count()).toBe(0);
    await page.goto(`${site.url}/pathways/${pathwayId}`);
    await page.waitForSelector('#scores-chart');
    expect(await page.locator('#patient').count()).toBe(0);
    const everything = await page.content();
    for (const hidden of ['Lindqvist', patientRef, '+447700900456']) expect(everything).not.toContain(hidden);
    await page.screenshot({ path: path.join(SHOTS, 'patients-pathway-viewer.png'), fullPage: true });
  });

  it('fits a phone: the coordinator\'s pathway page at 390 px', async () => {
    const page = await signInAs('coordinator', 390);
    await page.goto(`${site.url}/pathways/${pathwayId}`);
    await page.waitForSelector('#patient');
    const box = (await page.locator('#patient').boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, 'patients-pathway-390.png'), fullPage: true });
  });

  it('a patient answers from the outbox on a phone (390 px): plain page, large targets, no serious axe violation, readable at 200% zoom', async () => {
    const coordinator = await signInAs('coordinator');
    await coordinator.goto(`${site.url}/pathways/${pathwayId}`);
    await coordinator.click('#send-questionnaire');
    await coordinator.locator('#questionnaires tr[data-state="sent"]').waitFor();
    expect(await seriousViolations(coordinator), 'axe on the pathway page with questionnaires').toEqual([]);

    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
    await phone.goto(`${site.url}/outbox`);
    await phone.click('.message >> nth=0 >> a.open-link');
    await phone.waitForSelector('form');
    expect(new URL(phone.url()).pathname).toMatch(/^\/p\//);
    expect(await seriousViolations(phone), 'axe on the patient page').toEqual([]);
    const overflow = () => phone.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(await overflow()).toBeLessThanOrEqual(0);
    // Touch targets of at least 44 px.
    const target = (await phone.locator('label[for="q-pain-nrs-pain-6"]').boundingBox())!;
    expect(target.height).toBeGreaterThanOrEqual(44);
    expect(await phone.locator('text=Part 1 of').count()).toBe(1);
    await phone.screenshot({ path: path.join(SHOTS, 'patient-questionnaire-390.png'), fullPage: true });
    await phone.screenshot({ path: path.join(SHOTS, 'patient-questionnaire-390-top.png') });
    // 200% zoom: the page at half a 390 px screen's CSS width (as a browser zoomed to 200% lays it out) fits without scrolling sideways.
    const zoomed = await (await browser.newContext({ viewport: { width: 195, height: 422 } })).newPage();
    await zoomed.goto(phone.url());
    await zoomed.waitForSelector('form');
    await zoomed.screenshot({ path: path.join(SHOTS, 'patient-questionnaire-200pc.png') });
    expect(await zoomed.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    })).toBeLessThanOrEqual(0);
    await zoomed.screenshot({ path: path.join(SHOTS, 'patient-questionnaire-200pc.png') });

    await phone.click('label[for="q-pain-nrs-pain-4"]');
    for (let s = 0; s < 10; s++) await phone.click(`#part-odi fieldset >> nth=${s} >> label >> nth=1`);
    await phone.click('label[for="q-pgic-pgic-1"]');
    for (let f = 0; f < 8; f++) await phone.click(`#part-red-flag-screen fieldset >> nth=${f} >> label >> nth=1`);
    // The last answers from the keyboard alone.
    await phone.fill('#q-comment', 'Better on the new tablets');
    await phone.focus('#q-comment');
    await phone.keyboard.press('Tab');
    await phone.keyboard.press('Enter');
    await phone.waitForSelector('text=Your answers have reached your care team');
    expect(await seriousViolations(phone), 'axe on the confirmation').toEqual([]);
    await phone.screenshot({ path: path.join(SHOTS, 'patient-thanks-390.png'), fullPage: true });

    await coordinator.goto(`${site.url}/pathways/${pathwayId}`);
    await coordinator.locator('#questionnaires tr[data-state="answered"]').waitFor();
    expect(await coordinator.locator('.timeline').innerText()).toContain('reported by the patient at home');
    expect(await coordinator.locator('#scores').innerText()).toContain('4');
    await coordinator.screenshot({ path: path.join(SHOTS, 'patients-pathway-answered.png'), fullPage: true });
  });
});
