/**
 * Questionnaires sent to patients: each invitation (its link's hash, what it asks, where it
 * stands), the answers (encrypted) and what they became, the patient-reported red flags waiting
 * for a clinician, and the messages that carried the links.
 */
import { sql } from 'kysely';
import type { NoteCipher } from './note-cipher';
import { ROW_COLUMNS, toRow, type PathwayRow } from './read';
import type { RecordDb } from './store';

export type QuestionnaireState = 'sent' | 'reminded' | 'opened' | 'answered' | 'expired' | 'undelivered' | 'replaced';

export interface Invitation {
  id: string;
  pathwayId: string;
  enrolmentId: string;
  careTeam: string;
  stage: string;
  instruments: string[];
  language: string;
  issuedAt: string;
  issuedBy: string;
  dueAt: string | null;
  expiresAt: string;
  remindedAt: string | null;
  openedAt: string | null;
  answeredAt: string | null;
  missedAt: string | null;
  supersededAt: string | null;
  delivery: 'pending' | 'delivered' | 'undelivered';
  scores: Record<string, number> | null;
  redFlags: string[] | null;
  advice: 'emergency' | 'today' | null;
  redFlagReview: 'pending' | 'confirmed' | 'not-confirmed' | null;
  counted: 'reassessment' | 'staff-reassessment-first' | 'refused' | null;
  state: QuestionnaireState;
}

export interface NewInvitation {
  id: string;
  tokenHash: string;
  pathwayId: string;
  enrolmentId: string;
  careTeam: string;
  stage: string;
  instruments: string[];
  language: string;
  issuedBy: string;
  issuedAt: Date;
  dueAt: Date | null;
  expiresAt: Date;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function stateOf(r: { answered_at: unknown; expires_at: Date | string; superseded_at: unknown; opened_at: unknown; reminded_at: unknown; delivery: string }, now = Date.now()): QuestionnaireState {
  if (r.answered_at) return 'answered';
  if (r.superseded_at) return 'replaced';
  if (new Date(r.expires_at).getTime() <= now) return 'expired';
  if (r.opened_at) return 'opened';
  if (r.delivery === 'undelivered') return 'undelivered';
  if (r.reminded_at) return 'reminded';
  return 'sent';
}

type Row = Awaited<ReturnType<typeof selectRows>>[number];
const selectRows = (db: RecordDb) => db.selectFrom('questionnaire_invitations').selectAll().execute();

function toInvitation(r: Row, now = Date.now()): Invitation {
  return {
    id: r.id,
    pathwayId: r.pathway_id,
    enrolmentId: r.enrolment_id,
    careTeam: r.care_team,
    stage: r.stage,
    instruments: r.instruments as unknown as string[],
    language: r.language,
    issuedAt: iso(r.issued_at)!,
    issuedBy: r.issued_by,
    dueAt: iso(r.due_at),
    expiresAt: iso(r.expires_at)!,
    remindedAt: iso(r.reminded_at),
    openedAt: iso(r.opened_at),
    answeredAt: iso(r.answered_at),
    missedAt: iso(r.missed_at),
    supersededAt: iso(r.superseded_at),
    delivery: r.delivery as Invitation['delivery'],
    scores: r.scores as Invitation['scores'],
    redFlags: r.red_flags as unknown as string[] | null,
    advice: r.advice as Invitation['advice'],
    redFlagReview: r.red_flag_review as Invitation['redFlagReview'],
    counted: r.counted as Invitation['counted'],
    state: stateOf(r, now),
  };
}

/** A new invitation; the pathway's earlier open ones are replaced by it (one live link a patient). */
export async function createInvitation(db: RecordDb, inv: NewInvitation): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('questionnaire_invitations')
      .set({ superseded_at: inv.issuedAt })
      .where('pathway_id', '=', inv.pathwayId)
      .where('answered_at', 'is', null)
      .where('superseded_at', 'is', null)
      .execute();
    await trx
      .insertInto('questionnaire_invitations')
      .values({
        id: inv.id,
        token_hash: inv.tokenHash,
        pathway_id: inv.pathwayId,
        enrolment_id: inv.enrolmentId,
        care_team: inv.careTeam,
        stage: inv.stage,
        instruments: JSON.stringify(inv.instruments),
        language: inv.language,
        issued_at: inv.issuedAt,
        issued_by: inv.issuedBy,
        due_at: inv.dueAt,
        expires_at: inv.expiresAt,
        delivery: 'pending',
      })
      .execute();
  });
}

