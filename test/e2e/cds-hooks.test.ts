/**
 * CDS Hooks 2.0 as an EHR calls it, over real HTTP, with the worker running: discovery; the
 * patient-view card of a patient with a pathway (stage, status, due, indicator, SMART link);
 * none for a patient without one; and the JWT checks (unsigned, signed by a key the EHR's key
 * set does not hold, another audience, a replay, an issuer or jku not configured).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATIENT_VIEW_SERVICE } from '../../api/routes/cds-hooks';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { startEhrSigner, strangerToken, unsignedToken, type EhrSigner } from '../harness/ehr-keys';

const CLINIC_SYSTEM = 'https://clinic.example/patients';
const LAUNCH_URL = 'https://pathway.example/smart/launch';

let api: ApiUnderTest;
let ehr: EhrSigner;
/** The EHR's FHIR server: the patient, to the hook's access token only. */
let fhirServer: Server;
let fhirBase: string;
const ACCESS_TOKEN = 'ehr-access-token-0001';
const fhirReads: string[] = [];
let fhirPatientRef = '';
let call: ReturnType<typeof http>;
const audience = () => `${api.url}/cds-services/${PATIENT_VIEW_SERVICE}`;

beforeAll(async () => {
  ehr = await startEhrSigner();
  fhirServer = createServer((req, res) => {
    fhirReads.push(`${req.url} ${req.headers.authorization === `Bearer ${ACCESS_TOKEN}` ? 'with' : 'without'} token`);
    if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}` || req.url !== '/fhir/Patient/ehr-patient-9') return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify({ resourceType: 'Patient', id: 'ehr-patient-9', identifier: [{ system: CLINIC_SYSTEM, value: fhirPatientRef }] }));
  });
  await new Promise<void>((resolve) => fhirServer.listen(0, '127.0.0.1', resolve));
  fhirBase = `http://127.0.0.1:${(fhirServer.address() as AddressInfo).port}/fhir`;
  api = await startApi({
    cds: { settings: { patientIdentifierSystem: CLINIC_SYSTEM, cdsClients: [{ iss: ehr.iss, jwksUrl: ehr.jwksUrl, jku: [], fhirServer: fhirBase, careTeams: ['team-a'] }] }, launchUrl: LAUNCH_URL },
  });
  call = http(api);
});

afterAll(async () => {
  await api?.stop();
  await ehr?.stop();
  fhirServer?.close();
});

async function enroll(careTeam = 'team-a') {
  const patientRef = `ref-${randomUUID()}`;
  const res = await call('POST', '/v1/pathways', { as: 'coordinator', body: { patientRef, careTeam, baseline: { painNrs: 8, odi: 40 } } });
  expect(res.status).toBe(201);
  return { patientRef, pathwayId: res.body.pathway.pathwayId as string };
}

/** A patient-view call as the EHR makes it: the Patient prefetched with its identifiers. */
function hookRequest(patientRef: string | undefined) {
  const identifier = [{ system: 'https://ehr.example/mrn', value: 'MRN-0001' }, ...(patientRef ? [{ system: CLINIC_SYSTEM, value: patientRef }] : [])];
  return {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/dr-lee', patientId: 'ehr-patient-1' },
    prefetch: { patient: { resourceType: 'Patient', id: 'ehr-patient-1', identifier } },
  };
}

const callService = async (body: unknown, token: string | null) => {
  const res = await fetch(audience(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe('CDS Hooks discovery', () => {
  it('lists the patient-view service with its prefetch, open to any origin', async () => {
    const res = await fetch(`${api.url}/cds-services`, { headers: { origin: 'https://ehr.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      services: [expect.objectContaining({ hook: 'patient-view', id: PATIENT_VIEW_SERVICE, prefetch: { patient: 'Patient/{{context.patientId}}' } })],
    });
  });
});

describe('the patient-view service', () => {
  it("answers one card for a patient with a pathway: stage, status, what is due, and a SMART link to the pathway", async () => {
    const p = await enroll();
    const res = await callService(hookRequest(p.patientRef), await ehr.sign(audience()));
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    const [card] = res.body.cards;
    expect(card).toMatchObject({
      indicator: 'info',
      summary: expect.stringMatching(/^Spinal pain pathway: Conservative care, active; reassessment due \d{4}-\d{2}-\d{2}$/),
      source: { label: expect.any(String) },
      links: [{ type: 'smart', url: LAUNCH_URL, appContext: p.pathwayId }],
    });
    expect(card.summary.length).toBeLessThanOrEqual(140);
    expect(card.detail).toContain('**Stage:** Conservative care');
    // Nothing about who the patient is.
    expect(JSON.stringify(card)).not.toContain(p.patientRef);
  });

  it('marks an urgent referral critical', async () => {
    const p = await enroll();
    const flagged = await call('POST', `/v1/pathways/${p.pathwayId}/red-flags`, { as: 'clinician', body: { redFlags: ['progressive-motor-deficit'] } });
    expect(flagged.status).toBe(200);
    const res = await callService(hookRequest(p.patientRef), await ehr.sign(audience()));
    expect(res.body.cards[0]).toMatchObject({ indicator: 'critical', summary: expect.stringContaining('urgent referral') });
  });

  it('answers no card for a patient without a pathway, without the clinic identifier, or in a care team the EHR is not configured for', async () => {
    expect((await callService(hookRequest(`ref-${randomUUID()}`), await ehr.sign(audience()))).body).toEqual({ cards: [] });
    expect((await callService(hookRequest(undefined), await ehr.sign(audience()))).body).toEqual({ cards: [] });
    const other = await enroll('team-b');
    expect((await callService(hookRequest(other.patientRef), await ehr.sign(audience()))).body).toEqual({ cards: [] });
  });

  it("reads the patient from the EHR's configured FHIR server with the hook's token when it was not prefetched, and answers 412 when it cannot", async () => {
    const p = await enroll();
    fhirPatientRef = p.patientRef;
    const { prefetch: _none, ...bare } = hookRequest(p.patientRef);
    const read = { ...bare, context: { ...bare.context, patientId: 'ehr-patient-9' }, fhirServer: fhirBase, fhirAuthorization: { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/Patient.rs', subject: 'pathway' } };
    const res = await callService(read, await ehr.sign(audience()));
    expect(res.status).toBe(200);
    expect(res.body.cards.map((c: { links: Array<{ appContext: string }> }) => c.links[0]!.appContext)).toEqual([p.pathwayId]);
    expect(fhirReads).toEqual(['/fhir/Patient/ehr-patient-9 with token']);
    // Not prefetched and no token, or a FHIR server other than the one configured: nothing is read.
    expect((await callService(bare, await ehr.sign(audience()))).status).toBe(412);
    expect((await callService({ ...read, fhirServer: 'http://127.0.0.1:9/fhir' }, await ehr.sign(audience()))).status).toBe(412);
    expect(fhirReads).toHaveLength(1);
  });

  it('refuses a call without a token, unsigned, signed with another key, for another audience, replayed, from another issuer or naming another jku', async () => {
    const p = await enroll();
    const body = hookRequest(p.patientRef);
    const refused = async (token: string | null) => {
      const res = await callService(body, token);
      expect(res.status).toBe(401);
      expect(res.body.cards).toBeUndefined();
      return res.body.detail as string;
    };
    await refused(null);
    await refused(unsignedToken(ehr.iss, audience()));
    expect(await refused(await strangerToken(ehr.iss, audience()))).toContain('not valid');
    expect(await refused(await strangerToken(ehr.iss, audience(), 'http://127.0.0.1:9/keys.json'))).toContain('jku');
    expect(await refused(await ehr.sign(`${api.url}/cds-services/another-service`))).toContain('not valid');
    expect(await refused(await strangerToken('https://other-ehr.example', audience()))).toContain('issuer');
    expect(await refused(await ehr.sign(audience(), { claims: { iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) + 60 } }))).toContain('not valid');
    const once = await ehr.sign(audience());
    expect((await callService(body, once)).status).toBe(200);
    expect(await refused(once)).toContain('used before');
  });

  it("slows down an address that keeps failing authentication, while the EHR's signed calls still pass", async () => {
    const p = await enroll();
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await callService(hookRequest(p.patientRef), unsignedToken(ehr.iss, audience()))).status);
    expect(statuses).toContain(429);
    expect(new Set(statuses)).toEqual(new Set([401, 429]));
    const signed = await callService(hookRequest(p.patientRef), await ehr.sign(audience()));
    expect(signed.status).toBe(200);
    expect(signed.body.cards).toHaveLength(1);
  });
});
