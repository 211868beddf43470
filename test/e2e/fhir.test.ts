/**
 * FHIR R4 through real HTTP, against the dev server with the worker running: export of a
 * running and a closed pathway, the definition's PlanDefinition, import of reassessments, a
 * repeated import, each refusal, and the round trip (imported scores come back as the same
 * Observations). Every resource the service answers with is validated against R4.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, CarePlan, Observation, OperationOutcome, PlanDefinition, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, http, startApi, type ApiUnderTest } from '../harness/api';
import { allFhirProblems, loadR4Definitions } from '../harness/fhir-validator';
import { eventually } from '../harness/pathway-driver';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;

const FHIR = { 'content-type': 'application/fhir+json; fhirVersion=4.0' };
const LOINC = 'http://loinc.org';
const SCORES = 'https://pathway.invalid/fhir/CodeSystem/scores';

beforeAll(async () => {
  // The validator's definitions load synchronously: before the API serves, so no request waits on them.
  loadR4Definitions();
  api = await startApi();
  call = http(api);
});

afterAll(async () => {
  await api?.stop();
});

async function enroll(careTeam = 'team-a') {
  const patientRef = `ref-${randomUUID()}`;
  const res = await call('POST', '/v1/pathways', { as: 'coordinator', body: { patientRef, careTeam, baseline: { painNrs: 8, odi: 40 } } });
  expect(res.status).toBe(201);
  return { patientRef, pathwayId: res.body.pathway.pathwayId as string, enrolledAt: res.body.pathway.enrolledAt as string };
}

const pathway = async (id: string) => (await call('GET', `/v1/pathways/${id}`)).body.pathway;
const decisionsOf = async (id: string) => ((await pathway(id)).timeline as Array<{ event: string }>).filter((e) => e.event !== 'notification').length;

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');

/**
 * `count` effective times the pathway can take, in order, the last one now: not before its last
 * recorded event (here the enrolment a moment ago), never in the future.
 */
function sinceEnrolment(p: { enrolledAt: string }, count = 1): string[] {
  const from = Date.parse(p.enrolledAt);
  const to = Date.now();
  expect(to - from).toBeGreaterThanOrEqual(count);
  return Array.from({ length: count }, (_, i) => new Date(to - Math.floor(((count - 1 - i) * (to - from)) / count)).toISOString().replace(/Z$/, '+00:00'));
}

function observation(patientRef: string, id: string, code: 'pain' | 'odi' | 'mme' | 'pgic', value: number, effective: string, extra: Record<string, unknown> = {}) {
  const coding = { pain: { system: LOINC, code: '72514-3' }, odi: { system: LOINC, code: '97909-6' }, mme: { system: SCORES, code: 'daily-mme' }, pgic: { system: SCORES, code: 'pgic' } }[code];
  return {
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'Observation',
      id,
      status: 'final',
      code: { coding: [coding] },
      subject: { identifier: { system: 'https://clinic.example/patients', value: patientRef } },
      effectiveDateTime: effective,
      valueQuantity: { value, unit: code === 'mme' ? 'mg/day' : 'score', system: 'http://unitsofmeasure.org', code: code === 'mme' ? 'mg/d' : '{score}' },
      ...extra,
    },
    request: { method: 'POST', url: 'Observation' },
  };
}
const bundle = (type: 'transaction' | 'batch', entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });

const importBundle = (body: unknown, as: keyof typeof KEYS = 'clinician') =>
  call('POST', '/v1/fhir', { as, headers: FHIR, rawBody: JSON.stringify(body) });

const exportPathway = (id: string, patientRef: string, as: 'viewer' | 'teamAViewer' = 'viewer') =>
  call('POST', `/v1/pathways/${id}/fhir`, { as, body: { patientRef, identifierSystem: 'https://clinic.example/patients' } });

/** The status, FHIR's media type, and a resource valid in both validators. */
async function expectFhir(res: { status: number; headers: Headers; body: Resource }, status: number): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/fhir+json');
  expect(await allFhirProblems(res.body)).toEqual({ medplum: [], hapi: [] });
}

const ofType = <T extends Resource>(b: Bundle, type: T['resourceType']): T[] => (b.entry ?? []).map((e) => e.resource!).filter((r): r is T => r.resourceType === type);
const issues = (o: OperationOutcome) => o.issue.map((i) => `${i.code} ${(i.expression ?? []).join('|')}: ${i.details?.text}`);