export async function invitationByTokenHash(db: RecordDb, hash: string, now = Date.now()): Promise<(Invitation & { responseEnc: string | null }) | null> {
  const r = await db.selectFrom('questionnaire_invitations').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  return r ? { ...toInvitation(r, now), responseEnc: r.response_enc } : null;
}

export async function invitation(db: RecordDb, id: string): Promise<Invitation | null> {
  const r = await db.selectFrom('questionnaire_invitations').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toInvitation(r) : null;
}

/** A pathway's invitations, newest first. */
export async function invitationsOf(db: RecordDb, pathwayId: string, now = Date.now()): Promise<Invitation[]> {
  const rows = await db.selectFrom('questionnaire_invitations').selectAll().where('pathway_id', '=', pathwayId).orderBy('issued_at', 'desc').execute();
  return rows.map((r) => toInvitation(r, now));
}

/** Where each pathway's latest live questionnaire stands (sent, reminded, opened, answered, expired, undelivered), for the worklist: one query a page. */
export async function latestQuestionnaires(db: RecordDb, pathwayIds: readonly string[], now = Date.now()): Promise<Map<string, { id: string; state: QuestionnaireState; issuedAt: string }>> {
  const out = new Map<string, { id: string; state: QuestionnaireState; issuedAt: string }>();
  if (pathwayIds.length === 0) return out;
  const rows = await db
    .selectFrom('questionnaire_invitations')
    .select(['id', 'pathway_id', 'issued_at', 'answered_at', 'expires_at', 'superseded_at', 'opened_at', 'reminded_at', 'delivery'])
    .where('pathway_id', 'in', [...pathwayIds])
    .where('superseded_at', 'is', null)
    .orderBy('issued_at', 'desc')
    .execute();
  for (const r of rows) if (!out.has(r.pathway_id)) out.set(r.pathway_id, { id: r.id, state: stateOf(r, now), issuedAt: iso(r.issued_at)! });
  return out;
}

export async function markOpened(db: RecordDb, id: string, at = new Date()): Promise<void> {
  await db.updateTable('questionnaire_invitations').set({ opened_at: at }).where('id', '=', id).where('opened_at', 'is', null).execute();
}

export async function markDelivery(db: RecordDb, id: string, delivery: 'delivered' | 'undelivered'): Promise<void> {
  await db.updateTable('questionnaire_invitations').set({ delivery }).where('id', '=', id).execute();
}

export async function markReminded(db: RecordDb, id: string, at: Date): Promise<void> {
  await db.updateTable('questionnaire_invitations').set({ reminded_at: at }).where('id', '=', id).where('reminded_at', 'is', null).execute();
}

export interface Answered {
  response: unknown;
  scores: Record<string, number>;
  redFlags: string[];
  advice: 'emergency' | 'today' | null;
  counted: NonNullable<Invitation['counted']>;
}

