/**
 * The patient's journey with `npm start` alone (the embedded default in a child process, LOG_LEVEL
 * debug): enrol with identity, send the questionnaire, open it from the local outbox and answer
 * it; then scan the process's whole log output, its metrics and the Temporal history (through a
 * client without the payload key, and decrypted through the codec endpoint) for the patient's
 * name, reference, phone and email. The API answers carry them: the positive control.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../harness/pathway-driver';
import { embeddedDefaultEnv, ServiceProcess } from '../harness/service-process';

const COORDINATOR = { authorization: 'Bearer local-coordinator-key', 'content-type': 'application/json' };
const CLINICIAN = { authorization: 'Bearer local-clinician-key', 'content-type': 'application/json' };

describe("the patient's journey on the embedded default", () => {
  let dataDir: string;
  let env: Record<string, string>;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pathway-patients-'));
    env = await embeddedDefaultEnv(dataDir, { LOG_LEVEL: 'debug' });
  });

  afterAll(() => {
    service?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves the name, reference, phone and email in no log line, metric or history', async () => {
    service = ServiceProcess.start(env);
    const ready = await service.waitFor((l) => l.msg === 'pathway service ready');
    const api = ready.api as string;
    expect(ready.patientOutbox).toBe(`${api}/outbox`);
    await eventually(() => fetch(`${api}/readyz`).then((r) => r.status), (status) => status === 200);

    const tag = randomBytes(4).toString('hex');
    const secrets = { ref: `MRN-LEAK-${tag}`, name: `Zelda Quibble ${tag}`, mobile: `+4477009${String(parseInt(tag.slice(0, 5), 16) % 100000).padStart(5, '0')}`, email: `zq.${tag}@example.org` };
    const enrolled = await fetch(`${api}/v1/pathways`, {
      method: 'POST',
      headers: COORDINATOR,
      body: JSON.stringify({ patientRef: secrets.ref, patient: { name: secrets.name, contact: { mobile: secrets.mobile, email: secrets.email, language: 'en' } }, careTeam: 'spine-a', baseline: { painNrs: 7, odi: 38 } }),
    });
    expect(enrolled.status).toBe(201);
    const answer = await enrolled.text();
    // Positive control: the care team's answer carries every detail the scan looks for.
    for (const s of Object.values(secrets)) expect(answer).toContain(s);
    const { pathwayId } = (JSON.parse(answer) as { pathway: { pathwayId: string } }).pathway;

    expect((await fetch(`${api}/v1/pathways/${pathwayId}/questionnaires`, { method: 'POST', headers: COORDINATOR, body: '{}' })).status).toBe(201);
    const outbox = await (await fetch(`${api}/outbox`)).text();
    const link = /href="([^"]+\/p\/[^"]+)"/.exec(outbox)![1]!;
    expect((await fetch(link)).status).toBe(200);
    const fields: Record<string, string> = { 'pain-nrs.pain': '5', 'pgic.pgic': '3' };
    for (const s of ['pain-intensity', 'personal-care', 'lifting', 'walking', 'sitting', 'standing', 'sleeping', 'sex-life', 'social-life', 'travelling']) fields[`odi.${s}`] = '2';
    for (const f of ['bladder-bowel-dysfunction', 'saddle-anaesthesia', 'bilateral-leg-weakness', 'sexual-dysfunction', 'progressive-motor-deficit', 'infection', 'suspected-fracture', 'suspected-malignancy']) fields[`red-flag-screen.${f}`] = 'no';
    const posted = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    expect(posted.status).toBe(200);
    const pathway = (await (await fetch(`${api}/v1/pathways/${pathwayId}`, { headers: CLINICIAN })).json()) as { pathway: { reassessments: Array<{ odi: number }> } };
    expect(pathway.pathway.reassessments[0]!.odi).toBe(40);
    await fetch(`${api}/v1/worklist?dueSoonDays=60`, { headers: COORDINATOR });
    await fetch(`${api}/v1/pathways/${pathwayId}/patient`, { method: 'PATCH', headers: COORDINATOR, body: JSON.stringify({ name: `${secrets.name} Jr` }) });

    // The history, as stored (encrypted) and decrypted by the codec for a clinician.
    const connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_DEV_SERVER_PORT}` });
    const history = await new Client({ connection }).workflow.getHandle(pathwayId).fetchHistory();
    const described = await new Client({ connection }).workflow.getHandle(pathwayId).describe();
    await connection.close();
    const payloads: Array<{ metadata: Record<string, string>; data: string }> = [];
    JSON.stringify(history, (k, v: unknown) => {
      if (v && typeof v === 'object' && 'data' in v && 'metadata' in v) {
        const p = v as { metadata: Record<string, unknown>; data: unknown };
        const b64 = (x: unknown) => (typeof x === 'string' ? x : Buffer.from(x as Uint8Array).toString('base64'));
        payloads.push({ metadata: Object.fromEntries(Object.entries(p.metadata).map(([mk, mv]) => [mk, b64(mv)])), data: b64(p.data) });
      }
      return v;
    });
    const decoded = await fetch(`${api}/codec/decode`, { method: 'POST', headers: { ...CLINICIAN, 'x-namespace': 'default' }, body: JSON.stringify({ payloads }) });
    expect(decoded.status).toBe(200);
    const plain = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
    // Positive control: the decrypted history is this pathway's (its care team and scores are there).
    expect(plain).toContain('spine-a');
    expect(plain).toContain('"painNrs":5');
    const metrics = await (await fetch(`http://127.0.0.1:${env.PATHWAY_METRICS_PORT}/metrics`)).text();
    expect(metrics).toContain('pathway_http_request_duration_seconds');
    const logs = service.output.join('\n');
    expect(logs).toContain('/v1/pathways/{pathwayId}/patient');
    const places = { logs, metrics, history: JSON.stringify(history), decryptedHistory: plain, visibility: JSON.stringify({ sa: described.searchAttributes, memo: described.memo }) };
    for (const [where, text] of Object.entries(places)) {
      for (const [what, secret] of Object.entries(secrets)) expect(text.includes(secret), `${what} in ${where}`).toBe(false);
    }
    expect(await service.interrupt()).toBe(0);
  });
});
