/**
 * `npm run screenshots [-- <folder>]`: starts the embedded default on free ports with a fresh
 * data folder, enrols a small cohort through the API (one pathway responding after a procedure,
 * one in urgent referral, one whose message the care team's webhook refused, one waiting for a
 * baseline, one on hold), and writes every console page at desktop (1366 px) and phone (390 px)
 * width as `<page>-<width>.png`: sign-in, the clinician's and the coordinator's worklist, a pathway,
 * a pathway in urgent referral, a year of a pathway the clinical rules ran (served in place of the
 * API's answer, to see the chart over a long span), a reassessment dialog previewing a discharge,
 * enrolment, the cohort dashboard and a lead's definitions page (default folder: screenshots/).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { applyEvent, checkEvent, enroll, pendingWorkup, type PathwayEvent, type PathwayState } from '../clinical/pathway';
import { loadDefinitions } from '../clinical/registry';
import { loadConfig } from '../config';
import { createLogger } from '../observability/log';
import { startService } from '../server/service';
import { freePort } from '../test/harness/service-process';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const WIDTHS = [1366, 390] as const;

const DAY = 86_400_000;
const YEAR_ID = `pw-${'0'.repeat(31)}1`;

/**
 * A pathway's year from the clinical rules themselves (clinical/pathway.ts, no Temporal), to see
 * the chart over a long span: conservative care, two injections, an SCS trial judged on its MME
 * cut, an implant and its follow-ups, with two scores on one day.
 */
function simulatedYear(): PathwayState & { pendingWorkup: string[] } {
  const definition = loadDefinitions().get('psps-lumbar')!;
  const t0 = Date.now() - 330 * DAY;
  const clinician = { id: 'dr-demo', role: 'clinician' } as const;
  const coordinator = { id: 'coord-demo', role: 'coordinator' } as const;
  let state = enroll({ pathwayId: YEAR_ID, careTeam: 'spine-a', definition, baseline: { painNrs: 8, odi: 48, dailyMme: 90 }, redFlags: [], enrolledBy: coordinator }, t0).state;
  const steps: Array<[number, PathwayEvent]> = [
    [42, { type: 'reassessment', actor: clinician, input: { painNrs: 7.5, odi: 46, dailyMme: 90 } }],
    [50, { type: 'procedure', actor: coordinator, input: { type: 'epidural-steroid-injection' } }],
    [78, { type: 'reassessment', actor: clinician, input: { painNrs: 6, odi: 44 } }],
    [78.3, { type: 'reassessment', actor: clinician, input: { painNrs: 6.5, odi: 45, pgic: 4 } }],
    [92, { type: 'procedure', actor: coordinator, input: { type: 'medial-branch-block' } }],
    [120, { type: 'reassessment', actor: clinician, input: { painNrs: 6.8, odi: 45, dailyMme: 90 } }],
    [130, { type: 'procedure', actor: coordinator, input: { type: 'psychological-evaluation', outcome: 'cleared' } }],
    [190, { type: 'procedure', actor: coordinator, input: { type: 'scs-trial' } }],
    [197, { type: 'reassessment', actor: clinician, input: { painNrs: 5, odi: 38, dailyMme: 40 } }],
    [210, { type: 'procedure', actor: coordinator, input: { type: 'scs-implant' } }],
    [294, { type: 'reassessment', actor: clinician, input: { painNrs: 3.5, odi: 30, pgic: 2 } }],
  ];
  for (const [day, event] of steps) {
    const now = t0 + day * DAY;
    const refused = checkEvent(state, event, now);
    if (refused) throw new Error(`the simulated year refused day ${day}: ${refused.message}`);
    state = applyEvent(state, event, now).state;
  }
  return { ...state, pendingWorkup: pendingWorkup(state) };
}

