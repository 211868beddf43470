/**
 * Reads where every pathway stands from Temporal's visibility store (search attributes only:
 * no workflow is asked). Used by the dashboards, the worklist and the daily digest.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Stage } from '../clinical/definition';
import type { DueKind, PathwayStatus } from '../clinical/pathway';
import { DAY_MS } from '../clinical/rules';
import { WORKFLOW_TYPE } from '../workflows/messages';
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
} from '../workflows/search-attributes';

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

/** Filters; every value has been validated (enums, patterns, ISO dates) before it reaches a query. */
export interface RowFilter {
  stage?: Stage;
  status?: PathwayStatus;
  careTeam?: string;
  /** Limits to these care teams (a scoped API key). */
  careTeams?: readonly string[];
  overdue?: boolean;
  undelivered?: boolean;
  dueBefore?: string;
  /** Only pathways still running. */
  open?: boolean;
}

/**
 * A string literal of the visibility query language. Values are validated before they get here;
 * this is the second line: quotes and backslashes escaped, control characters refused.
 */
export function literal(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('a visibility query value holds a control character');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function visibilityQuery(f: RowFilter): string {
  const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`, `ExecutionStatus != 'ContinuedAsNew'`, `${PathwayStatusKey.name} IS NOT NULL`];
  if (f.open) clauses.push(`ExecutionStatus = 'Running'`);
  if (f.stage) clauses.push(`${PathwayStageKey.name} = ${literal(f.stage)}`);
  if (f.status) clauses.push(`${PathwayStatusKey.name} = ${literal(f.status)}`);
  if (f.careTeam) clauses.push(`${CareTeamKey.name} = ${literal(f.careTeam)}`);
  if (f.careTeams) clauses.push(`${CareTeamKey.name} IN (${f.careTeams.map(literal).join(', ')})`);
  if (f.overdue !== undefined) clauses.push(`${OverdueKey.name} = ${f.overdue}`);
  if (f.undelivered !== undefined) clauses.push(`${UndeliveredKey.name} = ${f.undelivered}`);
  if (f.dueBefore) clauses.push(`${NextDueKey.name} < '${new Date(f.dueBefore).toISOString()}'`);
  return clauses.join(' AND ');
}

export function toRow(info: WorkflowExecutionInfo): PathwayRow {
  const sa = info.typedSearchAttributes;
  const due = sa.get(NextDueKey);
  return {
    pathwayId: info.workflowId,
    careTeam: sa.get(CareTeamKey) ?? '',
    stage: (sa.get(PathwayStageKey) ?? 'conservative') as Stage,
    status: (sa.get(PathwayStatusKey) ?? 'active') as PathwayStatus,
    nextDueAt: due ? due.toISOString() : null,
    nextDueKind: (sa.get(NextDueKindKey) ?? null) as DueKind | null,
    overdue: sa.get(OverdueKey) ?? false,
    undelivered: sa.get(UndeliveredKey) ?? false,
    definition: { id: sa.get(DefinitionKey) ?? '', version: sa.get(DefinitionVersionKey) ?? 0 },
    enrolledAt: info.startTime.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

/** Every matching pathway, up to `limit` (dashboards sort and page in memory). */
export async function readRows(client: Client, filter: RowFilter, limit = 10_000): Promise<PathwayRow[]> {
  const rows: PathwayRow[] = [];
  for await (const info of client.workflow.list({ query: visibilityQuery(filter) })) {
    rows.push(toRow(info));
    if (rows.length >= limit) break;
  }
  return rows;
}

export function byDueDate(a: PathwayRow, b: PathwayRow): number {
  if (a.nextDueAt !== b.nextDueAt) {
    if (a.nextDueAt === null) return 1;
    if (b.nextDueAt === null) return -1;
    return a.nextDueAt < b.nextDueAt ? -1 : 1;
  }
  return a.pathwayId < b.pathwayId ? -1 : a.pathwayId > b.pathwayId ? 1 : a.enrolledAt.localeCompare(b.enrolledAt);
}

export type WorklistCategory = 'urgent-referral' | 'undelivered' | 'lost-to-follow-up' | 'overdue' | 'due-today' | 'due-soon';

/** Most urgent first. */
export const WORKLIST_ORDER: readonly WorklistCategory[] = ['urgent-referral', 'undelivered', 'lost-to-follow-up', 'overdue', 'due-today', 'due-soon'];

/** Where a running pathway belongs on its care team's worklist at `now`, or nowhere. */
export function worklistCategory(row: PathwayRow, now: number, dueSoonDays: number): WorklistCategory | null {
  if (row.status === 'urgent-referral') return 'urgent-referral';
  if (row.undelivered) return 'undelivered';
  if (row.status === 'on-hold') return null;
  if (row.overdue) return 'overdue';
  if (!row.nextDueAt) return null;
  const due = Date.parse(row.nextDueAt);
  const endOfToday = new Date(now);
  endOfToday.setUTCHours(23, 59, 59, 999);
  if (due <= endOfToday.getTime()) return 'due-today';
  if (due <= now + dueSoonDays * DAY_MS) return 'due-soon';
  return null;
}

export interface DigestCounts {
  careTeam: string;
  counts: { urgentReferral: number; overdue: number; dueToday: number; dueThisWeek: number; undelivered: number; onHold: number; active: number };
}

/** One digest a care team with running pathways. */
export function digestCounts(rows: PathwayRow[], now: number): DigestCounts[] {
  const teams = new Map<string, DigestCounts>();
  for (const row of rows) {
    const t = teams.get(row.careTeam) ?? {
      careTeam: row.careTeam,
      counts: { urgentReferral: 0, overdue: 0, dueToday: 0, dueThisWeek: 0, undelivered: 0, onHold: 0, active: 0 },
    };
    const c = t.counts;
    if (row.status === 'active') c.active++;
    if (row.status === 'on-hold') c.onHold++;
    if (row.status === 'urgent-referral') c.urgentReferral++;
    if (row.undelivered) c.undelivered++;
    if (row.status === 'active' && row.overdue) c.overdue++;
    const category = row.status === 'active' && !row.overdue ? worklistCategory({ ...row, undelivered: false }, now, 7) : null;
    if (category === 'due-today') c.dueToday++;
    if (category === 'due-today' || category === 'due-soon') c.dueThisWeek++;
    teams.set(row.careTeam, t);
  }
  return [...teams.values()].sort((a, b) => a.careTeam.localeCompare(b.careTeam));
}
