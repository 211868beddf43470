/**
 * The histories of every run of a workflow, first to last, following continue-as-new. Free of
 * vitest, so the benchmarks use it too.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;

export async function historiesOfRuns(client: Client, workflowId: string, firstRunId: string): Promise<Array<{ runId: string; history: History }>> {
  const runs: Array<{ runId: string; history: History }> = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push({ runId, history });
    const last = history.events?.[history.events.length - 1] ?? undefined;
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (runs.length > 200) throw new Error('continue-as-new chain too long');
  }
  return runs;
}