async function main(): Promise<void> {
  const folder = path.resolve(process.argv[2] ?? 'screenshots');
  mkdirSync(folder, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-screenshots-'));
  // Team spine-c's webhook refuses every message for good: its notifications end undelivered.
  const refusing = createServer((_req, res) => res.writeHead(410).end());
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  const webhook = { url: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/hook`, secret: 'screenshot-webhook-secret-0123456789' };
  const config = loadConfig({
    PATHWAY_DATA_DIR: dataDir,
    PORT: '0',
    TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    PATHWAY_METRICS_PORT: String(await freePort()),
    PATHWAY_WEBHOOKS: JSON.stringify({ careTeams: { 'spine-c': webhook } }),
  });
  const service = await startService(config, createLogger('warn'));
  const base = service.apiUrl!;
  const call = async (method: string, url: string, key: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { pathway: { pathwayId: string; undelivered?: Array<unknown> } };
  };
  const coordinator = 'local-coordinator-key';
  const clinician = 'local-clinician-key';
  let browser: Browser | undefined;
  try {
    const enrol = (careTeam: string, painNrs: number, odi?: number, redFlags: string[] = []) =>
      call('POST', '/v1/pathways', coordinator, { patientRef: `demo-${randomUUID()}`, careTeam, baseline: { painNrs, ...(odi === undefined ? {} : { odi }) }, redFlags }).then((r) => r.pathway.pathwayId);
    const shown = await enrol('spine-a', 8, 46);
    await call('POST', `/v1/pathways/${shown}/reassessments`, clinician, { painNrs: 7, odi: 42 });
    await call('POST', `/v1/pathways/${shown}/actions`, clinician, { action: 'escalate', reason: 'No meaningful relief after conservative care' });
    await call('POST', `/v1/pathways/${shown}/procedures`, coordinator, { type: 'epidural-steroid-injection' });
    await call('POST', `/v1/pathways/${shown}/reassessments`, clinician, { painNrs: 3, odi: 28, pgic: 2 });
    const urgent = await enrol('spine-a', 6, 35);
    await call('POST', `/v1/pathways/${urgent}/red-flags`, clinician, { redFlags: ['progressive-motor-deficit'], note: 'New foot drop on the left since Tuesday' });
    const undelivered = await enrol('spine-c', 7, 40);
    await call('POST', `/v1/pathways/${undelivered}/actions`, clinician, { action: 'escalate', reason: 'Fast track after the MDT review' });
    // Enrolled without ODI: interventional care then waits for a baseline before any procedure.
    const baseline = await enrol('spine-a', 7);
    await call('POST', `/v1/pathways/${baseline}/actions`, clinician, { action: 'escalate', reason: 'Radicular pain not settling' });
    for (const [team, nrs, odi] of [['spine-a', 9, 60], ['spine-b', 6, 30], ['spine-b', 8, 52]] as const) await enrol(team, nrs, odi);
    const held = await enrol('spine-b', 7, 44);
    await call('POST', `/v1/pathways/${held}/actions`, coordinator, { action: 'hold', reason: 'Patient travelling for a month' });
    // The refused notification is written down once its delivery gives up: a moment after the escalation.
    for (let i = 0; i < 60; i++) {
      const { pathway } = await call('GET', `/v1/pathways/${undelivered}`, clinician);
      if (pathway.undelivered?.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }

    const executablePath = CHROMIUM.find((p) => existsSync(p));
    if (!executablePath) throw new Error('Chromium is missing: apt-get install -y chromium');
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    const written: string[] = [];
    for (const width of WIDTHS) {
      const signedIn = async (role: 'clinician' | 'coordinator' | 'lead'): Promise<Page> => {
        const page = await (await browser!.newContext({ viewport: { width, height: width > 700 ? 900 : 844 } })).newPage();
        await page.goto(`${base}/sign-in`);
        await page.click(`#sign-in-${role}`);
        await page.waitForSelector('#worklist');
        return page;
      };
      const shot = async (page: Page, name: string) => {
        const file = `${name}-${width}.png`;
        await page.screenshot({ path: path.join(folder, file), fullPage: true });
        written.push(file);
      };
      const anonymous = await (await browser.newContext({ viewport: { width, height: 844 } })).newPage();
      await anonymous.goto(`${base}/sign-in`);
      await anonymous.waitForSelector('#sign-in-clinician');
      await shot(anonymous, 'sign-in');

      const page = await signedIn('clinician');
      await page.goto(`${base}/?dueSoonDays=60`);
      await page.waitForSelector('#worklist table');
      await shot(page, 'worklist');
      await page.goto(`${base}/pathways/${shown}`);
      await page.waitForSelector('#scores-chart');
      await shot(page, 'pathway');
      await page.goto(`${base}/pathways/${urgent}`);
      await page.waitForSelector('#scores-chart');
      await shot(page, 'pathway-urgent');
      // The chart over a year: a pathway the rules ran through eleven months, answered in place of the API's.
      const year = simulatedYear();
      await page.route(`**/v1/pathways/${YEAR_ID}`, (route) => route.fulfill({ json: { pathway: year } }));
      await page.goto(`${base}/pathways/${YEAR_ID}`);
      await page.waitForSelector('#scores-chart');
      await shot(page, 'pathway-year');
      await page.unroute(`**/v1/pathways/${YEAR_ID}`);
      // A second responding score would discharge: the dialog says so before anything is saved.
      await page.goto(`${base}/pathways/${shown}`);
      await page.click('#actions button[data-action="reassessment"]');
      await page.fill('dialog[data-action="reassessment"] input[name="painNrs"]', '3');
      await page.fill('dialog[data-action="reassessment"] input[name="odi"]', '26');
      await page.waitForSelector('dialog .preview:not([hidden]) .consequence');
      await shot(page, 'reassessment-preview');
      await page.keyboard.press('Escape');
      await page.goto(`${base}/enrol`);
      await page.waitForSelector('#enrol-form');
      await shot(page, 'enrol');
      await page.goto(`${base}/dashboard`);
      await page.waitForSelector('#cohort-table');
      await page.waitForSelector('#outcomes h2 + *');
      await shot(page, 'dashboard');

      const coordinatorPage = await signedIn('coordinator');
      await coordinatorPage.goto(`${base}/?dueSoonDays=60`);
      await coordinatorPage.waitForSelector('#worklist table');
      await shot(coordinatorPage, 'worklist-coordinator');
      // A clinical lead's definitions page: versions, the draft form, the diff and the what-if.
      const leadPage = await signedIn('lead');
      await leadPage.goto(`${base}/definitions`);
      await leadPage.waitForSelector('#definition-form');
      await shot(leadPage, 'definitions');
    }
    console.log(`screenshots written to ${folder}: ${written.join(', ')}`);
  } finally {
    await browser?.close();
    await service.stop();
    refusing.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
