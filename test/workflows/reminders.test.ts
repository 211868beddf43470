/**
 * Reassessment reminders at the right pathway times, on the time-skipping server: due, overdue
 * (to the coordinator), weekly, then lost to follow-up; hold, resume and escalation move or
 * cancel what is pending.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../clinical/rules';
import type { PathwayView } from '../../workflows/messages';
import { PathwayDriver } from '../harness/pathway-driver';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
const channel = new RecordingChannel();

beforeAll(async () => {
  env = await connectTimeSkipping();
  worker = await startPathwayWorker(env, channel);
});
afterAll(async () => {
  await worker?.stop();
  await disconnectTimeSkipping(env);
});

const reminders = (s: PathwayView) => s.timeline.filter((e) => e.event === 'reminder');
/** Days between two ISO instants. */
const daysBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / DAY_MS;

describe('reassessment reminders', () => {
  it('remind when due, when overdue (to the coordinator), weekly, then the pathway is lost to follow-up', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue);
    const dueAt = (await p.state()).due!.dueAt;

    await p.passDays(42.5);
    let s = await p.until((v) => reminders(v).length === 1);
    expect(s.overdue).toBe(false);
    expect(daysBetween(dueAt, reminders(s)[0]!.at)).toBeCloseTo(0, 2);

    await p.passDays(3);
    s = await p.until((v) => reminders(v).length === 2);
    expect(s.overdue).toBe(true);
    const overdueEntry = s.timeline.find((e) => e.event === 'overdue')!;
    expect(daysBetween(dueAt, overdueEntry.at)).toBeCloseTo(3, 2);

    await p.passDays(22);
    s = await p.until((v) => reminders(v).length === 5);
    expect(reminders(s).map((e) => Math.round(daysBetween(dueAt, e.at) * 100) / 100)).toEqual([0, 3, 10, 17, 24]);
    expect(reminders(s).map((e) => e.numbers?.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(s.status).toBe('active');

    await p.passDays(7);
    s = await p.until((v) => v.status === 'on-hold');
    expect(s.pause?.kind).toBe('lost-to-follow-up');
    expect(daysBetween(dueAt, s.timeline.find((e) => e.event === 'lost-to-follow-up')!.at)).toBeCloseTo(31, 2);
    expect(reminders(s)).toHaveLength(5);

    // The messages themselves: one a reminder, the due one to the care team, the rest to the coordinator, each with its own stable id.
    const sent = await (async () => {
      await p.until(() => channel.messages.filter((m) => m.pathwayId === p.id && m.type === 'pathway.lost-to-follow-up').length === 1);
      return channel.messages.filter((m) => m.pathwayId === p.id && m.type.startsWith('reminder.'));
    })();
    expect(sent.map((m) => [m.type, m.recipient, m.sequence, m.item])).toEqual([
      ['reminder.due', 'care-team', 1, 'reassessment'],
      ['reminder.overdue', 'coordinator', 2, 'reassessment'],
      ['reminder.overdue', 'coordinator', 3, 'reassessment'],
      ['reminder.overdue', 'coordinator', 4, 'reassessment'],
      ['reminder.overdue', 'coordinator', 5, 'reassessment'],
    ]);
    expect(new Set(sent.map((m) => m.id)).size).toBe(5);
    expect(sent.every((m) => m.dueAt === dueAt)).toBe(true);

    // Nothing more is sent while on hold.
    await p.passDays(30);
    expect(reminders(await p.state())).toHaveLength(5);
  });

  it('hold stops reminders and resume moves them by the time held', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue);
    const enrolledAt = (await p.state()).enrolledAt;
    await p.passDays(40);
    await p.action({ action: 'hold', reason: 'patient in hospital for an unrelated reason' }, { id: 'coord', role: 'coordinator' });
    await p.passDays(10);
    expect(reminders(await p.state())).toHaveLength(0);
    const resumed = await p.action({ action: 'resume', reason: 'discharged home' }, { id: 'coord', role: 'coordinator' });
    expect(daysBetween(enrolledAt, resumed.pathway.due!.dueAt)).toBeCloseTo(52, 2);
    await p.passDays(1);
    expect(reminders(await p.state())).toHaveLength(0);
    await p.passDays(1.5);
    const s = await p.until((v) => reminders(v).length === 1);
    expect(daysBetween(enrolledAt, reminders(s)[0]!.at)).toBeCloseTo(52, 2);
  });

  it('escalation cancels the reminders of the old due item and starts those of the new one', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue);
    await p.passDays(42.5);
    await p.until((v) => reminders(v).length === 1);
    const escalated = await p.action({ action: 'escalate', reason: 'no progress; fast track' });
    const procedureDue = escalated.pathway.due!;
    expect(procedureDue.kind).toBe('procedure');
    // The old reassessment would have been overdue at day 45: nothing comes of it.
    await p.passDays(5);
    let s = await p.state();
    expect(reminders(s)).toHaveLength(1);
    expect(s.overdue).toBe(false);
    await p.passDays(24);
    s = await p.until((v) => reminders(v).length === 2);
    expect(reminders(s)[1]!.numbers).toMatchObject({ dueKind: 'procedure', dueAt: procedureDue.dueAt, sequence: 1, level: 'due' });
    expect(daysBetween(procedureDue.dueAt, reminders(s)[1]!.at)).toBeCloseTo(0, 2);
  });

  it('a reminder for pending work-up items, and none once the referral is issued', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue);
    await p.action({ action: 'escalate', toStage: 'revision-referral', reason: 'red-flag free structural failure on imaging' });
    await p.passDays(42.5);
    let s = await p.until((v) => reminders(v).length === 1);
    expect(reminders(s)[0]!.numbers).toMatchObject({ dueKind: 'workup', level: 'due' });
    for (const item of ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const) await p.workup({ item });
    s = await p.state();
    expect(s.due!.kind).toBe('surgical-consult');
    await p.passDays(3);
    expect(reminders(await p.state())).toHaveLength(1);
  });
});
