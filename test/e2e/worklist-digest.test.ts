/**
 * The care team's worklist through real HTTP, and the daily digest's Temporal Schedule, on the
 * dev server with signed webhooks to a real receiver.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { careTeamChannel } from '../../activities/care-team-channel';
import { silentLogger } from '../../observability/log';
import { DIGEST_SCHEDULE_ID, ensureDigestSchedule } from '../../temporal/digest-schedule';
import { digestCounts } from '../../record/read';
import type { DigestRun } from '../../workflows/digest';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { eventually } from '../harness/pathway-driver';
import { WebhookReceiver } from '../harness/webhook-receiver';

const team = `wl-${randomUUID().slice(0, 8)}`;
let api: ApiUnderTest;
let call: ReturnType<typeof http>;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  api = await startApi({
    channel: careTeamChannel({ webhooks: { careTeams: { [team]: { url: receiver.url, secret: receiver.secret } } }, logger: silentLogger }),
  });
  call = http(api);
});
afterAll(async () => {
  await api?.stop();
  await receiver?.stop();
});

async function enroll(): Promise<string> {
  const res = await call('POST', '/v1/pathways', { as: 'coordinator', body: { patientRef: `ref-${randomUUID()}`, careTeam: team, baseline: { painNrs: 7, odi: 42 } } });
  expect(res.status).toBe(201);
  return res.body.pathway.pathwayId;
}

describe('worklist', () => {
  it('lists what the care team must act on, most urgent first, with pending work-up and undelivered messages', async () => {
    const undelivered = await enroll();
    receiver.answerFor(undelivered, 410); // the receiver refuses it for good: no retry can help
    await call('POST', `/v1/pathways/${undelivered}/actions`, { body: { action: 'escalate', reason: 'fast track after MDT review' } });
    const urgent = await enroll();
    await call('POST', `/v1/pathways/${urgent}/red-flags`, { body: { redFlags: ['saddle-anaesthesia'] } });
    const held = await enroll();
    await call('POST', `/v1/pathways/${held}/actions`, { as: 'coordinator', body: { action: 'hold', reason: 'patient abroad for a month' } });
    const workup = await enroll();
    await call('POST', `/v1/pathways/${workup}/actions`, { body: { action: 'escalate', toStage: 'revision-referral', reason: 'hardware failure on imaging' } });
    await call('POST', `/v1/pathways/${workup}/workup`, { as: 'coordinator', body: { item: 'imaging' } });
    const routine = await enroll();

    const list = await eventually(
      () => call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`),
      (r) => r.status === 200 && r.body.items.length === 4 && r.body.items.some((i: { category: string }) => i.category === 'undelivered'),
    );
    const items = list.body.items as Array<{ pathwayId: string; category: string; pendingWorkup?: string[]; undeliveredMessages?: Array<{ effect: string }>; nextDueKind: string }>;
    expect(items.slice(0, 2).map((i) => [i.pathwayId, i.category])).toEqual([
      [urgent, 'urgent-referral'],
      [undelivered, 'undelivered'],
    ]);
    expect(items.slice(2).map((i) => i.category)).toEqual(['due-soon', 'due-soon']);
    expect(items.slice(2).map((i) => i.pathwayId).sort()).toEqual([workup, routine].sort());
    expect(items.find((i) => i.pathwayId === workup)!.pendingWorkup).toEqual(['labs', 'bone-density', 'health-optimisation', 'second-opinion']);
    expect(items.find((i) => i.pathwayId === undelivered)!.undeliveredMessages).toEqual([expect.objectContaining({ effect: 'notify-care-team' })]);
    expect(items.map((i) => i.pathwayId)).not.toContain(held);
    expect(list.body.nextPageToken).toBeNull();

    // A page at a time: the same items in the same order, each once, judged at the first page's time.
    const paged: string[] = [];
    let token: string | null = null;
    let generatedAt: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60&pageSize=1${token ? `&pageToken=${token}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items).toHaveLength(1);
      generatedAt ??= page.body.generatedAt;
      expect(page.body.generatedAt).toBe(generatedAt);
      paged.push(page.body.items[0].pathwayId);
      token = page.body.nextPageToken;
      if (!token) break;
    }
    expect(paged).toEqual(items.map((i) => i.pathwayId));
    const first = await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60&pageSize=1`);
    // A token only continues the worklist it came from.
    const other = await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=30&pageSize=1&pageToken=${first.body.nextPageToken}`);
    expect(other.status).toBe(400);
    expect(other.body.errors).toEqual([expect.objectContaining({ field: 'pageToken' })]);

    // The undelivered message is also on the pathway's timeline, and in the dashboard's filter.
    const pathway = (await call('GET', `/v1/pathways/${undelivered}`)).body.pathway;
    expect(pathway.timeline.some((e: { event: string; numbers?: { outcome?: string } }) => e.event === 'notification' && e.numbers?.outcome === 'undelivered')).toBe(true);
    const flagged = await call('GET', `/v1/pathways?careTeam=${team}&undelivered=true`);
    expect(flagged.body.items.map((i: { pathwayId: string }) => i.pathwayId)).toEqual([undelivered]);

    // Due soon looks 7 days ahead by default: the routine reassessments at 42 days are not yet on it.
    const week = await call('GET', `/v1/worklist?careTeam=${team}`);
    expect(week.body.items.map((i: { category: string }) => i.category)).toEqual(['urgent-referral', 'undelivered']);
    // Another team's scoped key sees none of it.
    expect((await call('GET', `/v1/worklist?careTeam=${team}`, { as: 'teamAViewer' })).body.items).toEqual([]);
    expect((await call('GET', `/v1/worklist?dueSoonDays=999`)).status).toBe(400);

    // Acting on the pathway clears it from the undelivered column.
    await call('POST', `/v1/pathways/${undelivered}/reassessments`, { body: { painNrs: 6 } });
    await eventually(
      () => call('GET', `/v1/worklist?careTeam=${team}`),
      (r) => !r.body.items.some((i: { pathwayId: string }) => i.pathwayId === undelivered),
    );
  });
});

describe('daily digest', () => {
  it('has one schedule however often the service starts, and a triggered run sends one digest per care team', async () => {
    const client = api.env.client;
    const digest = { hour: 7, minute: 30, timezone: 'Europe/London' };
    expect(await ensureDigestSchedule(client, api.taskQueue, digest, silentLogger)).toBe('created');
    expect(await ensureDigestSchedule(client, api.taskQueue, digest, silentLogger)).toBe('unchanged');
    const schedules: string[] = [];
    for await (const s of client.schedule.list()) schedules.push(s.scheduleId);
    expect(schedules.filter((id) => id === DIGEST_SCHEDULE_ID)).toHaveLength(1);
    expect(await ensureDigestSchedule(client, api.taskQueue, { ...digest, hour: 8 }, silentLogger)).toBe('updated');
    const handle = client.schedule.getHandle(DIGEST_SCHEDULE_ID);
    const described = await handle.describe();
    expect(described.spec.calendars?.[0]?.hour?.[0]?.start).toBe(8);
    expect(described.spec.timezone).toBe('Europe/London');

    await enroll();
    const before = receiver.attempts.filter((a) => a.body.type === 'digest.daily').length;
    await handle.trigger();
    const runId = await eventually(
      async () => (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId,
      (workflowId) => workflowId !== undefined,
    );
    const run = (await client.workflow.getHandle(runId!).result()) as DigestRun;

    const expected = await digestCounts(api.record.store.db, Date.now());
    expect(run.purged).toEqual({ pathways: 0, idempotencyKeys: 0 });
    expect(run.careTeams.map((t) => t.careTeam).sort()).toEqual(expected.map((t) => t.careTeam).sort());
    expect(new Set(run.careTeams.map((t) => t.careTeam)).size).toBe(run.careTeams.length);
    expect(run.careTeams.find((t) => t.careTeam === team)!.delivered).toBe('webhook');
    const digests = receiver.attempts.filter((a) => a.body.type === 'digest.daily').slice(before);
    expect(digests).toHaveLength(1);
    expect(digests[0]!.verified).toBe(true);
    expect(digests[0]!.body.careTeam).toBe(team);
    expect(digests[0]!.body.counts).toEqual(expected.find((t) => t.careTeam === team)!.counts);
  });
});
