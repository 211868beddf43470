/**
 * Questionnaires patients answer at home: issuing an invitation (a single-use link through the
 * patient's channel), what opening and answering the link does, and a clinician's review of a
 * patient-reported red flag. Answers become the pathway's reassessment through the same update a
 * clinician's goes through, as reported by the patient; a reported red flag waits for a
 * clinician's confirmation before the stage changes.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../clinical/events';
import {
  instrumentsFor,
  redFlagAdvice,
  scoreAnswers,
  INSTRUMENT_IDS,
  type Answers,
  type InstrumentId,
  type InstrumentRegistry,
  type Scored,
} from '../clinical/instruments';
import { PATIENT_LANGUAGES, type PatientLanguage } from '../clinical/patient';
import { DAY_MS } from '../clinical/rules';
import type { NoteCipher } from '../record/note-cipher';
import { discloseIdentities } from '../record/patients';
import {
  createInvitation,
  invitation,
  invitationByTokenHash,
  invitationsOf,
  markDelivery,
  invitationFor,
  markMissed,
  markOpened,
  markReminded,
  recordMessage,
  responseOf,
  recordAnswers,
  reviewRedFlags,
  type Invitation,
} from '../record/questionnaires';
import { pathwayHeader, readPathway } from '../record/read';
import type { RecordStore } from '../record/store';
import { WebhookRejected } from '../activities/webhooks';
import { smtpReplyCode } from './gateway';
import { canonicalOf, type AnsweredQuestionnaire } from '../fhir/questionnaire-responses';
import type { PatientChannel, PatientMessage } from './channel';
import type { LinkSigner } from './links';
import { WORDS } from './words';

/** Who the timeline names for answers the patient sent: the console says "reported by the patient at home". */
export const PATIENT_AT_HOME: Actor = { id: 'patient-at-home', role: 'patient' };

/** What a change to the pathway needs: the API's own path (PathwayService.change), so the same rules and refusals apply. */
export type RecordChange = (pathwayId: string, kind: 'reassessments' | 'red-flags', actor: Actor, input: unknown, idempotencyKey: string) => Promise<unknown>;

export interface QuestionnaireTiming {
  /** Days a link stays open. */
  expiresAfterDays: number;
}

export interface QuestionnaireDeps {
  record: { store: RecordStore; cipher: NoteCipher };
  instruments: InstrumentRegistry;
  signer: LinkSigner;
  channel: PatientChannel;
  /** Where links point: the service's public address (known once it listens). */
  publicUrl: () => string;
  change: RecordChange;
  timing?: QuestionnaireTiming;
  /**
   * The time now, in ms: the wall clock, which is also the time of the pathway's workflow. A test on
   * the time-skipping server passes that server's clock, so links expire and answers compare with
   * the pathway's reassessments on the pathway's own time.
   */
  now?: () => Promise<number>;
}

export type OpenResult =
  | { kind: 'form'; invitation: Invitation; language: PatientLanguage; instruments: InstrumentId[] }
  | { kind: 'answered'; language: PatientLanguage; advice: Invitation['advice'] }
  | { kind: 'expired' | 'replaced'; language: PatientLanguage }
  | { kind: 'invalid' };

export type SubmitResult = OpenResult | { kind: 'problems'; invitation: Invitation; language: PatientLanguage; instruments: InstrumentId[]; problems: Scored['errors'] };

const languageOf = (l: string): PatientLanguage => ((PATIENT_LANGUAGES as readonly string[]).includes(l) ? (l as PatientLanguage) : 'en');

export class NotFound extends Error {}
export class Conflict extends Error {}

export class QuestionnaireService {
  constructor(private readonly deps: QuestionnaireDeps) {}

  private get db() {
    return this.deps.record.store.db;
  }

  private async now(): Promise<Date> {
    return new Date(this.deps.now ? await this.deps.now() : Date.now());
  }

