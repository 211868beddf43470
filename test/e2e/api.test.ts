/**
 * The HTTP API through real HTTP, against the dev server with the worker running: every route,
 * every error class, roles, care-team scoping, idempotent retries, dashboards, a restart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { ApiKeyStore } from '../../api/auth';
import { loadDefinitions } from '../../clinical/registry';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { eventually } from '../harness/pathway-driver';
import { delta, scrape } from '../harness/metrics';
import { temporalReadiness } from '../../temporal/readiness';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;

const ref = () => `ref-${randomUUID()}`;
const enrollBody = (overrides: Record<string, unknown> = {}) => ({
  patientRef: ref(),
  careTeam: 'team-a',
  baseline: { painNrs: 8, odi: 40 },
  ...overrides,
});

async function enroll(overrides: Record<string, unknown> = {}, as: NonNullable<Parameters<typeof call>[2]>['as'] = 'coordinator') {
  const res = await call('POST', '/v1/pathways', { as, body: enrollBody(overrides) });
  expect(res.status).toBe(201);
  return res.body.pathway as { pathwayId: string; careTeam: string; stage: string; status: string; enrolledAt: string; timeline: unknown[]; due: { kind: string; dueAt: string } };
}

/** Timeline entries of decisions; notes of notifications sent arrive on their own time. */
const timelineLength = async (id: string) =>
  ((await call('GET', `/v1/pathways/${id}`)).body.pathway.timeline as Array<{ event: string }>).filter((e) => e.event !== 'notification').length;

beforeAll(async () => {
  api = await startApi();
  call = http(api);
});

afterAll(async () => {
  await api?.stop();
});

describe('health and documentation', () => {
  it('answers /healthz and /readyz without credentials', async () => {
    expect((await call('GET', '/healthz', { as: null })).body).toEqual({ status: 'ok' });
    const ready = await call('GET', '/readyz', { as: null });
    expect(ready.status).toBe(200);
    expect(ready.body.temporal).toBe(true);
  });

  it('reports not ready when Temporal is unreachable', async () => {
    const app = createApp({
      pathways: api.service,
      definitions: loadDefinitions(),
      apiKeys: new ApiKeyStore([]),
      logger: api.logger,
      isTemporalReachable: async () => {
        throw new Error('connection refused');
      },
      record: api.record,
    });
    const server = await new Promise<import('node:http').Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    const { port } = server.address() as import('node:net').AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unavailable', temporal: false });
    server.close();
  });

  it('serves an OpenAPI 3.1 document generated from the validating schemas', async () => {
    const doc = (await call('GET', '/openapi.json', { as: null })).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/v1/pathways', '/v1/pathways/summary', '/v1/pathways/lookup', '/v1/pathways/{pathwayId}', '/v1/pathways/{pathwayId}/reassessments', '/v1/pathways/{pathwayId}/procedures', '/v1/pathways/{pathwayId}/workup', '/v1/pathways/{pathwayId}/red-flags', '/v1/pathways/{pathwayId}/actions']) {
      expect(doc.paths).toHaveProperty([path]);
    }
    const reassessment = doc.paths['/v1/pathways/{pathwayId}/reassessments'].post.requestBody.content['application/json'].schema;
    expect(reassessment.properties.painNrs).toMatchObject({ minimum: 0, maximum: 10 });
    expect(reassessment.additionalProperties).toBe(false);
    const enrolment = doc.paths['/v1/pathways'].post.requestBody.content['application/json'].schema;
    expect(enrolment.required).toEqual(expect.arrayContaining(['patientRef', 'careTeam', 'baseline']));
  });
});

