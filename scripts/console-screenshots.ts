/**
 * `npm run screenshots [-- <folder>]`: starts the embedded default on free ports with a fresh
 * data folder, enrols a few pathways through the API, signs in to the console as the local
 * clinician with headless Chromium, and writes screenshots of the worklist, a pathway page and
 * the cohort dashboard, then a coordinator's worklist a few rows a page after "Show more", and a
 * lead's definitions page (a draft tried on past patients, a number refused in place) at 1366
 * and 390 px (default folder: screenshots/).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../worker/config';
import { createLogger } from '../observability/log';
import { startService } from '../worker/service';
import { freePort } from '../test/harness/service-process';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

async function main(): Promise<void> {
  const folder = path.resolve(process.argv[2] ?? 'screenshots');
  mkdirSync(folder, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-screenshots-'));
  const config = loadConfig({
    PATHWAY_DATA_DIR: dataDir,
    PORT: '0',
    TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
  });
  const service = await startService(config, createLogger('warn'));
  const base = service.apiUrl!;
  const call = async (method: string, url: string, key: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { pathway: { pathwayId: string } };
  };
  const coordinator = 'local-coordinator-key';
  const clinician = 'local-clinician-key';
  try {
    // A small cohort: two teams, one pathway with a procedure and reassessments, one urgent referral.
    const enrol = (careTeam: string, painNrs: number, odi: number, redFlags: string[] = []) =>
      call('POST', '/v1/pathways', coordinator, { patientRef: `demo-${randomUUID()}`, careTeam, baseline: { painNrs, odi }, redFlags }).then((r) => r.pathway.pathwayId);
    const shown = await enrol('spine-a', 8, 46);
    await call('POST', `/v1/pathways/${shown}/reassessments`, clinician, { painNrs: 7, odi: 42 });
    await call('POST', `/v1/pathways/${shown}/actions`, clinician, { action: 'escalate', reason: 'No meaningful relief after conservative care' });
    await call('POST', `/v1/pathways/${shown}/procedures`, coordinator, { type: 'epidural-steroid-injection' });
    await call('POST', `/v1/pathways/${shown}/reassessments`, clinician, { painNrs: 3, odi: 28 });
    const urgent = await enrol('spine-a', 6, 35);
    await call('POST', `/v1/pathways/${urgent}/red-flags`, clinician, { redFlags: ['progressive-motor-deficit'] });
    for (const [team, nrs, odi] of [['spine-a', 7, 40], ['spine-a', 9, 60], ['spine-b', 6, 30], ['spine-b', 8, 52]] as const) await enrol(team, nrs, odi);
    const held = await enrol('spine-b', 7, 44);
    await call('POST', `/v1/pathways/${held}/actions`, coordinator, { action: 'hold', reason: 'Patient travelling for a month' });

    const executablePath = CHROMIUM.find((p) => require('node:fs').existsSync(p));
    if (!executablePath) throw new Error('Chromium is missing: apt-get install -y chromium');
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      await page.goto(`${base}/sign-in`);
      await page.click('#sign-in-clinician');
      await page.waitForSelector('#worklist');
      // Every change above answered once it was in the record, which the worklist reads.
      await page.goto(`${base}/?dueSoonDays=60`);
      await page.waitForSelector('#worklist table');
      await page.screenshot({ path: path.join(folder, 'worklist.png'), fullPage: true });
      await page.goto(`${base}/pathways/${shown}`);
      await page.waitForSelector('#scores-chart');
      await page.screenshot({ path: path.join(folder, 'pathway.png'), fullPage: true });
      await page.goto(`${base}/dashboard`);
      await page.waitForSelector('#cohort-table');
      await page.waitForSelector('#outcomes h2 + *');
      await page.screenshot({ path: path.join(folder, 'dashboard.png'), fullPage: true });
      // A coordinator's worklist, three rows a page, after "Show more".
      const coordinatorPage = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
      await coordinatorPage.goto(`${base}/sign-in`);
      await coordinatorPage.click('#sign-in-coordinator');
      await coordinatorPage.waitForSelector('#worklist');
      await coordinatorPage.goto(`${base}/?dueSoonDays=60&pageSize=3`);
      await coordinatorPage.click('#worklist-more');
      await coordinatorPage.locator('#worklist tbody tr').nth(3).waitFor();
      await coordinatorPage.screenshot({ path: path.join(folder, 'worklist-coordinator.png'), fullPage: true });
      // A lead's definitions page: a draft with a stricter conservative response, tried on the pathways above
      // and one whose 30% relief v2 calls a response.
      const responding = await enrol('spine-b', 10, 50);
      await call('POST', `/v1/pathways/${responding}/reassessments`, clinician, { painNrs: 7, odi: 50 });
      const draft = (await call('POST', '/v1/definitions/psps-lumbar/2/drafts', 'local-lead-key', {})) as unknown as { version: number; definition: { stages: { conservative: { response: { painReductionPercent: number } } } } };
      draft.definition.stages.conservative.response.painReductionPercent = 50;
      await call('PUT', `/v1/definitions/psps-lumbar/${draft.version}`, 'local-lead-key', draft.definition);
      for (const [width, name] of [[1366, 'definitions.png'], [390, 'definitions-phone.png']] as const) {
        const leadPage = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
        await leadPage.goto(`${base}/sign-in`);
        await leadPage.click('#sign-in-lead');
        await leadPage.waitForSelector('#worklist');
        await leadPage.goto(`${base}/definitions`);
        await leadPage.click('#simulate');
        await leadPage.waitForSelector('#simulation-figures');
        await leadPage.click('#simulation-differing .compare');
        await leadPage.waitForSelector('#simulation-differing table.side-by-side');
        // A number out of range is refused beside its field as it is typed.
        await leadPage.fill('#f-stages-scs-trialDays', '60');
        await leadPage.waitForSelector('#validation .message-error');
        await leadPage.screenshot({ path: path.join(folder, name), fullPage: true });
      }
    } finally {
      await browser.close();
    }
    console.log(`screenshots written to ${folder}: worklist.png, pathway.png, dashboard.png, worklist-coordinator.png, definitions.png, definitions-phone.png`);
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
