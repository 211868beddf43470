/**
 * The pathway workflow's messages, shared by the workflow and its clients.
 * Every change is an update with a validator, so a refused change writes nothing to history.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor, ActionInput, ProcedureInput, ReassessmentInput, RedFlagReport, WorkupResultInput } from '../clinical/events';
import type { Effect, Enrollment, PathwayState, Refusal, TimelineEntry } from '../clinical/pathway';
import type { WorkupItem } from '../clinical/definition';
import type { CareTeamMessage } from '../activities/messages';
import type { DeliveryOutcome } from '../clinical/pathway';

export const TASK_QUEUE = 'pathway';
export const WORKFLOW_TYPE = 'pathwayWorkflow';

/** Everything a coordinator, clinician or dashboard sees of a pathway. */
export interface PathwayView extends PathwayState {
  pendingWorkup: WorkupItem[];
}

export interface PathwayWorkflowInput {
  enrollment: Enrollment;
  /** State carried across continue-as-new; absent on the first run. */
  carried?: { state: PathwayState; effects: Effect[] };
  /** Continue as new once history reaches this many events (tests lower it); otherwise when Temporal suggests. */
  continueAsNewAfterEvents?: number;
}

export interface Command<T> {
  actor: Actor;
  input: T;
}

/**
 * The pathway after a change, without what grows with its history (the timeline, past
 * reassessments, the full definition): update results are stored in the workflow's history, so
 * they stay small. GET /v1/pathways/{id} (the query) has everything.
 */
export type PathwaySnapshot = Omit<PathwayView, 'timeline' | 'reassessments' | 'definition'> & {
  definition: { id: string; version: number; title: string };
};

/** What every accepted change answers: the decisions it caused and the pathway afterwards. */
export interface ChangeResult {
  decisions: TimelineEntry[];
  pathway: PathwaySnapshot;
}

/** The `details[0]` of the ApplicationFailure a validator throws. */
export interface RefusalDetails extends Refusal {
  errors?: Array<{ field: string; message: string }>;
}
export const REFUSAL_ERROR_TYPE = 'PathwayChangeRefused';

export const recordReassessment = defineUpdate<ChangeResult, [Command<ReassessmentInput>]>('recordReassessment');
export const recordProcedure = defineUpdate<ChangeResult, [Command<ProcedureInput>]>('recordProcedure');
export const recordWorkupResult = defineUpdate<ChangeResult, [Command<WorkupResultInput>]>('recordWorkupResult');
export const reportRedFlags = defineUpdate<ChangeResult, [Command<RedFlagReport>]>('reportRedFlags');
export const applyAction = defineUpdate<ChangeResult, [Command<ActionInput>]>('applyAction');

export const pathwayQuery = defineQuery<PathwayView>('pathway');

/**
 * What a closed pathway still owed, handed to a workflow of its own (`closingMessagesWorkflow`)
 * so the pathway's workflow completes at once and the patient can be enrolled again.
 */
export const CLOSING_MESSAGES_WORKFLOW_TYPE = 'closingMessagesWorkflow';

export interface ClosingMessagesInput {
  pathwayId: string;
  careTeam: string;
  messages: CareTeamMessage[];
}

export interface ClosingMessagesResult {
  pathwayId: string;
  outcomes: Array<{ messageId: string; type: CareTeamMessage['type']; outcome: DeliveryOutcome; at: string }>;
}

/** The id of the workflow that delivers what a closed pathway run still owed: the pathway id and run, no patient data. */
export const closingMessagesId = (pathwayId: string, runId: string): string => `${pathwayId}.closing-messages.${runId}`;
