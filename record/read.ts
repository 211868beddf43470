/**
 * Reads from the record store: one pathway whole (running or closed, for as long as records are
 * kept), and the dashboards' lists, summary, worklist and digest counts, each one SQL query with
 * bound parameters, scoped to the caller's care teams, sorted and counted by the database.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Stage, WorkupItem } from '../clinical/definition';
import type { DueKind, PathwayState, PathwayStatus, PathwayView, ProcedureRecord, ReassessmentRecord, TimelineEntry, UndeliveredMessage } from '../clinical/pathway';
import { DAY_MS } from '../clinical/rules';
import type { PathwaySnapshotRecord } from './batch';
import type { NoteCipher } from './note-cipher';
import type { RecordDatabase } from './schema';
import type { RecordDb } from './store';

/** A pathway as dashboards list it. */
export interface PathwayRow {
  pathwayId: string;
  careTeam: string;
  stage: Stage;
  status: PathwayStatus;
  nextDueAt: string | null;
  nextDueKind: DueKind | null;
  overdue: boolean;
  undelivered: boolean;
  definition: { id: string; version: number };
  enrolledAt: string;
  closedAt: string | null;
}

/** Filters; every value has been validated before it gets here, and every one is bound. */
export interface RowFilter {
  stage?: Stage;
  status?: PathwayStatus;
  careTeam?: string;
  /** Limits to these care teams (a scoped caller). */
  careTeams?: readonly string[];
  overdue?: boolean;
  undelivered?: boolean;
  dueBefore?: string;
}

export type WorklistCategory = 'urgent-referral' | 'undelivered' | 'lost-to-follow-up' | 'overdue' | 'due-today' | 'due-soon';

/** Most urgent first. */
export const WORKLIST_ORDER: readonly WorklistCategory[] = ['urgent-referral', 'undelivered', 'lost-to-follow-up', 'overdue', 'due-today', 'due-soon'];

export interface WorklistRow extends PathwayRow {
  category: WorklistCategory;
  pendingWorkup?: WorkupItem[];
  undeliveredMessages?: PathwayState['undelivered'];
}

export interface CareTeamSummary {
  careTeam: string;
  total: number;
  overdue: number;
  undelivered: number;
  byStage: Record<string, number>;
  byStatus: Record<string, number>;
}

export interface DigestCounts {
  careTeam: string;
  counts: { urgentReferral: number; overdue: number; dueToday: number; dueThisWeek: number; undelivered: number; onHold: number; active: number };
}

type PathwaysQuery<O> = SelectQueryBuilder<RecordDatabase, 'pathways', O>;

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function toRow(r: {
  pathway_id: string;
  care_team: string;
  stage: string;
  status: string;
  next_due_at: Date | null;
  next_due_kind: string | null;
  overdue: boolean;
  undelivered: boolean;
  definition_id: string;
  definition_version: number;
  enrolled_at: Date;
  closed_at: Date | null;
}): PathwayRow {
  return {
    pathwayId: r.pathway_id,
    careTeam: r.care_team,
    stage: r.stage as Stage,
    status: r.status as PathwayStatus,
    nextDueAt: iso(r.next_due_at),
    nextDueKind: r.next_due_kind as DueKind | null,
    overdue: r.overdue,
    undelivered: r.undelivered,
    definition: { id: r.definition_id, version: r.definition_version },
    enrolledAt: iso(r.enrolled_at)!,
    closedAt: iso(r.closed_at),
  };
}

export const ROW_COLUMNS = [
  'enrolment_id',
  'pathway_id',
  'care_team',
  'stage',
  'status',
  'next_due_at',
  'next_due_kind',
  'overdue',
  'undelivered',
  'definition_id',
  'definition_version',
  'enrolled_at',
  'closed_at',
] as const;

function filtered<O>(q: PathwaysQuery<O>, f: RowFilter): PathwaysQuery<O> {
  if (f.careTeams) q = f.careTeams.length ? q.where('care_team', 'in', [...f.careTeams]) : q.where(sql<boolean>`false`);
  if (f.careTeam) q = q.where('care_team', '=', f.careTeam);
  if (f.stage) q = q.where('stage', '=', f.stage);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.overdue !== undefined) q = q.where('overdue', '=', f.overdue);
  if (f.undelivered !== undefined) q = q.where('undelivered', '=', f.undelivered);
  if (f.dueBefore) q = q.where('next_due_at', '<', new Date(f.dueBefore));
  return q;
}