describe('the OpenAPI document', () => {
  it('documents the FHIR routes, their media type and their OperationOutcomes', async () => {
    const doc = (await call('GET', '/openapi.json', { as: null })).body;
    expect(Object.keys(doc.paths['/v1/fhir'].post.requestBody.content)).toEqual(['application/fhir+json', 'application/json']);
    expect(doc.paths['/v1/fhir'].post.responses['400'].content['application/fhir+json'].schema.$ref).toBe('#/components/schemas/OperationOutcome');
    expect(doc.paths['/v1/pathways/{pathwayId}/fhir'].post.requestBody.content['application/json'].schema.required).toEqual(['patientRef']);
    expect(doc.paths['/v1/definitions/{id}/{version}/fhir'].get.responses['200'].content['application/fhir+json'].schema.$ref).toBe('#/components/schemas/PlanDefinition');
  });
});

describe('GET /v1/definitions/{id}/{version}/fhir', () => {
  it('answers the definition as a valid PlanDefinition, and refusals as OperationOutcomes', async () => {
    const res = await call('GET', '/v1/definitions/psps-lumbar/1/fhir', { as: 'viewer' });
    await expectFhir(res, 200);
    const plan = res.body as PlanDefinition;
    expect(plan).toMatchObject({ resourceType: 'PlanDefinition', url: 'https://pathway.invalid/fhir/PlanDefinition/psps-lumbar', version: '1' });
    expect(plan.action!.map((a) => a.id)).toEqual(['conservative', 'interventional', 'scs', 'revision-referral']);

    const missing = await call('GET', '/v1/definitions/psps-lumbar/9/fhir', { as: 'viewer' });
    await expectFhir(missing, 404);
    expect(missing.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
    expect((await call('GET', '/v1/definitions/psps-lumbar/1/fhir', { as: null })).status).toBe(401);
  });
});

describe('POST /v1/pathways/{id}/fhir', () => {
  it('exports a running pathway as a valid Bundle with the caller\'s subject', async () => {
    const p = await enroll();
    await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 5, odi: 33, dailyMme: 40 } });
    const res = await exportPathway(p.pathwayId, p.patientRef);
    await expectFhir(res, 200);
    const b = res.body as Bundle;
    expect(b.type).toBe('collection');
    const [plan] = ofType<CarePlan>(b, 'CarePlan');
    expect(plan).toMatchObject({ id: p.pathwayId, status: 'active', subject: { identifier: { system: 'https://clinic.example/patients', value: p.patientRef } } });
    expect(ofType(b, 'Task').length).toBe(1);
    expect(ofType(b, 'Goal').length).toBe(1);
    expect(ofType<Observation>(b, 'Observation').map((o) => [o.code.coding![0]!.code, o.valueQuantity!.value])).toEqual([
      ['72514-3', 8],
      ['97909-6', 40],
      ['72514-3', 5],
      ['97909-6', 33],
      ['daily-mme', 40],
    ]);
    expect(ofType(b, 'Provenance').length).toBe(1);
    // The patient reference is the caller's, for this answer only: never logged.
    expect(JSON.stringify(api.logger.lines)).not.toContain(p.patientRef);
  });

  it('exports a closed pathway', async () => {
    const p = await enroll();
    await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'moved to another region' } });
    await eventually(() => pathway(p.pathwayId), (v) => v.status === 'withdrawn');
    const res = await exportPathway(p.pathwayId, p.patientRef);
    await expectFhir(res, 200);
    const [plan] = ofType<CarePlan>(res.body, 'CarePlan');
    expect(plan!.status).toBe('revoked');
    expect(plan!.period!.end).toBeDefined();
    expect(ofType(res.body, 'Task')).toEqual([]);
  });

  it("refuses another patient's reference, an invalid body, an unknown pathway and another care team's pathway", async () => {
    const p = await enroll();
    const other = await enroll();
    const wrong = await exportPathway(p.pathwayId, other.patientRef);
    await expectFhir(wrong, 422);
    expect(issues(wrong.body)).toEqual(["business-rule patientRef: not this pathway's patient"]);
    expect(JSON.stringify(wrong.body)).not.toContain(other.patientRef);

    const invalid = await call('POST', `/v1/pathways/${p.pathwayId}/fhir`, { as: 'viewer', body: { patientRef: 'x' } });
    await expectFhir(invalid, 400);
    expect(invalid.body.issue[0]).toMatchObject({ code: 'invalid', expression: ['patientRef'] });

    await expectFhir(await exportPathway(`pw-${'0'.repeat(32)}`, p.patientRef), 404);
    const theirs = await enroll('team-b');
    await expectFhir(await exportPathway(theirs.pathwayId, theirs.patientRef, 'teamAViewer'), 404);
  });
});

