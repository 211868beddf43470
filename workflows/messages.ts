/**
 * The pathway workflow's messages, shared by the workflow and its clients.
 * Every change is an update with a validator, so a refused change writes nothing to history.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor, ActionInput, ProcedureInput, ReassessmentInput, RedFlagReport, WorkupResultInput } from '../clinical/events';
import type { CommandKind } from '../clinical/command-check';
import type { DefinitionMigration, Effect, Enrolment, PathwayState, PathwayView, Refusal, TimelineEntry } from '../clinical/pathway';
import type { RecordProgress } from '../record/batch';
import type { CareTeamMessage } from '../clinical/care-team-messages';
import type { DeliveryOutcome } from '../clinical/pathway';

export const TASK_QUEUE = 'pathway';
export const WORKFLOW_TYPE = 'pathwayWorkflow';

export type { PathwayView };

/** The pathway as its workflow answers a query: with the enrolment its records are kept under. */
export interface LivePathwayView extends PathwayView {
  /** The workflow's first run id: one enrolment of the patient, stable across continue-as-new. */
  enrolmentId: string;
}

export interface PathwayWorkflowInput {
  /** Named as recorded histories name it. */
  enrollment: Enrolment;
  /** State carried across continue-as-new; absent on the first run. */
  carried?: { state: PathwayState; effects: Effect[]; recorded?: RecordProgress; /** This run's place in the chain (the first run is 0). */ run?: number };
  /** Continue as new once history reaches this many events (tests lower it); otherwise at CONTINUE_AS_NEW_AFTER_EVENTS (workflows/pathway.ts). */
  continueAsNewAfterEvents?: number;
}

export interface Command<T> {
  actor: Actor;
  input: T;
  /** The care teams the caller may act for; absent, every team. Outside it, the pathway answers as if it did not exist. */
  scope?: { careTeams: string[] };
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
export interface RefusalDetails extends Omit<Refusal, 'code'> {
  /** `not-found` for a caller outside the pathway's care team. */
  code: Refusal['code'] | 'not-found';
  errors?: Array<{ field: string; message: string }>;
}

/** The answer to an enrolment: the pathway as enrolled, once it is in the record. */
export interface EnrolmentResult {
  pathway: PathwayView;
}
export const REFUSAL_ERROR_TYPE = 'PathwayChangeRefused';

export const recordReassessment = defineUpdate<ChangeResult, [Command<ReassessmentInput>]>('recordReassessment');
export const recordProcedure = defineUpdate<ChangeResult, [Command<ProcedureInput>]>('recordProcedure');
export const recordWorkupResult = defineUpdate<ChangeResult, [Command<WorkupResultInput>]>('recordWorkupResult');
export const reportRedFlags = defineUpdate<ChangeResult, [Command<RedFlagReport>]>('reportRedFlags');
export const applyAction = defineUpdate<ChangeResult, [Command<ActionInput>]>('applyAction');

/** A clinical lead's move of the pathway to a newer published version (a migration batch sends it, workflows/definition-migration.ts). */
export const migrateDefinition = defineUpdate<ChangeResult, [Command<DefinitionMigration>]>('migrateDefinition');

/** The patch under which a pathway accepts a migration to another definition version. */
export const DEFINITION_MIGRATION_PATCH = 'definition-migration';

/** Sent with the start (update-with-start): answers once the enrolment is in the record. */
export const confirmEnrolment = defineUpdate<EnrolmentResult>('confirmEnrolment');

export const pathwayQuery = defineQuery<LivePathwayView>('pathway');

/** A change to preview: the command an update would carry, and the caller's clock (a query's own clock is its last task's). */
export interface PreviewRequest {
  kind: CommandKind;
  command: Command<unknown>;
  now: number;
}

/** What a change would do, by the same rules the update runs, kept nowhere: its decisions, or why it would be refused. */
export type ChangePreview = ({ accepted: true } & ChangeResult) | { accepted: false; refusal: RefusalDetails };

export const previewChange = defineQuery<ChangePreview, [PreviewRequest]>('previewChange');

/** The patch that made the workflow write the record store; histories from before it replay without writes. */
export const RECORD_STORE_PATCH = 'record-store';

/**
 * What a closed pathway still owed, handed to a workflow of its own (`closingMessagesWorkflow`)
 * so the pathway's workflow completes at once and the patient can be enrolled again.
 */
export const CLOSING_MESSAGES_WORKFLOW_TYPE = 'closingMessagesWorkflow';

export interface ClosingMessagesInput {
  pathwayId: string;
  /** The enrolment whose record keeps the outcomes. */
  enrolmentId: string;
  careTeam: string;
  messages: CareTeamMessage[];
}

export interface ClosingMessagesResult {
  pathwayId: string;
  outcomes: Array<{ messageId: string; type: CareTeamMessage['type']; outcome: DeliveryOutcome; at: string }>;
}

/** The id of the workflow that delivers what a closed pathway run still owed: the pathway id and run, no patient data. */
export const closingMessagesId = (pathwayId: string, runId: string): string => `${pathwayId}.closing-messages.${runId}`;

/** What a bulk move of running pathways to a newer definition version did with each pathway. */
export const MIGRATION_OUTCOMES = ['moved', 'refused', 'already-moved', 'not-running'] as const;
export type MigrationOutcome = (typeof MIGRATION_OUTCOMES)[number];
