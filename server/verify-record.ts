/**
 * Verifies the record of every running pathway against its workflow, and with `repair` rewrites
 * a record that differs from the workflow's whole state (record/verify.ts, record/write.ts). A
 * pathway whose record is only behind (a write on its way) is looked at again before it counts.
 * Then the outcomes report's aggregates are checked against the rows (and derived again by a repair).
 */
import type { Client } from '@temporalio/client';
import { NOTHING_RECORDED, recordBatch } from '../record/batch';
import type { NoteCipher } from '../record/note-cipher';
import { outcomeAggregateDifferences, rebuildOutcomeAggregates } from '../record/outcome-aggregates';
import type { RecordStore } from '../record/store';
import { recordDifferences } from '../record/verify';
import { writeBatch } from '../record/write';
import { pathwayQuery } from '../workflows/messages';
import { runningPathways } from './rebuild-record';
import type { Logger } from '../observability/log';

export interface VerifyResult {
  pathways: number;
  /** Pathways whose record differs from their workflow, with what differs. */
  differing: Array<{ pathwayId: string; differences: string[] }>;
  repaired: number;
  failed: number;
  /** The outcomes report's aggregates whose rows differ from what the record's rows derive (rebuilt by a repair). */
  aggregates: Array<{ table: string; differing: number }>;
}

const LOOKS = 3;
const BETWEEN_LOOKS_MS = 1000;

export async function verifyRecord(
  client: Client,
  record: { store: RecordStore; cipher: NoteCipher },
  log: Logger,
  opts: { repair?: boolean; taskQueue?: string } = {},
): Promise<VerifyResult> {
  const result: VerifyResult = { pathways: 0, differing: [], repaired: 0, failed: 0, aggregates: [] };
  const query = runningPathways(opts.taskQueue);
  for await (const execution of client.workflow.list({ query })) {
    result.pathways++;
    try {
      let found: string[] = [];
      let state;
      let enrolmentId = '';
      for (let look = 1; look <= LOOKS; look++) {
        const view = await client.workflow.getHandle(execution.workflowId).query(pathwayQuery);
        ({ enrolmentId, ...state } = view);
        found = await recordDifferences(record.store.db, record.cipher, enrolmentId, state);
        if (found.length === 0 || look === LOOKS) break;
        await new Promise((resolve) => setTimeout(resolve, BETWEEN_LOOKS_MS));
      }
      if (found.length === 0 || !state) continue;
      result.differing.push({ pathwayId: execution.workflowId, differences: found });
      log.warn('a pathway record differs from its workflow', { pathwayId: execution.workflowId, differences: found.length });
      if (opts.repair) {
        const { pendingWorkup, ...whole } = state;
        const { batch } = recordBatch(enrolmentId, whole, pendingWorkup, NOTHING_RECORDED);
        await writeBatch(record.store.db, record.cipher, batch, new Date(), { replace: true });
        result.repaired++;
      }
    } catch (err) {
      result.failed++;
      log.error('could not verify a pathway record', { pathwayId: execution.workflowId, error: err instanceof Error ? err.name : 'error' });
    }
  }
  // After the pathways (a repair above rewrote rows): the aggregates against every row; a repair derives them again.
  result.aggregates = (await outcomeAggregateDifferences(record.store.db)).filter((d) => d.differing > 0);
  if (result.aggregates.length) {
    log.warn('the outcomes report aggregates differ from the record', { tables: result.aggregates.map((a) => a.table).join(', ') });
    if (opts.repair) await rebuildOutcomeAggregates(record.store.db);
  }
  log.info('record verified against running pathways', { pathways: result.pathways, differing: result.differing.length, repaired: result.repaired, failed: result.failed, aggregates: result.aggregates.length });
  return result;
}