describe('pathway definitions', () => {
  it('lists the definitions and reads each rule as a sentence with that version\'s numbers', async () => {
    const list = await call('GET', '/v1/definitions', { as: 'viewer' });
    expect(list.body.items).toContainEqual(expect.objectContaining({ id: 'psps-lumbar', version: 1 }));
    const one = await call('GET', '/v1/definitions/psps-lumbar/1', { as: 'viewer' });
    expect(one.body.definition.stages.conservative.response.painReductionPercent).toBe(30);
    const conservative = one.body.rules.find((r: { id: string }) => r.id === 'response.conservative');
    expect(conservative.sentence).toContain('30%');
    expect((await call('GET', '/v1/definitions/psps-lumbar/9', { as: 'viewer' })).status).toBe(404);
    expect((await call('GET', '/v1/definitions', { as: null })).status).toBe(401);
  });
});

describe('authentication and the error contract', () => {
  it('answers 401 without credentials or with an unknown key', async () => {
    const none = await call('GET', '/v1/pathways', { as: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await call('GET', '/v1/pathways', { as: null, headers: { authorization: 'Bearer not-a-real-key-at-all' } });
    expect(wrong.status).toBe(401);
  });

  it('answers 415 for a body that is not JSON, 413 for one too large, 400 for malformed JSON', async () => {
    const text = await call('POST', '/v1/pathways', { as: 'coordinator', headers: { 'content-type': 'text/plain' }, rawBody: 'hello' });
    expect(text.status).toBe(415);
    const big = await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ filler: 'x'.repeat(100_000) }) });
    expect(big.status).toBe(413);
    const broken = await call('POST', '/v1/pathways', { as: 'coordinator', headers: { 'content-type': 'application/json' }, rawBody: '{"patientRef": ' });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].field).toBe('(body)');
  });

  it('names every field at fault, rejects unknown fields, and never echoes values', async () => {
    const res = await call('POST', '/v1/pathways', {
      as: 'coordinator',
      body: { patientRef: 'ok-ref-123', careTeam: 'team-a', baseline: { painNrs: 11, odi: 40 }, nickname: 'Secret Name' },
    });
    expect(res.status).toBe(400);
    const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['baseline.painNrs', '(body)']));
    expect(JSON.stringify(res.body)).toMatch(/nickname/);
    expect(JSON.stringify(res.body)).not.toContain('Secret Name');
  });

  it('answers 404 for an unknown pathway and 400 for a malformed id', async () => {
    expect((await call('GET', `/v1/pathways/pw-${'0'.repeat(32)}`)).status).toBe(404);
    const bad = await call('GET', '/v1/pathways/not-an-id');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('pathwayId');
    expect((await call('GET', '/v1/nothing-here')).status).toBe(404);
  });
});

describe('enrolment', () => {
  it('enrolls with the first due date, and answers 409 naming the active pathway on a second enrolment', async () => {
    const body = enrollBody();
    const first = await call('POST', '/v1/pathways', { as: 'coordinator', body });
    expect(first.status).toBe(201);
    const id = first.body.pathway.pathwayId as string;
    expect(id).toMatch(/^pw-[0-9a-f]{32}$/);
    expect(id).not.toContain(body.patientRef);
    expect(first.headers.get('location')).toBe(`/v1/pathways/${id}`);
    expect(first.body.firstDue.kind).toBe('reassessment');
    const days = (Date.parse(first.body.firstDue.dueAt) - Date.parse(first.body.pathway.enrolledAt)) / 86_400_000;
    expect(days).toBe(42);
    // psps-lumbar v2 is the default for new enrolments (issue 9); v1 stays for pathways already running.
    expect(first.body.pathway.definition).toMatchObject({ id: 'psps-lumbar', version: 2 });

    const again = await call('POST', '/v1/pathways', { as: 'coordinator', body: { ...body, baseline: { painNrs: 5 } } });
    expect(again.status).toBe(409);
    expect(again.body.pathwayId).toBe(id);

    const found = await call('POST', '/v1/pathways/lookup', { as: 'viewer', body: { patientRef: body.patientRef } });
    expect(found.status).toBe(200);
    expect(found.body.pathway.pathwayId).toBe(id);
  });

  it('refuses an unknown definition, naming the field', async () => {
    const res = await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ definition: { id: 'psps-lumbar', version: 99 } }) });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('definition');
  });

  it('goes straight to urgent referral with red flags at enrolment', async () => {
    const p = await enroll({ redFlags: ['saddle-anaesthesia'] });
    expect(p.status).toBe('urgent-referral');
    await eventually(async () => api.channel.topics(p.pathwayId), (t) => t.includes('urgent-referral'));
  });

  it('replays an enrolment retried with the same Idempotency-Key', async () => {
    const body = enrollBody();
    const key = `enrol-${randomUUID()}`;
    const first = await call('POST', '/v1/pathways', { as: 'coordinator', body, headers: { 'idempotency-key': key } });
    const retry = await call('POST', '/v1/pathways', { as: 'coordinator', body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.pathway.pathwayId).toBe(first.body.pathway.pathwayId);
    expect(retry.body.pathway.timeline).toEqual(first.body.pathway.timeline);
    // A different key for the same patient is a second enrolment: refused.
    const other = await call('POST', '/v1/pathways', { as: 'coordinator', body, headers: { 'idempotency-key': `${key}-other` } });
    expect(other.status).toBe(409);
    const badKey = await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody(), headers: { 'idempotency-key': 'short' } });
    expect(badKey.status).toBe(400);
    expect(badKey.body.errors[0].field).toBe('Idempotency-Key');
  });
});

