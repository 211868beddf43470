/**
 * Definitions in a running service, over real HTTP with a worker on the run's dev server: a
 * version a lead publishes is enrolled on at once, without a restart; a what-if over the
 * pathways still on v2; the migration that needs it moves them through Temporal, audited, and
 * the FHIR export records it as a Provenance. A migration refuses a simulation whose cohort changed.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Provenance } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { eventually } from '../harness/pathway-driver';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;

beforeAll(async () => {
  api = await startApi();
  call = http(api);
});
afterAll(async () => {
  await api?.stop();
});

const enrol = async (patientRef: string, version?: number) => {
  const res = await call('POST', '/v1/pathways', {
    as: 'coordinator',
    body: { patientRef, careTeam: 'spine-defs', baseline: { painNrs: 8, odi: 40 }, ...(version ? { definition: { id: 'psps-lumbar', version } } : {}) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.pathway;
};

describe('definitions in a running service', () => {
  it('publishes v3 for new enrolments at once, tries it on the v2 pathways, and moves them', async () => {
    const onV2Ref = `defs-${randomUUID()}`;
    const onV2 = await enrol(onV2Ref);
    expect(onV2.definition.version).toBe(2);

    const draft = await call('POST', '/v1/definitions/psps-lumbar/2/drafts', { as: 'lead', body: {} });
    const v3 = { ...draft.body.definition, stages: { ...draft.body.definition.stages, conservative: { ...draft.body.definition.stages.conservative, response: { painReductionPercent: 50, odiReductionPoints: 10 } } } };
    expect((await call('PUT', `/v1/definitions/psps-lumbar/${v3.version}`, { as: 'lead', body: v3 })).status).toBe(200);
    expect((await call('POST', `/v1/definitions/psps-lumbar/${v3.version}/publish`, { as: 'lead', body: { reason: 'IMMPACT substantial relief for conservative care' } })).status).toBe(200);

    // No restart: the next enrolment takes it.
    const onV3 = await enrol(`defs-${randomUUID()}`);
    expect(onV3.definition.version).toBe(v3.version);

    // A migration needs a simulation of the cohort first.
    const noSimulation = await call('POST', `/v1/definitions/psps-lumbar/${v3.version}/migrations`, { as: 'lead', body: { simulationId: randomUUID(), reason: 'move them' } });
    expect(noSimulation.status).toBe(409);
    const simulation = await call('POST', `/v1/definitions/psps-lumbar/${v3.version}/simulate`, { as: 'lead', body: { cohort: { careTeam: 'spine-defs', definitionVersion: 2 } } });
    expect(simulation.status).toBe(201);
    expect(simulation.body.summary.pathways).toBe(1);
    expect((await call('POST', `/v1/definitions/psps-lumbar/${v3.version}/migrations`, { as: 'clinician', body: { simulationId: simulation.body.simulationId, reason: 'move them' } })).status).toBe(403);

    const started = await call('POST', `/v1/definitions/psps-lumbar/${v3.version}/migrations`, { as: 'lead', body: { simulationId: simulation.body.simulationId, reason: 'Stricter conservative response' } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body).toMatchObject({ pathways: 1, simulation: { simulationId: simulation.body.simulationId, summary: { pathways: 1 } } });
    const done = await eventually(() => call('GET', started.headers.get('location')!, { as: 'lead' }), (r) => r.body.status === 'completed');
    expect(done.body).toMatchObject({ requestedBy: 'lead', reason: 'Stricter conservative response', counts: { moved: 1 }, results: [{ pathwayId: onV2.pathwayId, outcome: 'moved', fromVersion: 2 }] });

    const moved = await eventually(() => call('GET', `/v1/pathways/${onV2.pathwayId}`, { as: 'viewer' }), (r) => r.body.pathway?.definition.version === v3.version);
    const entry = moved.body.pathway.timeline.find((e: { event: string }) => e.event === 'definition-migrated');
    expect(entry).toMatchObject({ actor: { id: 'lead', role: 'lead' }, numbers: { fromVersion: 2, toVersion: v3.version, simulationId: simulation.body.simulationId } });

    // FHIR: the migration as a Provenance, with who and why and the simulation.
    const bundle = (await call('POST', `/v1/pathways/${onV2.pathwayId}/fhir`, { as: 'viewer', body: { patientRef: onV2Ref } })).body as Bundle;
    const provenance = bundle.entry?.map((e) => e.resource).find((r): r is Provenance => r?.resourceType === 'Provenance' && r.id === `${onV2.pathwayId}.migration.${entry.seq}`);
    expect(provenance ?? bundle).toMatchObject({ reason: [{ text: 'Stricter conservative response' }], agent: [{ who: { identifier: { value: 'lead' } } }], entity: [{ role: 'revision' }, { role: 'source', what: { identifier: { value: simulation.body.simulationId } } }] });
  });

  it('refuses a migration whose simulated cohort has changed since', async () => {
    await enrol(`defs-${randomUUID()}`, 2);
    const version = (await call('GET', '/v1/definitions', { as: 'lead' })).body.items.filter((v: { status: string }) => v.status === 'published').at(-1).version;
    const simulation = await call('POST', `/v1/definitions/psps-lumbar/${version}/simulate`, { as: 'lead', body: { cohort: { careTeam: 'spine-defs', definitionVersion: 2 } } });
    await enrol(`defs-${randomUUID()}`, 2);
    const refused = await call('POST', `/v1/definitions/psps-lumbar/${version}/migrations`, { as: 'lead', body: { simulationId: simulation.body.simulationId, reason: 'move them' } });
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0]).toMatchObject({ field: 'simulationId', message: expect.stringContaining('cohort has changed') });
  });
});
