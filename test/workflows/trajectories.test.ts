/**
 * Whole pathways, end to end, on the time-skipping server: the workflow, its timers, its update
 * validators, its activities (through a recording care-team channel) and continue-as-new.
 * Every history is kept and replayed against the workflow bundle at the end of the file.
 *
 * Timing: an item's due reminder fires at the very moment it falls due, so the tests record a
 * reassessment a day after it is due (never at the same instant), which keeps every timeline and
 * every list of messages deterministic. The time-skipping server finishes the work a timer
 * starts before it moves its clock on, so whatever fell due during `passDays` is done by then.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowNotFoundError, type HistoryAndWorkflowId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import type { Scores } from '../../clinical/events';
import { DAY_MS } from '../../clinical/rules';
import { simulatePathway, type SimulatedPathway } from '../../clinical/simulate';
import { readHistories } from '../../record/histories';
import type { PathwaySnapshot, PathwayView } from '../../workflows/messages';
import { CLOSING_HANDS_OVER_MESSAGES } from '../../workflows/pathway';
import { CareTeamKey, UndeliveredKey } from '../../workflows/search-attributes';
import { CLINICIAN, COORDINATOR, PathwayDriver, closeIfRunning, eventually } from '../harness/pathway-driver';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';
import {
  EventType,
  type History,
  careTopics,
  collectHistories,
  daysBetween,
  decisionsOf,
  deliveriesOf,
  firstRunId,
  messageIds,
  entriesAfter,
  eventTypesOf,
  eventuallyLocal,
  expectContiguousTimeline,
  expectRefused,
  historyEventTypes,
  isoAt,
  lastSeq,
  ms,
  plusDays,
  ruleIdsOf,
  runHistories,
  settled,
  stepsOf,
} from '../harness/trajectory';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
const channel = new RecordingChannel();
/** Histories of the trajectories that passed, replayed by the last tests of this file. */
const histories: HistoryAndWorkflowId[] = [];
/** Every pathway this file started: none may still run when it ends (time skipping is global to the server). */
const started: PathwayDriver[] = [];

/** Pauses are measured in wall time; the server's clock also runs (slowly) between the test's steps. */
const PAUSE_TOLERANCE_MS = 5 * 60 * 1000;

beforeAll(async () => {
  env = await connectTimeSkipping();
  worker = await startPathwayWorker(env, channel);
});
afterAll(async () => {
  await worker?.stop();
  await disconnectTimeSkipping(env);
});

/** Enrols a pathway that is closed after the test if it is still running, so its timers never fire in a later test. */
async function enroll(opts: Parameters<typeof PathwayDriver.enroll>[2] = {}): Promise<PathwayDriver> {
  const p = await PathwayDriver.enroll(env, worker.taskQueue, opts);
  started.push(p);
  onTestFinished(async () => {
    channel.failing = false;
    await closeIfRunning(p);
  });
  await p.until((s) => s.timeline.length > 0);
  return p;
}

const keep = (p: PathwayDriver): Promise<void> => collectHistories(histories, p);

describe('a responder', () => {
  it('completes in conservative care after two responding reassessments in a row, and the care team hears of it', async () => {
    const p = await enroll({ baseline: { painNrs: 8, odi: 40 } });
    const s0 = await p.state();
    expect(s0).toMatchObject({ status: 'active', stage: 'conservative', consecutiveResponses: 0, overdue: false, pause: null });
    expect(s0.reference).toEqual({ painNrs: 8, odi: 40, from: 'enrollment', at: s0.enrolledAt });
    expect(s0.due).toEqual({ kind: 'reassessment', dueAt: plusDays(s0.enrolledAt, 42) });
    expect(stepsOf(s0.timeline)).toEqual(['enrolled']);

    await p.passDays(43);
    // Pain 8 -> 5 is 37.5% relief: a response by pain.
    const first = await p.reassess({ painNrs: 5, odi: 35 });
    expect(stepsOf(first.decisions)).toEqual(['reassessment:response.conservative']);
    expect(first.decisions[0]).toMatchObject({
      summary: 'Reassessment: responding.',
      numbers: { referencePainNrs: 8, painNrs: 5, painReliefPercent: 37.5, painThresholdPercent: 30, referenceOdi: 40, odi: 35, odiDropPoints: 5 },
      stageAfter: 'conservative',
      statusAfter: 'active',
    });
    expect(first.pathway.consecutiveResponses).toBe(1);
    // The next reassessment keeps the stage's 42-day cadence from enrolment.
    expect(first.pathway.due).toEqual({ kind: 'reassessment', dueAt: plusDays(s0.enrolledAt, 84) });

    await p.passDays(42);
    // Pain 8 -> 7 is only 12.5%, but ODI 40 -> 28 is down 12 points: a response by ODI; the second in a row.
    const second = await p.reassess({ painNrs: 7, odi: 28 });
    expect(stepsOf(second.decisions)).toEqual(['reassessment:response.conservative', 'completed:completion.sustained-response']);
    expect(second.decisions[0]!.numbers).toMatchObject({ painReliefPercent: 12.5, odiDropPoints: 12, odiThresholdPoints: 10 });
    expect(second.decisions[1]).toMatchObject({ numbers: { consecutiveResponses: 2, required: 2 }, statusBefore: 'active', statusAfter: 'completed' });

    const result = await p.result();
    expect(result).toMatchObject({ status: 'completed', stage: 'conservative', due: null, pause: null, consecutiveResponses: 2 });
    expect(result.closedAt).toBe(second.decisions[1]!.at);
    expect(ruleIdsOf(result.timeline)).toContain('completion.sustained-response');
    expectContiguousTimeline(result.timeline);
    expect(stepsOf(decisionsOf(result.timeline))).toEqual([
      'enrolled',
      'reassessment:response.conservative',
      'reassessment:response.conservative',
      'completed:completion.sustained-response',
    ]);
    // The care team heard of the completion once (after a reminder each time a reassessment fell due).
    expect(channel.topics(p.id)).toEqual(['reminder.due', 'reminder.due', 'completed']);
    expect(channel.notifications.find((n) => n.pathwayId === p.id)).toMatchObject({ topic: 'completed', status: 'completed', stage: 'conservative', careTeam: 'spine-test' });
    // The completion notification is handed over on closing, and delivered by the closing-messages workflow.
    expect(deliveriesOf(result.timeline)).toEqual(['worklist', 'worklist', 'handed-over']);
    expect(messageIds(channel, p.id)).toEqual(result.timeline.filter((e) => e.event === 'notification').map((e) => e.numbers!.messageId));
    await keep(p);
  });
});

