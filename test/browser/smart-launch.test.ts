/**
 * The console launched from an EHR (SMART App Launch 2.x) in headless Chromium: an EHR on
 * loopback (an oidc-provider authorization server with launch context, and its FHIR endpoint)
 * launches the console for a patient; the clinician signs in at the EHR and lands on that
 * patient's pathway, or on enrolment when the patient has none; a standalone launch does the
 * same; the patient's pain NRS and ODI Observations are imported from the EHR with the launch's
 * token, once.
 */
import { randomUUID } from 'node:crypto';
import type { Observation } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS } from '../harness/api';
import { launchChromium } from '../harness/browser';
import { serveConsole, startBackend, type Backend, type ConsoleServer } from '../harness/console';
import { allFhirProblems } from '../harness/fhir-validator';
import { freePort } from '../harness/service-process';
import { startSmartEhr, type SmartEhr } from '../harness/smart-ehr';

const CLINIC = 'https://clinic.example/patients';
const team = `team-${randomUUID().slice(0, 8)}`;
const PEOPLE = {
  'dr.bo': { pathway_role: 'clinician', pathway_care_teams: [team] },
  'vi.viewer': { pathway_role: 'viewer', pathway_care_teams: [team] },
  'no.role': { pathway_care_teams: [team] },
};

let backend: Backend;
let ehr: SmartEhr;
let site: ConsoleServer;
let browser: Browser;
/** The EHR's patient launched for, with a pathway; one without; the standalone launch's. */
const withPathway = { ehrId: 'pat-1', ref: `ref-${randomUUID()}`, pathwayId: '' };
const without = { ehrId: 'pat-2', ref: `ref-${randomUUID()}` };

beforeAll(async () => {
  backend = await startBackend();
  const [port, ehrPort] = [await freePort(), await freePort()];
  ehr = await startSmartEhr({ port: ehrPort, redirectUri: `http://127.0.0.1:${port}/smart/callback`, people: PEOPLE, standalonePatient: withPathway.ehrId });
  site = await serveConsole(backend, {
    port,
    smart: {
      config: {
        clientId: ehr.clientId,
        issuers: [ehr.fhirBase],
        redirectUrl: `http://127.0.0.1:${port}/smart/callback`,
        scope: 'openid fhirUser profile pathway patient/Patient.rs patient/Observation.rs',
        claims: { username: 'preferred_username', role: 'pathway_role', careTeams: 'pathway_care_teams' },
      },
      patientIdentifierSystem: CLINIC,
    },
  });
  for (const p of [withPathway, without]) {
    ehr.patients.set(p.ehrId, { resourceType: 'Patient', id: p.ehrId, identifier: [{ system: 'https://ehr.example/mrn', value: `MRN-${p.ehrId}` }, { system: CLINIC, value: p.ref }] });
  }
  const res = await fetch(`${site.url}/v1/pathways`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.coordinator!.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ patientRef: withPathway.ref, careTeam: team, baseline: { painNrs: 8, odi: 40 } }),
  });
  expect(res.status).toBe(201);
  withPathway.pathwayId = ((await res.json()) as { pathway: { pathwayId: string } }).pathway.pathwayId;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.stop();
  await ehr?.stop();
  await backend?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Loopback only: the provider's own pages ask for web fonts this machine cannot reach.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return context.newPage();
}

/** Opens `launchUrl` as the EHR would, signs in at the EHR's login and consent pages, and waits to be back in the console. */
async function launchAs(launchUrl: string, login: keyof typeof PEOPLE): Promise<Page> {
  const page = await newPage();
  await page.goto(launchUrl);
  await page.waitForSelector('input[name="login"]');
  expect(page.url().startsWith(ehr.issuer)).toBe(true);
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('button:has-text("Continue")');
  await page.click('button:has-text("Continue")');
  await page.waitForURL((url) => url.origin === site.url && !url.pathname.startsWith('/smart/'));
  return page;
}

const importScores = (page: Page) =>
  page.evaluate(async () => {
    const { csrfToken } = (await (await fetch('/auth/session')).json()) as { csrfToken: string };
    const res = await fetch('/smart/import', { method: 'POST', headers: { 'x-csrf-token': csrfToken } });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any };
  });

const ehrLaunch = (ehrPatientId: string) => `${site.url}/smart/launch?iss=${encodeURIComponent(ehr.fhirBase)}&launch=${ehr.launch(ehrPatientId)}`;

