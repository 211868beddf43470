/**
 * The embedded default end to end: `npm start`'s entry point starts its own Temporal dev server
 * with SQLite in a data folder, the worker and the API; a pathway enrolled over real HTTP is
 * still there, with its timeline, after Ctrl-C and a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_SCHEDULE_ID } from '../../worker/digest-schedule';
import { freePort, ServiceProcess } from '../harness/service-process';

const COORDINATOR = { authorization: 'Bearer local-coordinator-key', 'content-type': 'application/json' };
const CLINICIAN = { authorization: 'Bearer local-clinician-key', 'content-type': 'application/json' };

describe('embedded default service', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-embedded-'));
    env = {
      PATHWAY_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      TEMPORAL_DEV_SERVER_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: '',
    };
  });

  afterAll(() => {
    service?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, serves a pathway, stops on Ctrl-C and keeps the pathway across a restart', async () => {
    service = ServiceProcess.start(env);
    const ready = await service.waitFor((l) => l.msg === 'pathway service ready');
    const api = ready.api as string;
    expect(api).toBe(`http://127.0.0.1:${env.PORT}`);
    expect(ready.temporalWebUi).toBe(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}`);

    expect(await (await fetch(`${api}/healthz`)).json()).toEqual({ status: 'ok' });
    const readyz = await fetch(`${api}/readyz`);
    expect(readyz.status).toBe(200);
    // The Web UI the log points at answers.
    expect((await fetch(ready.temporalWebUi as string)).status).toBe(200);
    // The console, where the log says, offers the local roles' sign-in.
    expect(ready.console).toBe(`${api}/`);
    const home = await fetch(`${api}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/sign-in?returnTo=%2F');
    const session = (await (await fetch(`${api}/auth/session`)).json()) as { methods: unknown };
    expect(session.methods).toEqual({ oidc: false, local: ['viewer', 'coordinator', 'clinician'] });

    const enrolled = await fetch(`${api}/v1/pathways`, {
      method: 'POST',
      headers: COORDINATOR,
      body: JSON.stringify({ patientRef: 'clinic-ref-0001', careTeam: 'spine-a', baseline: { painNrs: 7, odi: 38 } }),
    });
    expect(enrolled.status).toBe(201);
    const { pathway } = (await enrolled.json()) as { pathway: { pathwayId: string; stage: string; due: { kind: string } } };
    expect(pathway.stage).toBe('conservative');
    expect(pathway.due.kind).toBe('reassessment');

    const reassessed = await fetch(`${api}/v1/pathways/${pathway.pathwayId}/reassessments`, {
      method: 'POST',
      headers: CLINICIAN,
      body: JSON.stringify({ painNrs: 4, odi: 30 }),
    });
    expect(reassessed.status).toBe(200);
    const before = (await (await fetch(`${api}/v1/pathways/${pathway.pathwayId}`, { headers: CLINICIAN })).json()) as { pathway: { timeline: unknown[]; consecutiveResponses: number } };
    expect(before.pathway.consecutiveResponses).toBe(1);

    expect(await service.interrupt()).toBe(0);
    expect(service.lines.some((l) => l.msg === 'stopped')).toBe(true);
    // No log line carries the patient reference or a score.
    expect(service.output.join('\n')).not.toContain('clinic-ref-0001');

    service = ServiceProcess.start(env);
    await service.waitFor((l) => l.msg === 'pathway service ready');
    const after = await fetch(`${api}/v1/pathways/${pathway.pathwayId}`, { headers: CLINICIAN });
    expect(after.status).toBe(200);
    const restored = (await after.json()) as { pathway: { timeline: unknown[]; consecutiveResponses: number } };
    expect(restored.pathway.timeline).toEqual(before.pathway.timeline);
    expect(restored.pathway.consecutiveResponses).toBe(1);

    // Two starts, one daily-digest schedule.
    const connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_DEV_SERVER_PORT}` });
    const raw = new Client({ connection });
    const schedules: string[] = [];
    for await (const s of raw.schedule.list()) schedules.push(s.scheduleId);
    expect(schedules).toEqual([DIGEST_SCHEDULE_ID]);
    // What Temporal stores is encrypted: a client without the key sees no scores.
    const history = await raw.workflow.getHandle(pathway.pathwayId).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(input.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(JSON.stringify(history)).not.toContain('painNrs');
    await connection.close();
    expect(await service.interrupt()).toBe(0);
  });
});