describe('a non-responder', () => {
  it('goes through every stage: conservative, interventional, spinal cord stimulation, revision referral, surgical consult', async () => {
    const p = await enroll({ baseline: { painNrs: 8, odi: 40 } });
    const s0 = await p.state();

    // Conservative: not responding after 42 days escalates; the escalating reassessment becomes the reference.
    await p.passDays(43);
    const conservative = await p.reassess({ painNrs: 7.5, odi: 38 });
    expect(stepsOf(conservative.decisions)).toEqual(['reassessment:response.conservative', 'stage-changed:escalation.conservative']);
    expect(conservative.decisions[0]).toMatchObject({ summary: 'Reassessment: not responding.', numbers: { referencePainNrs: 8, painNrs: 7.5, painReliefPercent: 6.25 } });
    const toInterventional = conservative.decisions[1]!;
    expect(toInterventional).toMatchObject({
      stageBefore: 'conservative',
      stageAfter: 'interventional',
      numbers: { minimumDays: 42, fromStage: 'conservative', toStage: 'interventional' },
    });
    expect(toInterventional.numbers!.activeDays as number).toBeGreaterThanOrEqual(42);
    expect(conservative.pathway.stage).toBe('interventional');
    expect(conservative.pathway.reference).toEqual({ painNrs: 7.5, odi: 38, from: 'reassessment', at: conservative.decisions[0]!.at });
    expect(conservative.pathway.due).toEqual({ kind: 'procedure', dueAt: plusDays(toInterventional.at, 28) });
    expect(conservative.pathway.cadence).toBeNull();

    // Interventional: two procedures, each followed 28 days later by a reassessment without 50% relief.
    const procedures = ['nerve-block', 'epidural-steroid-injection'] as const;
    let view: PathwaySnapshot = conservative.pathway;
    for (const [i, type] of procedures.entries()) {
      const done = await p.procedure({ type, spinalRegion: 'L4-L5' });
      expect(stepsOf(done.decisions)).toEqual(['procedure:procedure.reassess-after']);
      expect(done.decisions[0]!.numbers).toEqual({ type, proceduresInWindow: i + 1, limit: 4, windowDays: 365, reassessAfterDays: 28 });
      expect(done.decisions[0]!.cites!.map((c) => c.ruleId)).toEqual(['limit.interventional-procedures']);
      expect(done.pathway.proceduresAwaitingReassessment).toBe(1);
      expect(done.pathway.procedures.at(-1)).toMatchObject({ type, stage: 'interventional', spinalRegion: 'L4-L5' });
      expect(done.pathway.due).toEqual({ kind: 'reassessment', dueAt: plusDays(done.decisions[0]!.at, 28) });

      await p.passDays(29);
      const reassessed = await p.reassess({ painNrs: 7 });
      view = reassessed.pathway;
      // Relief is measured against the reference set when the stage began (7.5), not the last score.
      expect(reassessed.decisions[0]).toMatchObject({
        event: 'reassessment',
        ruleId: 'response.interventional',
        summary: 'Reassessment: not responding.',
        numbers: { referencePainNrs: 7.5, painNrs: 7, painReliefPercent: 6.667, reliefThresholdPercent: 50 },
      });
      if (i === 0) {
        expect(stepsOf(reassessed.decisions)).toEqual(['reassessment:response.interventional']);
        expect(view).toMatchObject({ stage: 'interventional', proceduresWithoutResponse: 1, proceduresAwaitingReassessment: 0 });
        expect(view.due).toEqual({ kind: 'procedure', dueAt: plusDays(reassessed.decisions[0]!.at, 28) });
      } else {
        expect(stepsOf(reassessed.decisions)).toEqual(['reassessment:response.interventional', 'stage-changed:escalation.interventional']);
        expect(reassessed.decisions[1]!.numbers).toMatchObject({ proceduresWithoutResponse: 2, required: 2, fromStage: 'interventional', toStage: 'scs' });
        expect(view.stage).toBe('scs');
        expect(view.reference).toMatchObject({ painNrs: 7, from: 'reassessment', at: reassessed.decisions[0]!.at });
        expect(view.due).toEqual({ kind: 'psychological-evaluation', dueAt: plusDays(reassessed.decisions[1]!.at, 42) });
      }
    }

    // SCS: no trial is under way yet, so there is nothing to reassess; a trial needs clearance first.
    await expectRefused(p.reassess({ painNrs: 6 }), 'conflict');
    await expectRefused(p.procedure({ type: 'scs-trial' }), 'conflict', 'type');
    const cleared = await p.procedure({ type: 'psychological-evaluation', outcome: 'cleared' });
    expect(stepsOf(cleared.decisions)).toEqual(['procedure']);
    expect(cleared.decisions[0]!.numbers).toEqual({ type: 'psychological-evaluation', outcome: 'cleared', scheduleWithinDays: 42 });
    expect(cleared.pathway.scs.psychology).toBe('cleared');
    expect(cleared.pathway.due).toEqual({ kind: 'scs-trial', dueAt: plusDays(cleared.decisions[0]!.at, 42) });
    const trial = await p.procedure({ type: 'scs-trial' });
    expect(stepsOf(trial.decisions)).toEqual(['procedure:procedure.scs-trial-days']);
    expect(trial.pathway.scs.trialStartedAt).toBe(trial.decisions[0]!.at);
    expect(trial.pathway.due).toEqual({ kind: 'trial-reassessment', dueAt: plusDays(trial.decisions[0]!.at, 7) });

    // The trial gives 7 -> 6, 14% relief: less than 50% escalates to revision referral.
    await p.passDays(8);
    const trialResult = await p.reassess({ painNrs: 6 });
    expect(stepsOf(trialResult.decisions)).toEqual(['reassessment:response.scs-trial', 'stage-changed:escalation.scs-trial']);
    expect(trialResult.decisions[0]!.numbers).toMatchObject({ referencePainNrs: 7, painNrs: 6, painReliefPercent: 14.286 });
    view = trialResult.pathway;
    expect(view).toMatchObject({ stage: 'revision-referral', status: 'active' });
    expect(view.scs).toMatchObject({ psychology: 'cleared', trialSucceeded: false });
    expect(view.reference).toMatchObject({ painNrs: 6, from: 'reassessment', at: trialResult.decisions[0]!.at });
    expect(view.due).toEqual({ kind: 'workup', dueAt: plusDays(trialResult.decisions[1]!.at, 42) });
    expect(view.pendingWorkup).toEqual(['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion']);

    // Revision referral: the consult follows the referral, and the referral follows the whole work-up.
    await expectRefused(p.workup({ item: 'surgical-consult' }), 'conflict', 'item');
    const items = ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const;
    for (const [i, item] of items.entries()) {
      const done = await p.workup({ item });
      view = done.pathway;
      expect(done.decisions[0]).toMatchObject({ event: 'workup-result', numbers: { item, pending: items.length - i - 1 } });
      expect(view.pendingWorkup).toEqual(items.slice(i + 1));
      if (i === 0) await expectRefused(p.workup({ item }), 'conflict', 'item'); // already complete
      if (i < items.length - 1) {
        expect(stepsOf(done.decisions)).toEqual(['workup-result']);
        expect(view.workup.referralIssuedAt).toBeUndefined();
      } else {
        expect(stepsOf(done.decisions)).toEqual(['workup-result', 'referral-issued:referral.workup-complete']);
        expect(done.decisions[1]!.numbers).toEqual({ itemsComplete: 5 });
        expect(view.workup.referralIssuedAt).toBe(done.decisions[1]!.at);
        expect(view.due).toEqual({ kind: 'surgical-consult', dueAt: plusDays(done.decisions[1]!.at, 56) });
      }
    }
    await eventuallyLocal(() => channel.referrals.filter((r) => r.pathwayId === p.id), (r) => r.length > 0);

    const consult = await p.workup({ item: 'surgical-consult' });
    expect(stepsOf(consult.decisions)).toEqual(['workup-result', 'completed:completion.surgical-consult']);

    const result = await p.result();
    expect(result).toMatchObject({ status: 'completed', stage: 'revision-referral', due: null });
    expect(result.workup.consultRecordedAt).toBe(consult.decisions[0]!.at);
    expectContiguousTimeline(result.timeline);
    // Each recorded procedure cites the rule it starts (issue 9): the reassessment after it, the trial's days.
    expect(ruleIdsOf(decisionsOf(result.timeline))).toEqual([
      'response.conservative',
      'escalation.conservative',
      'procedure.reassess-after',
      'response.interventional',
      'procedure.reassess-after',
      'response.interventional',
      'escalation.interventional',
      'procedure.scs-trial-days',
      'response.scs-trial',
      'escalation.scs-trial',
      'referral.workup-complete',
      'completion.surgical-consult',
    ]);
    expect(result.procedures.map((r) => [r.type, r.stage])).toEqual([
      ['nerve-block', 'interventional'],
      ['epidural-steroid-injection', 'interventional'],
      ['psychological-evaluation', 'scs'],
      ['scs-trial', 'scs'],
    ]);
    expect(result.reassessments.map((r) => [r.stage, r.painNrs, r.evaluation?.responding])).toEqual([
      ['conservative', 7.5, false],
      ['interventional', 7, false],
      ['interventional', 7, false],
      ['scs', 6, false],
    ]);
    expect(daysBetween(s0.enrolledAt, result.closedAt!)).toBeGreaterThanOrEqual(43 + 29 + 29 + 8);
    // Every stage change, the referral and the completion reached the care team exactly once.
    expect(careTopics(channel, p.id)).toEqual(['stage-changed', 'stage-changed', 'stage-changed', 'referral.issued', 'completed']);
    expect(channel.notifications.filter((n) => n.pathwayId === p.id && n.topic === 'stage-changed').map((n) => n.stage)).toEqual([
      'interventional',
      'scs',
      'revision-referral',
    ]);
    expect(channel.referrals.filter((r) => r.pathwayId === p.id)).toHaveLength(1);
    expect(channel.referrals.find((r) => r.pathwayId === p.id)).toMatchObject({ careTeam: 'spine-test', stage: 'revision-referral' });
    // One due reminder for each item that fell due: the 42-day reassessment, two post-procedure reassessments, the trial's.
    expect(channel.topics(p.id).filter((t) => t.startsWith('reminder.'))).toEqual(['reminder.due', 'reminder.due', 'reminder.due', 'reminder.due']);
    const ids = messageIds(channel, p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(result.timeline.filter((e) => e.event === 'notification').map((e) => e.numbers!.messageId));
    await keep(p);
  });

  it('an early reassessment without response (day 10) is recorded but does not escalate', async () => {
    const p = await enroll({ baseline: { painNrs: 8, odi: 40 } });
    const s0 = await p.state();
    await p.passDays(10);
    const early = await p.reassess({ painNrs: 8, odi: 40 });
    expect(stepsOf(early.decisions)).toEqual(['reassessment:response.conservative', 'reassessment:escalation.minimum-duration']);
    expect(early.decisions[0]!.summary).toBe('Reassessment: not responding.');
    const minimum = early.decisions[1]!;
    expect(minimum).toMatchObject({ actor: { role: 'system' }, stageBefore: 'conservative', stageAfter: 'conservative', numbers: { minimumDays: 42 } });
    expect(minimum.numbers!.activeDays as number).toBeGreaterThanOrEqual(9.9);
    expect(minimum.numbers!.activeDays as number).toBeLessThan(10.1);
    // The stage, its reference and its cadence stay as they were.
    expect(early.pathway).toMatchObject({ stage: 'conservative', status: 'active', consecutiveResponses: 0, stageEnteredAt: s0.enrolledAt });
    expect(early.pathway.reference).toEqual(s0.reference);
    expect(early.pathway.due).toEqual({ kind: 'reassessment', dueAt: plusDays(s0.enrolledAt, 42) });

    // After 42 days the same scores do escalate.
    await p.passDays(33);
    const onTime = await p.reassess({ painNrs: 8, odi: 40 });
    expect(stepsOf(onTime.decisions)).toEqual(['reassessment:response.conservative', 'stage-changed:escalation.conservative']);
    expect(onTime.pathway.stage).toBe('interventional');
    await eventuallyLocal(() => careTopics(channel, p.id), (t) => t.length > 0);
    expect(careTopics(channel, p.id)).toEqual(['stage-changed']);
    await keep(p);
  });
});

describe('spinal cord stimulation', () => {
  /** Escalates a new pathway straight to SCS (a clinician's override). */
  async function inScs(baseline: Scores = { painNrs: 8, odi: 40 }): Promise<PathwayDriver> {
    const p = await enroll({ baseline });
    const escalated = await p.action({ action: 'escalate', toStage: 'scs', reason: 'failed conservative and interventional care elsewhere' });
    expect(stepsOf(escalated.decisions)).toEqual(['stage-changed:override.escalate']);
    expect(escalated.decisions[0]).toMatchObject({
      actor: CLINICIAN,
      reason: 'failed conservative and interventional care elsewhere',
      numbers: { requestedStage: 'scs', fromStage: 'conservative', toStage: 'scs' },
    });
    // No reassessment yet: the baseline stays the reference.
    expect(escalated.pathway.reference).toMatchObject({ painNrs: baseline.painNrs, from: 'enrollment' });
    return p;
  }

  it('a successful trial (>= 50% relief) leads to the implant, follow-ups every 84 days, and a responding pair completes', async () => {
    const p = await inScs();
    await p.procedure({ type: 'psychological-evaluation', outcome: 'cleared' });
    const trial = await p.procedure({ type: 'scs-trial' });
    await p.passDays(8);
    // 8 -> 4 is exactly 50%: the threshold counts as success.
    const trialResult = await p.reassess({ painNrs: 4 });
    expect(stepsOf(trialResult.decisions)).toEqual(['reassessment:response.scs-trial']);
    expect(trialResult.decisions[0]).toMatchObject({ summary: 'Reassessment: responding.', numbers: { referencePainNrs: 8, painReliefPercent: 50, reliefThresholdPercent: 50 } });
    expect(trialResult.pathway).toMatchObject({ stage: 'scs', status: 'active', consecutiveResponses: 0 });
    expect(trialResult.pathway.scs).toMatchObject({ psychology: 'cleared', trialStartedAt: trial.decisions[0]!.at, trialSucceeded: true });
    expect(trialResult.pathway.due).toEqual({ kind: 'scs-implant', dueAt: plusDays(trialResult.decisions[0]!.at, 42) });
    // The trial is evaluated once, and there is only one.
    await expectRefused(p.reassess({ painNrs: 4 }), 'conflict');
    await expectRefused(p.procedure({ type: 'scs-trial' }), 'conflict', 'type');

    await p.passDays(14);
    const implant = await p.procedure({ type: 'scs-implant' });
    const implantedAt = implant.decisions[0]!.at;
    expect(implant.decisions[0]!.numbers).toEqual({ type: 'scs-implant', followUpEveryDays: 84 });
    expect(implant.pathway.scs.implantedAt).toBe(implantedAt);
    expect(implant.pathway.cadence).toEqual({ anchorAt: implantedAt, everyDays: 84 });
    expect(implant.pathway.due).toEqual({ kind: 'reassessment', dueAt: plusDays(implantedAt, 84) });
    await expectRefused(p.procedure({ type: 'scs-implant' }), 'conflict', 'type');

    await p.passDays(85);
    const followUp1 = await p.reassess({ painNrs: 3 });
    expect(stepsOf(followUp1.decisions)).toEqual(['reassessment:response.scs-follow-up']);
    expect(followUp1.decisions[0]!.numbers).toMatchObject({ referencePainNrs: 8, painNrs: 3, painReliefPercent: 62.5 });
    expect(followUp1.pathway.consecutiveResponses).toBe(1);
    // The next follow-up keeps the implant's 84-day cadence.
    expect(followUp1.pathway.due).toEqual({ kind: 'reassessment', dueAt: plusDays(implantedAt, 168) });

    await p.passDays(84);
    const followUp2 = await p.reassess({ painNrs: 3.5 });
    expect(stepsOf(followUp2.decisions)).toEqual(['reassessment:response.scs-follow-up', 'completed:completion.sustained-response']);

    const result = await p.result();
    expect(result).toMatchObject({ status: 'completed', stage: 'scs', due: null });
    expect(stepsOf(decisionsOf(result.timeline))).toEqual([
      'enrolled',
      'stage-changed:override.escalate',
      'procedure',
      'procedure:procedure.scs-trial-days',
      'reassessment:response.scs-trial',
      'procedure:procedure.scs-follow-up',
      'reassessment:response.scs-follow-up',
      'reassessment:response.scs-follow-up',
      'completed:completion.sustained-response',
    ]);
    expectContiguousTimeline(result.timeline);
    expect(careTopics(channel, p.id)).toEqual(['stage-changed', 'completed']);
    await keep(p);
  });

  it('a follow-up after the implant with less than 50% relief escalates to revision referral', async () => {
    const p = await inScs();
    await p.procedure({ type: 'psychological-evaluation', outcome: 'cleared' });
    await p.procedure({ type: 'scs-trial' });
    await p.passDays(8);
    await p.reassess({ painNrs: 3 });
    await p.procedure({ type: 'scs-implant' });
    await p.passDays(85);
    const followUp = await p.reassess({ painNrs: 5 });
    expect(stepsOf(followUp.decisions)).toEqual(['reassessment:response.scs-follow-up', 'stage-changed:escalation.scs-follow-up']);
    expect(followUp.decisions[1]!.numbers).toMatchObject({ referencePainNrs: 8, painNrs: 5, painReliefPercent: 37.5, fromStage: 'scs', toStage: 'revision-referral' });
    expect(followUp.pathway).toMatchObject({ stage: 'revision-referral', status: 'active', cadence: null });
    expect(followUp.pathway.reference).toMatchObject({ painNrs: 5, from: 'reassessment' });
    expect(followUp.pathway.due).toEqual({ kind: 'workup', dueAt: plusDays(followUp.decisions[1]!.at, 42) });
    await eventuallyLocal(() => careTopics(channel, p.id), (t) => t.length >= 2);
    expect(careTopics(channel, p.id)).toEqual(['stage-changed', 'stage-changed']);
    await keep(p);
  });

  it('a psychological evaluation that does not clear the patient skips the trial and escalates to revision referral', async () => {
    const p = await inScs();
    const evaluation = await p.procedure({ type: 'psychological-evaluation', outcome: 'not-cleared' });
    expect(stepsOf(evaluation.decisions)).toEqual(['procedure', 'stage-changed:escalation.scs-psychology']);
    expect(evaluation.decisions[0]).toMatchObject({ numbers: { type: 'psychological-evaluation', outcome: 'not-cleared' }, summary: 'Psychological evaluation: not cleared.' });
    expect(evaluation.decisions[1]).toMatchObject({
      actor: { role: 'system' },
      stageBefore: 'scs',
      stageAfter: 'revision-referral',
      numbers: { psychologicalEvaluation: 'not-cleared', fromStage: 'scs', toStage: 'revision-referral' },
    });
    const view = evaluation.pathway;
    expect(view).toMatchObject({ stage: 'revision-referral', status: 'active' });
    expect(view.scs.psychology).toBe('not-cleared');
    expect(view.scs.trialStartedAt).toBeUndefined();
    expect(view.due).toEqual({ kind: 'workup', dueAt: plusDays(evaluation.decisions[1]!.at, 42) });
    expect(view.pendingWorkup).toHaveLength(5);
    // The trial is gone for good.
    await expectRefused(p.procedure({ type: 'scs-trial' }), 'conflict', 'type');
    const timeline = await settled(p, 2);
    expect(timeline.some((e) => e.event === 'procedure' && e.numbers?.type === 'scs-trial')).toBe(false);
    expect(careTopics(channel, p.id)).toEqual(['stage-changed', 'stage-changed']);
    expect(channel.notifications.filter((n) => n.pathwayId === p.id).map((n) => n.stage)).toEqual(['scs', 'revision-referral']);
    await keep(p);
  });
});

describe('red flags', () => {
  it('mid-stage: urgent referral stops the due timers; resume returns to the same stage with the due date moved by the pause', async () => {
    const p = await enroll();
    const s0 = await p.state();
    const dueBefore = s0.due!;
    await p.passDays(10);

    const flagged = await p.redFlags({ redFlags: ['progressive-motor-deficit'], note: 'new foot drop' });
    expect(stepsOf(flagged.decisions)).toEqual(['red-flags:red-flag.urgent-referral']);
    const flag = flagged.decisions[0]!;
    expect(flag).toMatchObject({ actor: CLINICIAN, reason: 'new foot drop', numbers: { redFlags: 'progressive-motor-deficit' }, statusBefore: 'active', statusAfter: 'urgent-referral', stageAfter: 'conservative' });
    expect(flagged.pathway).toMatchObject({ status: 'urgent-referral', stage: 'conservative', pause: { since: flag.at, kind: 'urgent-referral' }, due: dueBefore });
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.includes('urgent-referral'));
    expect(channel.notifications.find((n) => n.pathwayId === p.id)).toMatchObject({ topic: 'urgent-referral', status: 'urgent-referral', stage: 'conservative' });
    const beforeWait = await settled(p, 1);

    // Far past due (day 42), overdue (45) and lost to follow-up (73): nothing fires in urgent referral.
    await p.passDays(100);
    const waited = await p.state();
    expect(waited).toMatchObject({ status: 'urgent-referral', overdue: false, due: dueBefore });
    expect(waited.timeline).toEqual(beforeWait);
    expect(waited.timeline.filter((e) => ['overdue', 'reminder', 'lost-to-follow-up'].includes(e.event))).toEqual([]);
    const types = await historyEventTypes(p);
    const flaggedAt = types.lastIndexOf(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
    expect(flaggedAt).toBeGreaterThan(0);
    expect(types.slice(flaggedAt).filter((t) => t === EventType.EVENT_TYPE_TIMER_FIRED)).toEqual([]);
    expect(types.slice(flaggedAt)).toContain(EventType.EVENT_TYPE_TIMER_CANCELED);
    expect(channel.topics(p.id)).toEqual(['urgent-referral']);

    // A plain reassessment waits for the resume; a coordinator cannot close; a clinician resumes.
    await expectRefused(p.reassess({ painNrs: 5 }), 'conflict');
    await expectRefused(p.action({ action: 'close', reason: 'referred on' }, COORDINATOR), 'forbidden');
    const resumed = await p.action({ action: 'resume', reason: 'MRI clear, no cauda equina' });
    expect(stepsOf(resumed.decisions)).toEqual(['override:override.resume']);
    const resume = resumed.decisions[0]!;
    const pausedMs = ms(resume.at) - ms(flag.at);
    expect(Math.abs(pausedMs - 100 * DAY_MS)).toBeLessThan(PAUSE_TOLERANCE_MS);
    expect(resume.numbers).toMatchObject({ pausedFor: 'urgent-referral', dueBefore: dueBefore.dueAt });
    expect(Math.abs((resume.numbers!.heldDays as number) - 100)).toBeLessThanOrEqual(0.1);
    const after = resumed.pathway;
    expect(after).toMatchObject({ status: 'active', stage: 'conservative', pause: null, overdue: false });
    expect(after.due!.kind).toBe('reassessment');
    expect(ms(after.due!.dueAt) - ms(dueBefore.dueAt)).toBe(pausedMs);
    expect(ms(after.stageClockAt) - ms(s0.stageClockAt)).toBe(pausedMs);
    expect(ms(after.cadence!.anchorAt) - ms(s0.cadence!.anchorAt)).toBe(pausedMs);

    // The timers run again, from the moved due date: overdue 3 days after it, not before.
    await p.passDays(34);
    const beforeOverdue = await p.state();
    expect(beforeOverdue.overdue).toBe(false);
    expect(ms(beforeOverdue.due!.dueAt)).toBeLessThan(await env.currentTimeMs()); // due, reminded, not yet overdue
    await p.passDays(2);
    const overdue = await p.until((s) => s.overdue);
    const entry = overdue.timeline.find((e) => e.event === 'overdue')!;
    expect(entry.ruleId).toBe('follow-up.overdue');
    expect(Math.abs(ms(entry.at) - (ms(after.due!.dueAt) + 3 * DAY_MS))).toBeLessThan(60_000);
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.length >= 3);
    expect(channel.topics(p.id)).toEqual(['urgent-referral', 'reminder.due', 'reminder.overdue']);
    await keep(p);
  });

  it('at enrolment: the pathway starts in urgent referral, paused from the start', async () => {
    const p = await enroll({ redFlags: ['infection', 'suspected-fracture'] });
    const s0 = await p.state();
    expect(stepsOf(decisionsOf(s0.timeline))).toEqual(['enrolled', 'red-flags:red-flag.urgent-referral']);
    expect(s0.timeline[1]).toMatchObject({ actor: COORDINATOR, numbers: { redFlags: 'infection, suspected-fracture' }, statusBefore: 'active', statusAfter: 'urgent-referral' });
    expect(s0).toMatchObject({ status: 'urgent-referral', stage: 'conservative', pause: { since: s0.enrolledAt, kind: 'urgent-referral' } });
    expect(s0.redFlags).toEqual([{ at: s0.enrolledAt, flags: ['infection', 'suspected-fracture'] }]);
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.length > 0);
    expect(channel.topics(p.id)).toEqual(['urgent-referral']);

    await expectRefused(p.reassess({ painNrs: 5 }), 'conflict');
    await expectRefused(p.procedure({ type: 'nerve-block' }), 'conflict');
    // Red flags in a reassessment are always taken: the scores are kept, not evaluated.
    const more = await p.reassess({ painNrs: 9, redFlags: ['saddle-anaesthesia'] });
    expect(stepsOf(more.decisions)).toEqual(['reassessment', 'red-flags:red-flag.urgent-referral']);
    expect(more.decisions[0]!.summary).toBe('Reassessment recorded.');
    expect(more.pathway.latest).toMatchObject({ painNrs: 9, redFlags: ['saddle-anaesthesia'] });
    expect(more.pathway.latest!.evaluation).toBeUndefined();
    expect(more.pathway.pause).toEqual({ since: s0.enrolledAt, kind: 'urgent-referral' });

    await p.passDays(20);
    const resumed = await p.action({ action: 'resume', reason: 'infection treated' });
    const held = ms(resumed.decisions[0]!.at) - ms(s0.enrolledAt);
    expect(Math.abs(held - 20 * DAY_MS)).toBeLessThan(PAUSE_TOLERANCE_MS);
    expect(resumed.pathway).toMatchObject({ status: 'active', stage: 'conservative' });
    expect(resumed.pathway.due).toEqual({ kind: 'reassessment', dueAt: isoAt(ms(s0.due!.dueAt) + held) });
    // Close only follows an urgent referral.
    await expectRefused(p.action({ action: 'close', reason: 'nothing more to do' }), 'conflict');
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.length >= 2);
    expect(channel.topics(p.id)).toEqual(['urgent-referral', 'urgent-referral']);
    await keep(p);
  });

  it('during a hold: the urgent referral keeps the hold’s start, and a clinician closes the pathway', async () => {
    const p = await enroll();
    await p.passDays(5);
    const held = await p.action({ action: 'hold', reason: 'patient travelling' }, COORDINATOR);
    const holdAt = held.decisions[0]!.at;
    await p.passDays(5);
    const flagged = await p.redFlags({ redFlags: ['suspected-malignancy'] });
    expect(flagged.decisions[0]).toMatchObject({ statusBefore: 'on-hold', statusAfter: 'urgent-referral' });
    expect(flagged.pathway.pause).toEqual({ since: holdAt, kind: 'urgent-referral' });
    const closed = await p.action({ action: 'close', reason: 'referred to oncology' });
    expect(stepsOf(closed.decisions)).toEqual(['override:override.close']);
    const result = await p.result();
    expect(result).toMatchObject({ status: 'closed', due: null, pause: null, closedAt: closed.decisions[0]!.at });
    expect(channel.topics(p.id)).toEqual(['urgent-referral', 'closed']);
    await keep(p);
  });

  it('a notification that fails after every retry is written to the timeline, and the pathway carries on', async () => {
    const p = await enroll();
    channel.failing = true;
    let flaggedAt: string;
    try {
      flaggedAt = (await p.redFlags({ redFlags: ['bladder-bowel-dysfunction'] })).decisions[0]!.at;
      // Delivery retries for hours, then gives up.
      await p.passDays(2);
      const view = await p.until((s) => s.timeline.some((e) => e.event === 'notification'));
      const note = view.timeline.find((e) => e.event === 'notification')!;
      expect(note.numbers).toMatchObject({ sideEffect: 'notify-care-team', outcome: 'undelivered' });
      expect(note.summary).toMatch(/Not delivered after every retry/);
      expect(ms(note.at) - ms(flaggedAt)).toBeGreaterThanOrEqual(60 * 60 * 1000);
      expect(ms(note.at) - ms(flaggedAt)).toBeLessThan(1.1 * DAY_MS);
      expect(view.undelivered).toEqual([{ messageId: note.numbers!.messageId, effect: 'notify-care-team', at: note.at }]);
    } finally {
      channel.failing = false;
    }
    expect(channel.topics(p.id)).toEqual([]);
    const closed = await p.action({ action: 'close', reason: 'admitted elsewhere' });
    // Someone has acted on the pathway: the undelivered message is no longer outstanding.
    expect(closed.pathway.undelivered[0]!.resolvedAt).toBe(closed.decisions[0]!.at);
    const result = await p.result();
    expect(result.status).toBe('closed');
    expect(channel.topics(p.id)).toEqual(['closed']);
    expect(deliveriesOf(result.timeline)).toEqual(['undelivered', 'handed-over']);
    // The activity's last attempt ends the delivery: failed (no time left to retry) or timed out.
    const ended = eventTypesOf(await p.handle.fetchHistory()).filter((t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED || t === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT);
    expect(ended).toHaveLength(1);
    await keep(p);
  });
});

