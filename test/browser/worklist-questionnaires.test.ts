/**
 * Where the patient's questionnaire stands, on the console's worklist (headless Chromium against
 * the real service): a coordinator sees a questionnaire that did not reach the patient (no
 * channel could hand it over) and one that went out, at desktop and phone widths.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPatients } from '../../patients';
import { launchChromium, seriousViolations } from '../harness/browser';
import { serveConsole, startBackend, type Backend, type ConsoleServer } from '../harness/console';

const SHOTS = path.join(__dirname, '..', '..', '.data', 'test-screenshots');
const team = `team-${randomUUID().slice(0, 8)}`;

let backend: Backend;
let site: ConsoleServer;
let browser: Browser;
const ids: { undelivered?: string; sent?: string } = {};

beforeAll(async () => {
  backend = await startBackend();
  site = await serveConsole(backend);
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
  const enrol = async (name: string) =>
    (
      await backend.service.enrol(
        { patientRef: `MRN-${randomUUID().slice(0, 13)}`, patient: { name, contact: { email: `${randomUUID().slice(0, 8)}@example.org`, language: 'en' } }, careTeam: team, baseline: { painNrs: 7, odi: 40 }, redFlags: [] },
        { id: 'seed', role: 'coordinator' },
        {},
      )
    ).pathway.pathwayId;
  [ids.undelivered, ids.sent] = [await enrol('Nadia Undelivered'), await enrol('Tomas Sent')];
  const by = { actorId: 'seed', actorRole: 'coordinator', route: 'test' };
  const change = (id: string, kind: 'reassessments' | 'red-flags', actor: { id: string; role: string }, input: unknown, key: string) => backend.service.change(id, kind, actor as never, input as never, {}, key);
  // No channel: the hand-over fails, and the questionnaire is undelivered. The local outbox: sent.
  const none = createPatients({ record: backend.record, change, publicUrl: () => site.url, production: false, channel: null });
  expect((await none.questionnaires.issue(ids.undelivered, by)).state).toBe('undelivered');
  const outbox = createPatients({ record: backend.record, change, publicUrl: () => site.url, production: false });
  expect((await outbox.questionnaires.issue(ids.sent, by)).state).toBe('sent');
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await backend?.stop();
});

describe("the patient's questionnaire on the worklist", () => {
  for (const width of [1366, 390]) {
    it(`says which questionnaire did not reach the patient, at ${width} px`, async () => {
      const page = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
      await page.goto(`${site.url}/sign-in`);
      await page.click('#sign-in-coordinator');
      await page.waitForSelector('#worklist');
      await page.goto(`${site.url}/?careTeam=${team}&dueSoonDays=60`);
      const row = (id: string) => page.locator(`[data-pathway-id="${id}"]`);
      await row(ids.undelivered!).waitFor();
      expect(await row(ids.undelivered!).innerText()).toContain('Questionnaire not delivered: send again from the pathway page');
      expect(await row(ids.sent!).innerText()).toMatch(/Questionnaire sent \(sent \d{1,2} \w{3}/);
      expect(await row(ids.sent!).innerText()).not.toContain('not delivered');
      expect(await seriousViolations(page), 'axe on the worklist').toEqual([]);
      // A long name wraps inside its card: nothing runs past the screen's edge.
      expect((await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number, 'no sideways scrolling').toBeLessThanOrEqual(0);
      await page.screenshot({ path: path.join(SHOTS, `worklist-questionnaires-${width}.png`), fullPage: true });
    });
  }
});