describe('POST /v1/fhir', () => {
  it('records a transaction of Observations as one reassessment, evaluated at once, and a repeat records nothing twice', async () => {
    const p = await enroll();
    const [at] = sinceEnrolment(p);
    const ids = [`obs-${randomUUID()}`, `obs-${randomUUID()}`, `obs-${randomUUID()}`];
    const body = bundle('transaction', [
      observation(p.patientRef, ids[0]!, 'pain', 5, at!),
      observation(p.patientRef, ids[1]!, 'odi', 28, at!),
      observation(p.patientRef, ids[2]!, 'mme', 30, at!),
    ]);
    const before = await decisionsOf(p.pathwayId);
    const res = await importBundle(body);
    await expectFhir(res, 200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry.map((e: { response: { status: string; location: string } }) => [e.response.status, e.response.location])).toEqual(ids.map((id) => ['201 Created', `Observation/${id}`]));
    expect(res.body.entry[0].response.outcome.issue[0]).toMatchObject({ severity: 'information', details: { coding: [{ code: 'response.conservative' }], text: 'Reassessment: responding.' } });

    const view = await pathway(p.pathwayId);
    expect(view.reassessments).toHaveLength(1);
    expect(view.reassessments[0]).toMatchObject({ painNrs: 5, odi: 28, dailyMme: 30, at: new Date(at!).toISOString(), sourceIds: { painNrs: ids[0], odi: ids[1], dailyMme: ids[2] } });
    expect(view.consecutiveResponses).toBe(1);
    const after = await decisionsOf(p.pathwayId);
    expect(after).toBe(before + 1);

    // The same Observations again, from this clinician and from another key: nothing recorded twice.
    const again = await importBundle(body);
    await expectFhir(again, 200);
    expect(again.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['200 OK', '200 OK', '200 OK']);
    expect(again.body.entry[0].response.outcome.issue[0]).toMatchObject({ severity: 'information', code: 'duplicate' });
    await expectFhir(await importBundle(body, 'teamAClinician'), 200);
    expect(await decisionsOf(p.pathwayId)).toBe(after);
    expect((await pathway(p.pathwayId)).reassessments).toHaveLength(1);

    // An amended score under the same id is neither dropped silently nor applied behind the clinician's back.
    const amended = bundle('transaction', [observation(p.patientRef, ids[0]!, 'pain', 6, at!, { status: 'amended' })]);
    const refused = await importBundle(amended);
    await expectFhir(refused, 409);
    expect(issues(refused.body)).toEqual([expect.stringMatching(/^conflict Bundle.entry\[0\].resource.valueQuantity.value: recorded before with another value/)]);
    expect(await decisionsOf(p.pathwayId)).toBe(after);
  });

  it('records the same Observations sent twice at once only once: the Idempotency-Key comes from their ids', async () => {
    const p = await enroll();
    const [at] = sinceEnrolment(p);
    const body = bundle('transaction', [observation(p.patientRef, `c-${randomUUID()}`, 'pain', 6, at!), observation(p.patientRef, `c-${randomUUID()}`, 'odi', 36, at!)]);
    const answers = await Promise.all([importBundle(body), importBundle(body)]);
    for (const a of answers) await expectFhir(a, 200);
    expect((await pathway(p.pathwayId)).reassessments).toHaveLength(1);
  });

  it('records a batch of several effective times as reassessments in time order, accepting application/json too', async () => {
    const p = await enroll();
    const first = `obs-${randomUUID()}`;
    const second = `obs-${randomUUID()}`;
    const [earlier, later] = sinceEnrolment(p, 2);
    const res = await call('POST', '/v1/fhir', {
      body: bundle('batch', [observation(p.patientRef, second, 'pain', 7, later!), observation(p.patientRef, first, 'pain', 4, earlier!, { valueQuantity: { value: 4, code: '{score}' } })]),
    });
    await expectFhir(res, 200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '201 Created']);
    const view = await pathway(p.pathwayId);
    expect(view.reassessments.map((r: { painNrs: number }) => r.painNrs)).toEqual([4, 7]);
    // 4 of 8 responds; then 7 of 8 does not, which resets the run of responses.
    expect(view.consecutiveResponses).toBe(0);
  });

  it('round trip: imported scores come back as the same Observations in the export', async () => {
    const p = await enroll();
    const [at] = sinceEnrolment(p);
    const sent = [observation(p.patientRef, `rt-${randomUUID()}`, 'pain', 6, at!), observation(p.patientRef, `rt-${randomUUID()}`, 'odi', 35, at!), observation(p.patientRef, `rt-${randomUUID()}`, 'pgic', 3, at!)];
    await expectFhir(await importBundle(bundle('transaction', sent)), 200);
    const exported = await exportPathway(p.pathwayId, p.patientRef);
    await expectFhir(exported, 200);
    const back = new Map(ofType<Observation>(exported.body, 'Observation').map((o) => [o.id, o]));
    for (const { resource } of sent) {
      const o = back.get(resource.id);
      expect(o, resource.id).toBeDefined();
      expect(o!.code.coding).toContainEqual(expect.objectContaining(resource.code.coding[0]));
      expect(o!.valueQuantity).toMatchObject({ value: resource.valueQuantity.value, code: resource.valueQuantity.code, system: resource.valueQuantity.system });
      expect(Date.parse(o!.effectiveDateTime!)).toBe(Date.parse(resource.effectiveDateTime));
      expect(o!.subject).toEqual({ type: 'Patient', identifier: resource.subject.identifier });
      expect(o!.status).toBe('final');
    }
  });

  it('refuses naming every element at fault (unknown code, missing unit, out of range), recording nothing', async () => {
    const p = await enroll();
    const before = await decisionsOf(p.pathwayId);
    const at = hoursAgo(1);
    const res = await importBundle(
      bundle('batch', [
        observation(p.patientRef, 'bad-1', 'pain', 5, at, { code: { coding: [{ system: LOINC, code: '1234-5' }] } }),
        observation(p.patientRef, 'bad-2', 'odi', 30, at, { valueQuantity: { value: 30 } }),
        observation(p.patientRef, 'bad-3', 'pain', 11, hoursAgo(2)),
      ]),
    );
    await expectFhir(res, 400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(issues(res.body)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^code-invalid Bundle.entry\[0\].resource.code: unknown code/),
        expect.stringMatching(/^required Bundle.entry\[1\].resource.valueQuantity.code: missing unit/),
        expect.stringMatching(/^value Bundle.entry\[2\].resource.valueQuantity.value: /),
      ]),
    );
    expect(await decisionsOf(p.pathwayId)).toBe(before);
  });

  it('refuses when the patient has no active pathway: none at all, closed, or in another care team', async () => {
    const unknown = await importBundle(bundle('transaction', [observation(`ref-${randomUUID()}`, 'np-1', 'pain', 5, hoursAgo(1))]));
    await expectFhir(unknown, 404);
    expect(issues(unknown.body)).toEqual(['not-found Bundle.entry[0].resource.subject: no active pathway for this patient']);

    const closed = await enroll();
    await call('POST', `/v1/pathways/${closed.pathwayId}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'moved to another region' } });
    await eventually(() => pathway(closed.pathwayId), (v) => v.status === 'withdrawn');
    const refused = await importBundle(bundle('transaction', [observation(closed.patientRef, 'cl-1', 'pain', 5, hoursAgo(1))]));
    await expectFhir(refused, 409);
    expect(issues(refused.body)).toEqual(['business-rule Bundle.entry[0].resource.subject: no active pathway for this patient: the latest is withdrawn']);

    const theirs = await enroll('team-b');
    await expectFhir(await importBundle(bundle('transaction', [observation(theirs.patientRef, 'tb-1', 'pain', 5, hoursAgo(1))]), 'teamAClinician'), 404);
    expect((await pathway(theirs.pathwayId)).reassessments).toEqual([]);
  });

  it("refuses an effective time the pathway's rules do not take with 422, naming the element: in the future, past the back-dating window, before the last recorded event", async () => {
    const p = await enroll();
    const cases = [
      { effective: hoursAgo(-3), text: 'the effective time is in the future' },
      { effective: hoursAgo(24 * 15), text: "the effective time is more than 14 days ago (the definition's backdateWindowDays)" },
      { effective: hoursAgo(2), text: `the effective time is before the pathway's last recorded event (${p.enrolledAt})` },
    ];
    for (const { effective, text } of cases) {
      const res = await importBundle(bundle('transaction', [observation(p.patientRef, `t-${randomUUID()}`, 'pain', 5, effective), observation(p.patientRef, `t-${randomUUID()}`, 'odi', 30, effective)]));
      await expectFhir(res, 422);
      expect(res.body).toEqual({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'business-rule', expression: ['Bundle.entry[0].resource.effectiveDateTime', 'Bundle.entry[1].resource.effectiveDateTime'], details: { text } }],
      });
    }
    // In a batch, each effective time is answered on its own: the refused one with 422, the good one recorded.
    const [now] = sinceEnrolment(p);
    const batch = await importBundle(bundle('batch', [observation(p.patientRef, `t-${randomUUID()}`, 'pain', 5, hoursAgo(2)), observation(p.patientRef, `t-${randomUUID()}`, 'pain', 6, now!)]));
    await expectFhir(batch, 200);
    expect(batch.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['422 Unprocessable Entity', '201 Created']);
    expect(batch.body.entry[0].response.outcome.issue[0]).toMatchObject({ code: 'business-rule', expression: ['Bundle.entry[0].resource.effectiveDateTime'] });
    expect((await pathway(p.pathwayId)).reassessments.map((r: { painNrs: number }) => r.painNrs)).toEqual([6]);
  });

  it("answers the pathway's own refusal: a held pathway takes no reassessment", async () => {
    const p = await enroll();
    const held = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'coordinator', body: { action: 'hold', reason: 'patient in hospital' } });
    expect(held.status).toBe(200);
    // Taken after the hold, so only the hold refuses it.
    const [now] = sinceEnrolment(p);
    const res = await importBundle(bundle('transaction', [observation(p.patientRef, `h-${randomUUID()}`, 'pain', 5, now!)]));
    await expectFhir(res, 409);
    expect(res.body.issue[0]).toMatchObject({ code: 'conflict', expression: ['Bundle.entry[0].resource'], details: { text: expect.stringContaining('on-hold') } });
    expect((await pathway(p.pathwayId)).reassessments).toEqual([]);
  });

  it('checks the role as for a reassessment through /v1, and the media type', async () => {
    const p = await enroll();
    const body = bundle('transaction', [observation(p.patientRef, `r-${randomUUID()}`, 'pain', 5, hoursAgo(1))]);
    const coordinator = await importBundle(body, 'coordinator');
    await expectFhir(coordinator, 403);
    expect(coordinator.body.issue[0].code).toBe('forbidden');
    await expectFhir(await call('POST', '/v1/fhir', { as: 'clinician', headers: { 'content-type': 'text/plain' }, rawBody: JSON.stringify(body) }), 415);
    expect((await pathway(p.pathwayId)).reassessments).toEqual([]);
    // Nothing about the patient in the logs.
    expect(JSON.stringify(api.logger.lines)).not.toContain(p.patientRef);
  });
});

