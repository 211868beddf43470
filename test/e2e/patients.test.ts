/**
 * Who the patient is (issue 19, part 1), through real HTTP on the dev server: the care team sees
 * name and reference, viewers never; every disclosure, correction and erasure is an access entry a
 * clinician (a clinical lead) can list; identity rests only encrypted in the record store, goes
 * with the record at retention, and never reaches Temporal, the logs or the metrics.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoteCipher } from '../../record/note-cipher';
import { discloseIdentities, eraseIdentity, recordIdentity } from '../../record/patients';
import { purgeExpired } from '../../record/retention';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { scrape } from '../harness/metrics';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;
const team = `pt-${randomUUID().slice(0, 8)}`;

/** A patient whose every detail is unique to this run, so a scan finds only what this test put there. */
function newPatient() {
  const tag = randomBytes(4).toString('hex');
  return {
    patientRef: `MRN-${tag}-${randomUUID().slice(0, 8)}`,
    patient: {
      name: `Maria Zabaleta ${tag}`,
      birthDate: '1961-04-23',
      contact: { mobile: `+44770090${String(parseInt(tag.slice(0, 4), 16) % 10000).padStart(4, '0')}`, email: `m.zabaleta.${tag}@example.org`, language: 'es' as const },
    },
  };
}
type Patient = ReturnType<typeof newPatient>;
const secretsOf = (p: Patient) => [p.patientRef, p.patient.name, p.patient.contact.mobile, p.patient.contact.email];

