/**
 * Translates the API's requests into Temporal calls and back. Holds no state of its own:
 * every answer comes from the pathway workflows and Temporal's visibility store.
 */
import { createHash, createHmac } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor } from '../clinical/events';
import type { WorkupItem } from '../clinical/definition';
import { DEFAULT_DEFINITION_ID, type DefinitionRegistry } from '../clinical/registry';
import {
  REFUSAL_ERROR_TYPE,
  WORKFLOW_TYPE,
  applyAction,
  pathwayQuery,
  recordProcedure,
  recordReassessment,
  recordWorkupResult,
  reportRedFlags,
  type ChangeResult,
  type PathwayView,
  type PathwayWorkflowInput,
  type RefusalDetails,
} from '../workflows/messages';
import {
  CareTeamKey,
  DefinitionKey,
  DefinitionVersionKey,
  OverdueKey,
  PathwayStageKey,
  PathwayStatusKey,
} from '../workflows/search-attributes';
import {
  WORKLIST_ORDER,
  byDueDate,
  readRows,
  worklistCategory,
  type PathwayRow,
  type RowFilter,
  type WorklistCategory,
} from '../worker/visibility';
import { HttpProblem } from './problem';
import type { ChangeKind, EnrollRequest, ListQuery } from './schemas';

const UPDATES = {
  reassessments: recordReassessment,
  procedures: recordProcedure,
  workup: recordWorkupResult,
  'red-flags': reportRedFlags,
  actions: applyAction,
} as const;

export interface WorklistItem extends PathwayRow {
  category: WorklistCategory;
  pendingWorkup?: WorkupItem[];
  undeliveredMessages?: PathwayView['undelivered'];
}

export interface CareTeamSummary {
  careTeam: string;
  total: number;
  overdue: number;
  byStage: Record<string, number>;
  byStatus: Record<string, number>;
}

/** What a caller may see: all care teams, or only some. */
export interface Scope {
  careTeams?: readonly string[];
}

export interface PathwayServiceDeps {
  client: Client;
  taskQueue: string;
  definitions: DefinitionRegistry;
  /** The key that turns a patient reference into a pathway id. */
  patientKey: string;
  /** Upper bound on pathways read for one dashboard list (they are sorted by due date in memory). */
  listLimit?: number;
}

/** Pseudonymous, stable, and enforces one active pathway per patient through the workflow id. */
export function pathwayIdFor(patientRef: string, patientKey: string): string {
  return 'pw-' + createHmac('sha256', patientKey).update(patientRef).digest('hex').slice(0, 32);
}

/** Client-chosen keys go into Temporal only hashed, with the caller, so one key cannot replay another's request. */
function opaqueKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);
}

const REFUSAL_STATUS: Record<RefusalDetails['code'], number> = { invalid: 400, forbidden: 403, conflict: 409 };

export class PathwayService {
  constructor(private readonly deps: PathwayServiceDeps) {}

  private handle(pathwayId: string) {
    return this.deps.client.workflow.getHandle(pathwayId);
  }