describe('every answer of a FHIR endpoint is FHIR', () => {
  it('answers what is refused before the route reads FHIR as an OperationOutcome: malformed JSON, an oversized body, no or a wrong key, an unknown definition', async () => {
    const malformed = await call('POST', '/v1/fhir', { as: 'clinician', headers: FHIR, rawBody: '{"resourceType":"Bundle",' });
    await expectFhir(malformed, 400);
    expect(malformed.body.issue).toEqual([{ severity: 'error', code: 'invalid', details: { text: '(body): not valid JSON' } }]);

    const oversized = await call('POST', '/v1/fhir', { as: 'clinician', headers: FHIR, rawBody: JSON.stringify(bundle('batch', [{ resource: { note: 'x'.repeat(70_000) } }])) });
    await expectFhir(oversized, 413);
    expect(oversized.body.issue[0].code).toBe('too-long');

    const anonymous = await call('POST', '/v1/pathways/pw-00000000000000000000000000000000/fhir', { as: null, body: { patientRef: 'x' } });
    await expectFhir(anonymous, 401);
    expect(anonymous.body.issue[0].code).toBe('login');
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    const wrongKey = await call('GET', '/v1/definitions/psps-lumbar/1/fhir', { as: null, headers: { authorization: 'Bearer not-a-key-at-all' } });
    await expectFhir(wrongKey, 401);

    await expectFhir(await call('GET', '/v1/definitions/psps-lumbar/99/fhir'), 404);
    // The rest of the API keeps problem details.
    const plain = await call('POST', '/v1/pathways', { as: 'coordinator', headers: { 'content-type': 'application/json' }, rawBody: '{' });
    expect(plain.status).toBe(400);
    expect(plain.headers.get('content-type')).toContain('application/problem+json');
  });
});
