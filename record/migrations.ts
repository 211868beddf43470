/**
 * Versioned schema migrations, run at start-up by whichever process opens the store first
 * (Kysely's migrator takes a lock, so a worker and an API starting together do not collide).
 * Never edit a migration that has shipped: add the next one.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { AGGREGATES, deriveOutcomeAggregates } from './outcome-aggregates';
import { WORKLIST_DUE, WORKLIST_RANK } from './read';

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('pathways')
      .addColumn('enrolment_id', 'text', (c) => c.primaryKey())
      .addColumn('pathway_id', 'text', (c) => c.notNull())
      .addColumn('care_team', 'text', (c) => c.notNull())
      .addColumn('definition_id', 'text', (c) => c.notNull())
      .addColumn('definition_version', 'integer', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('next_due_at', 'timestamptz')
      .addColumn('next_due_kind', 'text')
      .addColumn('overdue', 'boolean', (c) => c.notNull())
      .addColumn('undelivered', 'boolean', (c) => c.notNull())
      .addColumn('pause_kind', 'text')
      .addColumn('pending_workup', 'jsonb', (c) => c.notNull())
      .addColumn('enrolled_at', 'timestamptz', (c) => c.notNull())
      .addColumn('stage_entered_at', 'timestamptz', (c) => c.notNull())
      .addColumn('closed_at', 'timestamptz')
      .addColumn('baseline_pain_nrs', 'real', (c) => c.notNull())
      .addColumn('baseline_odi', 'integer')
      .addColumn('latest_pain_nrs', 'real')
      .addColumn('latest_odi', 'integer')
      .addColumn('latest_at', 'timestamptz')
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('snapshot', 'jsonb', (c) => c.notNull())
      .addColumn('last_entry_at', 'timestamptz', (c) => c.notNull())
      .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
      .execute();
    // Dashboards sort by due date (soonest first, undated last) and page by keyset.
    await sql`CREATE INDEX pathways_due ON pathways (next_due_at ASC NULLS LAST, enrolment_id)`.execute(db);
    await sql`CREATE INDEX pathways_team_due ON pathways (care_team, next_due_at ASC NULLS LAST, enrolment_id)`.execute(db);
    await sql`CREATE INDEX pathways_open_team ON pathways (care_team, status) WHERE closed_at IS NULL`.execute(db);
    await sql`CREATE INDEX pathways_patient ON pathways (pathway_id, enrolled_at DESC)`.execute(db);
    await sql`CREATE INDEX pathways_closed ON pathways (closed_at) WHERE closed_at IS NOT NULL`.execute(db);

    await db.schema
      .createTable('timeline_entries')
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text')
      .addColumn('entry', 'jsonb', (c) => c.notNull())
      .addColumn('reason_enc', 'text')
      .addPrimaryKeyConstraint('timeline_entries_pk', ['enrolment_id', 'seq'])
      .execute();

    await db.schema
      .createTable('reassessments')
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('pain_nrs', 'real', (c) => c.notNull())
      .addColumn('odi', 'integer')
      .addColumn('pgic', 'integer')
      .addColumn('daily_mme', 'real')
      .addColumn('responding', 'boolean')
      .addColumn('rule_id', 'text')
      .addColumn('record', 'jsonb', (c) => c.notNull())
      .addColumn('note_enc', 'text')
      .addPrimaryKeyConstraint('reassessments_pk', ['enrolment_id', 'ordinal'])
      .execute();

    await db.schema
      .createTable('procedures')
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('performed_at', 'timestamptz', (c) => c.notNull())
      .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
      .addColumn('outcome', 'text')
      .addColumn('record', 'jsonb', (c) => c.notNull())
      .addColumn('note_enc', 'text')
      .addPrimaryKeyConstraint('procedures_pk', ['enrolment_id', 'ordinal'])
      .execute();

    await db.schema
      .createTable('red_flags')
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('flags', 'jsonb', (c) => c.notNull())
      .addPrimaryKeyConstraint('red_flags_pk', ['enrolment_id', 'ordinal'])
      .execute();

    await db.schema
      .createTable('messages')
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('side_effect', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('resolved_at', 'timestamptz')
      .addPrimaryKeyConstraint('messages_pk', ['enrolment_id', 'message_id'])
      .execute();

    await db.schema
      .createTable('stage_episodes')
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('entered_seq', 'integer', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('entered_at', 'timestamptz', (c) => c.notNull())
      .addColumn('exited_at', 'timestamptz')
      .addColumn('exit', 'text')
      .addColumn('to_stage', 'text')
      .addColumn('responded', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('urgent_referral', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('reference_pain_nrs', 'real')
      .addColumn('reference_odi', 'integer')
      .addColumn('exit_pain_nrs', 'real')
      .addColumn('exit_odi', 'integer')
      .addPrimaryKeyConstraint('stage_episodes_pk', ['enrolment_id', 'entered_seq'])
      .execute();
    await sql`CREATE INDEX stage_episodes_stage ON stage_episodes (stage, entered_at)`.execute(db);

    await db.schema
      .createTable('idempotency_keys')
      .addColumn('key_hash', 'text', (c) => c.primaryKey())
      .addColumn('request_digest', 'text', (c) => c.notNull())
      .addColumn('status', 'integer')
      .addColumn('response_enc', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('completed_at', 'timestamptz')
      .execute();
    await sql`CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)`.execute(db);
  },
};

const pathwayCounts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('pathway_counts')
      .addColumn('care_team', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('total', 'integer', (c) => c.notNull())
      .addColumn('overdue', 'integer', (c) => c.notNull())
      .addColumn('undelivered', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('pathway_counts_pk', ['care_team', 'stage', 'status'])
      .execute();
    await sql`insert into pathway_counts (care_team, stage, status, total, overdue, undelivered)
      select care_team, stage, status, count(*), count(*) filter (where overdue), count(*) filter (where undelivered)
      from pathways group by care_team, stage, status`.execute(db);
  },
};

/** Scores as double precision: a single-precision column refuses values a valid request may carry (e.g. 2.2e-308 MME). */
const doubleScores: Migration = {
  async up(db: Kysely<unknown>) {
    const columns: Array<[string, string[]]> = [
      ['pathways', ['baseline_pain_nrs', 'latest_pain_nrs']],
      ['reassessments', ['pain_nrs', 'daily_mme']],
      ['stage_episodes', ['reference_pain_nrs', 'exit_pain_nrs']],
    ];
    for (const [table, names] of columns) {
      for (const name of names) await sql`alter table ${sql.table(table)} alter column ${sql.ref(name)} type double precision`.execute(db);
    }
  },
};