describe('holds, withdrawal and follow-up', () => {
  it('hold and resume move the due date and the stage clock by the time held, and held time does not count toward the minimum', async () => {
    const p = await enroll({ baseline: { painNrs: 8, odi: 40 } });
    const s0 = await p.state();
    await p.passDays(5);
    const before = (await p.state()).due!;
    const held = await p.action({ action: 'hold', reason: 'patient travelling' }, COORDINATOR);
    expect(stepsOf(held.decisions)).toEqual(['override:override.hold']);
    expect(held.pathway).toMatchObject({ status: 'on-hold', pause: { since: held.decisions[0]!.at, kind: 'hold' }, due: before });
    await expectRefused(p.reassess({ painNrs: 5 }), 'conflict');
    await expectRefused(p.action({ action: 'hold', reason: 'again' }, COORDINATOR), 'conflict');

    // Held past the due date and its grace: nothing falls due, nothing becomes overdue.
    await p.passDays(60);
    const during = await p.state();
    expect(during).toMatchObject({ status: 'on-hold', overdue: false });
    expect(during.timeline.map((e) => e.event)).toEqual(['enrolled', 'override']);

    const resumed = await p.action({ action: 'resume', reason: 'back home' }, COORDINATOR);
    const heldMs = ms(resumed.decisions[0]!.at) - ms(held.decisions[0]!.at);
    expect(Math.abs(heldMs - 60 * DAY_MS)).toBeLessThan(PAUSE_TOLERANCE_MS);
    expect(resumed.decisions[0]!.numbers).toMatchObject({ pausedFor: 'hold', dueBefore: before.dueAt });
    const after = resumed.pathway.due!;
    expect(after.kind).toBe('reassessment');
    expect(Math.abs(ms(after.dueAt) - ms(before.dueAt) - 60 * DAY_MS)).toBeLessThan(PAUSE_TOLERANCE_MS);
    expect(ms(after.dueAt) - ms(before.dueAt)).toBe(heldMs);
    expect(ms(resumed.pathway.stageClockAt) - ms(s0.stageClockAt)).toBe(heldMs);

    // Wall day 85, but only 25 active days: a non-response does not escalate yet...
    await p.passDays(20);
    const early = await p.reassess({ painNrs: 8, odi: 40 });
    expect(stepsOf(early.decisions)).toEqual(['reassessment:response.conservative', 'reassessment:escalation.minimum-duration']);
    expect(early.decisions[1]!.numbers!.activeDays as number).toBeCloseTo(25, 0);
    // ...and the cadence, moved by the hold too, still points at the moved due date.
    expect(early.pathway.due).toEqual(after);
    // Wall day 103 is active day 43: now it does.
    await p.passDays(18);
    const onTime = await p.reassess({ painNrs: 8, odi: 40 });
    expect(stepsOf(onTime.decisions)).toEqual(['reassessment:response.conservative', 'stage-changed:escalation.conservative']);
    expect(onTime.decisions[1]!.numbers!.activeDays as number).toBeGreaterThanOrEqual(42.9);
    expect(onTime.decisions[1]!.numbers!.activeDays as number).toBeLessThan(43.1);
    await keep(p);
  });

  it('withdraw completes the workflow at once, webhook down or not: the patient is free, and the owed message is delivered by a workflow of its own', async () => {
    const p = await enroll();
    await p.passDays(3);
    // The care team's channel is down: the closing notification cannot be delivered yet.
    channel.failing = true;
    let result: PathwayView;
    try {
      const withdrawn = await p.action({ action: 'withdraw', reason: 'moved to another region' }, COORDINATOR);
      expect(stepsOf(withdrawn.decisions)).toEqual(['override:override.withdraw']);
      expect(withdrawn.decisions[0]).toMatchObject({ actor: COORDINATOR, reason: 'moved to another region', statusAfter: 'withdrawn', due: null });
      expect(withdrawn.pathway).toMatchObject({ status: 'withdrawn', due: null, closedAt: withdrawn.decisions[0]!.at });
      // The answer came once the workflow had completed with the withdrawal.
      expect((await p.handle.describe()).status.name).toBe('COMPLETED');
      result = await p.handle.result();
      expect(result.status).toBe('withdrawn');
      const handover = result.timeline.at(-1)!;
      expect(handover).toMatchObject({ event: 'notification', numbers: { sideEffect: 'notify-care-team', outcome: 'handed-over' } });
      const runId = (await p.handle.describe()).runId;
      expect(handover.numbers!.deliveredBy).toBe(`${p.id}.closing-messages.${runId}`);
      const deliverer = env.client.workflow.getHandle(String(handover.numbers!.deliveredBy));
      expect((await deliverer.describe()).status.name).toBe('RUNNING');
      // Changes to the closed pathway find no running workflow (the API answers 409).
      const events = (await p.handle.fetchHistory()).events!.length;
      await expect(p.reassess({ painNrs: 5 })).rejects.toBeInstanceOf(WorkflowNotFoundError);
      expect((await p.handle.fetchHistory()).events!.length).toBe(events);

      // The same patient is enrolled again at once, while the old message is still being retried.
      const again = await enroll({ pathwayId: p.id });
      expect((await again.state()).status).toBe('active');
      expect((await deliverer.describe()).status.name).toBe('RUNNING');
    } finally {
      channel.failing = false;
    }
    const [delivered] = await p.closingMessages(result!);
    expect(delivered).toEqual({
      pathwayId: p.id,
      outcomes: [{ messageId: result!.timeline.at(-1)!.numbers!.messageId, type: 'pathway.closed', outcome: 'worklist', at: expect.any(String) }],
    });
    expect(channel.topics(p.id)).toEqual(['closed']);
    await keep(p);
  });

  it('a message owed on closing that cannot be delivered after every retry is recorded as undelivered by its workflow, flagged for dashboards', async () => {
    const p = await enroll();
    channel.failing = true;
    try {
      await p.action({ action: 'withdraw', reason: 'moved away' }, COORDINATOR);
      const result = await p.handle.result();
      // Waiting for the deliverer lets the server skip its twelve hours of retries.
      const [outcome] = await p.closingMessages(result);
      expect(outcome!.outcomes.map((o) => o.outcome)).toEqual(['undelivered']);
      const deliverer = await env.client.workflow.getHandle(String(result.timeline.at(-1)!.numbers!.deliveredBy)).describe();
      expect(deliverer.typedSearchAttributes.get(UndeliveredKey)).toBe(true);
      expect(deliverer.typedSearchAttributes.get(CareTeamKey)).toBe('spine-test');
    } finally {
      channel.failing = false;
    }
    expect(channel.topics(p.id)).toEqual([]);
    await keep(p);
  });

  it('a clinician discharges (completes) a pathway on hold; a coordinator may not', async () => {
    const p = await enroll();
    await p.action({ action: 'hold', reason: 'considering options' }, COORDINATOR);
    await expectRefused(p.action({ action: 'discharge', reason: 'doing well' }, COORDINATOR), 'forbidden');
    const discharged = await p.action({ action: 'discharge', reason: 'doing well, self-managing' });
    expect(stepsOf(discharged.decisions)).toEqual(['completed:override.discharge']);
    const result = await p.result();
    expect(result).toMatchObject({ status: 'completed', pause: null, due: null });
    expect(channel.topics(p.id)).toEqual(['completed']);
    await keep(p);
  });

  it('a missed reassessment is reminded when due, overdue 3 days later, lost to follow-up 28 days after that, and active again on resume', async () => {
    const p = await enroll();
    const s0 = await p.state();
    const due = s0.due!;
    await p.passDays(44);
    const notYet = await p.state();
    expect(notYet).toMatchObject({ overdue: false, status: 'active' });
    expect(stepsOf(notYet.timeline.filter((e) => e.event !== 'notification'))).toEqual(['enrolled', 'reminder:follow-up.reminder']);
    expect(notYet.timeline[1]).toMatchObject({ numbers: { dueKind: 'reassessment', dueAt: due.dueAt, sequence: 1, level: 'due' } });
    expect(Math.abs(ms(notYet.timeline[1]!.at) - ms(due.dueAt))).toBeLessThan(60_000);

    await p.passDays(1);
    const overdue = await p.until((s) => s.overdue);
    const overdueEntry = overdue.timeline.find((e) => e.event === 'overdue')!;
    expect(overdueEntry).toMatchObject({
      ruleId: 'follow-up.overdue',
      actor: { role: 'system' },
      numbers: { dueKind: 'reassessment', dueAt: due.dueAt, graceDays: 3 },
      statusAfter: 'active',
    });
    expect(Math.abs(ms(overdueEntry.at) - (ms(due.dueAt) + 3 * DAY_MS))).toBeLessThan(60_000);
    expect(overdue).toMatchObject({ status: 'active', due });
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.includes('reminder.overdue'));
    // The overdue reminder goes to the coordinator.
    expect(channel.messages.find((m) => m.pathwayId === p.id && m.type === 'reminder.overdue')).toMatchObject({ recipient: 'coordinator', item: 'reassessment', dueAt: due.dueAt, sequence: 2 });

    await p.passDays(28);
    const lost = await p.until((s) => s.status === 'on-hold');
    const lostEntry = lost.timeline.find((e) => e.event === 'lost-to-follow-up')!;
    expect(lostEntry).toMatchObject({ ruleId: 'follow-up.lost', numbers: { dueKind: 'reassessment', overdueDays: 28 }, statusBefore: 'active', statusAfter: 'on-hold' });
    expect(Math.abs(ms(lostEntry.at) - (ms(overdueEntry.at) + 28 * DAY_MS))).toBeLessThan(60_000);
    expect(lost.pause).toEqual({ since: lostEntry.at, kind: 'lost-to-follow-up' });
    expect(stepsOf(decisionsOf(lost.timeline))).toEqual(['enrolled', 'overdue:follow-up.overdue', 'lost-to-follow-up:follow-up.lost']);
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.includes('lost-to-follow-up'));
    // Weekly reminders while overdue (days 52, 59 and 66), then lost to follow-up on day 73.
    expect(channel.topics(p.id)).toEqual(['reminder.due', 'reminder.overdue', 'reminder.overdue', 'reminder.overdue', 'reminder.overdue', 'lost-to-follow-up']);
    await expectRefused(p.reassess({ painNrs: 5 }), 'conflict');

    const resumed = await p.action({ action: 'resume', reason: 'patient back in touch' }, COORDINATOR);
    expect(resumed.decisions[0]!.numbers).toMatchObject({ pausedFor: 'lost-to-follow-up' });
    // Long past due: it falls due again now, rather than being lost again at once.
    expect(resumed.pathway).toMatchObject({ status: 'active', overdue: false, pause: null, due: { kind: 'reassessment', dueAt: resumed.decisions[0]!.at } });
    await p.passDays(3);
    await p.until((s) => s.overdue);
    await eventuallyLocal(() => channel.topics(p.id), (t) => t.length >= 8);
    expect(channel.topics(p.id).slice(6)).toEqual(['reminder.due', 'reminder.overdue']);
    // And a reassessment clears it.
    const reassessed = await p.reassess({ painNrs: 5 });
    expect(reassessed.pathway.overdue).toBe(false);
    await keep(p);
  });
});

