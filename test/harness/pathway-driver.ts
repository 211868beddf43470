/**
 * Drives one pathway workflow in tests through the same messages the API uses.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PathwayDefinition } from '../../clinical/definition';
import type { ActionInput, Actor, ProcedureInput, ReassessmentInput, RedFlagReport, Scores, WorkupResultInput } from '../../clinical/events';
import { isClosed } from '../../clinical/pathway';
import { loadDefinitions } from '../../clinical/registry';
import { DAY_MS } from '../../clinical/rules';
import type { ClosingMessagesResult } from '../../workflows/messages';
import type { pathwayWorkflow } from '../../workflows/pathway';
import {
  WORKFLOW_TYPE,
  applyAction,
  pathwayQuery,
  recordProcedure,
  recordReassessment,
  recordWorkupResult,
  reportRedFlags,
  type ChangeResult,
  type PathwayView,
  type PathwayWorkflowInput,
} from '../../workflows/messages';

export const CLINICIAN: Actor = { id: 'dr-test', role: 'clinician' };
export const COORDINATOR: Actor = { id: 'coord-test', role: 'coordinator' };

export const defaultDefinition = (): PathwayDefinition => loadDefinitions().get('psps-lumbar', 1)!;

/**
 * A step of a workflow test takes milliseconds of real time, even one that skips weeks. One that
 * takes a minute means the server holds a pathway (a workflow task started and never finished, an
 * activity no worker runs): the step fails, saying where each pathway of the file stands, rather
 * than hanging until the test's own timeout with nothing to go on.
 */
const STEP_LIMIT_MS = 60_000;

/** Polls until `check` passes: workflow tasks finish a moment after a timer fires. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = STEP_LIMIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!check(last)) {
    if (Date.now() > deadline) throw new Error(`condition not reached in ${timeoutMs} ms; last value: ${JSON.stringify(last).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await read();
  }
  return last;
}

const startedOn = new Map<string, PathwayDriver[]>();

async function withinStepLimit<T>(what: string, taskQueue: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), STEP_LIMIT_MS)));
  try {
    const outcome = await Promise.race([work, stalled]);
    if (outcome !== 'stalled') return outcome;
  } finally {
    clearTimeout(timer);
  }
  // Its own failure, should it ever come, would say less than this one.
  work.catch(() => undefined);
  throw new Error(`${what} did not finish within ${STEP_LIMIT_MS / 1000} s of real time. The server holds:\n${await whereEachStands(taskQueue)}`);
}

/** Each pathway of a task queue: its status, pending activities and last history events. */
async function whereEachStands(taskQueue: string): Promise<string> {
  const lines = await Promise.all(
    (startedOn.get(taskQueue) ?? []).map(async (p) => {
      try {
        const [description, history] = await Promise.all([p.handle.describe(), p.handle.fetchHistory()]);
        const pending = description.raw.pendingActivities?.map((a) => `${a.activityType?.name} attempt ${a.attempt}`) ?? [];
        const last = (history.events ?? []).slice(-6).map((e) => `${e.eventId} ${eventName(e.eventType)}`);
        return `  ${p.id}: ${description.status.name}; pending activities [${pending.join(', ')}]; last events: ${last.join(', ')}`;
      } catch (err) {
        return `  ${p.id}: could not be described (${err instanceof Error ? err.message : String(err)})`;
      }
    }),
  );
  return lines.join('\n');
}

const eventName = (type: unknown): string => (typeof type === 'number' ? (temporal.api.enums.v1.EventType[type] ?? String(type)) : String(type)).replace(/^EVENT_TYPE_/, '');

/**
 * Withdraws a pathway that is still running and waits for it to close, side effects and all.
 * (Terminating one instead can leave the time-skipping server waiting on an activity that was in
 * flight: the server then stops skipping time until that activity's timeout passes in real time.)
 */
export async function closeIfRunning(p: PathwayDriver): Promise<void> {
  const { status } = await p.handle.describe();
  if (status.name !== 'RUNNING') return;
  const view = await p.state();
  if (!isClosed(view.status)) await p.action({ action: 'withdraw', reason: 'end of test' }, COORDINATOR);
  await p.result();
}

/** The workflows a closed pathway handed its owed messages to (from the hand-over notes of its timeline). */
export const closingMessagesIds = (view: PathwayView): string[] => [
  ...new Set(view.timeline.flatMap((e) => (e.numbers?.outcome === 'handed-over' ? [String(e.numbers.deliveredBy)] : []))),
];

/**
 * Closes the pathways a test file started on a task queue, while its worker still runs. Time
 * skipping is global to the server: a pathway left behind, or its side effect waiting for a
 * worker that has gone, would hold or disturb the clock of the files after it.
 */
export async function closeStarted(taskQueue: string): Promise<void> {
  for (const driver of startedOn.get(taskQueue) ?? []) await closeIfRunning(driver);
  startedOn.delete(taskQueue);
}