  /**
   * Sends the patient a new link to the questionnaire of their next reassessment (replacing any
   * open one). `by` is who sent it (a person, or the pathway's rules).
   */
  async issue(pathwayId: string, by: { actorId: string; actorRole: string; route: string; requestId?: string }, opts: { dueAt?: string | null; kind?: 'invitation' | 'reminder' } = {}): Promise<Invitation> {
    const pathway = await readPathway(this.db, this.deps.record.cipher, pathwayId);
    const header = await pathwayHeader(this.db, pathwayId);
    if (!pathway || !header) throw new NotFound('no such pathway');
    if (pathway.status === 'completed' || pathway.status === 'withdrawn' || pathway.status === 'closed') throw new Conflict(`the pathway is ${pathway.status}`);
    // The address is read (and the reading audited) only to hand the message over.
    const identity = (await discloseIdentities(this.db, this.deps.record.cipher, [pathwayId], by)).get(pathwayId);
    const contact = identity?.contact;
    if (!contact || (!contact.mobile && !contact.email)) throw new Conflict('no mobile number or email is kept for this patient: correct their contact first');
    const language = languageOf(contact.language);
    const now = await this.now();
    const expiresAfter = (pathway.definition.patientQuestionnaires?.expiresAfterDueDays ?? this.deps.timing?.expiresAfterDays ?? 14) * DAY_MS;
    const dueAt = opts.dueAt === undefined ? (pathway.due?.kind === 'reassessment' ? pathway.due.dueAt : null) : opts.dueAt;
    const { token, hash } = this.deps.signer.issue();
    const id = `qr-${randomBytes(12).toString('hex')}`;
    const instruments = instrumentsFor(pathway.stage, pathway.baseline.dailyMme !== undefined);
    await createInvitation(this.db, {
      id,
      tokenHash: hash,
      pathwayId,
      enrolmentId: header.enrolmentId,
      careTeam: pathway.careTeam,
      stage: pathway.stage,
      instruments,
      language,
      issuedBy: by.actorId,
      issuedAt: now,
      dueAt: dueAt ? new Date(dueAt) : null,
      expiresAt: new Date(Math.max(now.getTime(), dueAt ? Date.parse(dueAt) : 0) + expiresAfter),
    });
    const sent = await invitation(this.db, id);
    await this.deliver(sent!, token, { mobile: contact.mobile, email: contact.email }, opts.kind ?? 'invitation');
    return (await invitation(this.db, id))!;
  }

  private async deliver(inv: Invitation, token: string, to: PatientMessage['to'], kind: PatientMessage['kind']): Promise<void> {
    const w = WORDS[languageOf(inv.language)];
    const link = `${this.deps.publicUrl().replace(/\/$/, '')}/p/${token}`;
    const text = `${w.messageIntro} ${link} ${w.messageExpiry(inv.expiresAt.slice(0, 10))}`;
    const message: PatientMessage = { id: `${inv.id}-${kind}`, invitationId: inv.id, pathwayId: inv.pathwayId, kind, language: languageOf(inv.language), to, subject: w.messageSubject, text, link, expiresAt: inv.expiresAt };
    try {
      await this.deps.channel.send(message);
      await markDelivery(this.db, inv.id, 'delivered');
      if (this.deps.channel.name !== 'outbox') await recordMessage(this.db, message, this.deps.channel.name, 'delivered');
    } catch (err) {
      await markDelivery(this.db, inv.id, 'undelivered');
      // Why, in a word a log or a table may hold: the receiver's status, never the message.
      const why = describeFailure(err);
      await recordMessage(this.db, message, this.deps.channel.name, 'undelivered', (err as { attempts?: number }).attempts, why);
    }
  }

