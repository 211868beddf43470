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
  /**
   * What the record held when the workflow built this batch: everything past it is this batch's.
   * A workflow task that wrote and then failed left rows past it that its history never held;
   * the retried task's batch, built from the same point, replaces them.
   */
  after: RecordProgress;
  /**
   * Orders the workflow tasks that write: the run of the chain and the history's length at the
   * task, then the time the task started (two attempts of a task the server lost in a restart see
   * the same history; the later one is the one that can commit). A late write from an attempt
   * that never committed, landing after its retry's, is refused. Absent: not from a workflow.
   */
  fence?: WriteFence;
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
export interface WriteFence {
  /** The run's place in the continue-as-new chain, then the history's length: one number. */
  task: number;
  /** When the workflow task started (workflow time), in ms. */
  at: number;
}

export function writeFence(run: number, historyLength: number, at: number): WriteFence {
  return { task: run * 2 ** 20 + historyLength, at };
}

/** Whether a write fenced `a` comes from an earlier workflow task than one fenced `b`. */
export const fencedBefore = (a: WriteFence, b: WriteFence): boolean => a.task < b.task || (a.task === b.task && a.at < b.at);

export function recordBatch(
  enrolmentId: string,
  state: PathwayState,
  pendingWorkup: WorkupItem[],
  progress: RecordProgress,
  fence?: WriteFence,
): { batch: RecordBatch; progress: RecordProgress } {
  const { timeline, reassessments, procedures, ...rest } = state;
  const ordinals = <T>(list: T[], from: number) => list.slice(from).map((record, i) => ({ ordinal: from + i + 1, record }));
  const batch: RecordBatch = {
    enrolmentId,
    after: progress,
    ...(fence === undefined ? {} : { fence }),
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
