/**
 * Recorded pathways for a what-if (clinical/simulate.ts): a cohort chosen by care team,
 * definition version, enrolment dates or a list of pathways, each read whole (its timeline,
 * reassessments and procedures) in a few queries per thousand pathways. Notes and reasons stay
 * sealed: a replay needs no free text.
 */
import { createHash } from 'node:crypto';
import type { Scores } from '../clinical/events';
import type { ProcedureRecord, ReassessmentRecord, TimelineEntry } from '../clinical/pathway';
import type { RecordedHistory } from '../clinical/simulate';
import type { PathwaySnapshotRecord } from './batch';
import type { RecordDb } from './store';

export interface Cohort {
  definitionId: string;
  /** Only pathways on this version of the definition. */
  definitionVersion?: number;
  careTeam?: string;
  /** Enrolled at or after / before (ISO date-times). */
  enrolledFrom?: string;
  enrolledBefore?: string;
  pathwayIds?: string[];
  /** The caller's care teams, when limited. */
  careTeams?: readonly string[];
}

/** The enrolments a cohort holds, oldest first, and a digest of them (a migration must name the same cohort). */
export async function cohortEnrolments(db: RecordDb, c: Cohort): Promise<{ enrolmentIds: string[]; digest: string }> {
  let q = db.selectFrom('pathways').select('enrolment_id').where('definition_id', '=', c.definitionId);
  if (c.definitionVersion !== undefined) q = q.where('definition_version', '=', c.definitionVersion);
  if (c.careTeam) q = q.where('care_team', '=', c.careTeam);
  if (c.careTeams) q = c.careTeams.length ? q.where('care_team', 'in', [...c.careTeams]) : q.where('care_team', '=', '\u0000');
  if (c.enrolledFrom) q = q.where('enrolled_at', '>=', new Date(c.enrolledFrom));
  if (c.enrolledBefore) q = q.where('enrolled_at', '<', new Date(c.enrolledBefore));
  if (c.pathwayIds) q = c.pathwayIds.length ? q.where('pathway_id', 'in', c.pathwayIds) : q.where('pathway_id', '=', '\u0000');
  const rows = await q.orderBy('enrolled_at').orderBy('enrolment_id').execute();
  const enrolmentIds = rows.map((r) => r.enrolment_id);
  return { enrolmentIds, digest: cohortDigest(enrolmentIds) };
}

export const cohortDigest = (enrolmentIds: string[]): string =>
  createHash('sha256').update([...enrolmentIds].sort().join('\n')).digest('hex');

const parse = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

/** Reads the histories of these enrolments, a chunk at a time; `each` gets them in the order asked. */
export async function readHistories(db: RecordDb, enrolmentIds: string[], each: (h: RecordedHistory) => void, chunk = 500): Promise<void> {
  for (let i = 0; i < enrolmentIds.length; i += chunk) {
    const ids = enrolmentIds.slice(i, i + chunk);
    const [pathways, entries, reassessments, procedures] = await Promise.all([
      db.selectFrom('pathways').select(['enrolment_id', 'snapshot']).where('enrolment_id', 'in', ids).execute(),
      db.selectFrom('timeline_entries').select(['enrolment_id', 'entry']).where('enrolment_id', 'in', ids).orderBy('enrolment_id').orderBy('seq').execute(),
      db.selectFrom('reassessments').select(['enrolment_id', 'record']).where('enrolment_id', 'in', ids).orderBy('enrolment_id').orderBy('ordinal').execute(),
      db.selectFrom('procedures').select(['enrolment_id', 'record']).where('enrolment_id', 'in', ids).orderBy('enrolment_id').orderBy('ordinal').execute(),
    ]);
    const group = <T>(rows: Array<{ enrolment_id: string; entry?: unknown; record?: unknown }>) => {
      const by = new Map<string, T[]>();
      for (const r of rows) {
        const list = by.get(r.enrolment_id) ?? [];
        list.push(parse<T>(r.entry ?? r.record));
        by.set(r.enrolment_id, list);
      }
      return by;
    };
    const timelines = group<TimelineEntry>(entries);
    const scores = group<ReassessmentRecord>(reassessments);
    const done = group<ProcedureRecord>(procedures);
    const snapshots = new Map(pathways.map((p) => [p.enrolment_id, parse<PathwaySnapshotRecord>(p.snapshot)]));
    for (const id of ids) {
      const s = snapshots.get(id);
      const timeline = timelines.get(id);
      if (!s || !timeline?.length) continue;
      each({
        enrolmentId: id,
        pathwayId: s.pathwayId,
        careTeam: s.careTeam,
        definition: s.definition,
        baseline: s.baseline as Scores,
        ...(s.conservativeCareSince ? { conservativeCareSince: s.conservativeCareSince } : {}),
        timeline,
        reassessments: scores.get(id) ?? [],
        procedures: done.get(id) ?? [],
      });
    }
  }
}