async function enrol(p: Patient, as: 'coordinator' | 'teamACoordinator' = 'coordinator', careTeam = team) {
  const res = await call('POST', '/v1/pathways', { as, body: { ...p, careTeam, baseline: { painNrs: 8, odi: 44 } } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.pathway as { pathwayId: string; patient?: unknown };
}

const accessLog = async (pathwayId: string) => {
  const res = await call('GET', `/v1/pathways/${pathwayId}/access-log`, { as: 'clinician' });
  expect(res.status).toBe(200);
  return res.body.items as Array<{ action: string; actor: { id: string; role: string }; route: string; fields?: string[]; requestId?: string }>;
};

beforeAll(async () => {
  api = await startApi();
  call = http(api);
});
afterAll(async () => {
  await api?.stop();
});

describe('who the patient is, to those who treat them', () => {
  it('shows name and reference to coordinators and clinicians of the care team, and never to viewers or other teams', async () => {
    const p = newPatient();
    const enrolled = await enrol(p);
    const identity = { reference: p.patientRef, ...p.patient };
    expect(enrolled.patient).toEqual(identity);
    const id = enrolled.pathwayId;
    expect(id).not.toContain(p.patientRef);

    for (const as of ['coordinator', 'clinician'] as const) {
      expect((await call('GET', `/v1/pathways/${id}`, { as })).body.pathway.patient).toEqual(identity);
      expect((await call('POST', '/v1/pathways/lookup', { as, body: { patientRef: p.patientRef } })).body.pathway.patient).toEqual(identity);
      const listed = (await call('GET', `/v1/pathways?careTeam=${team}`, { as })).body.items.find((i: { pathwayId: string }) => i.pathwayId === id);
      expect(listed.patient).toEqual({ reference: p.patientRef, name: p.patient.name });
      const work = (await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as })).body.items.find((i: { pathwayId: string }) => i.pathwayId === id);
      expect(work.patient).toEqual({ reference: p.patientRef, name: p.patient.name });
    }
    // A viewer (a dashboard) reads the same pathway with no one's identity in any answer.
    const viewed = [
      await call('GET', `/v1/pathways/${id}`, { as: 'viewer' }),
      await call('POST', '/v1/pathways/lookup', { as: 'viewer', body: { patientRef: p.patientRef } }),
      await call('GET', `/v1/pathways?careTeam=${team}`, { as: 'viewer' }),
      await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as: 'viewer' }),
    ];
    for (const res of viewed) {
      expect(res.status).toBe(200);
      for (const secret of secretsOf(p)) expect(JSON.stringify(res.body)).not.toContain(secret);
    }
    expect(viewed[0]!.body.pathway.pathwayId).toBe(id);
    // Another care team's coordinator learns nothing, not even that the pathway exists.
    const other = await call('GET', `/v1/pathways/${id}`, { as: 'teamACoordinator' });
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain(p.patient.name);
    expect((await call('GET', `/v1/worklist?dueSoonDays=60`, { as: 'teamACoordinator' })).body.items.some((i: { pathwayId: string }) => i.pathwayId === id)).toBe(false);
  });

  it('records every disclosure, correction and erasure: who, when, which pathway and why; a clinician lists them', async () => {
    const p = newPatient();
    const { pathwayId: id } = await enrol(p);
    await call('GET', `/v1/pathways/${id}`, { as: 'coordinator', headers: { 'x-request-id': 'req-audit-get-1' } });
    await call('GET', `/v1/pathways/${id}`, { as: 'viewer' });
    await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as: 'clinician' });
    const entries = await accessLog(id);
    const summary = entries.map((e) => `${e.action} ${e.actor.id} ${e.route}`).reverse();
    expect(summary).toEqual([
      'recorded coordinator POST /v1/pathways',
      'disclosed coordinator POST /v1/pathways',
      'disclosed coordinator GET /v1/pathways/{pathwayId}',
      'disclosed clinician GET /v1/worklist',
    ]);
    expect(entries.find((e) => e.route === 'GET /v1/pathways/{pathwayId}')!.requestId).toBe('req-audit-get-1');
    // The access log names no patient, and only a clinician (a clinical lead) reads it.
    for (const secret of secretsOf(p)) expect(JSON.stringify(entries)).not.toContain(secret);
    expect((await call('GET', `/v1/pathways/${id}/access-log`, { as: 'coordinator' })).status).toBe(403);
    expect((await call('GET', `/v1/pathways/${id}/access-log`, { as: 'viewer' })).status).toBe(403);
    expect((await call('GET', `/v1/pathways/${id}/access-log`, { as: 'teamAClinician' })).status).toBe(404);

    // A coordinator corrects the name and contact; the entry names the fields, never their values.
    const corrected = await call('PATCH', `/v1/pathways/${id}/patient`, {
      as: 'coordinator',
      body: { name: 'María Zabaleta Ruiz', contact: { mobile: '+34600111222', language: 'es' }, birthDate: null },
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body.patient).toEqual({ reference: p.patientRef, name: 'María Zabaleta Ruiz', contact: { mobile: '+34600111222', language: 'es' } });
    expect((await call('GET', `/v1/pathways/${id}`, { as: 'clinician' })).body.pathway.patient.name).toBe('María Zabaleta Ruiz');
    const [latest, correction] = await accessLog(id);
    expect(latest).toMatchObject({ action: 'disclosed', actor: { id: 'clinician' } });
    expect(correction).toMatchObject({ action: 'corrected', actor: { id: 'coordinator', role: 'coordinator' }, route: 'PATCH /v1/pathways/{pathwayId}/patient', fields: ['birthDate', 'contact', 'name'] });
    expect(JSON.stringify(correction)).not.toContain('Ruiz');
    // Refused corrections change nothing.
    expect((await call('PATCH', `/v1/pathways/${id}/patient`, { as: 'viewer', body: { name: 'X' } })).status).toBe(403);
    const bad = await call('PATCH', `/v1/pathways/${id}/patient`, { as: 'coordinator', body: { contact: { mobile: '07700 900123' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'contact.mobile' })]);
    expect(JSON.stringify(bad.body)).not.toContain('07700');
    expect((await call('PATCH', `/v1/pathways/${id}/patient`, { as: 'coordinator', body: {} })).status).toBe(400);
    expect((await call('PATCH', `/v1/pathways/${id}/patient`, { as: 'teamACoordinator', body: { name: 'Y' } })).status).toBe(404);
    expect((await call('GET', `/v1/pathways/${id}`, { as: 'clinician' })).body.pathway.patient.name).toBe('María Zabaleta Ruiz');

    // Erasure on request: the identity goes, the de-identified record stays, the erasure is an entry.
    expect(await eraseIdentity(api.record.store.db, id, { actorId: 'command:records-officer', actorRole: 'system', route: 'npm run erase-patient' })).toBe(true);
    const after = await call('GET', `/v1/pathways/${id}`, { as: 'clinician' });
    expect(after.status).toBe(200);
    expect(after.body.pathway.patient).toBeUndefined();
    expect(after.body.pathway.baseline).toMatchObject({ painNrs: 8, odi: 44 });
    expect((await accessLog(id))[0]).toMatchObject({ action: 'erased', actor: { id: 'command:records-officer' }, route: 'npm run erase-patient' });
    expect(await eraseIdentity(api.record.store.db, id, { actorId: 'x', actorRole: 'system', route: 'again' })).toBe(false);
  });

  it('keeps identity only encrypted at rest, readable after a key rotation, and deletes it with the record at retention', async () => {
    const p = newPatient();
    const { pathwayId: id } = await enrol(p);
    const db = api.record.store.db;
    // Every table of the record store, read raw as text: no detail in the clear anywhere.
    const tables = (await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = current_schema()`.execute(db)).rows.map((r) => r.tablename);
    expect(tables).toEqual(expect.arrayContaining(['patient_identities', 'access_entries', 'pathways', 'timeline_entries']));
    for (const table of tables) {
      const text = (await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(db)).rows.map((r) => r.row).join('\n');
      for (const secret of secretsOf(p)) expect(text, `${table} holds a patient detail in the clear`).not.toContain(secret);
    }
    const row = await db.selectFrom('patient_identities').select('identity_enc').where('pathway_id', '=', id).executeTakeFirstOrThrow();
    // Positive control: the sealed row is this patient, sealed as notes are (AES-GCM, tagged with the key's id).
    expect(row.identity_enc).toMatch(/^v1\.[0-9a-f]{16}\./);
    expect(JSON.parse(api.record.cipher.decrypt(row.identity_enc))).toMatchObject({ reference: p.patientRef, name: p.patient.name });
    // Rotation as for notes: after the payload key changes, the previous key still opens what it sealed.
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const rotatedId = `pw-${randomBytes(16).toString('hex')}`;
    const who = { actorId: 'test', actorRole: 'system', route: 'test' };
    await recordIdentity(db, new NoteCipher(oldKey), rotatedId, { reference: p.patientRef, name: p.patient.name }, who);
    expect((await discloseIdentities(db, new NoteCipher(newKey, [oldKey]), [rotatedId], who)).get(rotatedId)?.name).toBe(p.patient.name);
    await expect(discloseIdentities(db, new NoteCipher(newKey), [rotatedId], who)).rejects.toThrow(/PATHWAY_PAYLOAD_PREVIOUS_KEYS/);
    await db.deleteFrom('patient_identities').where('pathway_id', '=', rotatedId).execute();

    // Retention: once the closed pathway's record is deleted, so is who the patient was.
    const withdrawn = await call('POST', `/v1/pathways/${id}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'moved away' } });
    expect(withdrawn.status).toBe(200);
    await db.updateTable('pathways').set({ closed_at: new Date(Date.now() - 400 * 86_400_000) }).where('pathway_id', '=', id).execute();
    await purgeExpired(db, { recordRetentionDays: 365, idempotencyKeyDays: 30 });
    expect(await db.selectFrom('pathways').select('pathway_id').where('pathway_id', '=', id).execute()).toEqual([]);
    expect(await db.selectFrom('patient_identities').select('pathway_id').where('pathway_id', '=', id).execute()).toEqual([]);
  });

  it('never puts identity into Temporal (histories, search attributes, memos), the logs or the metrics', async () => {
    const p = newPatient();
    const { pathwayId: id } = await enrol(p);
    await call('POST', `/v1/pathways/${id}/reassessments`, { as: 'clinician', body: { painNrs: 6, odi: 40 } });
    await call('PATCH', `/v1/pathways/${id}/patient`, { as: 'coordinator', body: { name: `${p.patient.name} Jr` } });
    await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as: 'coordinator' });
    await call('POST', '/v1/pathways/lookup', { as: 'viewer', body: { patientRef: p.patientRef } });
    const handle = api.env.client.workflow.getHandle(id);
    const history = await handle.fetchHistory();
    // Every string of the history also read as base64 (payloads; the dev-server harness stores them unencrypted, the strictest case).
    const strings: string[] = [];
    JSON.stringify(history, (_k, v: unknown) => {
      if (v instanceof Uint8Array) strings.push(Buffer.from(v).toString('utf8'));
      else if (typeof v === 'string') strings.push(v, Buffer.from(v, 'base64').toString('utf8'));
      return v;
    });
    const historyText = strings.join('\n');
    const described = await handle.describe();
    const visibility = JSON.stringify({ searchAttributes: described.searchAttributes, memo: described.memo, typed: described.typedSearchAttributes });
    const metrics = (await scrape(api.metricsUrl)).text;
    const logs = JSON.stringify(api.logger.lines);
    // Positive controls: the scan reads the payloads (the care team and the scores are there) and what it scans is this pathway's.
    expect(historyText).toContain(team);
    expect(historyText).toContain('"painNrs":6');
    expect(visibility).toContain(team);
    expect(logs).toContain('/v1/pathways/{pathwayId}/patient');
    expect(metrics).toContain('pathway_http_request_duration_seconds');
    // ...and it would find a detail if one were there: the answers the care team got carry them.
    const answer = JSON.stringify((await call('GET', `/v1/pathways/${id}`, { as: 'coordinator' })).body);
    for (const secret of secretsOf(p)) expect(answer).toContain(secret);
    for (const [where, text] of Object.entries({ history: historyText, visibility, metrics, logs })) {
      for (const secret of secretsOf(p)) expect(text, `${where} holds ${secret}`).not.toContain(secret);
    }
  });
});