describe('clinical events', () => {
  it('records a reassessment and answers with the decision and the new state', async () => {
    const p = await enroll();
    const res = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 5, odi: 35 } });
    expect(res.status).toBe(200);
    expect(res.body.decisions[0]).toMatchObject({ event: 'reassessment', ruleId: 'response.conservative', numbers: { painReliefPercent: 37.5 } });
    expect(res.body.pathway.consecutiveResponses).toBe(1);
  });

  it('refuses an impossible change with 409 and an invalid one with 400, changing nothing', async () => {
    const p = await enroll();
    const before = await timelineLength(p.pathwayId);
    const wrongStage = await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: 'nerve-block' } });
    expect(wrongStage.status).toBe(409);
    expect(wrongStage.body.errors[0].field).toBe('type');
    const nrs = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 11 } });
    expect(nrs.status).toBe(400);
    expect(nrs.body.errors.map((e: { field: string }) => e.field)).toEqual(['painNrs']);
    const workup = await call('POST', `/v1/pathways/${p.pathwayId}/workup`, { as: 'coordinator', body: { item: 'imaging' } });
    expect(workup.status).toBe(409);
    expect(await timelineLength(p.pathwayId)).toBe(before);
  });

  it('walks escalate, procedures, red flags, resume, work-up and closing through the API', async () => {
    const p = await enroll();
    const esc = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { body: { action: 'escalate', reason: 'patient preference after review' } });
    expect(esc.status).toBe(200);
    expect(esc.body.pathway.stage).toBe('interventional');
    expect(esc.body.decisions[0]).toMatchObject({ ruleId: 'override.escalate', actor: { id: 'clinician', role: 'clinician' }, stageBefore: 'conservative', stageAfter: 'interventional' });

    const proc = await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: 'epidural-steroid-injection' } });
    expect(proc.status).toBe(200);
    expect(proc.body.pathway.due.kind).toBe('reassessment');

    const flag = await call('POST', `/v1/pathways/${p.pathwayId}/red-flags`, { body: { redFlags: ['infection'] } });
    expect(flag.body.pathway.status).toBe('urgent-referral');
    const resume = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'clinician', body: { action: 'resume', reason: 'infection excluded' } });
    expect(resume.body.pathway).toMatchObject({ status: 'active', stage: 'interventional' });

    const toReferral = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { body: { action: 'escalate', toStage: 'revision-referral', reason: 'structural cause on imaging' } });
    expect(toReferral.body.pathway.pendingWorkup).toEqual(['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion']);
    for (const item of ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion']) {
      const r = await call('POST', `/v1/pathways/${p.pathwayId}/workup`, { as: 'coordinator', body: { item } });
      expect(r.status).toBe(200);
    }
    await eventually(async () => api.channel.referrals.filter((r) => r.pathwayId === p.pathwayId).length, (n) => n === 1);
    const consult = await call('POST', `/v1/pathways/${p.pathwayId}/workup`, { as: 'coordinator', body: { item: 'surgical-consult' } });
    expect(consult.body.pathway.status).toBe('completed');

    // A closed pathway still reads in full, and refuses changes with 409.
    const closed = await eventually(() => call('GET', `/v1/pathways/${p.pathwayId}`), (r) => r.status === 200 && r.body.pathway.status === 'completed');
    expect(closed.body.pathway.timeline.length).toBeGreaterThan(10);
    const late = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 3 } });
    expect(late.status).toBe(409);
  });
});