describe('SMART on FHIR launch of the console', () => {
  it("an EHR launch opens the patient's pathway, the clinician signed in from the EHR's claims", async () => {
    const page = await launchAs(ehrLaunch(withPathway.ehrId), 'dr.bo');
    expect(new URL(page.url()).pathname).toBe(`/pathways/${withPathway.pathwayId}`);
    await page.waitForSelector('#glance-title');
    const session: any = await page.evaluate(async () => (await fetch('/auth/session')).json());
    // No preferred_username from this EHR: the timeline names the person by their fhirUser.
    expect(session.principal).toEqual({ id: 'Practitioner/dr.bo', role: 'clinician', careTeams: [team] });
    // The console read the patient in context from the EHR with the launch's token.
    expect(ehr.fhirRequests).toContainEqual({ path: `GET Patient/${withPathway.ehrId}`, authorized: true });
    await page.context().close();
  });

  it('an EHR launch for a patient without a pathway offers enrolment', async () => {
    const page = await launchAs(ehrLaunch(without.ehrId), 'dr.bo');
    expect(new URL(page.url()).pathname).toBe('/enrol');
    await page.waitForSelector('#enrol-form');
    await page.context().close();
  });

  it('a standalone launch opens the pathway of the patient the EHR puts in context', async () => {
    const page = await launchAs(`${site.url}/smart/launch`, 'dr.bo');
    expect(new URL(page.url()).pathname).toBe(`/pathways/${withPathway.pathwayId}`);
    await page.context().close();
  });

  it('refuses a launch from an EHR that is not configured', async () => {
    const res = await fetch(`${site.url}/smart/launch?iss=${encodeURIComponent('https://elsewhere.example/fhir')}&launch=x`, { redirect: 'manual' });
    expect(res.status).toBe(403);
  });

  it("imports the patient's pain NRS and ODI Observations from the EHR with the launch's token, once", async () => {
    const effective = new Date(Date.now() - 1000).toISOString().replace('Z', '+00:00');
    const obs = (id: string, code: string, value: number): Observation => ({
      resourceType: 'Observation',
      id,
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] }],
      code: { coding: [{ system: 'http://loinc.org', code }] },
      subject: { reference: `Patient/${withPathway.ehrId}` },
      effectiveDateTime: effective,
      valueQuantity: { value, unit: 'score', system: 'http://unitsofmeasure.org', code: '{score}' },
    });
    const ids = [`ehr-${randomUUID()}`, `ehr-${randomUUID()}`];
    ehr.observations.push(obs(ids[0]!, '72514-3', 4), obs(ids[1]!, '97909-6', 28));
    // Another patient's score is not the launch's to read.
    ehr.observations.push({ ...obs(`ehr-${randomUUID()}`, '72514-3', 9), subject: { reference: `Patient/${without.ehrId}` } });

    const page = await launchAs(ehrLaunch(withPathway.ehrId), 'dr.bo');
    const first = await importScores(page);
    expect(first).toMatchObject({ status: 200, type: expect.stringContaining('application/fhir+json') });
    expect(first.body.type).toBe('batch-response');
    expect(first.body.entry.map((e: { response: { status: string; location: string } }) => [e.response.status, e.response.location]).sort()).toEqual(
      ids.map((id) => ['201 Created', `Observation/${id}`]).sort(),
    );
    expect(await allFhirProblems(first.body)).toEqual({ medplum: [], hapi: [] });
    expect(ehr.fhirRequests).toContainEqual({ path: 'GET Observation', authorized: true });

    const pathway = await fetch(`${site.url}/v1/pathways/${withPathway.pathwayId}`, { headers: { authorization: `Bearer ${KEYS.viewer!.key}` } }).then((r) => r.json() as Promise<any>);
    expect(pathway.pathway.reassessments).toHaveLength(1);
    expect(pathway.pathway.reassessments[0]).toMatchObject({ painNrs: 4, odi: 28 });

    // Again: recorded before, nothing twice.
    const second = await importScores(page);
    expect(second.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['200 OK', '200 OK']);
    const after = await fetch(`${site.url}/v1/pathways/${withPathway.pathwayId}`, { headers: { authorization: `Bearer ${KEYS.viewer!.key}` } }).then((r) => r.json() as Promise<any>);
    expect(after.pathway.reassessments).toHaveLength(1);

    // Without the CSRF token, nothing.
    const forged = await page.evaluate(async () => (await fetch('/smart/import', { method: 'POST' })).status);
    expect(forged).toBe(403);
    await page.context().close();
  });

  it('refuses a person whose claims name no Pathway role, and a viewer may not import scores', async () => {
    const refused = await launchAs(ehrLaunch(withPathway.ehrId), 'no.role');
    expect(new URL(refused.url()).pathname).toBe('/sign-in');
    expect(new URL(refused.url()).searchParams.get('error')).toBe('claims');
    await refused.context().close();
    const viewer = await launchAs(ehrLaunch(withPathway.ehrId), 'vi.viewer');
    expect(new URL(viewer.url()).pathname).toBe(`/pathways/${withPathway.pathwayId}`);
    const answer = await importScores(viewer);
    expect(answer).toMatchObject({ status: 403, type: expect.stringContaining('application/fhir+json'), body: { resourceType: 'OperationOutcome' } });
    await viewer.context().close();
  });
});
