/**
 * The worst-case pathway-year (test/harness/pathway-year.ts) on the time-skipping server: its
 * history stays short (every run of the continue-as-new chain under 1,000 events), the pathway
 * ends the year where the script says, and the record store holds the whole timeline across the
 * runs, nothing lost and nothing doubled. bench/pathway-year.ts times the same year.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { simulatePathway, type RecordedHistory } from '../../clinical/simulate';
import { readHistories } from '../../record/histories';
import { readPathway } from '../../record/read';
import { CONTINUE_AS_NEW_AFTER_EVENTS } from '../../workflows/pathway';
import { eventually } from '../harness/pathway-driver';
import { YEAR_DECISIONS, YEAR_EXPECTED, runPathwayYear, type PathwayYear } from '../harness/pathway-year';
import { historiesOfRuns, type History } from '../harness/run-histories';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';
import { EventType, eventTypesOf, expectContiguousTimeline, messageIds, stepsOf } from '../harness/trajectory';

/** The limit the issue sets for the longest run of a pathway's history. */
const MAX_EVENTS_PER_RUN = 1000;
const FOLLOW_UP_BOOKKEEPING = ['notification', 'reminder', 'overdue', 'lost-to-follow-up'];

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
const channel = new RecordingChannel();
let year: PathwayYear;
let runs: Array<{ runId: string; history: History }>;

beforeAll(async () => {
  env = await connectTimeSkipping();
  worker = await startPathwayWorker(env, channel);
  year = await runPathwayYear(env, worker.taskQueue);
  runs = await historiesOfRuns(env.client, year.pathway.id, year.firstRunId);
});
afterAll(async () => {
  await worker?.stop();
  await disconnectTimeSkipping(env);
});

const count = (event: string): number => year.view.timeline.filter((e) => e.event === event).length;

