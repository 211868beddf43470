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
import { DIGEST_SCHEDULE_ID } from '../../temporal/digest-schedule';
import { temporal } from '@temporalio/proto';
import { eventually } from '../harness/pathway-driver';
import { embeddedDefaultEnv, ServiceProcess } from '../harness/service-process';

const Payload = temporal.api.common.v1.Payload;

const COORDINATOR = { authorization: 'Bearer local-coordinator-key', 'content-type': 'application/json' };
const CLINICIAN = { authorization: 'Bearer local-clinician-key', 'content-type': 'application/json' };

describe('embedded default service', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-embedded-'));
    env = await embeddedDefaultEnv(dataDir);
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
    // Ready once the worker's first polls reach the server.
    await eventually(() => fetch(`${api}/readyz`).then((r) => r.status), (status) => status === 200);
    // The Web UI the log points at answers.
    expect((await fetch(ready.temporalWebUi as string)).status).toBe(200);
    // The console, where the log says, offers the local roles' sign-in.
    expect(ready.console).toBe(`${api}/`);
    const home = await fetch(`${api}/`, { redirect: 'manual' });
    expect(home.status).toBe(303);
    expect(home.headers.get('location')).toBe('/sign-in?returnTo=%2F');
    const session = (await (await fetch(`${api}/auth/session`)).json()) as { methods: unknown };
    expect(session.methods).toEqual({ oidc: false, local: ['viewer', 'coordinator', 'clinician', 'lead'] });

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

    // A request's id reaches the log lines of the activity it caused (through a Temporal header).
    const urgent = await fetch(`${api}/v1/pathways`, {
      method: 'POST',
      headers: { ...COORDINATOR, 'x-request-id': 'req-embedded-urgent-1' },
      body: JSON.stringify({ patientRef: 'clinic-ref-0002', careTeam: 'spine-a', baseline: { painNrs: 9 }, redFlags: ['saddle-anaesthesia'] }),
    });
    expect(urgent.status).toBe(201);
    const delivered = await service.waitFor((l) => l.msg === 'care-team message kept on the worklist (no webhook configured)' && l.type === 'pathway.urgent-referral');
    expect(delivered.requestId).toBe('req-embedded-urgent-1');

    expect(await service.interrupt()).toBe(0);
    expect(service.lines.some((l) => l.msg === 'stopped')).toBe(true);
    // No log line carries the patient reference or a score.
    expect(service.output.join('\n')).not.toContain('clinic-ref-0001');

    service = ServiceProcess.start(env);
    const restartedReady = await service.waitFor((l) => l.msg === 'pathway service ready');
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

    // The codec endpoint decrypts that history for a clinician, and for no one else.
    const encoded = { payloads: [Payload.toObject(Payload.fromObject(input), { bytes: String })] };
    const decode = (headers: Record<string, string>, url = `${api}/codec/decode`) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify(encoded) });
    const decoded = await decode({ ...CLINICIAN, 'x-workflow-id': pathway.pathwayId });
    expect(decoded.status).toBe(200);
    const [plain] = ((await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
    expect(Buffer.from(plain!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(plain!.data, 'base64').toString())).toMatchObject({ enrollment: { baseline: { painNrs: 7, odi: 38 }, careTeam: 'spine-a' } });
    expect((await decode({})).status).toBe(401);
    expect((await decode({ authorization: 'Bearer local-coordinator-key' })).status).toBe(403);
    expect((await decode({ ...CLINICIAN, 'x-namespace': 'other' })).status).toBe(400);
    const used = await service.waitFor((l) => l.msg === 'codec used');
    expect(used).toMatchObject({ operation: 'decode', keyId: 'local-clinician', namespace: 'default', workflowId: pathway.pathwayId, payloads: 1 });

    // The dev server's Web UI calls it from its own origin, with a path of its own, and may send credentials.
    const uiOrigin = restartedReady.temporalWebUi as string;
    const preflight = await fetch(`${api}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: uiOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const elsewhere = await fetch(`${api}/codec/decode`, { method: 'OPTIONS', headers: { origin: 'http://elsewhere.test', 'access-control-request-method': 'POST' } });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
    const settings = (await (await fetch(`${uiOrigin}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    const uiEndpoint = settings.Codec?.Endpoint ?? '';
    expect(uiEndpoint).toMatch(new RegExp(`^${api}/codec/embedded-ui/[0-9a-f]{32}$`));
    expect((await decode({ origin: uiOrigin }, `${uiEndpoint}/decode`)).status).toBe(200);
    expect((await decode({}, `${api}/codec/embedded-ui/${'0'.repeat(32)}/decode`)).status).toBe(404);
    // A clinician signed in to the console may decode from an allowed Web UI origin with the session
    // cookie alone; another role may not, and without that origin the CSRF token is still required.
    const signedIn = async (role: string) =>
      (await fetch(`${api}/auth/local`, { method: 'POST', body: new URLSearchParams({ role }), redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
    const clinicianCookie = await signedIn('clinician');
    expect((await decode({ cookie: clinicianCookie, origin: uiOrigin })).status).toBe(200);
    expect((await decode({ cookie: await signedIn('coordinator'), origin: uiOrigin })).status).toBe(403);
    expect((await decode({ cookie: clinicianCookie })).status).toBe(403);
    expect((await decode({ cookie: clinicianCookie, origin: 'http://elsewhere.test' })).status).toBe(403);

    // Metrics on their own port: the service's and the Temporal SDK's worker metrics.
    const metrics = await (await fetch(restartedReady.metrics as string)).text();
    // Each series also carries this process's instance (host:pid), wherever prom-client puts it.
    const decodeCount = metrics.split('\n').find((l) => /^pathway_http_request_duration_seconds_count\{/.test(l) && ['method="POST"', 'route="/codec/decode"', 'status="200"'].every((label) => l.includes(label)));
    expect(decodeCount).toMatch(/instance="[^"]+:\d+"/);
    expect(Number(decodeCount!.split(' ').at(-1))).toBeGreaterThan(0);
    expect(metrics).toMatch(/^temporal_\w+/m);

    expect(await service.interrupt()).toBe(0);
    // Every line is JSON, the SDK's own included, and stopping logs no error.
    expect(service.output.filter((l) => l.trim() && !l.startsWith('{'))).toEqual([]);
    expect(service.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([]);
    expect(service.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      expect.stringMatching(/^using the local API keys/),
      expect.stringMatching(/^the console offers local sign-in/),
    ]);
    expect(service.output.join('\n')).not.toMatch(/IllegalStateError|broken pipe|\x1b\[/i);
  });
});