describe('clinical safety (issue 9)', () => {
  const act = (id: string, as: 'coordinator' | 'clinician', body: Record<string, unknown>) => call('POST', `/v1/pathways/${id}/actions`, { as, body });

  it('new enrolments take psps-lumbar v2, whose new rules read as sentences; v1 still reads', async () => {
    const p = await enroll();
    expect((await call('GET', `/v1/pathways/${p.pathwayId}`)).body.pathway.definition).toMatchObject({ id: 'psps-lumbar', version: 2 });
    const v2 = await call('GET', '/v1/definitions/psps-lumbar/2', { as: 'viewer' });
    const sentence = (id: string) => v2.body.rules.find((r: { id: string }) => r.id === id)?.sentence as string;
    expect(sentence('limit.procedure-interval')).toContain('at least 14 days apart');
    expect(sentence('baseline.required')).toContain('pain NRS and ODI');
    expect(sentence('escalation.acceptable-pain')).toContain('NRS 3');
    expect(sentence('eligibility.scs-conservative-care')).toContain('6 months');
    expect(sentence('response.scs-trial')).toContain('MME');
    expect(sentence('red-flag.sexual-dysfunction')).toContain('sexual dysfunction');
    expect(sentence('override.resume')).toContain('only a clinician may resume after an urgent referral');
    const v1 = await call('GET', '/v1/definitions/psps-lumbar/1', { as: 'viewer' });
    expect(v1.body.rules.map((r: { id: string }) => r.id)).not.toContain('limit.procedure-interval');
  });

  it('a coordinator resuming an urgent referral gets 403 and changes nothing; a clinician resumes; a coordinator resumes a hold', async () => {
    const p = await enroll();
    await call('POST', `/v1/pathways/${p.pathwayId}/red-flags`, { body: { redFlags: ['bilateral-leg-weakness'] } });
    const before = await timelineLength(p.pathwayId);
    const refused = await act(p.pathwayId, 'coordinator', { action: 'resume', reason: 'MRI clear' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toBe('only a clinician may resume a pathway after an urgent referral');
    expect(await timelineLength(p.pathwayId)).toBe(before);
    expect((await act(p.pathwayId, 'clinician', { action: 'resume', reason: 'MRI clear' })).body.pathway.status).toBe('active');
    expect((await act(p.pathwayId, 'coordinator', { action: 'hold', reason: 'travelling' })).status).toBe(200);
    expect((await act(p.pathwayId, 'coordinator', { action: 'resume', reason: 'back home' })).body.pathway.status).toBe('active');
  });

  it('an injection too soon after the last answers 409 naming the rule and the dates', async () => {
    const p = await enroll();
    await act(p.pathwayId, 'clinician', { action: 'escalate', reason: 'severe radicular pain' });
    const first = await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: 'epidural-steroid-injection' } });
    expect(first.status).toBe(200);
    expect(first.body.decisions[0].cites.map((c: { ruleId: string }) => c.ruleId)).toEqual(['limit.interventional-procedures', 'limit.procedure-interval']);
    const day = first.body.decisions[0].occurredAt.slice(0, 10);
    const second = await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: 'nerve-block' } });
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain('Interventional procedures are at least 14 days apart');
    expect(second.body.detail).toContain(`A procedure was performed ${day}, 0 days from this one (${day})`);
    expect(second.body.errors).toEqual([{ field: 'performedAt', message: second.body.detail }]);
  });

  it('a pathway entering interventional care without ODI needs a baseline: procedures answer 409 naming it, and the worklist shows it', async () => {
    const p = await enroll({ careTeam: 'team-baseline', baseline: { painNrs: 8 } });
    const escalated = await act(p.pathwayId, 'clinician', { action: 'escalate', reason: 'severe radicular pain' });
    expect(escalated.body.pathway.due.kind).toBe('baseline');
    const refused = await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: 'epidural-steroid-injection' } });
    expect(refused.status).toBe(409);
    expect(refused.body.errors).toEqual([{ field: 'baseline.odi', message: expect.stringContaining('Missing: ODI') }]);
    const worklist = await eventually(
      () => call('GET', '/v1/worklist?careTeam=team-baseline', { as: 'coordinator' }),
      (r) => r.status === 200 && r.body.items.some((i: { pathwayId: string }) => i.pathwayId === p.pathwayId),
    );
    expect(worklist.body.items.find((i: { pathwayId: string }) => i.pathwayId === p.pathwayId)).toMatchObject({ nextDueKind: 'baseline', category: 'due-today' });
    const baseline = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 8, odi: 42, dailyMme: 60 } });
    expect(baseline.body.decisions[0]).toMatchObject({ ruleId: 'baseline.required', numbers: { odi: 42, dailyMme: 60, missing: null } });
    expect((await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: 'epidural-steroid-injection' } })).status).toBe(200);
  });

  it('checks the time things happened and the MME: 400 for the future or an MME out of range, 409 before the last recorded event', async () => {
    const p = await enroll();
    const future = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 5, assessedAt: new Date(Date.now() + 3 * 3600_000).toISOString() } });
    expect(future.status).toBe(400);
    expect(future.body.errors).toEqual([{ field: 'assessedAt', message: 'assessedAt is in the future' }]);
    const mme = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 5, dailyMme: 10001 } });
    expect(mme.status).toBe(400);
    expect(mme.body.errors.map((e: { field: string }) => e.field)).toEqual(['dailyMme']);
    const beforeEnrolment = await call('POST', `/v1/pathways/${p.pathwayId}/red-flags`, { body: { redFlags: ['infection'], reportedAt: new Date(Date.now() - 2 * 24 * 3600_000).toISOString() } });
    expect(beforeEnrolment.status).toBe(409);
    expect(beforeEnrolment.body.errors[0].field).toBe('reportedAt');
    // Back-dated, but not before the enrolment, the pathway's last recorded event: halfway between it and now.
    const enrolledAt = Date.parse(p.enrolledAt);
    const recent = new Date(enrolledAt + Math.floor((Date.now() - enrolledAt) / 2)).toISOString();
    const ok = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 5, odi: 30, assessedAt: recent } });
    expect(ok.status).toBe(200);
    expect(ok.body.decisions[0].occurredAt).toBe(recent);
  });

  it('enrols the same patient again right after a withdrawal or a discharge: 201, never 409', async () => {
    const patientRef = ref();
    for (const close of [
      { as: 'coordinator' as const, body: { action: 'withdraw', reason: 'moved away' } },
      { as: 'clinician' as const, body: { action: 'discharge', reason: 'pain resolved' } },
    ]) {
      const p = await enroll({ patientRef });
      const closed = await act(p.pathwayId, close.as, close.body);
      expect(closed.status).toBe(200);
      const again = await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ patientRef }) });
      expect(again.status).toBe(201);
      expect(again.body.pathway).toMatchObject({ pathwayId: p.pathwayId, status: 'active', stage: 'conservative' });
      const withdrawn = await act(p.pathwayId, 'coordinator', { action: 'withdraw', reason: 'end of test' });
      expect(withdrawn.status).toBe(200);
    }
  });
});