export class PathwayDriver {
  private constructor(
    readonly env: TestWorkflowEnvironment,
    readonly handle: WorkflowHandle<typeof pathwayWorkflow>,
    readonly taskQueue: string,
  ) {}

  static async enroll(
    env: TestWorkflowEnvironment,
    taskQueue: string,
    opts: {
      baseline?: Scores;
      redFlags?: PathwayWorkflowInput['enrollment']['redFlags'];
      definition?: PathwayDefinition;
      careTeam?: string;
      continueAsNewAfterEvents?: number;
      /** Enrol the same patient again (the API's one-pathway-per-patient policies); a new id otherwise. */
      pathwayId?: string;
      conservativeCareSince?: string;
    } = {},
  ): Promise<PathwayDriver> {
    const pathwayId = opts.pathwayId ?? `pw-${randomUUID().replace(/-/g, '')}`;
    const input: PathwayWorkflowInput = {
      enrollment: {
        pathwayId,
        careTeam: opts.careTeam ?? 'spine-test',
        definition: opts.definition ?? defaultDefinition(),
        baseline: opts.baseline ?? { painNrs: 8, odi: 40 },
        redFlags: opts.redFlags ?? [],
        ...(opts.conservativeCareSince ? { conservativeCareSince: opts.conservativeCareSince } : {}),
        enrolledBy: COORDINATOR,
      },
      ...(opts.continueAsNewAfterEvents ? { continueAsNewAfterEvents: opts.continueAsNewAfterEvents } : {}),
    };
    const handle = await env.client.workflow.start<typeof pathwayWorkflow>(WORKFLOW_TYPE, {
      workflowId: pathwayId,
      taskQueue,
      args: [input],
      // As the API enrols: one running pathway per patient, a closed one frees the id.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    });
    const driver = new PathwayDriver(env, handle, taskQueue);
    const started = startedOn.get(taskQueue) ?? [];
    started.push(driver);
    startedOn.set(taskQueue, started);
    return driver;
  }

  get id(): string {
    return this.handle.workflowId;
  }

  state(): Promise<PathwayView> {
    return this.step('a query', this.handle.query(pathwayQuery));
  }

  private step<T>(what: string, work: Promise<T>): Promise<T> {
    return withinStepLimit(`${what} of ${this.id}`, this.taskQueue, work);
  }

  /** Waits until the state satisfies `check`. */
  until(check: (s: PathwayView) => boolean): Promise<PathwayView> {
    return eventually(() => this.state(), check);
  }

  /** Advances the time-skipping server's clock. */
  async passDays(days: number): Promise<void> {
    await this.step(`${days} days' time`, this.env.sleep(days * DAY_MS));
  }

  reassess(input: ReassessmentInput, actor: Actor = CLINICIAN): Promise<ChangeResult> {
    return this.step('a reassessment', this.handle.executeUpdate(recordReassessment, { args: [{ actor, input }] }));
  }

  procedure(input: ProcedureInput, actor: Actor = COORDINATOR): Promise<ChangeResult> {
    return this.step('a procedure', this.handle.executeUpdate(recordProcedure, { args: [{ actor, input }] }));
  }

  workup(input: WorkupResultInput, actor: Actor = COORDINATOR): Promise<ChangeResult> {
    return this.step('a work-up result', this.handle.executeUpdate(recordWorkupResult, { args: [{ actor, input }] }));
  }

  redFlags(input: RedFlagReport, actor: Actor = CLINICIAN): Promise<ChangeResult> {
    return this.step('a red-flag report', this.handle.executeUpdate(reportRedFlags, { args: [{ actor, input }] }));
  }

  action(input: ActionInput, actor: Actor = CLINICIAN): Promise<ChangeResult> {
    return this.step(`a ${input.action}`, this.handle.executeUpdate(applyAction, { args: [{ actor, input }] }));
  }

  /**
   * The workflow's result once it has closed, and once the messages it handed over on closing
   * have been delivered (or given up), so a test sees every message the pathway sent.
   */
  async result(): Promise<PathwayView> {
    const view = await this.step('the result', this.handle.result());
    await this.closingMessages(view);
    return view;
  }

  /** Waits for the workflows that deliver what the closed pathway still owed, and returns their results. */
  async closingMessages(view?: PathwayView): Promise<ClosingMessagesResult[]> {
    const closed = view ?? (await this.step('the result', this.handle.result()));
    // One at a time: each wait unlocks the time-skipping server's clock and locks it again after,
    // and the server refuses a second unlock of a clock already unlocked.
    const results: ClosingMessagesResult[] = [];
    for (const id of closingMessagesIds(closed)) results.push(await this.step('the closing messages', this.env.client.workflow.getHandle(id).result()));
    return results;
  }
}