describe('refusals', () => {
  it('invalid, impossible and unauthorised changes are refused by the validator and write nothing', async () => {
    const p = await enroll();
    // Let the enrolment's workflow task (search attributes, the due timer) land before measuring.
    await eventually(() => historyEventTypes(p), (t) => t.includes(EventType.EVENT_TYPE_TIMER_STARTED));
    const before = await p.state();
    const eventsBefore = (await p.handle.fetchHistory()).events!;

    const invalid = await expectRefused(p.reassess({ painNrs: 11 }), 'invalid', 'painNrs');
    expect(invalid.errors?.map((e) => e.field)).toEqual(['painNrs']);
    expect(JSON.stringify(invalid)).not.toContain('11'); // names the field, never the value
    await expectRefused(p.reassess({ painNrs: 5.55 }), 'invalid', 'painNrs');
    await expectRefused(p.reassess({ painNrs: 5, odi: 101 }), 'invalid', 'odi');
    await expectRefused(p.procedure({ type: 'nerve-block' }), 'conflict', 'type');
    await expectRefused(p.reassess({ painNrs: 5 }, COORDINATOR), 'forbidden');
    await expectRefused(p.reassess({ painNrs: 5 }, { id: 'v', role: 'viewer' }), 'forbidden');
    await expectRefused(p.action({ action: 'escalate', reason: 'coordinator tries' }, COORDINATOR), 'forbidden');
    await expectRefused(p.action({ action: 'hold', reason: 'x' }, COORDINATOR), 'invalid', 'reason');
    await expectRefused(p.action({ action: 'escalate', toStage: 'conservative', reason: 'not later' }), 'conflict', 'toStage');
    await expectRefused(p.workup({ item: 'imaging' }), 'conflict', 'item');
    await expectRefused(p.action({ action: 'resume', reason: 'not paused' }), 'conflict');
    await expectRefused(p.reassess({ painNrs: 5 }, { id: 'x', role: 'admin' as 'clinician' }), 'invalid', 'actor.role');

    const eventsAfter = (await p.handle.fetchHistory()).events!;
    const added = eventsAfter.slice(eventsBefore.length).map((e) => Number(e.eventType));
    // The time-skipping test server still writes a workflow task for each rejected update (a real
    // server drops it: see refusals.dev-server.test.ts); no update, timer or activity event is written.
    const workflowTask: number[] = [EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED];
    expect(added.filter((t) => !workflowTask.includes(t))).toEqual([]);
    expect(eventTypesOf({ events: eventsAfter })).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED);
    expect(eventTypesOf({ events: eventsAfter })).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED);
    expect(await p.state()).toEqual(before);

    // An accepted change afterwards takes the next number.
    const accepted = await p.action({ action: 'hold', reason: 'patient travelling' }, COORDINATOR);
    expect(accepted.decisions.map((e) => e.seq)).toEqual([lastSeq(before.timeline) + 1]);
    await keep(p);
  });

  it('procedure guards: the 4-in-365-days limit, dates in the future or before the stage', async () => {
    const p = await enroll();
    const escalated = await p.action({ action: 'escalate', reason: 'severe radicular pain' });
    expect(escalated.pathway.stage).toBe('interventional');
    const stageAt = escalated.decisions[0]!.at;
    await expectRefused(p.procedure({ type: 'psychological-evaluation', outcome: 'cleared' }), 'conflict', 'type');
    await expectRefused(p.procedure({ type: 'nerve-block', outcome: 'cleared' }), 'invalid', 'outcome');
    await expectRefused(p.procedure({ type: 'nerve-block', performedAt: plusDays(stageAt, 2) }), 'invalid', 'performedAt');
    await expectRefused(p.procedure({ type: 'nerve-block', performedAt: plusDays(stageAt, -1) }), 'conflict', 'performedAt');
    await expectRefused(p.procedure({ type: 'nerve-block', performedAt: 'yesterday' }), 'invalid', 'performedAt');

    const types = ['nerve-block', 'facet-joint-injection', 'medial-branch-block', 'radiofrequency-ablation'] as const;
    for (const type of types) {
      await p.passDays(1);
      await p.procedure({ type });
    }
    const limit = await expectRefused(p.procedure({ type: 'si-joint-injection' }), 'conflict', 'type');
    expect(limit.message).toMatch(/At most 4 interventional procedures/);
    const view = await p.state();
    expect(view.procedures.map((r) => r.type)).toEqual([...types]);
    expect(stepsOf(entriesAfter(decisionsOf(view.timeline), 2))).toEqual(Array(4).fill('procedure:procedure.reassess-after'));
    // The reassessment due follows the last procedure.
    const last = view.procedures[3]!;
    expect(view.due).toEqual({ kind: 'reassessment', dueAt: plusDays(last.performedAt, 28) });
    await keep(p);
  });
});

