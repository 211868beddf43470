/**
 * The migration batch's work on one pathway: its workflow's validated update, and the result
 * kept in the record store (definition_migration_results). Idempotent: a pathway with a result
 * is not asked again, and the update's id is the migration's, so a retried attempt is answered
 * with the first one's result rather than moving the pathway twice.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor } from '../clinical/events';
import type { DefinitionMigration } from '../clinical/pathway';
import { finishMigration, migrationResult, recordMigrationResult } from '../record/migrations-log';
import type { MigrationOutcome } from '../workflows/messages';
import { REFUSAL_ERROR_TYPE, migrateDefinition, type RefusalDetails } from '../workflows/messages';
import type { RecordDeps } from './record';

export function definitionMigrationActivities({ client, record }: { client: Client; record: RecordDeps }) {
  return {
    async migratePathway(job: { pathwayId: string; migration: DefinitionMigration; actor: Actor }): Promise<{ outcome: MigrationOutcome; message: string | null }> {
      const { migrationId } = job.migration;
      const done = await migrationResult(record.store.db, migrationId, job.pathwayId);
      if (done) return done;
      let outcome: MigrationOutcome = 'moved';
      let message: string | null = null;
      let fromVersion: number | null = null;
      try {
        const result = await client.workflow.getHandle(job.pathwayId).executeUpdate(migrateDefinition, {
          args: [{ actor: job.actor, input: job.migration }],
          updateId: `migration-${migrationId}`,
        });
        const entry = result.decisions.find((d) => d.event === 'definition-migrated');
        fromVersion = Number(entry?.numbers?.fromVersion ?? NaN) || null;
        message = entry?.summary ?? null;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          outcome = 'not-running';
          message = 'the pathway is closed';
        } else if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === REFUSAL_ERROR_TYPE) {
          const refusal = err.cause.details?.[0] as RefusalDetails;
          outcome = refusal.field === 'definition.version' ? 'already-moved' : 'refused';
          message = refusal.message;
        } else throw err;
      }
      return recordMigrationResult(record.store.db, { migrationId, pathwayId: job.pathwayId, outcome, message, fromVersion });
    },
    async finishDefinitionMigration(migrationId: string): Promise<void> {
      await finishMigration(record.store.db, migrationId);
    },
  };
}