  /**
   * A step the pathway's workflow takes at its time (clinical/invitations.ts): the invitation, a
   * reminder (a new link: only the link's hash is kept), or, at the due date, "not answered by the
   * patient". Idempotent per pathway, due date and step. Says what it did (no patient data).
   */
  async scheduledStep(pathwayId: string, dueAt: string, step: 'invite' | 'remind' | 'due'): Promise<string> {
    const by = { actorId: 'pathway-rules', actorRole: 'system', route: `workflow ${step}` };
    const current = await invitationFor(this.db, pathwayId, dueAt, (await this.now()).getTime());
    try {
      if (step === 'invite') {
        if (current) return 'invited already';
        await this.issue(pathwayId, by, { dueAt });
        return 'invited';
      }
      if (!current || current.answeredAt) return 'answered or not invited';
      if (step === 'remind') {
        if (current.remindedAt || current.state === 'expired') return 'reminded already';
        const reminder = await this.issue(pathwayId, by, { dueAt, kind: 'reminder' });
        await markReminded(this.db, reminder.id, await this.now());
        return 'reminded';
      }
      await markMissed(this.db, current.id, await this.now());
      return 'not answered by the due date';
    } catch (err) {
      // No contact kept, or the pathway closed meanwhile: nothing to send, nothing to retry.
      if (err instanceof Conflict || err instanceof NotFound) return 'not sent: ' + (err instanceof Conflict ? 'no contact or closed' : 'no such pathway');
      throw err;
    }
  }

  /** The answered questionnaires of a pathway, oldest first, with their answers (decrypted; the comment stays out). */
  async answered(pathwayId: string): Promise<AnsweredQuestionnaire[]> {
    const done = (await this.list(pathwayId)).filter((i) => i.answeredAt).reverse();
    const out: AnsweredQuestionnaire[] = [];
    for (const i of done) {
      const response = (await responseOf(this.db, this.deps.record.cipher, i.id)) as { answers: AnsweredQuestionnaire['answers'] } | null;
      const answers = response?.answers ?? [];
      const canonicals = Object.fromEntries(
        [...new Set(answers.map((a) => a.instrument))].filter((id): id is InstrumentId => (INSTRUMENT_IDS as readonly string[]).includes(id)).map((id) => [id, canonicalOf(this.deps.instruments.get(id))]),
      );
      out.push({ id: i.id, pathwayId, answeredAt: i.answeredAt!, scores: (i.scores ?? {}) as AnsweredQuestionnaire['scores'], answers, counted: i.counted, canonicals });
    }
    return out;
  }

  /** A pathway's questionnaires, newest first, for the care team. */
  async list(pathwayId: string): Promise<Invitation[]> {
    return invitationsOf(this.db, pathwayId, (await this.now()).getTime());
  }

  /** GET of a link: shows the form and never uses the link up (mail scanners and link previews open links too). */
  async open(token: string): Promise<OpenResult> {
    const found = await this.find(token);
    if (found.kind !== 'form') return found;
    await markOpened(this.db, found.invitation.id, await this.now());
    return found;
  }

  private async find(token: string): Promise<OpenResult & { responseEnc?: string | null }> {
    const hash = this.deps.signer.verify(token);
    if (!hash) return { kind: 'invalid' };
    const inv = await invitationByTokenHash(this.db, hash, (await this.now()).getTime());
    if (!inv) return { kind: 'invalid' };
    const language = languageOf(inv.language);
    if (inv.state === 'answered') return { kind: 'answered', language, advice: inv.advice };
    if (inv.state === 'replaced') return { kind: 'replaced', language };
    if (inv.state === 'expired') return { kind: 'expired', language };
    return { kind: 'form', invitation: inv, language, instruments: inv.instruments.filter((i): i is InstrumentId => (INSTRUMENT_IDS as readonly string[]).includes(i)) };
  }

