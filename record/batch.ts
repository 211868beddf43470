/**
 * What the workflow hands the record store after a change: the pathway as it now stands and
 * everything appended since the last write. Pure and free of Node APIs, because the workflow
 * builds it. Every part is keyed (enrolment and timeline seq, or ordinal), so writing a batch
 * twice, or an older one after a newer, changes nothing.
 */
import type { PathwayState, ProcedureRecord, ReassessmentRecord, TimelineEntry } from '../clinical/pathway';
import type { WorkupItem } from '../clinical/definition';

/** How far the record has been written: the last timeline seq, and how many of each list. */
export interface RecordProgress {
  through: number;
  reassessments: number;
  procedures: number;
  redFlags: number;
}

export const NOTHING_RECORDED: RecordProgress = { through: 0, reassessments: 0, procedures: 0, redFlags: 0 };

/** The pathway without the lists that have tables of their own. */
export type PathwaySnapshotRecord = Omit<PathwayState, 'timeline' | 'reassessments' | 'procedures'> & { pendingWorkup: WorkupItem[] };

export interface RecordBatch {
  enrolmentId: string;
  /** The seq of the newest timeline entry: the version of `pathway`. */
  version: number;
  pathway: PathwaySnapshotRecord;
  entries: TimelineEntry[];
  reassessments: Array<{ ordinal: number; record: ReassessmentRecord }>;
  procedures: Array<{ ordinal: number; record: ProcedureRecord }>;
  redFlags: Array<{ ordinal: number; at: string; flags: string[] }>;
}

export function recordVersion(state: PathwayState): number {
  return state.timeline.length === 0 ? 0 : state.timeline[state.timeline.length - 1]!.seq;
}

/** The batch that brings the record from `progress` up to `state`, and the progress it makes. */
export function recordBatch(
  enrolmentId: string,
  state: PathwayState,
  pendingWorkup: WorkupItem[],
  progress: RecordProgress,
): { batch: RecordBatch; progress: RecordProgress } {
  const { timeline, reassessments, procedures, ...rest } = state;
  const ordinals = <T>(list: T[], from: number) => list.slice(from).map((record, i) => ({ ordinal: from + i + 1, record }));
  const batch: RecordBatch = {
    enrolmentId,
    version: recordVersion(state),
    pathway: { ...rest, pendingWorkup },
    entries: timeline.filter((e) => e.seq > progress.through),
    reassessments: ordinals(reassessments, progress.reassessments),
    procedures: ordinals(procedures, progress.procedures),
    redFlags: state.redFlags.slice(progress.redFlags).map((r, i) => ({ ordinal: progress.redFlags + i + 1, at: r.at, flags: [...r.flags] })),
  };
  return {
    batch,
    progress: { through: batch.version, reassessments: reassessments.length, procedures: procedures.length, redFlags: state.redFlags.length },
  };
}
