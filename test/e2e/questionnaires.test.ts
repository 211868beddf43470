/**
 * Patients answer their reassessment at home through a single-use link (issue 19, part 2), over
 * real HTTP on the dev server: the link from the local outbox; GET never uses it up; POST records
 * once and becomes the pathway's reassessment, reported by the patient, with the same decisions as
 * a clinician's; expired, replaced, used and forged links change nothing; a reported red flag
 * tells the patient what to do and waits at the top of the worklist for a clinician.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPatients } from '../../patients';
import { WebhookPatientChannel } from '../../patients/gateway';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { answers, form } from '../harness/patient-answers';
import { WebhookReceiver } from '../harness/webhook-receiver';
import { allFhirProblems, fhirProblems, loadR4Definitions } from '../harness/fhir-validator';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;
const team = `pq-${randomUUID().slice(0, 8)}`;

async function enrol(language: 'en' | 'es' = 'en', baseline = { painNrs: 8, odi: 50 }, careTeam = team): Promise<string> {
  const res = await call('POST', '/v1/pathways', {
    as: 'coordinator',
    body: { patientRef: `MRN-${randomUUID()}`, patient: { name: 'Test Patient', contact: { mobile: '+447700900111', language } }, careTeam, baseline },
  });
  expect(res.status).toBe(201);
  return res.body.pathway.pathwayId;
}

/** Sends a link as the coordinator and reads it from the local outbox page, as a person at `npm start` would. */
async function sendLink(pathwayId: string): Promise<{ link: string; id: string }> {
  const sent = await call('POST', `/v1/pathways/${pathwayId}/questionnaires`, { as: 'coordinator', body: {} });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  expect(sent.body.questionnaire).toMatchObject({ state: 'sent', delivery: 'delivered' });
  const outbox = await (await fetch(`${api.url}/outbox`)).text();
  const id = sent.body.questionnaire.id as string;
  const item = outbox.split('<li class="message"').find((m) => m.includes(`data-message-id="${id}-invitation"`))!;
  const link = /href="([^"]+\/p\/[^"]+)"/.exec(item)![1]!.replace(/&amp;/g, '&');
  return { link, id };
}

const questionnaire = async (pathwayId: string, id: string) =>
  ((await call('GET', `/v1/pathways/${pathwayId}/questionnaires`, { as: 'viewer' })).body.items as Array<{ id: string; state: string; counted: string | null; scores: Record<string, number> | null; redFlagReview: string | null }>).find((q) => q.id === id)!;
const pathway = async (id: string) => (await call('GET', `/v1/pathways/${id}`, { as: 'clinician' })).body.pathway;

beforeAll(async () => {
  // Before any request: loading blocks the event loop for seconds, and a kept-alive socket would
  // then race the server's keep-alive timeout (ECONNRESET).
  loadR4Definitions();
  api = await startApi();
  call = http(api);
});
afterAll(async () => {
  await api?.stop();
});

