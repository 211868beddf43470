/**
 * Helpers for trajectory tests on the time-skipping server: refusals, timeline reading,
 * and the histories of every run of a pathway (following continue-as-new) for replay.
 */
import { WorkflowUpdateFailedError, type HistoryAndWorkflowId, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { expect } from 'vitest';
import type { TimelineEntry, TimelineEvent } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import { REFUSAL_ERROR_TYPE, type RefusalDetails } from '../../workflows/messages';
import { eventually, type PathwayDriver } from './pathway-driver';
import { historiesOfRuns, type History } from './run-histories';
import type { RecordingChannel } from './temporal';

export type { History };
export const EventType = temporal.api.enums.v1.EventType;

/** The event types of a history, in order. */
export const eventTypesOf = (history: History): number[] => (history.events ?? []).map((e) => Number(e.eventType));
export async function historyEventTypes(p: PathwayDriver): Promise<number[]> {
  return eventTypesOf(await p.handle.fetchHistory());
}

export const ms = (iso: string): number => Date.parse(iso);
export const isoAt = (epochMs: number): string => new Date(epochMs).toISOString();
export const plusDays = (iso: string, days: number): string => isoAt(ms(iso) + days * DAY_MS);
export const daysBetween = (fromIso: string, toIso: string): number => (ms(toIso) - ms(fromIso)) / DAY_MS;

/** Awaits a change that the workflow's update validator must refuse, and returns the refusal's details. */
export async function expectRefused(change: Promise<unknown>, code: RefusalDetails['code'], field?: string): Promise<RefusalDetails> {
  let error: unknown;
  try {
    await change;
  } catch (err) {
    error = err;
  }
  expect(error, 'the change was accepted').toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  expect(failure.type).toBe(REFUSAL_ERROR_TYPE);
  expect(failure.nonRetryable).toBe(true);
  const details = failure.details?.[0] as RefusalDetails | undefined;
  expect(details, 'refusal details').toBeDefined();
  expect(details!.code).toBe(code);
  if (field !== undefined) {
    const fields = details!.field !== undefined ? [details!.field] : (details!.errors ?? []).map((e) => e.field);
    expect(fields).toContain(field);
  }
  return details!;
}

/**
 * The timeline's decisions: without the notes that a side effect was carried out (they arrive a
 * moment later) and without the reminders the clock sends when an item falls due.
 */
export const decisionsOf = (timeline: TimelineEntry[]): TimelineEntry[] => timeline.filter((e) => e.event !== 'notification' && e.event !== 'reminder');
/** How each side effect went, in order ('webhook', 'worklist' or 'undelivered'). */
export const deliveriesOf = (timeline: TimelineEntry[]): unknown[] => timeline.filter((e) => e.event === 'notification').map((e) => e.numbers?.outcome);
export const ruleIdsOf = (entries: TimelineEntry[]): string[] => entries.flatMap((e) => (e.ruleId ? [e.ruleId] : []));
export const eventsOf = (entries: TimelineEntry[]): TimelineEvent[] => entries.map((e) => e.event);
export const entriesAfter = (timeline: TimelineEntry[], seq: number): TimelineEntry[] => timeline.filter((e) => e.seq > seq);
/** Each entry as `event` or `event:ruleId`, to compare a run of decisions at a glance. */
export const stepsOf = (entries: TimelineEntry[]): string[] => entries.map((e) => (e.ruleId ? `${e.event}:${e.ruleId}` : e.event));
export const lastSeq = (timeline: TimelineEntry[]): number => timeline[timeline.length - 1]?.seq ?? 0;

/** Every timeline is numbered 1..n, in order, with no gap or repeat. */
export function expectContiguousTimeline(timeline: TimelineEntry[]): void {
  expect(timeline.map((e) => e.seq)).toEqual(timeline.map((_, i) => i + 1));
  for (let i = 1; i < timeline.length; i++) expect(ms(timeline[i]!.at)).toBeGreaterThanOrEqual(ms(timeline[i - 1]!.at));
}

/** Waits until every side effect the pathway asked for has been noted in its timeline (delivered or not). */
export async function settled(p: PathwayDriver, notifications: number): Promise<TimelineEntry[]> {
  const view = await p.until((s) => s.timeline.filter((e) => e.event === 'notification').length >= notifications);
  return view.timeline;
}

/** Polls a value kept in the test process (the recording channel) until `check` passes. */
export function eventuallyLocal<T>(read: () => T, check: (value: T) => boolean): Promise<T> {
  return eventually(async () => read(), check);
}

/** The run id the pathway started with (the driver's handle comes from `start`, which knows it). */
export const firstRunId = (p: PathwayDriver): string => (p.handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId;

/** The histories of every run of a pathway, first to last, following continue-as-new. */
export const runHistories = (p: PathwayDriver): Promise<Array<{ runId: string; history: History }>> => historiesOfRuns(p.env.client, p.id, firstRunId(p));

/** Collects the histories of a pathway's runs for the replay test. */
export async function collectHistories(into: HistoryAndWorkflowId[], p: PathwayDriver): Promise<void> {
  for (const run of await runHistories(p)) into.push({ workflowId: `${p.id}/${run.runId}`, history: run.history });
}


/** What a recording channel sent for a pathway, reminders left out. */
export const careTopics = (channel: RecordingChannel, pathwayId: string): string[] => channel.topics(pathwayId).filter((t) => !t.startsWith('reminder.'));
/** The ids of the messages a recording channel sent for a pathway, in order. */
export const messageIds = (channel: RecordingChannel, pathwayId: string): string[] => channel.messages.filter((m) => m.pathwayId === pathwayId).map((m) => m.id);
