/**
 * Pathways started under earlier releases keep replaying under the current workflow code:
 * every recorded history in ./histories replays without a determinism error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const folder = path.join(__dirname, 'histories');
const files = readdirSync(folder).filter((f) => f.endsWith('.json'));

describe('histories recorded by earlier releases', () => {
  it('are there to replay, including a pathway still running and a continued-as-new chain', () => {
    expect(files.some((f) => f.includes('running'))).toBe(true);
    expect(files.filter((f) => f.includes('-run2')).length).toBeGreaterThan(0);
  });

  it.each(files)('%s replays under the current workflow code', async (file) => {
    const history = temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path.join(folder, file), 'utf8')));
    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file)).resolves.toBeUndefined();
  });
});