/** Where a page ends: the last row's due date and enrolment. */
export interface ListCursor {
  dueAt: string | null;
  enrolmentId: string;
}

/**
 * One page of pathways, soonest due first (undated last), and the cursor of the next page. Dated
 * and undated pathways are read as two ranges, each a row-value comparison the due-date index
 * seeks to, so a deep page costs what the first one does.
 */
export async function listPathways(db: RecordDb, f: RowFilter, pageSize: number, after?: ListCursor): Promise<{ items: PathwayRow[]; next: ListCursor | null }> {
  const base = () => filtered(db.selectFrom('pathways').select(ROW_COLUMNS), f);
  const rows: Array<Awaited<ReturnType<ReturnType<typeof base>['execute']>>[number]> = [];
  if (!after || after.dueAt !== null) {
    let dated = base().where('next_due_at', 'is not', null);
    if (after) dated = dated.where(sql<boolean>`(next_due_at, enrolment_id) > (${new Date(after.dueAt!)}::timestamptz, ${after.enrolmentId})`);
    rows.push(...(await dated.orderBy('next_due_at').orderBy('enrolment_id').limit(pageSize + 1).execute()));
  }
  if (rows.length <= pageSize) {
    let undated = base().where('next_due_at', 'is', null);
    if (after?.dueAt === null) undated = undated.where('enrolment_id', '>', after.enrolmentId);
    rows.push(...(await undated.orderBy('enrolment_id').limit(pageSize + 1 - rows.length).execute()));
  }
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    items: page.map(toRow),
    next: rows.length > pageSize && last ? { dueAt: iso(last.next_due_at), enrolmentId: last.enrolment_id } : null,
  };
}

/** Counts by stage and status per care team, from the counts every write keeps (no scan of the pathways). */
export async function summarise(db: RecordDb, f: Pick<RowFilter, 'careTeam' | 'careTeams'>): Promise<CareTeamSummary[]> {
  let q = db.selectFrom('pathway_counts').selectAll().where('total', '>', 0);
  if (f.careTeams) q = f.careTeams.length ? q.where('care_team', 'in', [...f.careTeams]) : q.where(sql<boolean>`false`);
  if (f.careTeam) q = q.where('care_team', '=', f.careTeam);
  const rows = await q.execute();
  const teams = new Map<string, CareTeamSummary>();
  for (const r of rows) {
    const t = teams.get(r.care_team) ?? { careTeam: r.care_team, total: 0, overdue: 0, undelivered: 0, byStage: {}, byStatus: {} };
    const n = Number(r.total);
    t.total += n;
    t.overdue += Number(r.overdue);
    t.undelivered += Number(r.undelivered);
    t.byStage[r.stage] = (t.byStage[r.stage] ?? 0) + n;
    t.byStatus[r.status] = (t.byStatus[r.status] ?? 0) + n;
    teams.set(r.care_team, t);
  }
  return [...teams.values()].sort((a, b) => a.careTeam.localeCompare(b.careTeam));
}

function endOfDay(now: number): Date {
  const d = new Date(now);
  d.setUTCHours(23, 59, 59, 999);
  return d;
}

/**
 * A pathway's place on the worklist, whatever the time: urgent referral, undelivered message, lost
 * to follow-up, overdue, then (DUE_RANK) an active pathway with a due date; null when it is not on
 * it (closed pathways only for a message they could not deliver). Its text is that of the index
 * pathways_worklist (migration 0010), so the planner reads the index.
 */
export const WORKLIST_RANK = `case
      when closed_at is not null and not undelivered then null
      when status = 'urgent-referral' then 0
      when undelivered then 1
      when status = 'on-hold' and pause_kind = 'lost-to-follow-up' then 2
      when status <> 'active' then null
      when overdue then 3
      when next_due_at is not null then 4
    end`;
/** Undated items sort last within their priority, as if due at the end of time. */
export const WORKLIST_DUE = `coalesce(next_due_at, 'infinity'::timestamptz)`;
/** Due today, then due soon: the worklist's categories 4 and 5, told apart by the time. */
const DUE_RANK = 4;

/** Where a worklist page ends: its last item's priority, due date and enrolment. */
export interface WorklistCursor {
  category: number;
  dueAt: string | null;
  enrolmentId: string;
}

/**
 * One page of what a care team must act on, most urgent first, and where the next page starts.
 * `now` decides "due today" and "due soon": the pages of one worklist share it.
 */
