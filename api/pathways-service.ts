/**
 * Translates the API's requests into one Temporal call each (changes and enrolments) or reads
 * of the record store (everything a caller reads). Holds no state of its own.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Actor } from '../clinical/events';
import { DEFAULT_DEFINITION_ID, type DefinitionRegistry } from '../clinical/registry';
import { attachRegistry } from '../record/definitions';
import type { NoteCipher } from '../record/note-cipher';
import type { PatientCorrection, PatientDetails, PatientIdentity, PatientLabel } from '../clinical/patient';
import {
  correctIdentity,
  discloseIdentities,
  listAccessEntries,
  recordIdentity,
  type AccessContext,
  type AccessEntry,
} from '../record/patients';
import {
  listPathways,
  pathwayHeader,
  readPathway,
  summarise,
  worklist,
  type CareTeamSummary,
  type ListCursor,
  type WorklistCursor,
  type PathwayRow,
  type WorklistRow,
} from '../record/read';
import { latestQuestionnaires, notAnsweredByPatient, pendingRedFlagPathways, questionnaireCompletion, type QuestionnaireCompletion, type QuestionnaireState } from '../record/questionnaires';
import { outcomesReport, type OutcomeFilters, type OutcomesReport } from '../record/reports';
import type { RecordStore } from '../record/store';
import {
  REFUSAL_ERROR_TYPE,
  WORKFLOW_TYPE,
  applyAction,
  confirmEnrolment,
  previewChange,
  recordProcedure,
  recordReassessment,
  recordWorkupResult,
  reportRedFlags,
  type ChangePreview,
  type ChangeResult,
  type PathwayView,
  type PathwayWorkflowInput,
  type RefusalDetails,
} from '../workflows/messages';
import { inScope, type Scope } from './caller';
import { DEFINITION_MIGRATION_WORKFLOW_TYPE, definitionMigrationWorkflowId, type DefinitionMigrationInput } from '../workflows/definition-migration';
import { HttpProblem } from './problem';
import type { ChangeKind, EnrolmentRequest, ListQuery, WorklistQuery } from './schemas';

const UPDATES = {
  reassessments: recordReassessment,
  procedures: recordProcedure,
  workup: recordWorkupResult,
  'red-flags': reportRedFlags,
  actions: applyAction,
} as const;

/** The command each kind of change carries in the workflow (clinical/command-check.ts). */
const COMMAND_KINDS = {
  reassessments: 'reassessment',
  procedures: 'procedure',
  workup: 'workup-result',
  'red-flags': 'red-flags',
  actions: 'action',
} as const satisfies Record<ChangeKind, string>;

export type { AccessContext, CareTeamSummary, PathwayRow };
/** A worklist item; a patient-reported red flag waiting for a clinician comes first of all. */
export type WorklistItem = Omit<WorklistRow, 'category'> & {
  category: WorklistRow['category'] | 'patient-reported-red-flag';
  patient?: PatientLabel;
  patientReport?: { questionnaireId: string; redFlags: string[]; reportedAt: string };
  /** The patient's questionnaire for this reassessment went unanswered by its due date: a coordinator can call. */
  notAnsweredByPatient?: true;
  /** Where the patient's latest questionnaire stands (sent, reminded, opened, answered, expired, undelivered). */
  patientQuestionnaire?: { id: string; state: QuestionnaireState; issuedAt: string };
};
/** A pathway as answered to the care team: with who the patient is when the reader may see it. */
export type PathwayAnswer = PathwayView & { patient?: PatientIdentity };
export type PathwayListItem = PathwayRow & { patient?: PatientLabel };

export interface PathwayServiceDeps {
  client: Client;
  taskQueue: string;
  definitions: DefinitionRegistry;
  /** The key that turns a patient reference into a pathway id. */
  patientKey: string;
  /** Where every read comes from. */
  record: { store: RecordStore; cipher: NoteCipher };
}

/** Started, but not in the record yet: the answer says so, and that a retry with the same key is safe. */
const notConfirmed = () =>
  new HttpProblem(503, 'the enrolment is not confirmed yet; retry with the same Idempotency-Key to get its answer (it is never applied twice)', {}, 2);