  /**
   * POST of a link: records the answers once. A second submission, or one after the link expired
   * or was replaced, changes nothing and says so; answers after a reassessment the care team
   * recorded since the link went out are kept, but not counted twice.
   */
  async submit(token: string, answers: Answers, comment: string | undefined): Promise<SubmitResult> {
    const found = await this.find(token);
    if (found.kind !== 'form') return found;
    const inv = found.invitation;
    const scored = scoreAnswers(this.deps.instruments, found.instruments, answers);
    if (scored.errors.length) return { kind: 'problems', invitation: inv, language: found.language, instruments: found.instruments, problems: scored.errors };
    const advice = redFlagAdvice(scored.redFlags);
    let counted: 'reassessment' | 'staff-reassessment-first' | 'refused' = 'reassessment';
    if (await this.staffReassessedSince(inv)) counted = 'staff-reassessment-first';
    else if (scored.scores.painNrs !== undefined) {
      try {
        // The same update as a clinician's, as the patient; the red flags wait for a clinician (below).
        await this.deps.change(inv.pathwayId, 'reassessments', PATIENT_AT_HOME, { ...scored.scores, redFlags: [], sourceIds: sourceIdsOf(inv.id, scored) }, inv.id);
      } catch (err) {
        if (!isRefusal(err)) throw err;
        counted = 'refused';
      }
    }
    const response = { answers: scored.items, ...(comment ? { comment } : {}) };
    await recordAnswers(this.db, this.deps.record.cipher, inv.id, { response, scores: scored.scores as Record<string, number>, redFlags: scored.redFlags, advice, counted }, await this.now());
    // Whichever submission was first, the patient sees its confirmation.
    const now = await invitation(this.db, inv.id);
    return { kind: 'answered', language: found.language, advice: now?.advice ?? advice };
  }

  /** Whether the care team recorded a reassessment of this enrolment since the link went out. */
  private async staffReassessedSince(inv: Invitation): Promise<boolean> {
    const rows = await this.db.selectFrom('reassessments').select('record').where('enrolment_id', '=', inv.enrolmentId).where('at', '>=', new Date(inv.issuedAt)).execute();
    return rows.some((r) => {
      const ids = (r.record as unknown as { sourceIds?: Record<string, string> }).sourceIds;
      return !ids || !Object.values(ids).some((v) => v.startsWith(inv.id));
    });
  }

  /** A clinician confirms a patient-reported red flag (the pathway goes to urgent referral) or finds it not present. */
  async review(pathwayId: string, invitationId: string, confirmed: boolean, clinician: Actor, note?: string): Promise<unknown> {
    const inv = await invitation(this.db, invitationId);
    if (!inv || inv.pathwayId !== pathwayId || inv.redFlagReview !== 'pending') throw new NotFound('no patient-reported red flag waits for review here');
    let result: unknown = null;
    if (confirmed) result = await this.deps.change(pathwayId, 'red-flags', clinician, { redFlags: inv.redFlags, note: note ?? 'Reported by the patient at home; confirmed.' }, `review-${inv.id}`);
    await reviewRedFlags(this.db, inv.id, confirmed ? 'confirmed' : 'not-confirmed', clinician.id);
    return result;
  }
}

/** Each score's source is the QuestionnaireResponse it came from (FHIR ids: letters, digits, dots and dashes). */
function sourceIdsOf(id: string, scored: Scored): Record<string, string> {
  return Object.fromEntries(Object.keys(scored.scores).map((k) => [k, `${id}.${k}`.slice(0, 64)]));
}

/**
 * Why a hand-over failed, in words a table may hold: the receiver's status or reply code, or the
 * kind of failure; never the error's message (an SMTP refusal may quote the address).
 */
function describeFailure(err: unknown): string {
  if (err instanceof WebhookRejected) return `gateway answered ${err.status}`;
  const reply = smtpReplyCode(err);
  if (reply !== undefined) return `smtp server answered ${reply}`;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z_]{2,32}$/.test(code)) return code;
  return err instanceof Error ? err.constructor.name : 'error';
}

function isRefusal(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  return status === 400 || status === 403 || status === 409;
}
