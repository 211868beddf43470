/**
 * The workflow asks the patient at the definition's times (patch 'patient-invitations'), on the
 * time-skipping server with a worker and PostgreSQL: the link 7 days before a reassessment, a
 * reminder 3 days later (a new link; only hashes are kept), "not answered by the patient" at the
 * due date; an answer stops the reminders; nothing about the patient passes through Temporal.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathwayService } from '../../api/pathways-service';
import { loadDefinitions } from '../../clinical/registry';
import { createPatients, type Patients } from '../../patients';
import { recordIdentity } from '../../record/patients';
import { invitationsOf } from '../../record/questionnaires';
import { PathwayDriver } from '../harness/pathway-driver';
import { freshRecordStore, testCipher } from '../harness/record-store';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';
import type { RecordDeps } from '../../activities';

const V2 = loadDefinitions().get('psps-lumbar', 2)!;
let env: TestWorkflowEnvironment;
let record: RecordDeps;
let patients: Patients;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;

beforeAll(async () => {
  env = await connectTimeSkipping();
  record = { store: await freshRecordStore('postgresql'), cipher: testCipher(), idempotencyKeyDays: 30 };
  patients = createPatients({
    record,
    change: async () => {
      throw new Error('not in this test');
    },
    publicUrl: () => 'http://pathway.test',
    production: false,
  });
  worker = await startPathwayWorker(env, new RecordingChannel(), { record, patients: patients.questionnaires });
});
afterAll(async () => {
  await worker?.stop();
  await record?.store.close();
  await disconnectTimeSkipping(env);
});

async function enrolWithContact(): Promise<PathwayDriver> {
  const pathwayId = `pw-${randomUUID().replace(/-/g, '')}`;
  // Who the patient is goes to the record store only, as the API does at enrolment.
  await recordIdentity(record.store.db, record.cipher, pathwayId, { reference: `MRN-${randomUUID()}`, name: 'Ines Okafor', contact: { mobile: '+447700900222', language: 'en' } }, { actorId: 'test', actorRole: 'coordinator', route: 'test' });
  return PathwayDriver.enroll(env, worker.taskQueue, { definition: V2, pathwayId });
}

const outbox = async (pathwayId: string) =>
  (await record.store.db.selectFrom('patient_messages').select(['kind', 'invitation_id']).where('pathway_id', '=', pathwayId).orderBy('created_at').execute()).map((m) => m.kind);

describe('timed questionnaires', () => {
  it('sends the link 7 days before the reassessment, a reminder 3 days later, and marks it not answered at the due date', async () => {
    const p = await enrolWithContact();
    const dueAt = (await p.state()).due!.dueAt;
    await p.passDays(34);
    expect(await invitationsOf(record.store.db, p.id)).toEqual([]);

    await p.passDays(1.5); // day 35.5: 6.5 days before the due date
    const [invited] = await eventuallyInvited(p.id, 1);
    expect(invited).toMatchObject({ state: 'sent', dueAt, issuedBy: 'pathway-rules', delivery: 'delivered' });
    expect(await outbox(p.id)).toEqual(['invitation']);

    await p.passDays(3); // day 38.5
    const afterReminder = await eventuallyInvited(p.id, 2);
    expect(afterReminder.map((i) => i.state)).toEqual(['reminded', 'replaced']);
    expect(await outbox(p.id)).toEqual(['invitation', 'reminder']);

    await p.passDays(4); // day 42.5: past the due date, unanswered
    await waitFor(async () => (await invitationsOf(record.store.db, p.id))[0]!.missedAt !== null);
    // The worklist says so, for a coordinator to call.
    const service = new PathwayService({ client: env.client, taskQueue: worker.taskQueue, definitions: loadDefinitions(), patientKey: 'k'.repeat(32), record });
    const { items } = await service.worklist({ dueSoonDays: 60, pageSize: 500 }, {});
    expect(items.find((i) => i.pathwayId === p.id)).toMatchObject({ notAnsweredByPatient: true });
    // Nothing about the patient went through Temporal.
    const history = JSON.stringify(await p.handle.fetchHistory());
    for (const secret of ['Ines Okafor', '+447700900222']) expect(Buffer.from(history).toString()).not.toContain(secret);
  });

  it('sends nothing when no contact is kept, and keeps the pathway running', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue, { definition: V2 });
    await p.passDays(43);
    expect(await invitationsOf(record.store.db, p.id)).toEqual([]);
    expect((await p.state()).status).toBe('active');
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function eventuallyInvited(pathwayId: string, n: number) {
  await waitFor(async () => (await invitationsOf(record.store.db, pathwayId)).length >= n);
  return invitationsOf(record.store.db, pathwayId);
}
