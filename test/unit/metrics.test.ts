/**
 * The metrics the service exposes: care-team deliveries counted as sent, retried or undelivered
 * as Temporal will treat each attempt, and the record store's gauges read through their hook.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { deliveryActivities, type CareTeamChannel } from '../../activities';
import type { CareTeamMessage } from '../../clinical/care-team-messages';
import { createMetrics, messageKind, METRIC_NAMES } from '../../observability/metrics';
import { startMetricsServer } from '../../observability/metrics-server';
import { delta, scrape } from '../harness/metrics';

const quiet = new DefaultLogger('ERROR', () => undefined);

const message = (type: CareTeamMessage['type']): CareTeamMessage =>
  ({ id: `m-${type}`, type, careTeam: 'spine-a', recipient: 'care-team', pathwayId: 'pw-1' }) as CareTeamMessage;

const failingWith = (err: Error): CareTeamChannel => ({
  deliver: async () => {
    throw err;
  },
});

/** The pathway workflow's delivery policy: 30 s doubling to 30 min, for 12 hours. */
const delivery = (attempt: number, scheduledAgoMs: number) => ({
  attempt,
  scheduledTimestampMs: Date.now() - scheduledAgoMs,
  scheduleToCloseTimeoutMs: 12 * 3_600_000,
  retryPolicy: { initialInterval: 30_000, backoffCoefficient: 2, maximumInterval: 1_800_000 },
});

async function count(channel: CareTeamChannel, type: CareTeamMessage['type'], info = delivery(1, 0)) {
  const metrics = createMetrics();
  const { deliverToCareTeam } = deliveryActivities({ channel, metrics });
  await new MockActivityEnvironment(info, { logger: quiet }).run(deliverToCareTeam, message(type)).catch(() => undefined);
  const values = (await metrics.careTeamMessages.get()).values;
  return Object.fromEntries(values.map((v) => [`${v.labels.kind}/${v.labels.outcome}`, v.value]));
}

describe('care-team message metrics', () => {
  it('names each message kind', () => {
    expect(['reminder.due', 'reminder.overdue', 'pathway.urgent-referral', 'referral.issued', 'digest.daily'].map(messageKind)).toEqual([
      'reminder',
      'reminder',
      'notification',
      'referral',
      'digest',
    ]);
  });

  it('counts a delivery as sent', async () => {
    expect(await count({ deliver: async () => ({ channel: 'worklist' }) }, 'reminder.due')).toEqual({ 'reminder/sent': 1 });
  });

  it('counts a failed attempt that Temporal will try again as retried', async () => {
    expect(await count(failingWith(new Error('timeout')), 'pathway.urgent-referral', delivery(3, 60_000))).toEqual({ 'notification/retried': 1 });
  });

  it('counts as undelivered a final refusal, and a failure whose next attempt would come after the deadline', async () => {
    expect(await count(failingWith(ApplicationFailure.nonRetryable('refused', 'WebhookRejected')), 'reminder.overdue')).toEqual({ 'reminder/undelivered': 1 });
    expect(await count(failingWith(new Error('timeout')), 'referral.issued', delivery(30, 12 * 3_600_000 - 60_000))).toEqual({ 'referral/undelivered': 1 });
  });
});

describe('the instance label', () => {
  it('labels every metric of the process, its own and the defaults, with its instance', async () => {
    const metrics = createMetrics({ instance: 'api-2' });
    metrics.httpRequestDuration.observe({ method: 'GET', route: '/v1/worklist', status: '200' }, 0.01);
    const server = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0 });
    try {
      const { text } = await scrape(server.url);
      const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
      expect(samples.length).toBeGreaterThan(10);
      expect(samples.filter((l) => !l.includes('instance="api-2"'))).toEqual([]);
      expect(text).toMatch(new RegExp(`${METRIC_NAMES.httpRequestDuration}_count\\{[^}]*instance="api-2"`));
    } finally {
      await server.close();
    }
  });
});

describe('record store metrics hook', () => {
  it('exposes pathways by care team, stage and status and the write lag, read once a scrape', async () => {
    const metrics = createMetrics();
    const server = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0 });
    try {
      const before = await scrape(server.url);
      expect(before.text).not.toContain(`${METRIC_NAMES.pathways}{`);
      let reads = 0;
      metrics.readRecordStoreFrom(async () => {
        reads++;
        return {
          pathways: [
            { careTeam: 'spine-a', stage: 'conservative', status: 'active', count: 4 },
            { careTeam: 'spine-a', stage: 'interventional', status: 'on-hold', count: 1 },
          ],
          writeLagSeconds: 2.5,
        };
      });
      const after = await scrape(server.url);
      expect(after.series.get(`${METRIC_NAMES.pathways}{care_team="spine-a",stage="conservative",status="active"}`)).toBe(4);
      expect(after.series.get(`${METRIC_NAMES.pathways}{care_team="spine-a",stage="interventional",status="on-hold"}`)).toBe(1);
      expect(after.series.get(METRIC_NAMES.recordStoreWriteLag)).toBe(2.5);
      expect(reads).toBe(1);
      expect(delta(before, after, `${METRIC_NAMES.pathways}{care_team="spine-a",stage="conservative",status="active"}`)).toBe(4);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