/** Pseudonymous, stable, and enforces one active pathway per patient through the workflow id. */
export function pathwayIdFor(patientRef: string, patientKey: string): string {
  return 'pw-' + createHmac('sha256', patientKey).update(patientRef).digest('hex').slice(0, 32);
}

/** Client-chosen keys go into Temporal only hashed, with the caller, so one key cannot replay another's request. */
function opaqueKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 40);
}

const REFUSAL_STATUS: Record<RefusalDetails['code'], number> = { invalid: 400, forbidden: 403, conflict: 409, 'not-found': 404 };

/** A refusal by the workflow's rules as the API answers it: the status of its kind, naming each field. */
const refusalProblem = (refusal: RefusalDetails): HttpProblem =>
  new HttpProblem(REFUSAL_STATUS[refusal.code], refusal.message, {
    errors: refusal.errors ?? (refusal.field ? [{ field: refusal.field, message: refusal.message }] : []),
  });

const labelOf = (p: PatientIdentity): PatientLabel => ({ reference: p.reference, ...(p.name !== undefined ? { name: p.name } : {}) });

export class PathwayService {
  constructor(private readonly deps: PathwayServiceDeps) {}

  private get db() {
    return this.deps.record.store.db;
  }


  /** Starts the pathway and answers with it as enrolled, in one call (update-with-start). */
  async enrol(req: EnrolmentRequest, actor: Actor, scope: Scope, idempotencyKey?: string, disclose?: AccessContext): Promise<{ pathway: PathwayAnswer; replayed: boolean }> {
    const { pathway, replayed } = await this.start(req, actor, scope, idempotencyKey);
    // Who the patient is goes to the record store only, never into the workflow: kept once the enrolment is.
    const who: AccessContext = disclose ?? { actorId: actor.id, actorRole: actor.role, route: 'POST /v1/pathways' };
    await this.rememberPatient(pathway.pathwayId, req.patientRef, req.patient, who);
    return { pathway: (await this.withPatients([pathway], disclose))[0]!, replayed };
  }

  private async rememberPatient(pathwayId: string, reference: string, details: PatientDetails | undefined, who: AccessContext): Promise<void> {
    await recordIdentity(this.db, this.deps.record.cipher, pathwayId, { reference, ...details }, who);
  }

  /** Adds who each patient is, when the reader may see it; each disclosure is recorded with it. */
  private async withPatients<T extends { pathwayId: string }>(items: T[], disclose: AccessContext | undefined, shown: (p: PatientIdentity) => PatientIdentity | PatientLabel = (p) => p): Promise<Array<T & { patient?: PatientIdentity }>> {
    if (!disclose || items.length === 0) return items;
    const found = await discloseIdentities(this.db, this.deps.record.cipher, items.map((i) => i.pathwayId), disclose);
    return items.map((i) => {
      const patient = found.get(i.pathwayId);
      return patient ? { ...i, patient: shown(patient) } : i;
    });
  }