describe('roles and care teams', () => {
  it('lets each role do what it may and refuses the rest with 403', async () => {
    expect((await call('POST', '/v1/pathways', { as: 'viewer', body: enrollBody() })).status).toBe(403);
    const p = await enroll();
    expect((await call('GET', `/v1/pathways/${p.pathwayId}`, { as: 'viewer' })).status).toBe(200);
    expect((await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { as: 'coordinator', body: { painNrs: 4 } })).status).toBe(403);
    expect((await call('POST', `/v1/pathways/${p.pathwayId}/red-flags`, { as: 'coordinator', body: { redFlags: ['infection'] } })).status).toBe(403);
    expect((await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'coordinator', body: { action: 'escalate', reason: 'not theirs to do' } })).status).toBe(403);
    expect((await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'coordinator', body: { action: 'discharge', reason: 'not theirs to do' } })).status).toBe(403);
    expect((await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'viewer', body: { action: 'hold', reason: 'viewers only read' } })).status).toBe(403);
    const hold = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'coordinator', body: { action: 'hold', reason: 'patient travelling' } });
    expect(hold.body.pathway.status).toBe('on-hold');
    const resume = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'coordinator', body: { action: 'resume', reason: 'back home' } });
    expect(resume.body.pathway.status).toBe('active');
    const discharge = await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { as: 'clinician', body: { action: 'discharge', reason: 'pain resolved' } });
    expect(discharge.body.pathway.status).toBe('completed');
  });

  it('limits a scoped key to its care teams', async () => {
    expect((await call('POST', '/v1/pathways', { as: 'teamACoordinator', body: enrollBody({ careTeam: 'team-b' }) })).status).toBe(403);
    const mine = await enroll({ careTeam: 'team-a' }, 'teamACoordinator');
    const theirs = await enroll({ careTeam: 'team-b' });
    expect((await call('GET', `/v1/pathways/${mine.pathwayId}`, { as: 'teamAViewer' })).status).toBe(200);
    expect((await call('GET', `/v1/pathways/${theirs.pathwayId}`, { as: 'teamAViewer' })).status).toBe(404);
    expect((await call('POST', `/v1/pathways/${theirs.pathwayId}/reassessments`, { as: 'teamAClinician', body: { painNrs: 3 } })).status).toBe(404);
    const listed = await eventually(
      () => call('GET', '/v1/pathways?pageSize=200', { as: 'teamAViewer' }),
      (r) => r.body.items.some((i: { pathwayId: string }) => i.pathwayId === mine.pathwayId),
    );
    expect(listed.body.items.every((i: { careTeam: string }) => i.careTeam === 'team-a')).toBe(true);
    expect((await call('GET', '/v1/pathways?careTeam=team-b', { as: 'teamAViewer' })).body.items).toEqual([]);
  });
});