/** Records the answers once: false when another submission was first. */
export async function recordAnswers(db: RecordDb, cipher: NoteCipher, id: string, a: Answered, at = new Date()): Promise<boolean> {
  const result = await db
    .updateTable('questionnaire_invitations')
    .set({
      answered_at: at,
      response_enc: cipher.encrypt(JSON.stringify(a.response)),
      scores: JSON.stringify(a.scores),
      red_flags: JSON.stringify(a.redFlags),
      advice: a.advice,
      red_flag_review: a.redFlags.length ? 'pending' : null,
      counted: a.counted,
    })
    .where('id', '=', id)
    .where('answered_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The answers and comment of an answered invitation, decrypted. */
export async function responseOf(db: RecordDb, cipher: NoteCipher, id: string): Promise<unknown | null> {
  const r = await db.selectFrom('questionnaire_invitations').select('response_enc').where('id', '=', id).executeTakeFirst();
  return r?.response_enc ? JSON.parse(cipher.decrypt(r.response_enc)) : null;
}

/** Patient-reported red flags no clinician has confirmed or dismissed yet, in these care teams (all when unscoped). */
export async function pendingRedFlags(db: RecordDb, careTeams?: readonly string[], careTeam?: string): Promise<Invitation[]> {
  let q = db.selectFrom('questionnaire_invitations').selectAll().where('red_flag_review', '=', 'pending');
  if (careTeams) q = careTeams.length ? q.where('care_team', 'in', [...careTeams]) : q.where(sql<boolean>`false`);
  if (careTeam) q = q.where('care_team', '=', careTeam);
  return (await q.orderBy('answered_at').execute()).map((r) => toInvitation(r));
}

export async function reviewRedFlags(db: RecordDb, id: string, outcome: 'confirmed' | 'not-confirmed', by: string): Promise<boolean> {
  const result = await db
    .updateTable('questionnaire_invitations')
    .set({ red_flag_review: outcome, reviewed_at: new Date(), reviewed_by: by })
    .where('id', '=', id)
    .where('red_flag_review', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The pathways (newest enrolment, open) with a patient-reported red flag waiting for a clinician, as worklist rows. */
export async function pendingRedFlagPathways(
  db: RecordDb,
  f: { careTeam?: string; careTeams?: readonly string[] },
): Promise<Array<{ row: PathwayRow; invitationId: string; redFlags: string[]; reportedAt: string }>> {
  let q = db
    .selectFrom('questionnaire_invitations as q')
    .innerJoin('pathways', 'pathways.enrolment_id', 'q.enrolment_id')
    .select(ROW_COLUMNS.map((c) => `pathways.${c}` as const))
    .select(['q.id as invitation_id', 'q.red_flags', 'q.answered_at'])
    .where('q.red_flag_review', '=', 'pending')
    .where('pathways.closed_at', 'is', null);
  if (f.careTeams) q = f.careTeams.length ? q.where('q.care_team', 'in', [...f.careTeams]) : q.where(sql<boolean>`false`);
  if (f.careTeam) q = q.where('q.care_team', '=', f.careTeam);
  const rows = await q.orderBy('q.answered_at').execute();
  return rows.map((r) => ({ row: toRow(r), invitationId: r.invitation_id, redFlags: r.red_flags as unknown as string[], reportedAt: iso(r.answered_at)! }));
}

/** How a message to a patient went, for channels other than the local outbox (which keeps the message itself). */
export async function recordMessage(
  db: RecordDb,
  m: { id: string; invitationId: string; pathwayId: string; kind: string },
  channel: string,
  outcome: 'delivered' | 'undelivered',
  attempts = 1,
  lastError?: string,
): Promise<void> {
  const at = new Date();
  await db
    .insertInto('patient_messages')
    .values({
      id: m.id,
      invitation_id: m.invitationId,
      pathway_id: m.pathwayId,
      kind: m.kind,
      channel,
      body_enc: null,
      created_at: at,
      outcome,
      attempts,
      last_error: lastError ?? null,
      delivered_at: outcome === 'delivered' ? at : null,
    })
    .onConflict((oc) => oc.column('id').doUpdateSet({ outcome, attempts, last_error: lastError ?? null, delivered_at: outcome === 'delivered' ? at : null }))
    .execute();
}

/** The newest invitation for a pathway's reassessment due at `dueAt`. */
export async function invitationFor(db: RecordDb, pathwayId: string, dueAt: string, now = Date.now()): Promise<Invitation | null> {
  const r = await db
    .selectFrom('questionnaire_invitations')
    .selectAll()
    .where('pathway_id', '=', pathwayId)
    .where('due_at', '=', new Date(dueAt))
    .orderBy('issued_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r ? toInvitation(r, now) : null;
}

export async function markMissed(db: RecordDb, id: string, at: Date): Promise<void> {
  await db.updateTable('questionnaire_invitations').set({ missed_at: at }).where('id', '=', id).where('answered_at', 'is', null).where('missed_at', 'is', null).execute();
}

/** Of these pathways, those whose latest questionnaire went unanswered by its due date (and is still unanswered). */
export async function notAnsweredByPatient(db: RecordDb, pathwayIds: readonly string[]): Promise<Set<string>> {
  if (pathwayIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('questionnaire_invitations')
    .select('pathway_id')
    .where('pathway_id', 'in', [...pathwayIds])
    .where('missed_at', 'is not', null)
    .where('answered_at', 'is', null)
    .where('superseded_at', 'is', null)
    .execute();
  return new Set(rows.map((r) => r.pathway_id));
}

/** Questionnaire completion per care team and stage, for the outcomes report (compare: 55-86% where collection is automated). */
export interface QuestionnaireCompletion {
  careTeam: string;
  stage: string;
  invitations: number;
  answeredBeforeDue: number;
  answeredLate: number;
  expired: number;
  /** Answered of those no longer open (answered + expired), percent; null when none. */
  completionPercent: number | null;
}

/**
 * Questionnaires sent in `[from, to)` (replaced links do not count: the one that replaced them does),
 * within the caller's care teams and the report's definition filters.
 */
export async function questionnaireCompletion(
  db: RecordDb,
  f: { careTeam?: string; careTeams?: readonly string[]; definitionId?: string; definitionVersion?: number; from?: string; to?: string },
  now = new Date(),
): Promise<QuestionnaireCompletion[]> {
  let q = db
    .selectFrom('questionnaire_invitations as q')
    .innerJoin('pathways as pw', 'pw.enrolment_id', 'q.enrolment_id')
    .where('q.superseded_at', 'is', null)
    .select((eb) => [
      'q.care_team',
      'q.stage',
      eb.fn.count<number>('q.id').as('invitations'),
      eb.fn.count<number>('q.id').filterWhere((w) => w.and([w('q.answered_at', 'is not', null), w.or([w('q.due_at', 'is', null), w('q.answered_at', '<=', w.ref('q.due_at'))])])).as('before_due'),
      eb.fn.count<number>('q.id').filterWhere((w) => w.and([w('q.answered_at', 'is not', null), w('q.answered_at', '>', w.ref('q.due_at'))])).as('late'),
      eb.fn.count<number>('q.id').filterWhere((w) => w.and([w('q.answered_at', 'is', null), w('q.expires_at', '<=', now)])).as('expired'),
    ]);
  if (f.careTeams) q = f.careTeams.length ? q.where('q.care_team', 'in', [...f.careTeams]) : q.where(sql<boolean>`false`);
  if (f.careTeam) q = q.where('q.care_team', '=', f.careTeam);
  if (f.definitionId) q = q.where('pw.definition_id', '=', f.definitionId);
  if (f.definitionVersion !== undefined) q = q.where('pw.definition_version', '=', f.definitionVersion);
  if (f.from) q = q.where('q.issued_at', '>=', new Date(f.from));
  if (f.to) q = q.where('q.issued_at', '<', new Date(f.to));
  const rows = await q.groupBy(['q.care_team', 'q.stage']).orderBy('q.care_team').orderBy('q.stage').execute();
  return rows.map((r) => {
    const [answeredBeforeDue, answeredLate, expired] = [Number(r.before_due), Number(r.late), Number(r.expired)];
    const settled = answeredBeforeDue + answeredLate + expired;
    return {
      careTeam: r.care_team,
      stage: r.stage,
      invitations: Number(r.invitations),
      answeredBeforeDue,
      answeredLate,
      expired,
      completionPercent: settled ? Math.round((1000 * (answeredBeforeDue + answeredLate)) / settled) / 10 : null,
    };
  });
}