  private async start(req: EnrolmentRequest, actor: Actor, scope: Scope, idempotencyKey?: string): Promise<{ pathway: PathwayView; replayed: boolean }> {
    assertInScope(scope, req.careTeam);
    const definitionId = req.definition?.id ?? DEFAULT_DEFINITION_ID;
    // Versions published since (by any API process) are offered at once.
    await attachRegistry(this.deps.definitions, this.db);
    await this.deps.definitions.refresh();
    const definition = this.deps.definitions.forEnrolment(definitionId, req.definition?.version);
    if (!definition) {
      throw new HttpProblem(400, 'unknown pathway definition', {
        errors: [{ field: 'definition', message: 'no such published definition or version (GET /v1/definitions lists them; a retired version takes no new enrolments)' }],
      });
    }
    const pathwayId = pathwayIdFor(req.patientRef, this.deps.patientKey);
    // The memo's name and the hash's prefix are kept by running workflows: they keep their first spelling.
    const enrolmentKey = idempotencyKey ? opaqueKey('enroll', actor.id, idempotencyKey) : undefined;
    const input: PathwayWorkflowInput = {
      enrollment: { pathwayId, careTeam: req.careTeam, definition, baseline: req.baseline, redFlags: req.redFlags, conservativeCareSince: req.conservativeCareSince, enrolledBy: actor },
    };
    const start = new WithStartWorkflowOperation(WORKFLOW_TYPE, {
      workflowId: pathwayId,
      taskQueue: this.deps.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      // No search attributes here: the workflow sets them in the same first task that answers.
      ...(enrolmentKey ? { memo: { enrollmentKey: enrolmentKey } } : {}),
    });
    try {
      const { pathway } = await this.deps.client.workflow.executeUpdateWithStart(confirmEnrolment, { startWorkflowOperation: start });
      return { pathway, replayed: false };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    // The patient has a running pathway. If this caller's own earlier try started it (its answer
    // was lost with its process), that pathway is the answer.
    if (enrolmentKey) {
      const existing = await this.deps.client.workflow.getHandle(pathwayId).describe();
      if (existing.memo?.enrollmentKey === enrolmentKey) {
        const pathway = await readPathway(this.db, this.deps.record.cipher, pathwayId);
        // Started, but not in the record yet: the answer is not confirmed yet.
        if (!pathway) throw notConfirmed();
        return { pathway, replayed: true };
      }
    }
    // Another team's pathway is out of scope: the same 403 as enrolling for a team the key may not act for, naming nothing.
    const header = await pathwayHeader(this.db, pathwayId);
    if (header) assertInScope(scope, header.careTeam);
    throw new HttpProblem(409, 'the patient already has an active pathway', { pathwayId });
  }

  async get(pathwayId: string, scope: Scope, disclose?: AccessContext): Promise<PathwayAnswer> {
    const pathway = await readPathway(this.db, this.deps.record.cipher, pathwayId, scope);
    if (!pathway) throw new HttpProblem(404, 'no such pathway');
    return (await this.withPatients([pathway], disclose))[0]!;
  }

  async lookup(patientRef: string, scope: Scope, disclose?: AccessContext): Promise<PathwayAnswer> {
    return this.get(pathwayIdFor(patientRef, this.deps.patientKey), scope, disclose);
  }

  /** A coordinator's correction of name, date of birth or contact (audited: which fields, by whom). */
  async correctPatient(pathwayId: string, correction: PatientCorrection, scope: Scope, who: AccessContext): Promise<PatientIdentity> {
    await this.inScope(pathwayId, scope);
    const corrected = await correctIdentity(this.db, this.deps.record.cipher, pathwayId, correction, who);
    if (!corrected) throw new HttpProblem(409, 'no identity is kept for this pathway (enrolled before identities were kept); enrol the patient again with their details when the pathway closes');
    return corrected;
  }

  /** Who saw, recorded, corrected or erased this patient's identity, newest first. */
  async accessLog(pathwayId: string, scope: Scope): Promise<AccessEntry[]> {
    await this.inScope(pathwayId, scope);
    return listAccessEntries(this.db, pathwayId);
  }

  private async inScope(pathwayId: string, scope: Scope): Promise<void> {
    const header = await pathwayHeader(this.db, pathwayId);
    if (!header || (scope.careTeams && !scope.careTeams.includes(header.careTeam))) throw new HttpProblem(404, 'no such pathway');
  }

  /** One update; the workflow itself refuses what the caller's scope or the pathway's state does not allow. */
  async change(pathwayId: string, kind: ChangeKind, actor: Actor, input: unknown, scope: Scope, idempotencyKey?: string): Promise<ChangeResult> {
    const updateId = idempotencyKey ? `${kind}-${opaqueKey(kind, actor.id, idempotencyKey)}` : undefined;
    try {
      // The update carries the schema's input type; the workflow validates it again.
      return await this.deps.client.workflow.getHandle(pathwayId).executeUpdate(UPDATES[kind] as typeof recordReassessment, {
        args: [{ actor, input: input as never, ...(scope.careTeams ? { scope: { careTeams: [...scope.careTeams] } } : {}) }],
        ...(updateId ? { updateId } : {}),
      });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === REFUSAL_ERROR_TYPE) {
        throw refusalProblem(err.cause.details?.[0] as RefusalDetails);
      }
      if (err instanceof WorkflowNotFoundError) {
        // No running workflow: a closed pathway (kept in the record), or none the caller may see.
        const header = await pathwayHeader(this.db, pathwayId);
        if (!header || !inScope(scope, header.careTeam)) throw new HttpProblem(404, 'no such pathway');
        throw new HttpProblem(409, `the pathway is ${header.status}; it accepts no more changes`);
      }
      throw err;
    }
  }

