/**
 * Rebuilds the record of every running pathway from its workflow: for use after restoring a
 * database backup, which can be older than what the workflows know. Each pathway is read whole
 * (a query) and written from its first entry; writes are idempotent, so rows already there are
 * left as they are and a second run changes nothing. Closed pathways are not in Temporal for
 * long: their records are whatever the backup holds.
 */
import type { Client } from '@temporalio/client';
import { pendingWorkup } from '../clinical/pathway';
import { NOTHING_RECORDED, recordBatch } from '../record/batch';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordStore } from '../record/store';
import { writeBatch } from '../record/write';
import { WORKFLOW_TYPE, pathwayQuery } from '../workflows/messages';
import type { Logger } from '../observability/log';

export interface RebuildResult {
  pathways: number;
  /** Pathways whose row was behind the workflow (restored from an older backup, or missing). */
  updated: number;
  failed: number;
}

/** The visibility query for every running pathway (of one task queue, if given). */
export function runningPathways(taskQueue?: string): string {
  return `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'${taskQueue ? ` AND TaskQueue = '${taskQueue.replace(/[^A-Za-z0-9._-]/g, '')}'` : ''}`;
}

export async function rebuildRecord(client: Client, record: { store: RecordStore; cipher: NoteCipher }, log: Logger, opts: { taskQueue?: string } = {}): Promise<RebuildResult> {
  const result: RebuildResult = { pathways: 0, updated: 0, failed: 0 };
  const query = runningPathways(opts.taskQueue);
  for await (const execution of client.workflow.list({ query })) {
    result.pathways++;
    try {
      const view = await client.workflow.getHandle(execution.workflowId).query(pathwayQuery);
      const { enrolmentId, pendingWorkup: _pending, ...state } = view;
      const { batch } = recordBatch(enrolmentId, state, pendingWorkup(state), NOTHING_RECORDED);
      if ((await writeBatch(record.store.db, record.cipher, batch)).applied) result.updated++;
    } catch (err) {
      result.failed++;
      log.error('could not rebuild a pathway record', { pathwayId: execution.workflowId, error: err instanceof Error ? err.name : 'error' });
    }
  }
  log.info('record rebuilt from running pathways', { ...result });
  return result;
}
