/**
 * The pathway keeps only the search attributes operators filter by in Temporal's UI and CLI
 * (patch 'operator-search-attributes'), and clears those nothing reads any more, from its second
 * upsert on: its first workflow task stays as it was.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_SEARCH_ATTRIBUTES } from '../../workflows/pathway';
import {
  CareTeamKey,
  DefinitionKey,
  DefinitionVersionKey,
  NextDueKey,
  NextDueKindKey,
  OverdueKey,
  PathwayStageKey,
  PathwayStatusKey,
  UndeliveredKey,
} from '../../workflows/search-attributes';
import { CLINICIAN, PathwayDriver, eventually } from '../harness/pathway-driver';
import { connectTimeSkipping, disconnectTimeSkipping, RecordingChannel, startPathwayWorker } from '../harness/temporal';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startPathwayWorker>>;

beforeAll(async () => {
  env = await connectTimeSkipping();
  worker = await startPathwayWorker(env, new RecordingChannel());
});
afterAll(async () => {
  await worker?.stop();
  await disconnectTimeSkipping(env);
});

describe('search attributes', () => {
  it('keep the operators\' attributes current and clear the next due date, its kind and the overdue flag after the first upsert', async () => {
    const p = await PathwayDriver.enroll(env, worker.taskQueue);
    const attributes = async () => (await p.handle.describe()).typedSearchAttributes;
    // The first workflow task writes all nine, as before the patch.
    const first = await eventually(attributes, (a) => a.get(NextDueKey) !== undefined);
    expect(first.get(NextDueKindKey)).toBe('reassessment');
    expect(first.get(OverdueKey)).toBe(false);

    await p.reassess({ painNrs: 7, odi: 38 }, CLINICIAN);
    const later = await eventually(attributes, (a) => a.get(NextDueKey) === undefined);
    expect(later.get(NextDueKindKey)).toBeUndefined();
    expect(later.get(OverdueKey)).toBeUndefined();
    expect(later.get(PathwayStatusKey)).toBe('active');
    expect(later.get(PathwayStageKey)).toBe('conservative');
    expect(later.get(CareTeamKey)).toBe((await p.state()).careTeam);
    expect(later.get(UndeliveredKey)).toBe(false);
    expect(later.get(DefinitionKey)).toBe('psps-lumbar');
    expect(later.get(DefinitionVersionKey)).toBe(1);

    const { events } = await p.handle.fetchHistory();
    // The patch's marker names it: the decision is in the history, so a replay decides alike.
    const patchIds = (events ?? [])
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
      .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
      .map((payload) => {
        const data = payload.data as Uint8Array | string;
        return (JSON.parse((typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data)).toString('utf8')) as { id: string }).id;
      });
    expect(patchIds).toContain(OPERATOR_SEARCH_ATTRIBUTES);
  });
});