describe('idempotent retries', () => {
  const cases: Array<{ kind: string; as: 'clinician' | 'coordinator'; body: unknown; setup?: (id: string) => Promise<void> }> = [
    { kind: 'reassessments', as: 'clinician', body: { painNrs: 5 } },
    {
      kind: 'procedures',
      as: 'coordinator',
      body: { type: 'facet-joint-injection' },
      setup: async (id) => {
        await call('POST', `/v1/pathways/${id}/actions`, { body: { action: 'escalate', reason: 'to interventional care' } });
      },
    },
    {
      kind: 'workup',
      as: 'coordinator',
      body: { item: 'labs' },
      setup: async (id) => {
        await call('POST', `/v1/pathways/${id}/actions`, { body: { action: 'escalate', toStage: 'revision-referral', reason: 'to the work-up' } });
      },
    },
    { kind: 'red-flags', as: 'clinician', body: { redFlags: ['progressive-motor-deficit'] } },
    { kind: 'actions', as: 'coordinator', body: { action: 'hold', reason: 'patient abroad' } },
  ];
  for (const c of cases) {
    it(`applies a retried POST ${c.kind} once and answers as the first time`, async () => {
      const p = await enroll();
      await c.setup?.(p.pathwayId);
      const before = await timelineLength(p.pathwayId);
      const key = `retry-${randomUUID()}`;
      const first = await call('POST', `/v1/pathways/${p.pathwayId}/${c.kind}`, { as: c.as, body: c.body, headers: { 'idempotency-key': key } });
      const retry = await call('POST', `/v1/pathways/${p.pathwayId}/${c.kind}`, { as: c.as, body: c.body, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
      expect(await timelineLength(p.pathwayId)).toBe(before + first.body.decisions.length);
    });
  }
});

describe('dashboards', () => {
  it('filters, sorts by due date and pages through pathways once visibility has caught up', async () => {
    const team = `dash-${randomUUID().slice(0, 8)}`;
    const conservative = [await enroll({ careTeam: team }), await enroll({ careTeam: team }), await enroll({ careTeam: team })];
    const interventional = await enroll({ careTeam: team });
    await call('POST', `/v1/pathways/${interventional.pathwayId}/actions`, { body: { action: 'escalate', reason: 'fast track after review' } });
    const held = await enroll({ careTeam: team });
    await call('POST', `/v1/pathways/${held.pathwayId}/actions`, { as: 'coordinator', body: { action: 'hold', reason: 'patient in hospital' } });
    const ids = [...conservative, interventional, held].map((p) => p.pathwayId);

    const all = await eventually(
      () => call('GET', `/v1/pathways?careTeam=${team}&pageSize=200`),
      (r) => r.body.items.length === 5 && r.body.items.find((i: { pathwayId: string }) => i.pathwayId === held.pathwayId)?.status === 'on-hold' && r.body.items.find((i: { pathwayId: string }) => i.pathwayId === interventional.pathwayId)?.stage === 'interventional',
    );
    expect(all.body.items.map((i: { pathwayId: string }) => i.pathwayId).sort()).toEqual([...ids].sort());
    const dues = all.body.items.map((i: { nextDueAt: string | null }) => i.nextDueAt);
    expect(dues).toEqual([...dues].sort());

    const stage = await call('GET', `/v1/pathways?careTeam=${team}&stage=interventional`);
    expect(stage.body.items.map((i: { pathwayId: string }) => i.pathwayId)).toEqual([interventional.pathwayId]);
    const status = await call('GET', `/v1/pathways?careTeam=${team}&status=on-hold`);
    expect(status.body.items.map((i: { pathwayId: string }) => i.pathwayId)).toEqual([held.pathwayId]);
    expect((await call('GET', `/v1/pathways?careTeam=${team}&overdue=true`)).body.items).toEqual([]);
    expect((await call('GET', `/v1/pathways?careTeam=${team}&overdue=false`)).body.items).toHaveLength(5);
    // The interventional pathway waits for a procedure within 28 days; the others for reassessments at 42.
    const soon = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const dueSoon = await call('GET', `/v1/pathways?careTeam=${team}&dueBefore=${encodeURIComponent(soon)}`);
    expect(dueSoon.body.items.map((i: { pathwayId: string }) => i.pathwayId)).toEqual([interventional.pathwayId]);

    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof call>> = await call('GET', `/v1/pathways?careTeam=${team}&pageSize=2${token ? `&pageToken=${token}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((i: { pathwayId: string }) => i.pathwayId));
      token = page.body.nextPageToken;
    } while (token);
    expect(seen).toEqual(all.body.items.map((i: { pathwayId: string }) => i.pathwayId));

    const wrongToken = await call('GET', `/v1/pathways?careTeam=${team}&pageSize=3&pageToken=${all.body.nextPageToken ?? 'eyJvIjoyLCJmIjoieCJ9'}`);
    expect(wrongToken.status).toBe(400);
    expect((await call('GET', `/v1/pathways?stage=nowhere`)).status).toBe(400);
    expect((await call('GET', `/v1/pathways?colour=blue`)).status).toBe(400);

    const summary = await call('GET', `/v1/pathways/summary?careTeam=${team}`);
    expect(summary.body.careTeams).toEqual([
      { careTeam: team, total: 5, overdue: 0, undelivered: 0, byStage: { conservative: 4, interventional: 1 }, byStatus: { active: 4, 'on-hold': 1 } },
    ]);
  });
});

describe('operations', () => {
  it('loses nothing when the API process restarts', async () => {
    const p = await enroll();
    await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 6 } });
    const before = (await call('GET', `/v1/pathways/${p.pathwayId}`)).body.pathway;
    await api.restartApi();
    const after = (await call('GET', `/v1/pathways/${p.pathwayId}`)).body.pathway;
    expect(after).toEqual(before);
    const next = await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 5 } });
    expect(next.status).toBe(200);
    expect(next.body.decisions).toHaveLength(1);
    const later = (await call('GET', `/v1/pathways/${p.pathwayId}`)).body.pathway;
    expect(later.timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
  });

  it('logs each request with its route, status and duration, and no patient data', async () => {
    const body = enrollBody({ patientRef: 'ref-LOGCHECK-42' });
    await call('POST', '/v1/pathways', { as: 'coordinator', body, headers: { 'x-request-id': 'req-log-check-1' } });
    const line = api.logger.lines.find((l) => l.requestId === 'req-log-check-1');
    expect(line).toMatchObject({ msg: 'http request', method: 'POST', route: '/v1/pathways', status: 201, keyId: 'coordinator' });
    expect(typeof line!.durationMs).toBe('number');
    const everything = JSON.stringify(api.logger.lines);
    expect(everything).not.toContain('ref-LOGCHECK-42');
    expect(everything).not.toContain('painNrs');
  });

  it('counts requests by route and status, and care-team messages sent, on the metrics endpoint', async () => {
    const before = await scrape(api.metricsUrl);
    await enroll();
    const urgent = await enroll({ redFlags: ['saddle-anaesthesia'] });
    expect((await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ careTeam: '' }) })).status).toBe(400);
    expect((await call('GET', `/v1/pathways/pw-${'0'.repeat(32)}`)).status).toBe(404);
    await eventually(async () => api.channel.topics(urgent.pathwayId), (t) => t.includes('urgent-referral'));
    const after = await eventually(
      () => scrape(api.metricsUrl),
      (m) => delta(before, m, 'pathway_care_team_messages_total{kind="notification",outcome="sent"}') >= 1,
    );
    const requests = (labels: string) => delta(before, after, `pathway_http_request_duration_seconds_count{${labels}}`);
    // Routes are labelled with their OpenAPI template.
    expect(requests('method="POST",route="/v1/pathways",status="201"')).toBe(2);
    expect(requests('method="POST",route="/v1/pathways",status="400"')).toBe(1);
    expect(requests('method="GET",route="/v1/pathways/{pathwayId}",status="404"')).toBe(1);
    // No label carries a pathway id or anything about a patient.
    expect(after.text).not.toMatch(/pw-[0-9a-f]{32}|ref-/);
    expect(after.text).toContain('# TYPE pathway_http_request_duration_seconds histogram');
  });

  it('says on /readyz when no worker polls the task queue', async () => {
    const app = createApp({
      pathways: api.service,
      definitions: loadDefinitions(),
      apiKeys: new ApiKeyStore([]),
      logger: api.logger,
      isTemporalReachable: async () => true,
      record: api.record,
      readiness: temporalReadiness(api.env.connection, 'default', `nobody-polls-${randomUUID()}`),
    });
    const server = await new Promise<import('node:http').Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    const { port } = server.address() as import('node:net').AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    server.close();
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; temporal: boolean; missing: string[] };
    expect(body).toMatchObject({ status: 'unavailable', temporal: true });
    expect(body.missing).toEqual([expect.stringMatching(/^no worker polls task queue nobody-polls-/)]);
    expect((await call('GET', '/readyz', { as: null })).body).toEqual({ status: 'ready', temporal: true, database: true });
  });
});