describe('continue-as-new', () => {
  it('carries the whole pathway (timeline, stage, reference, due date, pauses, pending side effects) into the next runs', async () => {
    const p = await enroll({ baseline: { painNrs: 8, odi: 40 }, continueAsNewAfterEvents: 20 });
    const firstRun = firstRunId(p);

    await p.passDays(10);
    await p.reassess({ painNrs: 8, odi: 40 }); // early: minimum duration
    const held = await p.action({ action: 'hold', reason: 'patient travelling' }, COORDINATOR);
    await p.passDays(10);
    const resumed = await p.action({ action: 'resume', reason: 'back home' }, COORDINATOR);
    const heldMs = ms(resumed.decisions[0]!.at) - ms(held.decisions[0]!.at);
    expect(Math.abs(heldMs - 10 * DAY_MS)).toBeLessThan(PAUSE_TOLERANCE_MS);
    const s0 = await p.state();
    expect(s0.due!.dueAt).toBe(isoAt(ms(plusDays(s0.enrolledAt, 42)) + heldMs));

    await p.passDays(33); // active day 43
    const escalated = await p.reassess({ painNrs: 7, odi: 36 });
    expect(stepsOf(escalated.decisions)).toEqual(['reassessment:response.conservative', 'stage-changed:escalation.conservative']);
    const procedure = await p.procedure({ type: 'radiofrequency-ablation' });
    await p.passDays(29);
    const responding = await p.reassess({ painNrs: 3 }); // 7 -> 3: 57% relief
    const afterResponding = await p.state();
    expect(stepsOf(responding.decisions)).toEqual(['reassessment:response.interventional']);
    expect(responding.decisions[0]!.numbers).toMatchObject({ referencePainNrs: 7, painReliefPercent: 57.143 });

    // The pathway has continued as new at least once by now.
    const current = await p.handle.describe();
    expect(current.runId).not.toBe(firstRun);
    const firstHistory = await env.client.workflow.getHandle(p.id, firstRun).fetchHistory();
    expect(eventTypesOf(firstHistory).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);

    // stage-changed, and a due reminder for the conservative reassessment and for the post-procedure one.
    await settled(p, 3);
    const view = await p.state();
    expectContiguousTimeline(view.timeline);
    // The view holds what the last accepted change answered, plus the notes of side effects done since.
    expect(decisionsOf(view.timeline)).toEqual(decisionsOf(afterResponding.timeline));
    expect(stepsOf(decisionsOf(view.timeline))).toEqual([
      'enrolled',
      'reassessment:response.conservative',
      'reassessment:escalation.minimum-duration',
      'override:override.hold',
      'override:override.resume',
      'reassessment:response.conservative',
      'stage-changed:escalation.conservative',
      'procedure:procedure.reassess-after',
      'reassessment:response.interventional',
    ]);
    expect(view).toMatchObject({ status: 'active', stage: 'interventional', consecutiveResponses: 1, stageEnteredAt: escalated.decisions[1]!.at });
    expect(view.reference).toEqual({ painNrs: 7, odi: 36, from: 'reassessment', at: escalated.decisions[0]!.at });
    expect(view.due).toEqual({ kind: 'reassessment', dueAt: plusDays(responding.decisions[0]!.at, 28) });
    expect(view.procedures.map((r) => r.performedAt)).toEqual([procedure.decisions[0]!.at]);

    await p.passDays(29);
    const done = await p.reassess({ painNrs: 2.5 });
    expect(stepsOf(done.decisions)).toEqual(['reassessment:response.interventional', 'completed:completion.sustained-response']);
    const result = await p.result(); // follows the chain of runs
    expect(result.status).toBe('completed');
    expectContiguousTimeline(result.timeline);
    expect(decisionsOf(result.timeline).slice(0, -2)).toEqual(decisionsOf(view.timeline));
    // Each side effect carried out exactly once across the runs.
    expect(careTopics(channel, p.id)).toEqual(['stage-changed', 'completed']);
    expect(channel.topics(p.id).filter((t) => t.startsWith('reminder.'))).toEqual(['reminder.due', 'reminder.due', 'reminder.due']);
    const ids = messageIds(channel, p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(result.timeline.filter((e) => e.event === 'notification').map((e) => e.numbers!.messageId));

    const runs = await runHistories(p);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs[0]!.runId).toBe(firstRun);
    for (const run of runs.slice(0, -1)) expect(eventTypesOf(run.history).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    expect(eventTypesOf(runs.at(-1)!.history).at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    // Each run continued as new once past the threshold (after the work in flight), never long after it.
    for (const run of runs.slice(0, -1)) expect(run.history.events!.length).toBeGreaterThanOrEqual(20);
    for (const run of runs) expect(run.history.events!.length).toBeLessThan(60);
    await keep(p);
  });
});

describe('replay', () => {
  it('a short trajectory of its own, so that the replay below always has a continued-as-new history', async () => {
    const p = await enroll({ continueAsNewAfterEvents: 20 });
    await p.passDays(10);
    await p.reassess({ painNrs: 8 });
    await p.action({ action: 'hold', reason: 'travelling' }, COORDINATOR);
    await p.action({ action: 'resume', reason: 'back home' }, COORDINATOR);
    await p.action({ action: 'escalate', reason: 'severe radicular pain' });
    await p.passDays(32); // procedure due at 28, overdue at 31
    await p.until((s) => s.overdue);
    await p.action({ action: 'withdraw', reason: 'moved away' }, COORDINATOR);
    expect((await p.result()).status).toBe('withdrawn');
    expect((await runHistories(p)).length).toBeGreaterThanOrEqual(2);
    await keep(p);
  });

  it('replays every history collected above against the workflow bundle without a determinism error', async () => {
    expect(histories.length).toBeGreaterThanOrEqual(2);
    const covered = new Set(histories.flatMap((h) => eventTypesOf(h.history as History)));
    for (const type of [
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      EventType.EVENT_TYPE_TIMER_FIRED,
      EventType.EVENT_TYPE_TIMER_CANCELED,
      EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
      EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    ]) {
      expect(covered, EventType[type]).toContain(type);
    }

    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      results.push(result);
    }
    expect(results.map((r) => r.workflowId)).toEqual(histories.map((h) => h.workflowId));
    const failures = results.filter((r) => r.error !== undefined).map((r) => `${r.workflowId}: ${r.error?.name}: ${r.error?.message}`);
    expect(failures).toEqual([]);
  });

  it('replays histories recorded with the code before the closing-hands-over-messages patch (test/workflows/histories)', async () => {
    const folder = path.join(__dirname, 'histories');
    const recorded = readdirSync(folder)
      .filter((f) => f.startsWith('v1-') && f.endsWith('.json'))
      .sort()
      .map((f) => ({ workflowId: f, history: temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(folder, f), 'utf8'))) }));
    // A run closed and finished; one closed while its notification was still being retried, and the same run once delivered.
    expect(recorded.map((r) => r.workflowId)).toEqual(['v1-closed-while-delivering-partial.json', 'v1-closed-while-delivering.json', 'v1-interventional-withdrawn.json']);
    for (const r of recorded) {
      expect(JSON.stringify(r.history)).not.toContain(CLOSING_HANDS_OVER_MESSAGES);
      expect(eventTypesOf(r.history)).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    }
    // The old way of closing: the run stays open until its last message is delivered.
    const closedAfterDelivery = eventTypesOf(recorded[1]!.history);
    expect(closedAfterDelivery.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    expect(closedAfterDelivery.slice(-6)).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);

    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, recorded)) results.push(result);
    expect(results.map((r) => `${r.workflowId}: ${r.error ? `${r.error.name}: ${r.error.message}` : 'ok'}`)).toEqual(recorded.map((r) => `${r.workflowId}: ok`));
  });

  it('the replay check does catch a history the workflow code would not produce', async () => {
    const source = histories.find((h) => eventTypesOf(h.history as History).includes(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED));
    expect(source).toBeDefined();
    const HistoryProto = temporal.api.history.v1.History;
    const tampered = HistoryProto.decode(HistoryProto.encode(source!.history as History).finish());
    const scheduled = tampered.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType = { name: 'sendFax' };

    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, [{ workflowId: 'tampered', history: tampered }])) {
      results.push(result);
    }
    expect(results).toHaveLength(1);
    expect(results[0]!.error?.name).toBe('DeterminismViolationError');
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, tampered, 'tampered')).rejects.toMatchObject({
      name: 'DeterminismViolationError',
    });
  });
});