  async enroll(req: EnrollRequest, actor: Actor, scope: Scope, idempotencyKey?: string): Promise<{ pathway: PathwayView; replayed: boolean }> {
    assertInScope(scope, req.careTeam);
    const definitionId = req.definition?.id ?? DEFAULT_DEFINITION_ID;
    const definition = this.deps.definitions.get(definitionId, req.definition?.version);
    if (!definition) {
      throw new HttpProblem(400, 'unknown pathway definition', {
        errors: [{ field: 'definition', message: 'no such definition or version (GET /v1/definitions lists them)' }],
      });
    }
    const pathwayId = pathwayIdFor(req.patientRef, this.deps.patientKey);
    const enrollmentKey = idempotencyKey ? opaqueKey('enroll', actor.id, idempotencyKey) : undefined;
    const input: PathwayWorkflowInput = {
      enrollment: { pathwayId, careTeam: req.careTeam, definition, baseline: req.baseline, redFlags: req.redFlags, enrolledBy: actor },
    };
    try {
      await this.deps.client.workflow.start(WORKFLOW_TYPE, {
        workflowId: pathwayId,
        taskQueue: this.deps.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        ...(enrollmentKey ? { memo: { enrollmentKey } } : {}),
        typedSearchAttributes: [
          { key: PathwayStageKey, value: 'conservative' },
          { key: PathwayStatusKey, value: req.redFlags.length ? 'urgent-referral' : 'active' },
          { key: CareTeamKey, value: req.careTeam },
          { key: OverdueKey, value: false },
          { key: DefinitionKey, value: definition.id },
          { key: DefinitionVersionKey, value: definition.version },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const existing = await this.handle(pathwayId).describe();
      if (enrollmentKey && existing.memo?.enrollmentKey === enrollmentKey) return { pathway: await this.read(pathwayId), replayed: true };
      // Another team's pathway is out of scope: the same 403 as enrolling for a team the key may not act for, naming nothing.
      assertInScope(scope, existing.typedSearchAttributes.get(CareTeamKey) ?? '');
      throw new HttpProblem(409, 'the patient already has an active pathway', { pathwayId });
    }
    return { pathway: await this.read(pathwayId), replayed: false };
  }

  /** The care team of a pathway, from its search attributes; 404 when there is no such pathway. */
  /** The care team and execution status of a pathway, from one describe; 404 when there is no such pathway. */
  private async describe(pathwayId: string): Promise<{ careTeam: string; status: string }> {
    try {
      const d = await this.handle(pathwayId).describe();
      return { careTeam: d.typedSearchAttributes.get(CareTeamKey) ?? '', status: d.status.name };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'no such pathway');
      throw err;
    }
  }

  /** A completed pathway's last state is its result; any other answers the query. */
  private async read(pathwayId: string, status?: string): Promise<PathwayView> {
    const handle = this.handle(pathwayId);
    const executionStatus = status ?? (await this.describe(pathwayId)).status;
    if (executionStatus === 'COMPLETED') return (await handle.result()) as PathwayView;
    return handle.query(pathwayQuery);
  }

  async get(pathwayId: string, scope: Scope): Promise<PathwayView> {
    const { careTeam, status } = await this.describe(pathwayId);
    assertInScope(scope, careTeam, 404);
    return this.read(pathwayId, status);
  }

  async lookup(patientRef: string, scope: Scope): Promise<PathwayView> {
    return this.get(pathwayIdFor(patientRef, this.deps.patientKey), scope);
  }

  async change(pathwayId: string, kind: ChangeKind, actor: Actor, input: unknown, scope: Scope, idempotencyKey?: string): Promise<ChangeResult> {
    const { careTeam, status } = await this.describe(pathwayId);
    assertInScope(scope, careTeam, 404);
    const running = status === 'RUNNING';
    const updateId = idempotencyKey ? `${kind}-${opaqueKey(kind, actor.id, idempotencyKey)}` : undefined;
    try {
      if (!running) throw new HttpProblem(409, 'the pathway is closed; it accepts no more changes');
      const handle = this.handle(pathwayId);
      // The update carries the schema's input type; the workflow validates it again.
      return await handle.executeUpdate(UPDATES[kind] as typeof recordReassessment, {
        args: [{ actor, input: input as never }],
        ...(updateId ? { updateId } : {}),
      });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === REFUSAL_ERROR_TYPE) {
        const refusal = err.cause.details?.[0] as RefusalDetails;
        throw new HttpProblem(REFUSAL_STATUS[refusal.code], refusal.message, {
          errors: refusal.errors ?? (refusal.field ? [{ field: refusal.field, message: refusal.message }] : []),
        });
      }
      if (err instanceof WorkflowNotFoundError) throw new HttpProblem(409, 'the pathway is closed; it accepts no more changes');
      throw err;
    }
  }

  /** Every pathway matching the filters (within the caller's scope), soonest due first. */
  async list(q: ListQuery, scope: Scope): Promise<{ items: PathwayRow[]; nextPageToken: string | null }> {
    const rows = await this.scan(q, scope);
    rows.sort(byDueDate);
    const offset = q.pageToken ? decodePageToken(q.pageToken, q) : 0;
    const items = rows.slice(offset, offset + q.pageSize);
    const next = offset + q.pageSize < rows.length ? encodePageToken(offset + q.pageSize, q) : null;
    return { items, nextPageToken: next };
  }

  async summary(scope: Scope, careTeam?: string): Promise<CareTeamSummary[]> {
    const rows = await this.scan({ careTeam }, scope);
    const teams = new Map<string, CareTeamSummary>();
    for (const r of rows) {
      const t = teams.get(r.careTeam) ?? { careTeam: r.careTeam, total: 0, overdue: 0, byStage: {}, byStatus: {} };
      t.total++;
      if (r.overdue) t.overdue++;
      t.byStage[r.stage] = (t.byStage[r.stage] ?? 0) + 1;
      t.byStatus[r.status] = (t.byStatus[r.status] ?? 0) + 1;
      teams.set(r.careTeam, t);
    }
    return [...teams.values()].sort((a, b) => a.careTeam.localeCompare(b.careTeam));
  }

  private async scan(q: Partial<ListQuery>, scope: Scope, extra: RowFilter = {}): Promise<PathwayRow[]> {
    if (q.careTeam && scope.careTeams && !scope.careTeams.includes(q.careTeam)) return [];
    const { pageSize: _p, pageToken: _t, ...filters } = q;
    return readRows(this.deps.client, { ...filters, ...(q.careTeam ? {} : { careTeams: scope.careTeams }), ...extra }, this.deps.listLimit);
  }

  /** What a care team must act on, most urgent first: urgent referrals, undelivered reminders, lost to follow-up, overdue, due today, due soon. */
  async worklist(scope: Scope, careTeam: string | undefined, dueSoonDays: number, now = Date.now()): Promise<WorklistItem[]> {
    const rows = await this.scan({ careTeam }, scope, { open: true });
    const items: WorklistItem[] = [];
    for (const row of rows) {
      // A held pathway is on the worklist only when it was lost to follow-up (always with its item overdue).
      const lost = row.status === 'on-hold' && !row.undelivered && row.overdue && (await this.read(row.pathwayId, 'RUNNING')).pause?.kind === 'lost-to-follow-up';
      const category = lost ? 'lost-to-follow-up' : worklistCategory(row, now, dueSoonDays);
      if (!category) continue;
      items.push({ category, ...row });
    }
    // Pending work-up items and undelivered messages come from the pathways themselves.
    await Promise.all(
      items.map(async (item) => {
        if (item.nextDueKind !== 'workup' && !item.undelivered) return;
        const view = await this.read(item.pathwayId, 'RUNNING');
        if (item.nextDueKind === 'workup') item.pendingWorkup = view.pendingWorkup;
        if (item.undelivered) item.undeliveredMessages = view.undelivered.filter((u) => !u.resolvedAt);
      }),
    );
    const rank = (c: WorklistCategory) => WORKLIST_ORDER.indexOf(c);
    return items.sort((a, b) => rank(a.category) - rank(b.category) || byDueDate(a, b));
  }
}

function assertInScope(scope: Scope, careTeam: string, status = 403): void {
  if (scope.careTeams && !scope.careTeams.includes(careTeam)) {
    throw status === 404 ? new HttpProblem(404, 'no such pathway') : new HttpProblem(403, 'this key may not act for that care team');
  }
}

/** A page token is the offset, tied to the filters it was issued for. */
function filterFingerprint(q: ListQuery): string {
  const { pageToken: _token, ...filters } = q;
  return opaqueKey(JSON.stringify(Object.entries(filters).sort())).slice(0, 12);
}

function encodePageToken(offset: number, q: ListQuery): string {
  return Buffer.from(JSON.stringify({ o: offset, f: filterFingerprint(q) })).toString('base64url');
}

function decodePageToken(token: string, q: ListQuery): number {
  try {
    const { o, f } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o: unknown; f: unknown };
    if (typeof o === 'number' && Number.isInteger(o) && o >= 0 && f === filterFingerprint(q)) return o;
  } catch {
    // fall through to the refusal
  }
  throw new HttpProblem(400, 'invalid pageToken', { errors: [{ field: 'pageToken', message: 'not a token issued for these filters' }] });
}
