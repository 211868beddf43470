/**
 * The definitions page in headless Chromium, as the local lead of the embedded default: a draft
 * from v2, a number refused beside its field as it is typed, saved, the diff, tried on past
 * patients, published with a reason; then Migrate shows the simulation's numbers. A viewer reads
 * the versions only. Serious accessibility violations: none.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousViolations } from '../harness/browser';
import { serveConsole, startBackend, type Backend, type ConsoleServer } from '../harness/console';

let backend: Backend;
let site: ConsoleServer;
let browser: Browser;

beforeAll(async () => {
  backend = await startBackend();
  site = await serveConsole(backend);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await backend?.stop();
});

async function signedIn(role: 'lead' | 'viewer'): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  await page.goto(`${site.url}/sign-in`);
  await page.click(`#sign-in-${role}`);
  await page.waitForURL((url) => url.pathname === '/');
  await page.goto(`${site.url}/definitions`);
  await page.waitForSelector('#versions');
  return page;
}

describe('the definitions page', () => {
  it('takes a lead from a draft to a published version, checking each number in place', async () => {
    const page = await signedIn('lead');
    await page.click('#new-draft');
    await page.waitForSelector('#save-draft');
    const field = '#f-stages-conservative-response-painReductionPercent';
    await page.fill(field, '95');
    await expect.poll(() => page.textContent(`${field}-error`)).toContain('between 10 and 90');
    expect(await page.textContent('#validation')).toContain('Not valid');
    await page.fill(field, '50');
    await expect.poll(() => page.textContent('#validation')).toContain('Valid: every check passes');
    expect(await page.textContent(`${field}-error`)).toBe('');
    await page.click('#save-draft');
    await expect.poll(() => page.textContent('#diff').catch(() => '')).toContain('stages.conservative.response.painReductionPercent: 30 → 50');

    await page.click('#simulate');
    await page.waitForSelector('#simulation-figures');
    expect(await page.textContent('#simulation-caption')).toMatch(/^\d+ pathways; decisions differ in \d+/);
    expect(await seriousViolations(page)).toEqual([]);

    await page.fill('#publish-reason', 'IMMPACT substantial relief for conservative care');
    await page.click('#publish');
    await page.waitForSelector('#migrate-form');
    expect(await page.textContent('#versions tr[aria-current="true"]')).toContain('published');
    expect(await page.textContent('#migrate-form')).toMatch(/The simulation of .*: \d+ pathways, \d+ decided differently; escalations/);
  });

  it('shows a viewer the versions, and nothing to change', async () => {
    const page = await signedIn('viewer');
    expect(await page.locator('#versions tbody tr').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#new-draft, #save-draft, #simulate, #publish, #migrate').count()).toBe(0);
    expect(await page.locator(`#f-stages-conservative-response-painReductionPercent[readonly]`).count()).toBe(1);
  });
});
