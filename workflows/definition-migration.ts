/**
 * A bulk move of running pathways to a newer published definition version, started by the API
 * (POST /v1/definitions/{id}/{version}/migrations) after a simulation of the same cohort. One
 * pathway at a time, at most `perMinute` a minute; each moved by the pathway workflow's own
 * validated update, its result kept in the record store. Durable: a worker restart resumes
 * where it stopped, and a pathway already handled (or already on the version) is never moved twice.
 */
import { continueAsNew, defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Actor } from '../clinical/events';
import type { DefinitionMigration } from '../clinical/pathway';
import type { MigrationOutcome } from './messages';

export const DEFINITION_MIGRATION_WORKFLOW_TYPE = 'definitionMigrationWorkflow';
export const definitionMigrationWorkflowId = (migrationId: string): string => `definition-migration.${migrationId}`;

// The outcomes belong to the workflows' contract: activities and clients read them too.
export { MIGRATION_OUTCOMES, type MigrationOutcome } from './messages';

export interface DefinitionMigrationInput {
  migration: DefinitionMigration;
  actor: Actor;
  pathwayIds: string[];
  /** Pathways moved a minute, at most. */
  perMinute: number;
  /** Carried across continue-as-new: where to go on, and the counts so far. */
  next?: number;
  counts?: Record<MigrationOutcome, number>;
}

export interface MigrationProgress {
  total: number;
  done: number;
  counts: Record<MigrationOutcome, number>;
}

export const migrationProgressQuery = defineQuery<MigrationProgress>('migrationProgress');

const acts = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Well under Temporal's limits: each pathway costs a handful of events (activity, timer). */
const EVENTS_PER_RUN = 2_000;

export async function definitionMigrationWorkflow(input: DefinitionMigrationInput): Promise<MigrationProgress> {
  const counts: Record<MigrationOutcome, number> = input.counts ?? { moved: 0, refused: 0, 'already-moved': 0, 'not-running': 0 };
  let next = input.next ?? 0;
  const progress = (): MigrationProgress => ({ total: input.pathwayIds.length, done: next, counts: { ...counts } });
  setHandler(migrationProgressQuery, progress);
  const gapMs = Math.ceil(60_000 / Math.max(1, input.perMinute));
  while (next < input.pathwayIds.length) {
    const result = await acts.migratePathway({ pathwayId: input.pathwayIds[next]!, migration: input.migration, actor: input.actor });
    counts[result.outcome]++;
    next++;
    if (next < input.pathwayIds.length) {
      await sleep(gapMs);
      if (workflowInfo().historyLength > EVENTS_PER_RUN) await continueAsNew<typeof definitionMigrationWorkflow>({ ...input, next, counts });
    }
  }
  await acts.finishDefinitionMigration(input.migration.migrationId);
  return progress();
}