describe('a worst-case pathway-year', () => {
  it('ends the year where the script says: revision referral, referral issued, the surgical consult due', () => {
    const { view } = year;
    expect(view).toMatchObject({ stage: YEAR_EXPECTED.stage, status: YEAR_EXPECTED.status, overdue: false, pause: null });
    expect(view.due?.kind).toBe(YEAR_EXPECTED.dueKind);
    expect(view.workup.referralIssuedAt).toBeDefined();
    expect(view.scs).toMatchObject({ psychology: 'cleared', trialSucceeded: false });
    expect(view.reassessments).toHaveLength(YEAR_EXPECTED.reassessments);
    expect(view.procedures).toHaveLength(YEAR_EXPECTED.procedures);
    expect(stepsOf(view.timeline.filter((e) => !FOLLOW_UP_BOOKKEEPING.includes(e.event)))).toEqual(YEAR_DECISIONS);
    expectContiguousTimeline(view.timeline);
  });

  it('reminded weekly while overdue, went lost to follow-up three times, and sent each message once', () => {
    expect(count('reminder')).toBe(YEAR_EXPECTED.reminders);
    expect(count('overdue')).toBe(YEAR_EXPECTED.overdue);
    expect(count('lost-to-follow-up')).toBe(YEAR_EXPECTED.lostToFollowUp);
    expect(count('stage-changed')).toBe(YEAR_EXPECTED.stageChanges);
    const p = year.pathway;
    expect(channel.topics(p.id).filter((t) => t.startsWith('reminder.'))).toHaveLength(YEAR_EXPECTED.reminders);
    const ids = messageIds(channel, p.id);
    expect(ids).toHaveLength(YEAR_EXPECTED.careTeamMessages);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(year.view.timeline.filter((e) => e.event === 'notification').map((e) => e.numbers!.messageId));
  });

  it(`keeps every run of its history under ${MAX_EVENTS_PER_RUN} events, continuing as new along the way`, () => {
    const lengths = runs.map((r) => r.history.events!.length);
    expect(runs.length, `runs of ${lengths.join(', ')} events`).toBeGreaterThan(1);
    for (const length of lengths) expect(length).toBeLessThan(MAX_EVENTS_PER_RUN);
    for (const run of runs.slice(0, -1)) {
      expect(eventTypesOf(run.history).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
      // Once past the limit, after the work in flight: not before it.
      expect(run.history.events!.length).toBeGreaterThanOrEqual(CONTINUE_AS_NEW_AFTER_EVENTS);
    }
    // The last run is the one still going at day 365.
    expect(eventTypesOf(runs.at(-1)!.history)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
  });

  it('cancels its wake-up timer only to set it for another time, not on every change', () => {
    for (const { history } of runs) {
      const timers = wakeUpTimers(history);
      const cancelled = timers.filter((t) => t.cancelled);
      // A change that left the wake-up where it was would cancel the timer and set it again for
      // the same time; only the first round of each run still does (the patch is decided there).
      const setAgainForTheSameTime = cancelled.filter((t) => {
        const next = timers.find((n) => n.startedAt > t.cancelledAt!);
        return next !== undefined && Math.abs(next.firesAt - t.firesAt) < 60_000;
      });
      expect(setAgainForTheSameTime.length, `${cancelled.length} of ${timers.length} timers cancelled`).toBeLessThanOrEqual(1);
      expect(cancelled.length).toBeLessThan(timers.length / 2);
    }
  });

  it('leaves the record store holding the whole timeline, scores and procedures across continue-as-new', async () => {
    const { store, cipher } = worker.record;
    const recorded = await eventually(
      () => readPathway(store.db, cipher, year.pathway.id),
      (r) => r !== null && r.timeline.length === year.view.timeline.length,
    );
    expect(recorded!.timeline).toEqual(year.view.timeline);
    expect(recorded!.reassessments).toEqual(year.view.reassessments);
    expect(recorded!.procedures).toEqual(year.view.procedures);
    expect(recorded).toMatchObject({ stage: YEAR_EXPECTED.stage, status: YEAR_EXPECTED.status, due: year.view.due });
    // One enrolment, one row per entry: a run that continued as new wrote nothing twice.
    const rows = await store.db.selectFrom('timeline_entries').select(['enrolment_id', 'seq']).execute();
    expect(new Set(rows.map((r) => r.enrolment_id))).toEqual(new Set([year.firstRunId]));
    expect(rows.map((r) => r.seq).sort((a, b) => a - b)).toEqual(year.view.timeline.map((e) => e.seq));
  });

  it('is reproduced decision for decision by a what-if with its own version, read from the record store', async () => {
    const histories: RecordedHistory[] = [];
    await readHistories(worker.record.store.db, [year.firstRunId], (h) => histories.push(h));
    expect(histories).toHaveLength(1);
    const result = simulatePathway(histories[0]!, histories[0]!.definition);
    expect(result.firstDifference).toBeNull();
    expect(result.simulated).toEqual(result.recorded);
    expect(result.simulated).toMatchObject({ stage: YEAR_EXPECTED.stage, urgentReferrals: 1 });
  });

  it('replays every run of its history against the workflow bundle', async () => {
    const results = [];
    const histories = runs.map((r) => ({ workflowId: `${year.pathway.id}/${r.runId}`, history: r.history }));
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) results.push(result);
    expect(results.map((r) => r.error)).toEqual(histories.map(() => undefined));
  });
});

/** The timers of a run: when each was set, the time it was set for, and when it was cancelled. */
function wakeUpTimers(history: History): Array<{ startedAt: number; firesAt: number; cancelled: boolean; cancelledAt?: number }> {
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number => Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);
  const timers = new Map<string, { startedAt: number; firesAt: number; cancelled: boolean; cancelledAt?: number }>();
  for (const e of history.events ?? []) {
    const started = e.timerStartedEventAttributes;
    if (started) timers.set(started.timerId!, { startedAt: ms(e.eventTime), firesAt: ms(e.eventTime) + ms(started.startToFireTimeout), cancelled: false });
    const cancelled = e.timerCanceledEventAttributes;
    if (cancelled) Object.assign(timers.get(cancelled.timerId!)!, { cancelled: true, cancelledAt: ms(e.eventTime) });
  }
  return [...timers.values()];
}