  /** Starts a bulk move of running pathways to a newer version (workflows/definition-migration.ts); starting the same one again finds it started. */
  async startDefinitionMigration(input: DefinitionMigrationInput): Promise<void> {
    try {
      await this.deps.client.workflow.start(DEFINITION_MIGRATION_WORKFLOW_TYPE, {
        workflowId: definitionMigrationWorkflowId(input.migration.migrationId),
        taskQueue: this.deps.taskQueue,
        args: [input],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  /**
   * What a change would do, answered by the workflow's own rules on the pathway as it is now,
   * without recording anything (a query writes nothing to history): the decisions, or the same
   * refusal the change would get.
   */
  async preview(pathwayId: string, kind: ChangeKind, actor: Actor, input: unknown, scope: Scope): Promise<ChangeResult> {
    let answer: ChangePreview;
    try {
      answer = await this.deps.client.workflow.getHandle(pathwayId).query(previewChange, {
        kind: COMMAND_KINDS[kind],
        command: { actor, input, ...(scope.careTeams ? { scope: { careTeams: [...scope.careTeams] } } : {}) },
        now: Date.now(),
      });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      const header = await pathwayHeader(this.db, pathwayId);
      if (!header || (scope.careTeams && !scope.careTeams.includes(header.careTeam))) throw new HttpProblem(404, 'no such pathway');
      throw new HttpProblem(409, `the pathway is ${header.status}; it accepts no more changes`);
    }
    if (!answer.accepted) throw refusalProblem(answer.refusal);
    return { decisions: answer.decisions, pathway: answer.pathway };
  }

  /** A page of pathways matching the filters (within the caller's scope), soonest due first. */
  async list(q: ListQuery, scope: Scope, disclose?: AccessContext): Promise<{ items: PathwayListItem[]; nextPageToken: string | null }> {
    const { pageSize, pageToken, ...filters } = q;
    if (filters.careTeam && !inScope(scope, filters.careTeam)) return { items: [], nextPageToken: null };
    const after = pageToken ? openToken(pageToken, q, listCursorOf) : undefined;
    const page = await listPathways(this.db, { ...filters, careTeams: scope.careTeams }, pageSize, after);
    return { items: await this.withPatients(page.items, disclose, labelOf), nextPageToken: page.next ? sealToken({ d: page.next.dueAt, e: page.next.enrolmentId }, q) : null };
  }

  async summary(scope: Scope, careTeam?: string): Promise<CareTeamSummary[]> {
    if (careTeam && !inScope(scope, careTeam)) return [];
    return summarise(this.db, { careTeam, careTeams: scope.careTeams });
  }

  /** What a care team must act on, most urgent first: urgent referrals, undelivered reminders, lost to follow-up, overdue, due today, due soon. */
  async worklist(q: WorklistQuery, scope: Scope, disclose?: AccessContext): Promise<{ generatedAt: string; items: WorklistItem[]; nextPageToken: string | null }> {
    const { careTeam, dueSoonDays, pageSize, pageToken } = q;
    // Every page of one worklist is judged at its first page's time, so no item moves between pages.
    const page = pageToken ? openToken(pageToken, q, worklistCursorOf) : { now: Date.now(), after: undefined };
    const generatedAt = new Date(page.now).toISOString();
    if (careTeam && !inScope(scope, careTeam)) return { generatedAt, items: [], nextPageToken: null };
    const { items: rows, next } = await worklist(this.db, { careTeam, careTeams: scope.careTeams }, dueSoonDays, page.now, pageSize, page.after);
    const reported: WorklistItem[] = pageToken ? rows : await this.withPatientReports(rows, { careTeam, careTeams: scope.careTeams });
    const ids = reported.map((i) => i.pathwayId);
    const [unanswered, questionnaires] = [await notAnsweredByPatient(this.db, ids), await latestQuestionnaires(this.db, ids, page.now)];
    const items = reported.map((i) => {
      const questionnaire = questionnaires.get(i.pathwayId);
      return { ...i, ...(unanswered.has(i.pathwayId) ? { notAnsweredByPatient: true as const } : {}), ...(questionnaire ? { patientQuestionnaire: questionnaire } : {}) };
    });
    return { generatedAt, items: await this.withPatients(items, disclose, labelOf), nextPageToken: next ? sealToken({ n: page.now, c: next.category, d: next.dueAt, e: next.enrolmentId }, q) : null };
  }

  /**
   * The first page leads with the pathways whose patient reported a red flag at home that no
   * clinician has confirmed yet (each once, moved up from where the page had it).
   */
  private async withPatientReports(rows: WorklistRow[], f: { careTeam?: string; careTeams?: readonly string[] }): Promise<WorklistItem[]> {
    const reports = await pendingRedFlagPathways(this.db, f);
    if (reports.length === 0) return rows;
    const first: WorklistItem[] = reports.map((r) => ({ ...r.row, category: 'patient-reported-red-flag', patientReport: { questionnaireId: r.invitationId, redFlags: r.redFlags, reportedAt: r.reportedAt } }));
    const reported = new Set(reports.map((r) => r.row.pathwayId));
    return [...first, ...rows.filter((r) => !reported.has(r.pathwayId))];
  }

  async outcomes(filters: Omit<OutcomeFilters, 'careTeams'>, scope: Scope): Promise<OutcomesReport & { questionnaires: QuestionnaireCompletion[] }> {
    const report = await outcomesReport(this.db, { ...filters, careTeams: scope.careTeams });
    // How many patients answered their questionnaires at home, per care team and stage.
    const questionnaires = await questionnaireCompletion(this.db, { ...filters, careTeams: scope.careTeams });
    return { ...report, filters, questionnaires };
  }

}

function assertInScope(scope: Scope, careTeam: string): void {
  if (!inScope(scope, careTeam)) throw new HttpProblem(403, 'this key may not act for that care team');
}

/** A page token is the keyset position, tied to the filters it was issued for. */
function filterFingerprint(q: ListQuery | WorklistQuery): string {
  const { pageToken: _token, ...filters } = q;
  return opaqueKey(JSON.stringify(Object.entries(filters).sort())).slice(0, 12);
}

type TokenFields = Record<string, unknown>;

function sealToken(fields: TokenFields, q: ListQuery | WorklistQuery): string {
  return Buffer.from(JSON.stringify({ ...fields, f: filterFingerprint(q) })).toString('base64url');
}

/** The cursor a token holds, if it was issued for these filters and `read` finds its fields sound. */
function openToken<T>(token: string, q: ListQuery | WorklistQuery, read: (fields: TokenFields) => T | undefined): T {
  try {
    const fields = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as TokenFields;
    const cursor = fields.f === filterFingerprint(q) ? read(fields) : undefined;
    if (cursor) return cursor;
  } catch {
    // fall through to the refusal
  }
  throw new HttpProblem(400, 'invalid pageToken', { errors: [{ field: 'pageToken', message: 'not a token issued for these filters' }] });
}

const listCursorOf = ({ d, e }: TokenFields): ListCursor | undefined =>
  (d === null || (typeof d === 'string' && !Number.isNaN(Date.parse(d)))) && typeof e === 'string' && e.length <= 64 ? { dueAt: d, enrolmentId: e } : undefined;

const worklistCursorOf = (fields: TokenFields): { now: number; after: WorklistCursor } | undefined => {
  const at = listCursorOf(fields);
  const { n, c } = fields;
  return at && typeof n === 'number' && Number.isSafeInteger(n) && typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= 5 ? { now: n, after: { category: c, ...at } } : undefined;
};
