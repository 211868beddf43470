/**
 * The record store's tables, as Kysely types. One row a pathway enrolment for dashboards; the
 * append-only timeline, scores, procedures, red flags and care-team messages beside it; stage
 * episodes for cohort outcomes; the API's idempotency keys. Who a patient is lives only in
 * `patient_identities`, encrypted; elsewhere a pathway is its keyed hash, and free text is
 * encrypted (`*_enc` columns).
 */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface PathwaysTable {
  /** One enrolment of one patient: the workflow's first run id, stable across continue-as-new. */
  enrolment_id: string;
  /** The keyed hash of the patient reference (`pw-…`): every enrolment of a patient shares it. */
  pathway_id: string;
  care_team: string;
  definition_id: string;
  definition_version: number;
  stage: string;
  status: string;
  next_due_at: Timestamp | null;
  next_due_kind: string | null;
  overdue: boolean;
  undelivered: boolean;
  pause_kind: string | null;
  pending_workup: Json<string[]>;
  enrolled_at: Timestamp;
  stage_entered_at: Timestamp;
  closed_at: Timestamp | null;
  baseline_pain_nrs: number;
  baseline_odi: number | null;
  latest_pain_nrs: number | null;
  latest_odi: number | null;
  latest_at: Timestamp | null;
  /** The seq of the last timeline entry written: a row never moves back to an older version. */
  version: number;
  /** The pathway without its timeline, reassessments and procedures (they have tables of their own). */
  snapshot: Json;
  /** Workflow time of the newest entry, and when the record caught up with it: their gap is the write lag. */
  last_entry_at: Timestamp;
  recorded_at: Timestamp;
  /** The fence of the workflow task that wrote the row (record/batch.ts): its task, then its start; null: written before fences. */
  fence: ColumnType<number | null, number | null | undefined, number | null>;
  fence_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface TimelineEntriesTable {
  enrolment_id: string;
  seq: number;
  at: Timestamp;
  event: string;
  rule_id: string | null;
  /** The entry without its reason; the reason (free text) is in `reason_enc`. */
  entry: Json;
  reason_enc: string | null;
}

export interface ReassessmentsTable {
  enrolment_id: string;
  ordinal: number;
  at: Timestamp;
  stage: string;
  pain_nrs: number;
  odi: number | null;
  pgic: number | null;
  daily_mme: number | null;
  responding: boolean | null;
  rule_id: string | null;
  record: Json;
  note_enc: string | null;
}

export interface ProceduresTable {
  enrolment_id: string;
  ordinal: number;
  type: string;
  stage: string;
  performed_at: Timestamp;
  recorded_at: Timestamp;
  outcome: string | null;
  record: Json;
  note_enc: string | null;
}

export interface RedFlagsTable {
  enrolment_id: string;
  ordinal: number;
  at: Timestamp;
  flags: Json<string[]>;
}

export interface MessagesTable {
  enrolment_id: string;
  message_id: string;
  side_effect: string;
  outcome: string;
  at: Timestamp;
  resolved_at: Timestamp | null;
}

/** A pathway's time in one stage: what cohort outcomes are counted from. */
export interface StageEpisodesTable {
  enrolment_id: string;
  /** The timeline seq that entered the stage. */
  entered_seq: number;
  stage: string;
  entered_at: Timestamp;
  exited_at: Timestamp | null;
  /** escalated | completed | withdrawn | closed; null while in the stage. */
  exit: string | null;
  to_stage: string | null;
  responded: boolean;
  urgent_referral: boolean;
  reference_pain_nrs: number | null;
  reference_odi: number | null;
  exit_pain_nrs: number | null;
  exit_odi: number | null;
}

export interface IdempotencyKeysTable {
  /** Hash of the caller and the key they sent. */
  key_hash: string;
  /** Hash of the method, path and body: the same key with another request is refused. */
  request_digest: string;
  status: number | null;
  /** The first answer, encrypted (it can carry scores and notes). */
  response_enc: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  completed_at: Timestamp | null;
}

/** Pathways per care team, stage and status, kept by every write: the summary reads it without scanning pathways. */
export interface PathwayCountsTable {
  care_team: string;
  stage: string;
  status: string;
  total: number;
  overdue: number;
  undelivered: number;
}

/** A console session: the person, their CSRF token, a sign-in in progress. */
export interface ConsoleSessionsTable {
  /** Hash of the session id: the cookie's value is never stored. */
  sid_hash: string;
  /** The session's data, encrypted. */
  data_enc: string;
  expires_at: Timestamp;
}

export interface WorkerPresenceTable {
  /** The worker process: host and process id. */
  instance: string;
  task_queue: string;
  seen_at: Timestamp;
}

/** One version of a pathway definition: a draft until published, then immutable; retired when no longer offered. */
export interface DefinitionVersionsTable {
  definition_id: string;
  version: number;
  status: 'draft' | 'published' | 'retired';
  definition: Json;
  /** The version the draft was made from. */
  based_on: number | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  published_by: string | null;
  published_at: Timestamp | null;
  publish_reason: string | null;
  retired_by: string | null;
  retired_at: Timestamp | null;
  retire_reason: string | null;
  /** Taken from a sequence on every change, so other processes read only what changed since they last looked. */
  revision: ColumnType<number, never, never>;
}

/** A version tried on past patients: the cohort asked for, the pathways it held, the figures and a result per pathway. */
export interface SimulationsTable {
  simulation_id: string;
  definition_id: string;
  version: number;
  cohort: Json;
  /** Hash of the enrolments simulated: a migration of the same cohort must match it. */
  cohort_digest: string;
  pathways: number;
  created_by: string;
  created_at: Timestamp;
  summary: Json;
  results: Json;
}

/** A bulk move of running pathways to a newer published version. */
export interface DefinitionMigrationsTable {
  migration_id: string;
  definition_id: string;
  to_version: number;
  simulation_id: string;
  requested_by: string;
  reason: string;
  stage_mapping: Json;
  pathways: number;
  created_at: Timestamp;
  finished_at: Timestamp | null;
}

export interface DefinitionMigrationResultsTable {
  migration_id: string;
  pathway_id: string;
  /** moved | refused | already-moved | not-running */
  outcome: string;
  message: string | null;
  from_version: number | null;
  at: Timestamp;
}

export interface RateLimitsTable {
  /** What is counted: a prefix (which limit) and the API key's id or the client address. */
  key: string;
  hits: number;
  /** When this window's count starts again from nothing. */
  reset_at: Timestamp;
}

/** Who the patient is: reference, name, date of birth and contact, encrypted as one sealed JSON. */
export interface PatientIdentitiesTable {
  /** The keyed hash of the reference: every enrolment of the patient shares it. */
  pathway_id: string;
  identity_enc: string;
  updated_at: Timestamp;
}

/** One disclosure, correction or erasure of a patient's identity (HIPAA audit controls). */
export interface AccessEntriesTable {
  id: Generated<string>;
  at: Timestamp;
  pathway_id: string;
  actor_id: string;
  actor_role: string;
  /** disclosed | recorded | corrected | erased */
  action: string;
  /** Why: the route (or command) that showed or changed it. */
  route: string;
  request_id: string | null;
  /** The names of the fields a correction changed (never their values). */
  fields: Json<string[]> | null;
}

/** A questionnaire sent to a patient through a single-use link: only the link's hash is kept. */
export interface QuestionnaireInvitationsTable {
  /** Also the QuestionnaireResponse's id and the reassessment's source id. */
  id: string;
  token_hash: string;
  pathway_id: string;
  enrolment_id: string;
  care_team: string;
  stage: string;
  instruments: Json<string[]>;
  language: string;
  issued_at: Timestamp;
  /** Who sent it: a person's id, or pathway-rules for the workflow's invitations. */
  issued_by: string;
  /** The reassessment it is for. */
  due_at: Timestamp | null;
  expires_at: Timestamp;
  reminded_at: Timestamp | null;
  opened_at: Timestamp | null;
  answered_at: Timestamp | null;
  /** Not answered by the due date: a worklist item until it is answered. */
  missed_at: Timestamp | null;
  /** A newer link for the same pathway replaced it. */
  superseded_at: Timestamp | null;
  /** pending | delivered | undelivered */
  delivery: string;
  /** The answers and the patient's comment, encrypted. */
  response_enc: string | null;
  scores: Json | null;
  red_flags: Json<string[]> | null;
  /** What the patient was told at once: emergency | today. */
  advice: string | null;
  /** pending | confirmed | not-confirmed: a patient-reported red flag waits for a clinician. */
  red_flag_review: string | null;
  reviewed_at: Timestamp | null;
  reviewed_by: string | null;
  /** reassessment | staff-reassessment-first | refused: what the answers became. */
  counted: string | null;
}

/** A message to a patient (an invitation or a reminder) and how its delivery went. */
export interface PatientMessagesTable {
  id: string;
  invitation_id: string;
  pathway_id: string;
  kind: string;
  /** outbox | webhook | email */
  channel: string;
  /** The message as sent (with its link): kept, encrypted, only for the local outbox. */
  body_enc: string | null;
  created_at: Timestamp;
  /** pending | delivered | undelivered */
  outcome: string;
  attempts: number;
  last_error: string | null;
  delivered_at: Timestamp | null;
}

export interface RecordDatabase {
  definition_versions: DefinitionVersionsTable;
  simulations: SimulationsTable;
  definition_migrations: DefinitionMigrationsTable;
  definition_migration_results: DefinitionMigrationResultsTable;
  questionnaire_invitations: QuestionnaireInvitationsTable;
  patient_messages: PatientMessagesTable;
  patient_identities: PatientIdentitiesTable;
  access_entries: AccessEntriesTable;
  console_sessions: ConsoleSessionsTable;
  pathway_counts: PathwayCountsTable;
  pathways: PathwaysTable;
  timeline_entries: TimelineEntriesTable;
  reassessments: ReassessmentsTable;
  procedures: ProceduresTable;
  red_flags: RedFlagsTable;
  messages: MessagesTable;
  stage_episodes: StageEpisodesTable;
  idempotency_keys: IdempotencyKeysTable;
  worker_presence: WorkerPresenceTable;
  rate_limits: RateLimitsTable;
}

/** The tables whose rows belong to one enrolment besides its pathway row: purged and rewritten with it. */
export const ENROLMENT_CHILD_TABLES = ['timeline_entries', 'reassessments', 'procedures', 'red_flags', 'messages', 'stage_episodes'] as const;