export async function worklist(
  db: RecordDb,
  f: Pick<RowFilter, 'careTeam' | 'careTeams'>,
  dueSoonDays: number,
  now: number,
  pageSize: number,
  after?: WorklistCursor,
): Promise<{ items: WorklistRow[]; next: WorklistCursor | null }> {
  const today = endOfDay(now);
  const soon = new Date(now + dueSoonDays * DAY_MS);
  // The index pathways_worklist (migration 0010) holds each pathway's priority and due date, so a
  // page is read from it in order: priorities 0 to 3 first, then the active pathways due by `soon`
  // (due today, then due soon: one range of due dates), each a range of the index.
  const rank = sql<number>`${sql.raw(WORKLIST_RANK)}`;
  const dueOrder = sql<Date>`${sql.raw(WORKLIST_DUE)}`;
  const page = (q: ReturnType<typeof worklistRows>, limit: number) => q.orderBy(rank).orderBy(dueOrder).orderBy('enrolment_id').limit(limit).execute();
  const worklistRows = () => filtered(db.selectFrom('pathways'), f).select([...ROW_COLUMNS, 'pending_workup']).select(rank.as('rank'));
  const dueAfter = after ? (after.dueAt === null ? sql`'infinity'::timestamptz` : sql`${new Date(after.dueAt)}::timestamptz`) : undefined;
  let found: Awaited<ReturnType<typeof page>> = [];
  if (!after || after.category < DUE_RANK) {
    let q = worklistRows().where(rank, '<', DUE_RANK);
    if (after) q = q.where(sql<boolean>`(${rank}, ${dueOrder}, enrolment_id) > (${after.category}, ${dueAfter}, ${after.enrolmentId})`);
    found = await page(q, pageSize + 1);
  }
  if (found.length <= pageSize) {
    let q = worklistRows().where(rank, '=', DUE_RANK).where(dueOrder, '<=', soon);
    if (after && after.category >= DUE_RANK) q = q.where(sql<boolean>`(${dueOrder}, enrolment_id) > (${dueAfter}, ${after.enrolmentId})`);
    found = [...found, ...(await page(q, pageSize + 1 - found.length))];
  }
  const categoryOf = (r: (typeof found)[number]) => (Number(r.rank) < DUE_RANK ? Number(r.rank) : r.next_due_at && new Date(r.next_due_at) <= today ? DUE_RANK : DUE_RANK + 1);
  const rows = found.slice(0, pageSize);
  const last = rows[rows.length - 1];
  const next =
    found.length > pageSize && last
      ? { category: categoryOf(last), dueAt: last.next_due_at ? new Date(last.next_due_at).toISOString() : null, enrolmentId: last.enrolment_id }
      : null;
  const flagged = rows.filter((r) => r.undelivered).map((r) => r.enrolment_id);
  const undelivered = flagged.length
    ? await db
        .selectFrom('messages')
        .select(['enrolment_id', 'message_id', 'side_effect', 'at'])
        .where('enrolment_id', 'in', flagged)
        .where('outcome', '=', 'undelivered')
        .where('resolved_at', 'is', null)
        .orderBy('at')
        .execute()
    : [];
  const items = rows.map((r) => {
    const item: WorklistRow = { category: WORKLIST_ORDER[categoryOf(r)]!, ...toRow(r) };
    const pending = r.pending_workup as unknown as WorkupItem[];
    if (r.next_due_kind === 'workup' && pending.length) item.pendingWorkup = pending;
    if (r.undelivered) {
      item.undeliveredMessages = undelivered
        .filter((u) => u.enrolment_id === r.enrolment_id)
        .map((u) => ({ messageId: u.message_id, effect: u.side_effect as UndeliveredMessage['effect'], at: new Date(u.at).toISOString() }));
    }
    return item;
  });
  return { items, next };
}