/** Console sessions kept with the record, so a restart signs nobody out and every API process shares them. */
const consoleSessions: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('console_sessions')
      .addColumn('sid_hash', 'text', (c) => c.primaryKey())
      .addColumn('data_enc', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX console_sessions_expires ON console_sessions (expires_at)`.execute(db);
  },
};

/**
 * Record integrity: the fence of the workflow task that last wrote a pathway (a late write from a
 * task that never committed is refused); and each worker process says it is alive, so readiness
 * knows within seconds that none is (Temporal's poller list lags a minute).
 */
const recordIntegrity: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('pathways').addColumn('fence', 'bigint').addColumn('fence_at', 'bigint').execute();
    await db.schema
      .createTable('worker_presence')
      .addColumn('instance', 'text', (c) => c.primaryKey())
      .addColumn('task_queue', 'text', (c) => c.notNull())
      .addColumn('seen_at', 'timestamptz', (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX worker_presence_queue ON worker_presence (task_queue, seen_at DESC)`.execute(db);
  },
};

/**
 * Pathway definitions as records (docs/definitions.md): every version with its status (draft,
 * published, retired) and who published or retired it and why; the simulations that tried a
 * version on past patients; the bulk moves of running pathways to a newer version, with a
 * result per pathway.
 */
const definitionRecords: Migration = {
  async up(db: Kysely<unknown>) {
    // Every change of a version takes the next revision: a process that saw revision n reads only what came after.
    await sql`CREATE SEQUENCE definition_revision`.execute(db);
    await db.schema
      .createTable('definition_versions')
      .addColumn('definition_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('definition', 'jsonb', (c) => c.notNull())
      .addColumn('based_on', 'integer')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addColumn('published_by', 'text')
      .addColumn('published_at', 'timestamptz')
      .addColumn('publish_reason', 'text')
      .addColumn('retired_by', 'text')
      .addColumn('retired_at', 'timestamptz')
      .addColumn('retire_reason', 'text')
      .addColumn('revision', 'bigint', (c) => c.notNull().defaultTo(sql`nextval('definition_revision')`))
      .addPrimaryKeyConstraint('definition_versions_pk', ['definition_id', 'version'])
      .execute();
    await sql`CREATE INDEX definition_versions_revision ON definition_versions (revision)`.execute(db);

    await db.schema
      .createTable('simulations')
      .addColumn('simulation_id', 'text', (c) => c.primaryKey())
      .addColumn('definition_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('cohort', 'jsonb', (c) => c.notNull())
      .addColumn('cohort_digest', 'text', (c) => c.notNull())
      .addColumn('pathways', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('summary', 'jsonb', (c) => c.notNull())
      .addColumn('results', 'jsonb', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('definition_migrations')
      .addColumn('migration_id', 'text', (c) => c.primaryKey())
      .addColumn('definition_id', 'text', (c) => c.notNull())
      .addColumn('to_version', 'integer', (c) => c.notNull())
      .addColumn('simulation_id', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('stage_mapping', 'jsonb', (c) => c.notNull())
      .addColumn('pathways', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('finished_at', 'timestamptz')
      .execute();
    await db.schema
      .createTable('definition_migration_results')
      .addColumn('migration_id', 'text', (c) => c.notNull())
      .addColumn('pathway_id', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('message', 'text')
      .addColumn('from_version', 'integer')
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('definition_migration_results_pk', ['migration_id', 'pathway_id'])
      .execute();
  },
};

/** Rate-limit counts shared by every API process: one row a counted key (api/rate-limits.ts). */
const rateLimits: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('rate_limits')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .addColumn('reset_at', 'timestamptz', (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX rate_limits_reset ON rate_limits (reset_at)`.execute(db);
  },
};

/**
 * Who the patient is (encrypted, one row a patient, keyed by the pathway id) and the access
 * entries that record each time it is shown, corrected or erased.
 */
const patients: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('patient_identities')
      .addColumn('pathway_id', 'text', (c) => c.primaryKey())
      .addColumn('identity_enc', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('access_entries')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('at', 'timestamptz', (c) => c.notNull())
      .addColumn('pathway_id', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('actor_role', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('route', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text')
      .addColumn('fields', 'jsonb')
      .execute();
    await sql`CREATE INDEX access_entries_pathway ON access_entries (pathway_id, at)`.execute(db);

    await db.schema
      .createTable('questionnaire_invitations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('pathway_id', 'text', (c) => c.notNull())
      .addColumn('enrolment_id', 'text', (c) => c.notNull())
      .addColumn('care_team', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('instruments', 'jsonb', (c) => c.notNull())
      .addColumn('language', 'text', (c) => c.notNull())
      .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
      .addColumn('issued_by', 'text', (c) => c.notNull())
      .addColumn('due_at', 'timestamptz')
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addColumn('reminded_at', 'timestamptz')
      .addColumn('opened_at', 'timestamptz')
      .addColumn('answered_at', 'timestamptz')
      .addColumn('missed_at', 'timestamptz')
      .addColumn('superseded_at', 'timestamptz')
      .addColumn('delivery', 'text', (c) => c.notNull())
      .addColumn('response_enc', 'text')
      .addColumn('scores', 'jsonb')
      .addColumn('red_flags', 'jsonb')
      .addColumn('advice', 'text')
      .addColumn('red_flag_review', 'text')
      .addColumn('reviewed_at', 'timestamptz')
      .addColumn('reviewed_by', 'text')
      .addColumn('counted', 'text')
      .execute();
    await sql`CREATE INDEX questionnaire_invitations_pathway ON questionnaire_invitations (pathway_id, issued_at)`.execute(db);
    await sql`CREATE INDEX questionnaire_invitations_review ON questionnaire_invitations (care_team) WHERE red_flag_review = 'pending'`.execute(db);

    await db.schema
      .createTable('patient_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('invitation_id', 'text', (c) => c.notNull())
      .addColumn('pathway_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('body_enc', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'timestamptz')
      .execute();
    await sql`CREATE INDEX patient_messages_created ON patient_messages (created_at)`.execute(db);
  },
};

/**
 * The outcomes report's aggregates, kept as the rows change (record/outcome-aggregates.ts) and
 * backfilled from the rows already there; and the worklist's index, by care team, priority and due date.
 */
const outcomeAggregates: Migration = {
  async up(db: Kysely<unknown>) {
    const scope = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
      t.addColumn('care_team', 'text', (c) => c.notNull()).addColumn('definition_id', 'text', (c) => c.notNull()).addColumn('definition_version', 'integer', (c) => c.notNull());
    const counts = (t: ReturnType<Kysely<unknown>['schema']['createTable']>, names: readonly string[]) =>
      names.reduce((table, name) => table.addColumn(name, 'integer', (c) => c.notNull().defaultTo(0)), t);
    for (const a of [AGGREGATES.stages, AGGREGATES.procedures, AGGREGATES.buckets, AGGREGATES.values]) {
      let t = db.schema.createTable(a.table);
      for (const key of a.keys) {
        if (key === 'care_team') t = scope(t);
        else if (key === 'definition_id' || key === 'definition_version') continue;
        else t = t.addColumn(key, key === 'bucket' || key === 'value' ? 'double precision' : key === 'level' ? 'integer' : 'text', (c) => c.notNull());
      }
      await counts(t, a.counts).addPrimaryKeyConstraint(`${a.table}_pk`, [...a.keys] as never).execute();
    }
    await deriveOutcomeAggregates(db);
    await sql`CREATE INDEX pathways_worklist ON pathways (care_team, (${sql.raw(WORKLIST_RANK)}), (${sql.raw(WORKLIST_DUE)}), enrolment_id)
      WHERE (${sql.raw(WORKLIST_RANK)}) IS NOT NULL`.execute(db);
  },
};

const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-pathway-counts': pathwayCounts,
  '0003-double-precision-scores': doubleScores,
  '0004-console-sessions': consoleSessions,
  '0005-record-integrity': recordIntegrity,
  '0006-patients': patients,
  '0007-definition-records': definitionRecords,
  '0009-rate-limits': rateLimits,
  '0010-outcome-aggregates': outcomeAggregates,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema to the latest version; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`record store migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
