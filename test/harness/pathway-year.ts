/**
 * The worst-case pathway-year on the time-skipping server: one pathway on the default definition
 * (psps-lumbar v2) through every stage in 365 days, with a red flag and its resume, two holds,
 * a reassessment a day after each falls due, and a stretch of four months lost to follow-up
 * (weekly reminders, lost, resumed by a coordinator, lost again), ending with an overdue work-up.
 * Free of vitest: test/workflows/pathway-year.test.ts asserts on it, bench/pathway-year.ts times it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DEFAULT_DEFINITION_ID, loadDefinitions } from '../../clinical/registry';
import type { PathwayView } from '../../workflows/messages';
import { COORDINATOR, PathwayDriver } from './pathway-driver';

export const YEAR_DAYS = 365;

/**
 * What the year leaves, worked out from the definition's numbers (reminder when due, overdue 3
 * days later, then weekly; lost to follow-up 28 days after overdue):
 * - reminders: 1 (conservative reassessment, day 63) + 1 (post-procedure reassessment, day 98)
 *   + 5 + 5 + 5 (procedure due day 127, then due again on each resume at days 165 and 200, each
 *   ending lost to follow-up) + 4 (resumed day 235, procedure on day 255) + 1 (day 283) + 1 (trial
 *   reassessment, day 302) + 3 (work-up due day 352 after the second hold: 352, 355, 362) = 26;
 * - overdue marks: the procedure four times, the work-up once = 5;
 * - care-team messages: 26 reminders, 1 urgent referral, 3 stage changes, 3 lost to follow-up, 1 referral = 34.
 */
export const YEAR_EXPECTED = {
  stage: 'revision-referral',
  status: 'active',
  dueKind: 'surgical-consult',
  reminders: 26,
  overdue: 5,
  lostToFollowUp: 3,
  stageChanges: 3,
  careTeamMessages: 34,
  reassessments: 4,
  procedures: 4,
} as const;

/** The recorded decisions of the year, in order (`event` or `event:ruleId`), without the follow-up bookkeeping. */
export const YEAR_DECISIONS = [
  'enrolled',
  'red-flags:red-flag.urgent-referral',
  'override:override.resume',
  'override:override.hold',
  'override:override.resume',
  'reassessment:response.conservative',
  'stage-changed:escalation.conservative',
  'procedure:procedure.reassess-after',
  'reassessment:response.interventional',
  'override:override.resume',
  'override:override.resume',
  'override:override.resume',
  'procedure:procedure.reassess-after',
  'reassessment:response.interventional',
  'stage-changed:escalation.interventional',
  'procedure',
  'procedure:procedure.scs-trial-days',
  'reassessment:response.scs-trial',
  'stage-changed:escalation.scs-trial',
  'workup-result',
  'workup-result',
  'override:override.hold',
  'override:override.resume',
  'workup-result',
  'workup-result',
  'workup-result',
  'referral-issued:referral.workup-complete',
];

export interface PathwayYear {
  pathway: PathwayDriver;
  firstRunId: string;
  /** The pathway at day 365, once every side effect of the year is noted. */
  view: PathwayView;
  /** Real time the year took to drive, enrolment to day 365, in ms. */
  wallMs: number;
  /** Of which, moving the clock on: the server firing the year's timers and running what they start. */
  clockMs: number;
}

/**
 * Drives the year. The pathway is left running at day 365 (surgical consult due); the caller
 * closes it (closeStarted) while its worker still runs.
 */
export async function runPathwayYear(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  opts: { continueAsNewAfterEvents?: number } = {},
): Promise<PathwayYear> {
  const started = performance.now();
  const p = await PathwayDriver.enroll(env, taskQueue, {
    definition: loadDefinitions().get(DEFAULT_DEFINITION_ID)!,
    baseline: { painNrs: 8, odi: 40 },
    ...(opts.continueAsNewAfterEvents ? { continueAsNewAfterEvents: opts.continueAsNewAfterEvents } : {}),
  });
  let today = 0;
  let clockMs = 0;
  const day = async (d: number): Promise<void> => {
    const moving = performance.now();
    await p.passDays(d - today);
    clockMs += performance.now() - moving;
    today = d;
  };

  // Conservative care: a red flag ruled out after a week, then two weeks admitted elsewhere.
  await day(20);
  await p.redFlags({ redFlags: ['infection'], note: 'fever after a dental abscess' });
  await day(27);
  await p.action({ action: 'resume', reason: 'infection ruled out' });
  await day(30);
  await p.action({ action: 'hold', reason: 'admitted elsewhere' }, COORDINATOR);
  await day(44);
  await p.action({ action: 'resume', reason: 'discharged home' }, COORDINATOR);
  // Due on day 42 + 21 paused = 63; not responding after 43 active days escalates.
  await day(64);
  await p.reassess({ painNrs: 7.5, odi: 38 });

  // Interventional: a procedure, a reassessment without response, then months without contact.
  await day(70);
  await p.procedure({ type: 'nerve-block', spinalRegion: 'L4-L5' });
  await day(99);
  await p.reassess({ painNrs: 7, odi: 37 });
  // The next procedure falls due on day 127 and nobody comes: lost on day 158, resumed on 165,
  // lost again on 196, resumed on 200, lost on 231, resumed on 235.
  for (const [lost, resumed] of [[158, 165], [196, 200], [231, 235]] as const) {
    await day(lost);
    await p.until((s) => s.status === 'on-hold' && s.pause?.kind === 'lost-to-follow-up');
    await day(resumed);
    await p.action({ action: 'resume', reason: 'patient contacted again' }, COORDINATOR);
  }
  await day(255);
  await p.procedure({ type: 'epidural-steroid-injection', spinalRegion: 'L4-L5' });
  await day(284);
  await p.reassess({ painNrs: 7, odi: 37 });

  // Spinal cord stimulation: cleared, a trial without enough relief.
  await day(290);
  await p.procedure({ type: 'psychological-evaluation', outcome: 'cleared' });
  await day(295);
  await p.procedure({ type: 'scs-trial' });
  await day(303);
  await p.reassess({ painNrs: 6, odi: 35 });

  // Revision referral: work-up, a week's hold, then the work-up overdue until day 363.
  await day(310);
  await p.workup({ item: 'imaging' });
  await day(320);
  await p.workup({ item: 'labs' });
  await day(321);
  await p.action({ action: 'hold', reason: 'family emergency' }, COORDINATOR);
  await day(328);
  await p.action({ action: 'resume', reason: 'available again' }, COORDINATOR);
  await day(363);
  for (const item of ['bone-density', 'health-optimisation', 'second-opinion'] as const) await p.workup({ item });
  await day(YEAR_DAYS);
  const view = await p.until((s) => s.timeline.filter((e) => e.event === 'notification').length >= YEAR_EXPECTED.careTeamMessages);
  const wallMs = performance.now() - started;
  return { pathway: p, firstRunId: (p.handle as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId, view, wallMs, clockMs };
}
