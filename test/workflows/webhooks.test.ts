/**
 * Signed webhooks to a real HTTP receiver, with pathway time on the time-skipping server:
 * every delivery is signed; a receiver that fails five times gets the reminder once, under one
 * idempotency key; a receiver that is down for good leaves the reminder undelivered, in the
 * timeline and flagged for the worklist, never dropped.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { careTeamChannel } from '../../activities/care-team-channel';
import { sign, verifySignature } from '../../activities/webhooks';
import { silentLogger } from '../../observability/log';
import { PathwayDriver, closeIfRunning } from '../harness/pathway-driver';
import { connectTimeSkipping, disconnectTimeSkipping, startPathwayWorker } from '../harness/temporal';
import { WebhookReceiver } from '../harness/webhook-receiver';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
let receiver: WebhookReceiver;

beforeAll(async () => {
  env = await connectTimeSkipping();
  receiver = await WebhookReceiver.start();
  const channel = careTeamChannel({
    webhooks: { careTeams: { 'spine-test': { url: receiver.url, secret: receiver.secret } } },
    publicUrl: 'https://pathway.hospital.test',
    logger: silentLogger,
  });
  worker = await startPathwayWorker(env, channel);
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.stop();
  await disconnectTimeSkipping(env);
});
// Time skipping is global to the server: a pathway left running would take its own reminders
// through the receiver while a later test skips weeks. Each test's pathways are withdrawn after it.
const started: PathwayDriver[] = [];
async function enroll(opts: Parameters<typeof PathwayDriver.enroll>[2] = {}): Promise<PathwayDriver> {
  const p = await PathwayDriver.enroll(env, worker.taskQueue, { careTeam: 'spine-test', ...opts });
  started.push(p);
  return p;
}
beforeEach(() => {
  receiver.answerAlways(null);
  receiver.failNext(0);
});
afterEach(async () => {
  receiver.answerAlways(null);
  for (const p of started.splice(0)) await closeIfRunning(p);
});

describe('webhook signatures', () => {
  it('verifies only the exact id, timestamp and body it was signed over, within the tolerance', () => {
    const secret = 'a-secret-of-enough-length-123';
    const body = '{"id":"m1"}';
    const signature = sign(secret, 'm1', 1_700_000_000, body);
    const headers = { id: 'm1', timestamp: '1700000000', signature };
    expect(verifySignature(secret, headers, body, { nowSeconds: 1_700_000_100 })).toBe(true);
    expect(verifySignature(secret, headers, body + ' ', { nowSeconds: 1_700_000_100 })).toBe(false);
    expect(verifySignature(secret, { ...headers, id: 'm2' }, body, { nowSeconds: 1_700_000_100 })).toBe(false);
    expect(verifySignature('another-secret-of-enough-length', headers, body, { nowSeconds: 1_700_000_100 })).toBe(false);
    expect(verifySignature(secret, headers, body, { nowSeconds: 1_700_000_000 + 301 })).toBe(false);
    // During a secret rotation a header may carry two signatures.
    expect(verifySignature(secret, { ...headers, signature: `v1,AAAA ${signature}` }, body, { nowSeconds: 1_700_000_000 })).toBe(true);
  });
});

describe('reminder delivery', () => {
  it('signs every delivery and sends only the minimum necessary', async () => {
    const p = await enroll({ baseline: { painNrs: 9, odi: 55 } });
    await p.passDays(42.5);
    await p.until(() => receiver.attemptsFor(p.id).length >= 1);
    const [attempt] = receiver.attemptsFor(p.id);
    expect(attempt!.verified).toBe(true);
    expect(attempt!.idempotencyKey).toBe(attempt!.id);
    expect(Object.keys(attempt!.body).sort()).toEqual(['careTeam', 'dueAt', 'id', 'item', 'link', 'pathwayId', 'recipient', 'sequence', 'stage', 'type']);
    expect(attempt!.body).toMatchObject({ type: 'reminder.due', careTeam: 'spine-test', item: 'reassessment', link: `https://pathway.hospital.test/v1/pathways/${p.id}` });
    // No score travels: neither its name nor the enrolment's ODI of 55 as a value.
    expect(JSON.stringify(attempt!.body)).not.toMatch(/painNrs|"odi"|:55[,}]/);
    const s = await p.until((v) => v.timeline.some((e) => e.event === 'notification'));
    expect(s.timeline.find((e) => e.event === 'notification')!.numbers).toMatchObject({ messageId: attempt!.id, outcome: 'webhook' });
  });

  it('retries a receiver that fails five times: delivered once, under one idempotency key', async () => {
    const p = await enroll();
    receiver.failNext(5, p.id);
    await p.passDays(42.2);
    // The retries back off over several minutes of pathway time.
    await p.passDays(0.1);
    const s = await p.until((v) => v.timeline.some((e) => e.event === 'notification'));
    const attempts = receiver.attemptsFor(p.id);
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 503, 503, 503, 204]);
    expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
    expect(new Set(attempts.map((a) => a.idempotencyKey)).size).toBe(1);
    expect(attempts.every((a) => a.verified)).toBe(true);
    expect([...receiver.accepted.values()].filter((m) => m.pathwayId === p.id)).toHaveLength(1);
    const notes = s.timeline.filter((e) => e.event === 'notification');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.numbers).toMatchObject({ outcome: 'webhook' });
    expect(s.undelivered).toEqual([]);
  });

  it('marks a reminder undelivered when the receiver is down for good, and keeps it until someone acts', async () => {
    const p = await enroll();
    receiver.answerAlways(503);
    await p.passDays(42.2);
    await p.passDays(0.6); // past the twelve hours of retries
    let s = await p.until((v) => v.undelivered.length === 1);
    const attempts = receiver.attemptsFor(p.id);
    expect(attempts.length).toBeGreaterThan(5);
    expect(new Set(attempts.map((a) => a.id))).toEqual(new Set([s.undelivered[0]!.messageId]));
    expect(s.undelivered[0]).toMatchObject({ effect: 'send-reminder' });
    expect(s.undelivered[0]!.resolvedAt).toBeUndefined();
    expect(s.timeline.some((e) => e.event === 'notification' && e.numbers?.outcome === 'undelivered')).toBe(true);
    // The pathway carries on: the overdue reminder still falls due on time.
    receiver.answerAlways(null);
    await p.passDays(3);
    s = await p.until((v) => v.timeline.filter((e) => e.event === 'notification').length === 2);
    expect(receiver.attemptsFor(p.id).at(-1)!.body.type).toBe('reminder.overdue');
    // A clinician acting on the pathway resolves the outstanding undelivered message.
    const after = await p.reassess({ painNrs: 5 });
    expect(after.pathway.undelivered[0]!.resolvedAt).toBeDefined();
  });

  it('sends urgent-referral notifications by webhook too', async () => {
    const p = await enroll();
    await p.redFlags({ redFlags: ['bladder-bowel-dysfunction'] });
    await p.until(() => receiver.attemptsFor(p.id).some((a) => a.body.type === 'pathway.urgent-referral'));
    const attempt = receiver.attemptsFor(p.id).find((a) => a.body.type === 'pathway.urgent-referral')!;
    expect(attempt.verified).toBe(true);
    expect(JSON.stringify(attempt.body)).not.toContain('bladder');
  });
});