describe('the shared time-skipping server', () => {
  it('is left with none of this file’s pathways running', async () => {
    expect(started.length).toBeGreaterThanOrEqual(15);
    const running = [];
    for (const p of started) if ((await p.handle.describe()).status.name === 'RUNNING') running.push(p.id);
    expect(running).toEqual([]);
  });
});

describe('what-if with the pathway\'s own version', () => {
  it('reproduces the recorded decisions of every pathway of this file exactly, read from the record store', async () => {
    const db = worker.record.store.db;
    // Every pathway is closed by now, and a closed pathway's workflow completes only once its record is written.
    const enrolments = (await db.selectFrom('pathways').select('enrolment_id').orderBy('enrolled_at').execute()).map((r) => r.enrolment_id);
    expect(enrolments.length).toBeGreaterThanOrEqual(started.length);
    const results: SimulatedPathway[] = [];
    await readHistories(db, enrolments, (h) => results.push(simulatePathway(h, h.definition)));
    expect(results).toHaveLength(enrolments.length);
    expect(results.filter((r) => r.differs).map((r) => ({ pathwayId: r.pathwayId, firstDifference: r.firstDifference }))).toEqual([]);
    // The file's trajectories reach every stage, and a red flag, a hold and the clock's decisions are among them.
    const stages = new Set(results.flatMap((r) => Object.keys(r.simulated.daysToStage)));
    expect([...stages].sort()).toEqual(['conservative', 'interventional', 'revision-referral', 'scs']);
    expect(results.some((r) => r.simulated.urgentReferrals > 0)).toBe(true);
  });
});
