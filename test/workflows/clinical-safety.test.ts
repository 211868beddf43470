/**
 * Issue 9 end to end on the time-skipping server, on psps-lumbar v2: only a clinician resumes
 * after an urgent referral; injections at least 14 days apart; six months of conservative care
 * before an SCS trial (or a clinician's override) and a trial that succeeds by MME; a back-dated
 * reassessment the rules read at its clinical time. Refusals change nothing.
 */
import type { HistoryAndWorkflowId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { loadDefinitions } from '../../clinical/registry';
import { addMonths } from '../../clinical/rules';
import { CLINICIAN, COORDINATOR, PathwayDriver, closeIfRunning } from '../harness/pathway-driver';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';
import { collectHistories, expectRefused, isoAt, ms, plusDays, stepsOf } from '../harness/trajectory';

const V2 = loadDefinitions().get('psps-lumbar', 2)!;
let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;
const channel = new RecordingChannel();
const histories: HistoryAndWorkflowId[] = [];

beforeAll(async () => {
  env = await connectTimeSkipping();
  worker = await startPathwayWorker(env, channel);
});
afterAll(async () => {
  await worker?.stop();
  await disconnectTimeSkipping(env);
});

async function enroll(opts: Parameters<typeof PathwayDriver.enroll>[2] = {}): Promise<PathwayDriver> {
  const p = await PathwayDriver.enroll(env, worker.taskQueue, { definition: V2, baseline: { painNrs: 10, odi: 50 }, ...opts });
  onTestFinished(() => closeIfRunning(p));
  await p.until((s) => s.timeline.length > 0);
  return p;
}
/**
 * The timeline's length once the side effects under way (notifications and their notes) have
 * settled. (The time-skipping server records a workflow task even for a refused update; that
 * refusals write no history at all is checked on the dev server, in refusals.dev-server.test.ts.)
 */
async function settledTimelineLength(p: PathwayDriver): Promise<number> {
  let last = -1;
  for (;;) {
    const now = (await p.state()).timeline.length;
    if (now === last) return now;
    last = now;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Conservative care without response (day 43), then interventional with pain 10 and ODI 50 as the reference. */
async function toInterventional(p: PathwayDriver): Promise<void> {
  await p.passDays(43);
  const escalated = await p.reassess({ painNrs: 10, odi: 50 });
  expect(escalated.pathway.stage).toBe('interventional');
  expect(escalated.pathway.due?.kind).toBe('procedure');
}

describe('1. urgent referral', () => {
  it('a coordinator may not resume it (forbidden, nothing written); a clinician does', async () => {
    const p = await enroll();
    await p.passDays(2);
    await p.redFlags({ redFlags: ['sexual-dysfunction'] });
    const before = await settledTimelineLength(p);
    const refusal = await expectRefused(p.action({ action: 'resume', reason: 'MRI clear' }, COORDINATOR), 'forbidden');
    expect(refusal.message).toBe('only a clinician may resume a pathway after an urgent referral');
    expect((await p.state()).timeline.length).toBe(before);
    expect((await p.state()).status).toBe('urgent-referral');
    const resumed = await p.action({ action: 'resume', reason: 'MRI clear, no cauda equina' }, CLINICIAN);
    expect(stepsOf(resumed.decisions)).toEqual(['override:override.resume']);
    expect(resumed.decisions[0]!.rule).toContain('only a clinician may resume after an urgent referral');
    // A hold is still the coordinator's to resume.
    await p.action({ action: 'hold', reason: 'travelling' }, COORDINATOR);
    expect((await p.action({ action: 'resume', reason: 'back' }, COORDINATOR)).pathway.status).toBe('active');
    await collectHistories(histories, p);
  });
});

describe('2. injections at least 14 days apart', () => {
  it('an injection 13 days after the last is refused naming the rule and the dates; 14 days after, it is recorded', async () => {
    const p = await enroll();
    await toInterventional(p);
    const first = await p.procedure({ type: 'epidural-steroid-injection' });
    const firstAt = first.decisions[0]!.occurredAt!;
    expect(first.decisions[0]!.cites!.map((c) => c.ruleId)).toEqual(['limit.interventional-procedures', 'limit.procedure-interval']);
    await p.passDays(13);
    const before = await settledTimelineLength(p);
    const refusal = await expectRefused(p.procedure({ type: 'facet-joint-injection' }), 'conflict', 'performedAt');
    expect(refusal.message).toContain('Interventional procedures are at least 14 days apart');
    expect(refusal.message).toContain(`A procedure was performed ${firstAt.slice(0, 10)}, 13 days from this one`);
    expect(refusal.message).toContain(`the next may be performed from ${plusDays(firstAt, 14).slice(0, 10)}`);
    expect((await p.state()).timeline.length).toBe(before);
    await p.passDays(1);
    const second = await p.procedure({ type: 'facet-joint-injection' });
    expect(second.decisions[0]!.numbers).toMatchObject({ proceduresInWindow: 2, limit: 4, minimumIntervalDays: 14 });
    await collectHistories(histories, p);
  });
});

describe('5. spinal cord stimulation', () => {
  it('a trial before six months of conservative care is refused; a clinician overrides with a reason; 49% pain relief with 50% fewer MME succeeds', async () => {
    const p = await enroll();
    await toInterventional(p);
    for (let i = 0; i < 2; i++) {
      await p.procedure({ type: 'epidural-steroid-injection' });
      await p.passDays(29);
      await p.reassess({ painNrs: 10, odi: 50, dailyMme: 90 });
    }
    const scs = await p.state();
    expect(scs.stage).toBe('scs');
    expect(scs.reference).toMatchObject({ painNrs: 10, odi: 50, dailyMme: 90 });
    const cleared = await p.procedure({ type: 'psychological-evaluation', outcome: 'cleared' });
    // Six calendar months from enrolment, not the 42 days the stage would otherwise give.
    const eligible = cleared.decisions[0]!.numbers!.trialEligibleFrom as string;
    expect(cleared.pathway.due).toEqual({ kind: 'scs-trial', dueAt: eligible });
    expect(eligible).toBe(isoAt(addMonths(ms(scs.enrolledAt), 6)));

    const before = await settledTimelineLength(p);
    const refusal = await expectRefused(p.procedure({ type: 'scs-trial' }), 'conflict', 'performedAt');
    expect(refusal.message).toContain(`a trial may be performed from ${eligible.slice(0, 10)}`);
    await expectRefused(p.procedure({ type: 'scs-trial', overrideReason: 'MDT agreed: intractable neuropathic pain' }, COORDINATOR), 'forbidden', 'overrideReason');
    expect((await p.state()).timeline.length).toBe(before);

    const trial = await p.procedure({ type: 'scs-trial', overrideReason: 'MDT agreed: intractable neuropathic pain' }, CLINICIAN);
    expect(trial.decisions[0]).toMatchObject({
      actor: CLINICIAN,
      reason: 'MDT agreed: intractable neuropathic pain',
      ruleId: 'procedure.scs-trial-days',
      numbers: { overridden: true, trialEligibleFrom: eligible, minimumConservativeCareMonths: 6 },
      cites: [{ ruleId: 'eligibility.scs-conservative-care' }],
    });
    await p.passDays(8);
    const judged = await p.reassess({ painNrs: 5.1, odi: 45, dailyMme: 45 });
    expect(stepsOf(judged.decisions)).toEqual(['reassessment:response.scs-trial']);
    expect(judged.decisions[0]!.numbers).toMatchObject({ painReliefPercent: 49, mmeReductionPercent: 50, mmeThresholdPercent: 50 });
    expect(judged.pathway.scs.trialSucceeded).toBe(true);
    expect(judged.decisions[0]!.due).toEqual({ kind: 'scs-implant', dueAt: plusDays(judged.decisions[0]!.at, 42) });
    const result = await p.state();
    expect(result.timeline.find((e) => e.reason === 'MDT agreed: intractable neuropathic pain')).toBeDefined();
    await collectHistories(histories, p);
  });
});

describe('the time things happened', () => {
  it('a reassessment recorded at day 45 for an assessment at day 42 escalates as of day 42, and keeps both times', async () => {
    const p = await enroll({ baseline: { painNrs: 8, odi: 40 } });
    const enrolledAt = (await p.state()).enrolledAt;
    await p.passDays(45);
    const assessedAt = plusDays(enrolledAt, 42);
    // Before the minimum (day 41.9) it would not escalate; at day 42 it does.
    const recorded = await p.reassess({ painNrs: 8, odi: 40, assessedAt });
    expect(stepsOf(recorded.decisions)).toEqual(['reassessment:response.conservative', 'stage-changed:escalation.conservative']);
    for (const entry of recorded.decisions) {
      expect(entry.occurredAt).toBe(assessedAt);
      expect(ms(entry.at) - ms(enrolledAt)).toBeGreaterThanOrEqual(45 * 24 * 3600_000);
    }
    expect(recorded.decisions[1]!.numbers).toMatchObject({ activeDays: 42, minimumDays: 42, referencePainNrs: 8, painNrs: 8, painThresholdPercent: 30 });
    expect(recorded.pathway).toMatchObject({ stage: 'interventional', stageEnteredAt: assessedAt });
    expect(recorded.pathway.latest).toMatchObject({ at: assessedAt, recordedAt: recorded.decisions[0]!.at });
    // The procedure is due 28 days from the clinical escalation, not from when it was typed in.
    expect(recorded.pathway.due).toEqual({ kind: 'procedure', dueAt: plusDays(assessedAt, 28) });

    // Nothing may be dated before what is recorded, nor in the future.
    await expectRefused(p.reassess({ painNrs: 7, odi: 40, assessedAt: plusDays(enrolledAt, 41) }), 'conflict', 'assessedAt');
    await expectRefused(p.reassess({ painNrs: 7, odi: 40, assessedAt: isoAt(Date.parse(recorded.decisions[0]!.at) + 2 * 24 * 3600_000) }), 'invalid', 'assessedAt');
    await collectHistories(histories, p);
  });
});

describe('replay', () => {
  it('replays every history of this file', async () => {
    expect(histories.length).toBeGreaterThanOrEqual(4);
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) results.push(result);
    expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`)).toEqual([]);
  });
});