describe('the FHIR exports', () => {
  type Entry = { fullUrl: string; resource: { resourceType: string; id: string; derivedFrom?: Array<{ reference: string }>; note?: unknown[]; valueQuantity?: { value: number }; code?: { coding: Array<{ code: string }> } } };
  const keyed = (b: { entry: Entry[] }) => new Map(b.entry.map((e) => [`${e.resource.resourceType}/${e.resource.id}`, e.resource]));

  it("holds the patient's answers in the pathway's own export: each QuestionnaireResponse, and its scores' Observations derivedFrom it", async () => {
    const patientRef = `MRN-${randomUUID()}`;
    const identity = { name: 'Rosa Export-Test', contact: { mobile: '+447700900222', email: 'rosa.export@example.org', language: 'en' } };
    const enrolled = await call('POST', '/v1/pathways', { as: 'coordinator', body: { patientRef, patient: identity, careTeam: team, baseline: { painNrs: 8, odi: 50 } } });
    expect(enrolled.status).toBe(201);
    const id = enrolled.body.pathway.pathwayId as string;
    // Answered at home: the pathway's reassessment.
    const first = await sendLink(id);
    expect((await fetch(first.link, form(answers({ painNrs: 5, odiSectionSum: 15, pgic: 2, comment: 'Gardening again on Sundays' })))).status).toBe(200);
    // Answered after the care team recorded their own reassessment: kept, not counted.
    const second = await sendLink(id);
    expect((await call('POST', `/v1/pathways/${id}/reassessments`, { as: 'clinician', body: { painNrs: 6, odi: 44 } })).status).toBe(200);
    expect((await fetch(second.link, form(answers({ painNrs: 4, odiSectionSum: 10 })))).status).toBe(200);
    expect(await questionnaire(id, second.id)).toMatchObject({ counted: 'staff-reassessment-first' });
    const accessBefore = (await call('GET', `/v1/pathways/${id}/access-log`, { as: 'clinician' })).body.items.length;

    const res = await call('POST', `/v1/pathways/${id}/fhir`, { as: 'viewer', body: { patientRef, identifierSystem: 'https://clinic.example/patients' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    expect(await allFhirProblems(res.body)).toEqual({ medplum: [], hapi: [] });
    const bundle = res.body as { entry: Entry[] };
    for (const e of bundle.entry) expect({ id: e.resource.id, problems: fhirProblems(e.resource as never) }).toEqual({ id: e.resource.id, problems: [] });
    const byKey = keyed(bundle);
    const instruments = ['pain-nrs', 'odi', 'pgic', 'red-flag-screen'];
    expect(bundle.entry.filter((e) => e.resource.resourceType === 'QuestionnaireResponse').map((e) => e.resource.id)).toEqual([first.id, second.id].flatMap((q) => instruments.map((i) => `${q}-${i}`)));
    expect(byKey.get(`QuestionnaireResponse/${first.id}-odi`)).toMatchObject({
      status: 'completed',
      questionnaire: 'https://pathway.invalid/fhir/Questionnaire/odi|1',
      subject: { identifier: { system: 'https://clinic.example/patients', value: patientRef } },
    });
    // The counted scores are the reassessment's Observations, derived from the patient's responses.
    expect(byKey.get(`Observation/${first.id}.odi`)).toMatchObject({ valueQuantity: { value: 30 }, derivedFrom: [{ reference: `QuestionnaireResponse/${first.id}-odi` }] });
    expect(byKey.get(`Observation/${first.id}.painNrs`)).toMatchObject({ valueQuantity: { value: 5 }, derivedFrom: [{ reference: `QuestionnaireResponse/${first.id}-pain-nrs` }] });
    // The uncounted ones are there too, saying so.
    expect(byKey.get(`Observation/${second.id}.painNrs`)).toMatchObject({ valueQuantity: { value: 4 }, derivedFrom: [{ reference: `QuestionnaireResponse/${second.id}-pain-nrs` }], note: [{ text: expect.stringContaining('not counted') }] });
    for (const e of bundle.entry) for (const d of e.resource.derivedFrom ?? []) expect(byKey.has(d.reference)).toBe(true);
    // The staff's reassessment is derived from nothing; and no score appears twice.
    const painScores = bundle.entry.filter((e) => e.resource.code?.coding[0]?.code === '72514-3').map((e) => [e.resource.valueQuantity!.value, e.resource.derivedFrom?.[0]?.reference ?? null]);
    expect(painScores).toEqual([[8, null], [5, `QuestionnaireResponse/${first.id}-pain-nrs`], [6, null], [4, `QuestionnaireResponse/${second.id}-pain-nrs`]]);
    // No name, no contact, no comment: the subject is the reference the caller gave, for this answer only.
    const text = JSON.stringify(bundle);
    for (const secret of [identity.name, identity.contact.mobile, identity.contact.email, 'Gardening again']) expect(text).not.toContain(secret);
    // The export disclosed nothing the caller did not bring: no access entry.
    expect((await call('GET', `/v1/pathways/${id}/access-log`, { as: 'clinician' })).body.items).toHaveLength(accessBefore);
    // The answers-only export names the same Observations.
    const alone = (await call('GET', `/v1/pathways/${id}/questionnaires/fhir`, { as: 'clinician' })).body as { entry: Entry[] };
    expect(alone.entry.filter((e) => e.resource.resourceType === 'Observation').map((e) => e.resource.id).every((oid) => byKey.has(`Observation/${oid}`))).toBe(true);
  });

  it("packages the definition's PlanDefinition with the Questionnaires its actions name ($package)", async () => {
    const res = await call('GET', '/v1/definitions/psps-lumbar/2/fhir/$package', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    expect(await allFhirProblems(res.body)).toEqual({ medplum: [], hapi: [] });
    const entries = res.body.entry as Array<{ resource: { resourceType: string; id: string; url: string; version: string } }>;
    expect(entries.map((e) => `${e.resource.resourceType}/${e.resource.id}`)).toEqual([
      'PlanDefinition/psps-lumbar-v2',
      'Questionnaire/pain-nrs',
      'Questionnaire/odi',
      'Questionnaire/pgic',
      'Questionnaire/daily-mme',
      'Questionnaire/red-flag-screen',
    ]);
    // The PlanDefinition alone names the same Questionnaires, each held in the package.
    const plan = (await call('GET', '/v1/definitions/psps-lumbar/2/fhir', { as: 'viewer' })).body;
    expect(plan).toEqual(entries[0]!.resource);
    const held = new Set(entries.slice(1).map((e) => `${e.resource.url}|${e.resource.version}`));
    const named = JSON.stringify(plan).match(/"definitionCanonical":"[^"]+"/g)!.map((m) => m.split('"')[3]);
    expect(new Set(named)).toEqual(held);
    // v1 does not ask patients at home: a package of the PlanDefinition alone; an unknown version is an OperationOutcome.
    expect((await call('GET', '/v1/definitions/psps-lumbar/1/fhir/$package', { as: 'viewer' })).body.entry).toHaveLength(1);
    const missing = await call('GET', '/v1/definitions/psps-lumbar/9/fhir/$package', { as: 'viewer' });
    expect(missing.status).toBe(404);
    expect(missing.body.resourceType).toBe('OperationOutcome');
  });
});

describe("the patient's link", () => {
  it('opens (GET) as often as asked without being used up, and records once (POST) as the patient reported it at home', async () => {
    const id = await enrol();
    const { link, id: qid } = await sendLink(id);
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/p\/[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{16}$/);
    // A mail scanner and a link preview open it first.
    for (let i = 0; i < 3; i++) {
      const page = await fetch(link);
      expect(page.status).toBe(200);
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await page.text();
      expect(html).toContain('name="pain-nrs.pain"');
      expect(html).not.toContain('Test Patient');
    }
    expect((await questionnaire(id, qid)).state).toBe('opened');
    expect((await pathway(id)).reassessments).toHaveLength(0);

    // Left out questions: the form comes back with what to fix, and nothing is recorded.
    const partial = await fetch(link, form({ 'pain-nrs.pain': '6' }));
    expect(partial.status).toBe(400);
    const again = await partial.text();
    expect(again).toContain('Please check these answers');
    expect(again).toContain('value="6" checked');
    expect((await questionnaire(id, qid)).state).toBe('opened');

    const sent = await fetch(link, form(answers({ painNrs: 5, odiSectionSum: 15, pgic: 2, comment: 'Walking the dog again' })));
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain('Your answers have reached your care team');
    const p = await pathway(id);
    expect(p.reassessments).toHaveLength(1);
    expect(p.reassessments[0]).toMatchObject({ painNrs: 5, odi: 30, pgic: 2, sourceIds: { painNrs: `${qid}.painNrs` } });
    const entry = p.timeline.find((e: { event: string; actor: { role: string } }) => e.event === 'reassessment' && e.actor.role === 'patient');
    expect(entry.actor).toEqual({ id: 'patient-at-home', role: 'patient' });
    expect(await questionnaire(id, qid)).toMatchObject({ state: 'answered', counted: 'reassessment', scores: { painNrs: 5, odi: 30, pgic: 2 } });

    // A second submission shows the first one's confirmation and records nothing.
    const twice = await fetch(link, form(answers({ painNrs: 1, odiSectionSum: 0 })));
    expect(twice.status).toBe(200);
    expect(await twice.text()).toContain('Your answers have reached your care team');
    expect((await pathway(id)).reassessments).toHaveLength(1);
    // Exported as FHIR: a QuestionnaireResponse per instrument, each score an Observation derived from its response.
    const exported = (await call('GET', `/v1/pathways/${id}/questionnaires/fhir`, { as: 'clinician' })).body;
    expect(fhirProblems(exported)).toEqual([]);
    for (const e of exported.entry) expect({ id: e.resource.id, problems: fhirProblems(e.resource) }).toEqual({ id: e.resource.id, problems: [] });
    const byId = new Map(exported.entry.map((e: { resource: { resourceType: string; id: string } }) => [`${e.resource.resourceType}/${e.resource.id}`, e.resource]));
    const odiObservation = exported.entry.find((e: { resource: { code?: { coding: Array<{ code: string }> } } }) => e.resource.code?.coding[0]?.code === '97909-6').resource;
    expect(odiObservation).toMatchObject({ valueQuantity: { value: 30 }, derivedFrom: [{ reference: `QuestionnaireResponse/${qid}-odi` }], subject: { identifier: { value: expect.stringMatching(/^MRN-/) } } });
    expect(byId.get(`QuestionnaireResponse/${qid}-odi`)).toMatchObject({ status: 'completed', questionnaire: 'https://pathway.invalid/fhir/Questionnaire/odi|1' });
    expect(JSON.stringify(exported)).not.toContain('Walking the dog');
    // A viewer gets the same answers naming no one.
    const anonymous = (await call('GET', `/v1/pathways/${id}/questionnaires/fhir`, { as: 'viewer' })).body;
    expect(JSON.stringify(anonymous)).not.toContain('MRN-');
    expect(anonymous.entry).toHaveLength(exported.entry.length);
    // The comment rests encrypted.
    const raw = await api.record.store.db.selectFrom('questionnaire_invitations').select('response_enc').where('id', '=', qid).executeTakeFirstOrThrow();
    expect(raw.response_enc).not.toContain('Walking the dog');
    expect(JSON.parse(api.record.cipher.decrypt(raw.response_enc!)).comment).toBe('Walking the dog again');
  });

  it("takes the same decisions as the same scores entered by a clinician", async () => {
    const [byPatient, byClinician] = [await enrol(), await enrol()];
    const { link } = await sendLink(byPatient);
    expect((await fetch(link, form(answers({ painNrs: 5, odiSectionSum: 20, pgic: 2 })))).status).toBe(200);
    const clinician = await call('POST', `/v1/pathways/${byClinician}/reassessments`, { as: 'clinician', body: { painNrs: 5, odi: 40, pgic: 2 } });
    expect(clinician.status).toBe(200);
    const decisions = async (id: string) =>
      (await pathway(id)).timeline.filter((e: { event: string }) => e.event === 'reassessment').map((e: { ruleId?: string; numbers?: unknown; summary: string }) => ({ ruleId: e.ruleId, numbers: e.numbers, summary: e.summary }));
    expect(await decisions(byPatient)).toEqual(await decisions(byClinician));
    expect((await decisions(byPatient)).length).toBeGreaterThan(0);
  });

  it('asks in the patient\'s language', async () => {
    const id = await enrol('es');
    const { link } = await sendLink(id);
    const html = await (await fetch(link)).text();
    expect(html).toContain('<html lang="es">');
    expect(html).toContain('Enviar mis respuestas');
    expect(html).toContain('¿Debilidad nueva en las dos piernas?');
  });

  it('changes nothing for an expired, replaced or forged link, each with a friendly page', async () => {
    const id = await enrol();
    const first = await sendLink(id);
    const second = await sendLink(id);
    const replaced = await fetch(first.link, form(answers({ painNrs: 4, odiSectionSum: 10 })));
    expect(replaced.status).toBe(410);
    expect(await replaced.text()).toContain('There is a newer link');
    await api.record.store.db.updateTable('questionnaire_invitations').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', second.id).execute();
    for (const res of [await fetch(second.link), await fetch(second.link, form(answers({ painNrs: 4, odiSectionSum: 10 })))]) {
      expect(res.status).toBe(410);
      expect(await res.text()).toContain('This link has expired');
    }
    expect(await questionnaire(id, second.id)).toMatchObject({ state: 'expired', counted: null });
    const forged = second.link.replace(/\.[A-Za-z0-9_-]{16}$/, `.${randomBytes(12).toString('base64url')}`);
    const bad = await fetch(forged, form(answers({ painNrs: 4, odiSectionSum: 10 })));
    expect(bad.status).toBe(404);
    expect(await bad.text()).toContain('We cannot open this link');
    expect((await pathway(id)).reassessments).toHaveLength(0);
  });

  it('does not count answers twice after the care team recorded the reassessment', async () => {
    const id = await enrol();
    const { link, id: qid } = await sendLink(id);
    expect((await call('POST', `/v1/pathways/${id}/reassessments`, { as: 'clinician', body: { painNrs: 6, odi: 44 } })).status).toBe(200);
    expect((await fetch(link, form(answers({ painNrs: 5, odiSectionSum: 15 })))).status).toBe(200);
    expect((await pathway(id)).reassessments).toHaveLength(1);
    expect(await questionnaire(id, qid)).toMatchObject({ state: 'answered', counted: 'staff-reassessment-first' });
  });

  it('tells the patient to go to an emergency department now, and puts the pathway first on the worklist until a clinician confirms', async () => {
    const id = await enrol();
    const { link, id: qid } = await sendLink(id);
    const res = await fetch(link, form(answers({ painNrs: 7, odiSectionSum: 25, flags: ['bladder-bowel-dysfunction'] })));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('Go to an emergency department now');
    // The stage does not jump on the patient's word: the scores count, the red flag waits.
    const p = await pathway(id);
    expect(p.status).toBe('active');
    expect(p.reassessments).toHaveLength(1);
    const worklist = (await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as: 'clinician' })).body.items;
    expect(worklist[0]).toMatchObject({ pathwayId: id, category: 'patient-reported-red-flag', patientReport: { questionnaireId: qid, redFlags: ['bladder-bowel-dysfunction'] } });
    expect(worklist.filter((i: { pathwayId: string }) => i.pathwayId === id)).toHaveLength(1);
    // Only a clinician confirms; then the pathway goes to urgent referral, and the item leaves the top.
    expect((await call('POST', `/v1/pathways/${id}/questionnaires/${qid}/review`, { as: 'coordinator', body: { confirmed: true } })).status).toBe(403);
    const confirmed = await call('POST', `/v1/pathways/${id}/questionnaires/${qid}/review`, { as: 'clinician', body: { confirmed: true } });
    expect(confirmed.status).toBe(200);
    expect((await pathway(id)).status).toBe('urgent-referral');
    expect((await questionnaire(id, qid)).redFlagReview).toBe('confirmed');
    const after = (await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as: 'clinician' })).body.items;
    expect(after.find((i: { pathwayId: string }) => i.pathwayId === id)?.category).toBe('urgent-referral');
    expect((await call('POST', `/v1/pathways/${id}/questionnaires/${qid}/review`, { as: 'clinician', body: { confirmed: true } })).status).toBe(404);
  });

  it("delivers through the clinic's gateway as a signed webhook, retries, and records how each delivery went", async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const gateway = createPatients({
        record: api.record,
        change: (pid, kind, actor, input, key) => api.service.change(pid, kind, actor, input, {}, key),
        publicUrl: () => api.url,
        production: false,
        channel: new WebhookPatientChannel({ url: receiver.url, secret: receiver.secret }, { delayMs: 10 }),
      });
      const by = { actorId: 'coordinator', actorRole: 'coordinator', route: 'test' };
      const id = await enrol('es');
      const sent = await gateway.questionnaires.issue(id, by);
      expect(sent).toMatchObject({ state: 'sent', delivery: 'delivered' });
      const message = receiver.accepted.get(`${sent.id}-invitation`) as unknown as { type: string; to: { mobile: string }; language: string; link: string; text: string };
      expect(receiver.attempts.at(-1)!.verified).toBe(true);
      expect(message).toMatchObject({ type: 'patient.invitation', to: { mobile: '+447700900111' }, language: 'es' });
      expect(JSON.stringify(message)).not.toContain('Test Patient');
      // The link the gateway passes on opens the patient's page on this service.
      expect((await fetch(message.link)).status).toBe(200);
      const row = await api.record.store.db.selectFrom('patient_messages').selectAll().where('id', '=', `${sent.id}-invitation`).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ channel: 'webhook', outcome: 'delivered', attempts: 1, body_enc: null });

      // Down: three tries, then undelivered, on the pathway page for "Send again".
      receiver.answerAlways(503);
      const failed = await gateway.questionnaires.issue(id, by);
      expect(failed).toMatchObject({ state: 'undelivered', delivery: 'undelivered' });
      const down = await api.record.store.db.selectFrom('patient_messages').selectAll().where('id', '=', `${failed.id}-invitation`).executeTakeFirstOrThrow();
      expect(down).toMatchObject({ outcome: 'undelivered', attempts: 3, last_error: 'gateway answered 503' });
      // A refusal the gateway calls final is not retried.
      receiver.answerAlways(400);
      const refused = await gateway.questionnaires.issue(id, by);
      expect((await api.record.store.db.selectFrom('patient_messages').select('attempts').where('id', '=', `${refused.id}-invitation`).executeTakeFirstOrThrow()).attempts).toBe(1);
      expect((await questionnaire(id, refused.id)).state).toBe('undelivered');
    } finally {
      await receiver.stop();
    }
  });

  it('counts completion in the outcomes report: answered before the due date, late, expired', async () => {
    const other = `pq-${randomUUID().slice(0, 8)}`;
    const [onTime, late, lapsed] = [await enrol('en', undefined, other), await enrol('en', undefined, other), await enrol('en', undefined, other)];
    const a = await sendLink(onTime);
    expect((await fetch(a.link, form(answers({ painNrs: 5, odiSectionSum: 20 })))).status).toBe(200);
    const b = await sendLink(late);
    await api.record.store.db.updateTable('questionnaire_invitations').set({ due_at: new Date(Date.now() - 86_400_000) }).where('id', '=', b.id).execute();
    expect((await fetch(b.link, form(answers({ painNrs: 5, odiSectionSum: 20 })))).status).toBe(200);
    const c = await sendLink(lapsed);
    await api.record.store.db.updateTable('questionnaire_invitations').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', c.id).execute();
    const report = await call('GET', `/v1/reports/outcomes?careTeam=${other}`, { as: 'viewer' });
    expect(report.status).toBe(200);
    expect(report.body.questionnaires).toEqual([{ careTeam: other, stage: 'conservative', invitations: 3, answeredBeforeDue: 1, answeredLate: 1, expired: 1, completionPercent: 66.7 }]);
    // A key scoped to another team sees none of it.
    expect((await call('GET', `/v1/reports/outcomes?careTeam=${other}`, { as: 'teamAViewer' })).body.questionnaires).toEqual([]);
  });

  it("exports the definition's Questionnaires beside its PlanDefinition", async () => {
    const res = await call('GET', '/v1/definitions/psps-lumbar/2/questionnaires', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(res.body.entry.map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`)).toEqual([
      'Questionnaire/pain-nrs',
      'Questionnaire/odi',
      'Questionnaire/pgic',
      'Questionnaire/daily-mme',
      'Questionnaire/red-flag-screen',
    ]);
    expect((await call('GET', '/v1/definitions/psps-lumbar/9/questionnaires', { as: 'viewer' })).status).toBe(404);
  });

  it('slows down guessing: too many links that do not open from one address get 429', async () => {
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) {
      status = (await fetch(`${api.url}/p/${randomBytes(18).toString('base64url')}.${randomBytes(12).toString('base64url')}`)).status;
    }
    expect(status).toBe(429);
  });
});