/** One digest a care team with running pathways. */
export async function digestCounts(db: RecordDb, now: number): Promise<DigestCounts[]> {
  const today = endOfDay(now);
  const week = new Date(now + 7 * DAY_MS);
  const rows = await db
    .selectFrom('pathways')
    .where('closed_at', 'is', null)
    .select((eb) => {
      const count = () => eb.fn.count<number>('enrolment_id');
      const dueBy = (limit: Date) => eb.and([eb('status', '=', 'active'), eb('overdue', '=', false), eb('next_due_at', '<=', limit)]);
      return [
        'care_team',
        count().filterWhere('status', '=', 'urgent-referral').as('urgentReferral'),
        count().filterWhere((w) => w.and([w('status', '=', 'active'), w('overdue', '=', true)])).as('overdue'),
        count().filterWhere(dueBy(today)).as('dueToday'),
        count().filterWhere(dueBy(week)).as('dueThisWeek'),
        count().filterWhere('undelivered', '=', true).as('undelivered'),
        count().filterWhere('status', '=', 'on-hold').as('onHold'),
        count().filterWhere('status', '=', 'active').as('active'),
      ];
    })
    .groupBy('care_team')
    .orderBy('care_team')
    .execute();
  return rows.map(({ care_team, ...c }) => ({
    careTeam: care_team,
    counts: {
      urgentReferral: Number(c.urgentReferral),
      overdue: Number(c.overdue),
      dueToday: Number(c.dueToday),
      dueThisWeek: Number(c.dueThisWeek),
      undelivered: Number(c.undelivered),
      onHold: Number(c.onHold),
      active: Number(c.active),
    },
  }));
}

/** The newest enrolment of a pathway id, whole: its state, timeline, scores and procedures, notes decrypted. */
export async function readPathway(db: RecordDb, cipher: NoteCipher, pathwayId: string, scope: Pick<RowFilter, 'careTeams'> = {}): Promise<PathwayView | null> {
  const row = await filtered(db.selectFrom('pathways').select(['enrolment_id', 'snapshot']), scope)
    .where('pathway_id', '=', pathwayId)
    .orderBy('enrolled_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  const id = row.enrolment_id;
  const [timeline, reassessments, procedures] = await Promise.all([
    db.selectFrom('timeline_entries').select(['entry', 'reason_enc']).where('enrolment_id', '=', id).orderBy('seq').execute(),
    db.selectFrom('reassessments').select(['record', 'note_enc']).where('enrolment_id', '=', id).orderBy('ordinal').execute(),
    db.selectFrom('procedures').select(['record', 'note_enc']).where('enrolment_id', '=', id).orderBy('ordinal').execute(),
  ]);
  const withText = <T>(record: unknown, field: string, sealed: string | null): T => {
    const text = cipher.open(sealed);
    return (text === undefined ? record : { ...(record as object), [field]: text }) as T;
  };
  const snapshot = row.snapshot as unknown as PathwaySnapshotRecord;
  const recordedReassessments = reassessments.map((r) => withText<ReassessmentRecord>(r.record, 'note', r.note_enc));
  const latest = recordedReassessments[recordedReassessments.length - 1];
  return {
    ...snapshot,
    ...(snapshot.latest && latest ? { latest } : {}),
    timeline: timeline.map((t) => withText<TimelineEntry>(t.entry, 'reason', t.reason_enc)),
    reassessments: recordedReassessments,
    procedures: procedures.map((p) => withText<ProcedureRecord>(p.record, 'note', p.note_enc)),
  };
}

/** The care team and status of a pathway id's newest enrolment, or null. */
export async function pathwayHeader(db: RecordDb, pathwayId: string): Promise<{ careTeam: string; status: PathwayStatus; enrolmentId: string } | null> {
  const row = await db
    .selectFrom('pathways')
    .select(['care_team', 'status', 'enrolment_id'])
    .where('pathway_id', '=', pathwayId)
    .orderBy('enrolled_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { careTeam: row.care_team, status: row.status as PathwayStatus, enrolmentId: row.enrolment_id } : null;
}

/** For the metrics: pathways per care team, stage and status, and the write lag of the last five minutes' writes. */
export async function recordStoreSnapshot(db: RecordDb): Promise<{
  pathways: Array<{ careTeam: string; stage: string; status: string; count: number }>;
  writeLagSeconds: number | null;
}> {
  const [counts, lag] = await Promise.all([
    db.selectFrom('pathway_counts').select(['care_team', 'stage', 'status', 'total as n']).where('total', '>', 0).execute(),
    // How long after the workflow decided a change the record had it, at most, among recent writes.
    sql<{ lag: number | null }>`select extract(epoch from max(recorded_at - last_entry_at)) as lag from pathways where recorded_at > now() - interval '5 minutes'`.execute(db),
  ]);
  const seconds = lag.rows[0]?.lag;
  return {
    pathways: counts.map((r) => ({ careTeam: r.care_team, stage: r.stage, status: r.status, count: Number(r.n) })),
    writeLagSeconds: seconds === null || seconds === undefined ? 0 : Math.max(0, Number(seconds)),
  };
}
