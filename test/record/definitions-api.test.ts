/**
 * Pathway definitions as records, through the API over real HTTP on a real record store: the
 * built-in versions are published at start, a lead makes a draft, changes it (refused with the
 * field path when it fails clinical sanity), publishes it with a reason, retires one; a published
 * version never changes; others see no drafts and may not author.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import { PathwayService } from '../../api/pathways-service';
import { loadDefinitions, type DefinitionRegistry } from '../../clinical/registry';
import { attachRegistry } from '../../record/definitions';
import type { RecordStore } from '../../record/store';
import { CapturingLogger, http, listen, testKeyStore } from '../harness/api';
import { freshRecordStore, testCipher } from '../harness/record-store';
import { PurePathway } from '../harness/recorded-pathways';

let store: RecordStore;
let server: Server;
let definitions: DefinitionRegistry;
let call: ReturnType<typeof http>;

beforeAll(async () => {
  store = await freshRecordStore('embedded');
  definitions = loadDefinitions();
  const record = { store, cipher: testCipher() };
  // These routes never call Temporal: a client that is never used.
  const pathways = new PathwayService({ client: {} as Client, taskQueue: 'unused', definitions, patientKey: 'k'.repeat(64), record });
  server = await listen(createApp({ pathways, definitions, apiKeys: testKeyStore(), logger: new CapturingLogger(), isTemporalReachable: async () => true, record }));
  call = http({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});

afterAll(async () => {
  server?.close();
  await store?.close();
});

describe('definition versions', () => {
  it('lists the built-in versions as published, brought with the service', async () => {
    const list = await call('GET', '/v1/definitions', { as: 'viewer' });
    expect(list.status).toBe(200);
    expect(list.body.items.map((v: any) => [v.id, v.version, v.status, v.published?.by])).toEqual([
      ['psps-lumbar', 1, 'published', 'built-in'],
      ['psps-lumbar', 2, 'published', 'built-in'],
    ]);
  });

  it('takes a lead from a draft to a published version, with who and why, and a readable diff', async () => {
    const draft = await call('POST', '/v1/definitions/psps-lumbar/2/drafts', { as: 'lead', body: {} });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    expect(draft.body).toMatchObject({ id: 'psps-lumbar', version: 3, status: 'draft', basedOn: 2, createdBy: 'lead' });
    expect(draft.headers.get('location')).toBe('/v1/definitions/psps-lumbar/3');

    // Not a lead: no drafts seen, none made.
    expect((await call('GET', '/v1/definitions', { as: 'clinician' })).body.items.map((v: any) => v.version)).toEqual([1, 2]);
    expect((await call('GET', '/v1/definitions/psps-lumbar/3', { as: 'clinician' })).status).toBe(404);
    expect((await call('POST', '/v1/definitions/psps-lumbar/2/drafts', { as: 'clinician', body: {} })).status).toBe(403);

    const changed = structuredClone(draft.body.definition);
    changed.stages.conservative.response.painReductionPercent = 95;
    changed.stages.interventional.reassessAfterProcedureDays = 0;
    const refused = await call('PUT', '/v1/definitions/psps-lumbar/3', { as: 'lead', body: changed });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: any) => e.field)).toEqual(['stages.interventional.reassessAfterProcedureDays']);
    changed.stages.interventional.reassessAfterProcedureDays = 28;
    const insane = await call('PUT', '/v1/definitions/psps-lumbar/3', { as: 'lead', body: changed });
    expect(insane.status).toBe(400);
    expect(insane.body.errors).toEqual([{ field: 'stages.conservative.response.painReductionPercent', message: expect.stringContaining('between 10 and 90') }]);
    const validate = await call('POST', '/v1/definitions/validate', { as: 'lead', body: changed });
    expect(validate.body).toMatchObject({ valid: false, errors: [{ field: 'stages.conservative.response.painReductionPercent' }] });

    changed.stages.conservative.response.painReductionPercent = 50;
    const saved = await call('PUT', '/v1/definitions/psps-lumbar/3', { as: 'lead', body: changed });
    expect(saved.status).toBe(200);
    expect(saved.body.rules.find((r: any) => r.id === 'response.conservative').sentence).toContain('at least 50%');

    const diff = await call('GET', '/v1/definitions/psps-lumbar/diff?from=2&to=3', { as: 'lead' });
    expect(diff.body.changes).toEqual([
      { field: 'stages.conservative.response.painReductionPercent', from: 30, to: 50, text: 'stages.conservative.response.painReductionPercent: 30 → 50' },
    ]);

    expect((await call('POST', '/v1/definitions/psps-lumbar/3/publish', { as: 'clinician', body: { reason: 'stricter response' } })).status).toBe(403);
    expect((await call('POST', '/v1/definitions/psps-lumbar/3/publish', { as: 'lead', body: {} })).body.errors[0].field).toBe('reason');
    const published = await call('POST', '/v1/definitions/psps-lumbar/3/publish', { as: 'lead', body: { reason: 'Stricter response in conservative care (audit 2026)' } });
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ status: 'published', published: { by: 'lead', reason: 'Stricter response in conservative care (audit 2026)' } });
    // New enrolments in this process take it at once.
    expect(definitions.forEnrolment('psps-lumbar')?.version).toBe(3);

    // Published: immutable, and published once.
    changed.stages.conservative.response.painReductionPercent = 40;
    expect((await call('PUT', '/v1/definitions/psps-lumbar/3', { as: 'lead', body: changed })).status).toBe(409);
    expect((await call('POST', '/v1/definitions/psps-lumbar/3/publish', { as: 'lead', body: { reason: 'again' } })).status).toBe(409);
    expect((await call('GET', '/v1/definitions/psps-lumbar/3', { as: 'viewer' })).body.definition.stages.conservative.response.painReductionPercent).toBe(50);
  });

  it('tries v3 on past patients: the recorded v2 pathways whose decisions change, and the cohort figures', async () => {
    const v2 = definitions.get('psps-lumbar', 2)!;
    const T0 = Date.UTC(2026, 0, 5, 9);
    // Baseline pain 10; at day 43 pain 7 (30%: responding on v2, not on v3), 5 (50%: both), 8 (neither).
    const recorded = [7, 5, 8].map((pain, i) => {
      const p = new PurePathway(`sim-api-${i}`, v2, { at: T0 + i * 60_000, careTeam: i === 2 ? 'team-b' : 'team-a' });
      p.reassess(43, { painNrs: pain, odi: 50 });
      if (p.state.stage === 'conservative') p.reassess(85, { painNrs: pain, odi: 50 });
      return p;
    });
    for (const p of recorded) await p.write(store.db, testCipher());

    const asClinician = await call('POST', '/v1/definitions/psps-lumbar/3/simulate', { as: 'clinician', body: {} });
    expect(asClinician.status).toBe(403);
    const res = await call('POST', '/v1/definitions/psps-lumbar/3/simulate', { as: 'lead', body: { cohort: { definitionVersion: 2 } } });
    expect(res.status).toBe(201);
    expect(res.body.summary).toMatchObject({ pathways: 3, differing: 1, recorded: { completed: 2 }, candidate: { completed: 1 } });
    expect(res.body.differing.map((d: any) => d.enrolmentId)).toEqual(['sim-api-0']);
    expect(res.body.differing[0].firstDifference).toMatchObject({ ruleId: 'response.conservative', recorded: { numbers: { painThresholdPercent: 30 } }, simulated: { numbers: { painThresholdPercent: 50 } } });

    // Side by side: the same decisions up to the reassessment at day 43, which v3 judges otherwise.
    const compared = await call('GET', `/v1/definitions/psps-lumbar/3/compare/${recorded[0]!.state.pathwayId}`, { as: 'lead' });
    expect(compared.status).toBe(200);
    const first = compared.body.firstDifference;
    expect(compared.body.recorded.slice(0, first).map((d: any) => d.event)).toEqual(compared.body.simulated.slice(0, first).map((d: any) => d.event));
    expect([compared.body.recorded[first].summary, compared.body.simulated[first].summary]).toEqual(['Reassessment: responding.', 'Reassessment: not responding.']);
    expect((await call('GET', `/v1/definitions/psps-lumbar/3/compare/pw-${'f'.repeat(32)}`, { as: 'lead' })).status).toBe(404);
    expect((await call('GET', `/v1/definitions/psps-lumbar/3/compare/${recorded[0]!.state.pathwayId}`, { as: 'clinician' })).status).toBe(403);

    const byTeam = await call('POST', '/v1/definitions/psps-lumbar/3/simulate', { as: 'lead', body: { cohort: { careTeam: 'team-b' } } });
    expect(byTeam.body.summary).toMatchObject({ pathways: 1, differing: 0 });
    const kept = await call('GET', res.headers.get('location')!, { as: 'lead' });
    expect(kept.body.results).toHaveLength(3);
    expect(kept.body.cohortDigest).toMatch(/^[0-9a-f]{64}$/);
    expect((await call('POST', '/v1/definitions/psps-lumbar/3/simulate', { as: 'lead', body: { cohort: { pathwayIds: ['not-a-pathway'] } } })).body.errors[0].field).toBe('cohort.pathwayIds.0');
  });

  it('retires a version (no new enrolments on it) but never the only published one', async () => {
    const retired = await call('POST', '/v1/definitions/psps-lumbar/1/retire', { as: 'lead', body: { reason: 'superseded by v2' } });
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ status: 'retired', retired: { by: 'lead', reason: 'superseded by v2' } });
    expect(definitions.forEnrolment('psps-lumbar', 1)).toBeUndefined();
    expect(definitions.get('psps-lumbar', 1)?.version).toBe(1); // pathways on it still read it
    expect((await call('POST', '/v1/definitions/psps-lumbar/2/retire', { as: 'lead', body: { reason: 'superseded by v3' } })).status).toBe(200);
    const last = await call('POST', '/v1/definitions/psps-lumbar/3/retire', { as: 'lead', body: { reason: 'no more' } });
    expect(last.status).toBe(409);
    expect(last.body.detail).toContain('only published version');
  });

  it('another process (another registry on the same store) sees what was published on its next look', async () => {
    const other = loadDefinitions();
    await attachRegistry(other, store.db);
    expect(other.forEnrolment('psps-lumbar')?.version).toBe(3);
    expect(other.statusOf('psps-lumbar', 1)).toBe('retired');
  });

  it('refuses to start with a built-in version that differs from the published one', async () => {
    const changed = loadDefinitions();
    const v2 = structuredClone(changed.get('psps-lumbar', 2)!);
    v2.stages.scs.trialDays = 8;
    changed.put(v2, 'published');
    await expect(attachRegistry(changed, store.db)).rejects.toThrow(/differs from the version published/);
  });
});
