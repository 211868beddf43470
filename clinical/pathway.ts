/**
 * The stepped-care pathway as a pure state machine: enrolment, events, and the passing of time.
 * No Temporal here: the workflow feeds events and its deterministic clock in, and carries out
 * the side effects that come back. Every decision adds a timeline entry that names the rule,
 * the numbers it used, and the stage and status before and after.
 */
import type { BaselineMeasure, PathwayDefinition, RedFlag, Stage, WorkupItem } from './definition';
import { STAGES, isClosed, type PathwayStatus } from './vocabulary';
import type { ActionInput, Actor, ProcedureInput, ReassessmentInput, RedFlagReport, Scores, WorkupResultInput } from './events';
import { isClinicalRole, may, type Permission, type Role } from './permissions';
import {
  DAY_MS,
  calendarDaysBetween,
  measureNames,
  procedureTooClose,
  requiredBaseline,
  scsTrialEligibleFrom,
  type Evaluation,
  type Numbers,
  type RuleId,
  evaluateConservative,
  evaluateInterventional,
  evaluateScsFollowUp,
  evaluateScsTrial,
  minimumDurationReached,
  procedureLimitReached,
  ruleSentence,
  sustainedResponse,
} from './rules';

// A pathway's statuses are the clinic's words (clinical/vocabulary.ts); importers of the state machine find them here too.
export { CLOSED_STATUSES, PATHWAY_STATUSES, isClosed, type PathwayStatus } from './vocabulary';

/** What the pathway waits for next. */
export type DueKind =
  | 'baseline'
  | 'reassessment'
  | 'procedure'
  | 'psychological-evaluation'
  | 'scs-trial'
  | 'trial-reassessment'
  | 'scs-implant'
  | 'workup'
  | 'surgical-consult';

export interface Due {
  kind: DueKind;
  dueAt: string;
}

export type TimelineEvent =
  | 'enrolled'
  | 'reassessment'
  | 'procedure'
  | 'workup-result'
  | 'red-flags'
  | 'override'
  | 'stage-changed'
  | 'overdue'
  | 'lost-to-follow-up'
  | 'referral-issued'
  | 'completed'
  | 'reminder'
  | 'notification'
  /** A clinical lead moved the pathway to a newer published version of its definition (docs/definitions.md). */
  | 'definition-migrated';

export interface TimelineEntry {
  seq: number;
  /** When it was recorded. */
  at: string;
  /** When it happened, for clinical events (an assessment, a procedure, red flags, a work-up result, and what they decided). */
  occurredAt?: string;
  actor: Actor;
  event: TimelineEvent;
  summary: string;
  ruleId?: RuleId;
  rule?: string;
  /** Further rules the event starts (a procedure's limits), each with its sentence. */
  cites?: Array<{ ruleId: RuleId; rule: string }>;
  numbers?: Numbers;
  reason?: string;
  stageBefore: Stage;
  stageAfter: Stage;
  statusBefore: PathwayStatus;
  statusAfter: PathwayStatus;
  due?: Due | null;
}

export interface ProcedureRecord {
  type: ProcedureInput['type'];
  stage: Stage;
  performedAt: string;
  recordedAt: string;
  outcome?: 'cleared' | 'not-cleared';
  spinalRegion?: string;
  note?: string;
}

export interface ReassessmentRecord extends Scores {
  /** When the assessment happened (clinical time). */
  at: string;
  /** When it was recorded (absent on records made before assessments could be back-dated). */
  recordedAt?: string;
  /** Ids of the records in the clinic's system the scores came from (FHIR import). */
  sourceIds?: ReassessmentInput['sourceIds'];
  stage: Stage;
  redFlags: RedFlag[];
  note?: string;
  evaluation?: Evaluation;
}

export interface Pause {
  since: string;
  kind: 'hold' | 'lost-to-follow-up' | 'urgent-referral';
}

/**
 * Side effects the workflow carries out through activities, in order, after the state changed.
 * Each has a stable key: the id a receiver uses to drop a repeated delivery.
 */
export type Effect =
  | {
      type: 'notify-care-team';
      key: string;
      topic: 'urgent-referral' | 'stage-changed' | 'lost-to-follow-up' | 'completed' | 'closed';
      stage: Stage;
      status: PathwayStatus;
      due: Due | null;
    }
  | {
      type: 'send-reminder';
      key: string;
      /** `due` when the item falls due; `overdue` after the grace period, then weekly. */
      level: 'due' | 'overdue';
      sequence: number;
      stage: Stage;
      due: Due;
    }
  | { type: 'issue-revision-referral'; key: string };

/** A message that could not be delivered after every retry: listed until someone acts on the pathway. */
export interface UndeliveredMessage {
  messageId: string;
  effect: Effect['type'];
  at: string;
  resolvedAt?: string;
}

export interface PathwayState {
  pathwayId: string;
  careTeam: string;
  definition: PathwayDefinition;
  status: PathwayStatus;
  stage: Stage;
  enrolledAt: string;
  baseline: Scores;
  /** When conservative care began, when the enrolment records it began earlier. */
  conservativeCareSince?: string;
  stageEnteredAt: string;
  /** The stage's clock: its entry moved later by every pause, so active time and due dates skip held time. */
  stageClockAt: string;
  /** The pain (and ODI) every response in this stage is measured against. */
  reference: { painNrs: number; odi?: number; dailyMme?: number; from: 'enrollment' | 'reassessment'; at: string };
  latest?: ReassessmentRecord;
  reassessments: ReassessmentRecord[];
  consecutiveResponses: number;
  /** Periodic reassessments (conservative care; follow-ups after an implant), anchored and moved by pauses. */
  cadence: { anchorAt: string; everyDays: number } | null;
  procedures: ProcedureRecord[];
  /** Interventional: procedures recorded since the last reassessment, which that reassessment will judge. */
  proceduresAwaitingReassessment: number;
  proceduresWithoutResponse: number;
  scs: { psychology?: 'cleared' | 'not-cleared'; trialStartedAt?: string; trialSucceeded?: boolean; implantedAt?: string };
  workup: {
    completed: Partial<Record<WorkupItem, string>>;
    referralIssuedAt?: string;
    consultRecordedAt?: string;
  };
  due: Due | null;
  overdue: boolean;
  /** How many reminders went out for the current due item (`forDue` is its kind and date). */
  reminders: { forDue: string | null; sent: number };
  undelivered: UndeliveredMessage[];
  pause: Pause | null;
  redFlags: Array<{ at: string; flags: RedFlag[] }>;
  closedAt?: string;
  timeline: TimelineEntry[];
}

/** No patient identifier: the pathway id is a keyed hash of it, and the clinic's own system holds the rest. */
export interface Enrolment {
  pathwayId: string;
  careTeam: string;
  definition: PathwayDefinition;
  baseline: Scores;
  redFlags: RedFlag[];
  conservativeCareSince?: string;
  enrolledBy: Actor;
}

export type PathwayEvent =
  | { type: 'reassessment'; actor: Actor; input: ReassessmentInput }
  | { type: 'procedure'; actor: Actor; input: ProcedureInput }
  | { type: 'workup-result'; actor: Actor; input: WorkupResultInput }
  | { type: 'red-flags'; actor: Actor; input: RedFlagReport }
  | { type: 'action'; actor: Actor; input: ActionInput };

export interface Outcome {
  state: PathwayState;
  entries: TimelineEntry[];
  effects: Effect[];
}

/** Why a change was refused: `invalid` for input that can never be right, `conflict` for the pathway's current state. */
export interface Refusal {
  code: 'invalid' | 'conflict' | 'forbidden';
  field?: string;
  message: string;
}

export const SYSTEM: Actor = { id: 'pathway-rules', role: 'system' };

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (isoString: string): number => Date.parse(isoString);

/** The stage after this one, or null after the last. */
export function nextStage(stage: Stage): Stage | null {
  return STAGES[STAGES.indexOf(stage) + 1] ?? null;
}

type EntryFields = Omit<TimelineEntry, 'seq' | 'at' | 'stageBefore' | 'stageAfter' | 'statusBefore' | 'statusAfter' | 'rule' | 'due' | 'cites'> & {
  cite?: RuleId[];
};

/**
 * Builds entries and effects for one event, on a private copy of the state. `now` is the
 * clinical time the rules use: when the event happened (a back-dated assessment), otherwise
 * when it is recorded (`recordedNow`).
 */
class Transition {
  readonly entries: TimelineEntry[] = [];
  readonly effects: Effect[] = [];
  readonly now: number;
  constructor(
    readonly s: PathwayState,
    readonly recordedNow: number,
    /** For clinical events: when it happened; every entry then carries it as `occurredAt`. */
    readonly occurredAt?: number,
  ) {
    this.now = occurredAt ?? recordedNow;
  }

  get nowIso(): string {
    return iso(this.now);
  }

  get recordedIso(): string {
    return iso(this.recordedNow);
  }

  /** Runs a change and records it, with the stage and status before and after and the due item it leaves. */
  record(fields: EntryFields, change: () => void = () => undefined): TimelineEntry {
    const stageBefore = this.s.stage;
    const statusBefore = this.s.status;
    change();
    const { cite, ...rest } = fields;
    const occurredAt = fields.occurredAt ?? (this.occurredAt !== undefined ? this.nowIso : undefined);
    const entry: TimelineEntry = {
      seq: this.s.timeline.length + 1,
      at: this.recordedIso,
      ...rest,
      ...(occurredAt !== undefined ? { occurredAt } : {}),
      ...(fields.ruleId ? { rule: ruleSentence(fields.ruleId, this.s.definition) } : {}),
      ...(cite?.length ? { cites: cite.map((ruleId) => ({ ruleId, rule: ruleSentence(ruleId, this.s.definition) })) } : {}),
      stageBefore,
      stageAfter: this.s.stage,
      statusBefore,
      statusAfter: this.s.status,
      due: this.s.due,
    };
    this.s.timeline.push(entry);
    this.entries.push(entry);
    return entry;
  }

  /**
   * The key of an effect caused by the latest timeline entry. It names the enrolment too: the
   * same patient enrolled again (same pathway id, a new timeline) must not repeat an earlier
   * message's id, which receivers would drop as a repeat.
   */
  effectKey(what: string): string {
    return `${this.s.pathwayId}.${this.s.enrolledAt.replace(/[^0-9]/g, '')}.${what}.${this.s.timeline.length}`;
  }

  notify(topic: Extract<Effect, { type: 'notify-care-team' }>['topic']): void {
    this.effects.push({ type: 'notify-care-team', key: this.effectKey(topic), topic, stage: this.s.stage, status: this.s.status, due: this.s.due });
  }

  setDue(kind: DueKind, atMs: number): void {
    const due = { kind, dueAt: iso(atMs) };
    // The same item due at the same time (a second procedure on the same day) stays as overdue as it was.
    if (this.s.due?.kind !== due.kind || this.s.due.dueAt !== due.dueAt) this.s.overdue = false;
    this.s.due = due;
  }

  clearDue(): void {
    this.s.due = null;
    this.s.overdue = false;
  }

  /** Active days in the stage: wall time since entry, less time paused. */
  activeDays(): number {
    return (this.now - ms(this.s.stageClockAt)) / DAY_MS;
  }

  outcome(): Outcome {
    return { state: this.s, entries: this.entries, effects: this.effects };
  }

  /** Moves the pathway into a stage and sets what it first waits for. */
  enterStage(stage: Stage): void {
    const s = this.s;
    const d = s.definition.stages;
    s.stage = stage;
    s.stageEnteredAt = this.nowIso;
    s.stageClockAt = this.nowIso;
    s.consecutiveResponses = 0;
    s.proceduresWithoutResponse = 0;
    s.proceduresAwaitingReassessment = 0;
    s.cadence = null;
    if (s.latest) s.reference = referenceFrom(s.latest);
    switch (stage) {
      case 'conservative':
        s.cadence = { anchorAt: this.nowIso, everyDays: d.conservative.reassessEveryDays };
        this.setDue('reassessment', this.now + d.conservative.reassessEveryDays * DAY_MS);
        break;
      case 'interventional':
        this.setDue('procedure', this.now + d.interventional.scheduleProcedureWithinDays * DAY_MS);
        break;
      case 'scs':
        this.setDue('psychological-evaluation', this.now + d.scs.scheduleWithinDays * DAY_MS);
        break;
      case 'revision-referral':
        this.setDue('workup', this.now + d['revision-referral'].workupDueDays * DAY_MS);
        break;
    }
    // Without the baseline the stage needs, nothing can be done until one is recorded: due at once.
    if (missingBaseline(s).length > 0) this.setDue('baseline', this.now);
  }

  /** What a stage first waits for once its baseline is complete, by its clock (never before now). */
  dueAfterBaseline(): void {
    const d = this.s.definition.stages;
    const clock = ms(this.s.stageClockAt);
    if (this.s.stage === 'interventional') this.setDue('procedure', Math.max(this.now, clock + d.interventional.scheduleProcedureWithinDays * DAY_MS));
    if (this.s.stage === 'scs') this.setDue('psychological-evaluation', Math.max(this.now, clock + d.scs.scheduleWithinDays * DAY_MS));
  }

  escalate(to: Stage, ruleId: RuleId, numbers: Numbers, actor: Actor = SYSTEM, reason?: string): void {
    const from = this.s.stage;
    this.record(
      { actor, event: 'stage-changed', ruleId, numbers: { ...numbers, fromStage: from, toStage: to }, reason, summary: `Escalated from ${from} to ${to}.` },
      () => this.enterStage(to),
    );
    this.notify('stage-changed');
  }

  complete(ruleId: RuleId, summary: string, numbers?: Numbers, actor: Actor = SYSTEM, reason?: string): void {
    this.record({ actor, event: 'completed', ruleId, numbers, reason, summary }, () => {
      this.s.status = 'completed';
      this.s.closedAt = this.recordedIso;
      this.s.pause = null;
      this.clearDue();
    });
    this.notify('completed');
  }

  /** The next point of a cadence strictly after now. */
  nextCadencePoint(): number {
    const c = this.s.cadence!;
    const every = c.everyDays * DAY_MS;
    const anchor = ms(c.anchorAt);
    return anchor + (Math.floor((this.now - anchor) / every) + 1) * every;
  }

  raiseRedFlags(actor: Actor, flags: RedFlag[], note?: string): void {
    const s = this.s;
    s.redFlags.push({ at: this.nowIso, flags });
    this.record(
      {
        actor,
        event: 'red-flags',
        ruleId: 'red-flag.urgent-referral',
        numbers: { redFlags: flags.join(', ') },
        summary: `Red flag reported (${flags.join(', ')}): urgent referral; stepped care paused.`,
        ...(note ? { reason: note } : {}),
      },
      () => {
        // A pause already running (a hold) keeps its start, so resuming moves due dates by the whole time.
        s.pause = { since: s.pause?.since ?? this.nowIso, kind: 'urgent-referral' };
        s.status = 'urgent-referral';
      },
    );
    this.notify('urgent-referral');
  }
}

/** A reassessment as the reference later ones are measured against. */
function referenceFrom(r: ReassessmentRecord): PathwayState['reference'] {
  return { painNrs: r.painNrs, odi: r.odi, ...(r.dailyMme !== undefined ? { dailyMme: r.dailyMme } : {}), from: 'reassessment', at: r.at };
}

/** The baseline measures the current stage needs that its reference lacks. */
export function missingBaseline(s: PathwayState): BaselineMeasure[] {
  return requiredBaseline(s.definition, s.stage).filter((m) => s.reference[m] === undefined);
}

/** When the pathway's conservative care began: recorded at enrolment, or the enrolment itself. */
export const conservativeCareSince = (s: PathwayState): string => s.conservativeCareSince ?? s.enrolledAt;

/**
 * A private copy of the state for a transition. The definition is shared, not copied: nothing
 * changes a definition, and copying it on every event was most of a what-if replay's time.
 */
function copy(state: PathwayState): PathwayState {
  const { definition, ...rest } = state;
  return { ...(JSON.parse(JSON.stringify(rest)) as Omit<PathwayState, 'definition'>), definition };
}

export function enroll(e: Enrolment, now: number): Outcome {
  const at = iso(now);
  const state: PathwayState = {
    pathwayId: e.pathwayId,
    careTeam: e.careTeam,
    definition: e.definition,
    status: 'active',
    stage: 'conservative',
    enrolledAt: at,
    baseline: e.baseline,
    // Never later than the enrolment: care before it is what the field records.
    ...(e.conservativeCareSince ? { conservativeCareSince: iso(Math.min(ms(e.conservativeCareSince), now)) } : {}),
    stageEnteredAt: at,
    stageClockAt: at,
    reference: {
      painNrs: e.baseline.painNrs,
      odi: e.baseline.odi,
      ...(e.baseline.dailyMme !== undefined ? { dailyMme: e.baseline.dailyMme } : {}),
      from: 'enrollment',
      at,
    },
    reassessments: [],
    consecutiveResponses: 0,
    cadence: null,
    procedures: [],
    proceduresAwaitingReassessment: 0,
    proceduresWithoutResponse: 0,
    scs: {},
    workup: { completed: {} },
    due: null,
    overdue: false,
    reminders: { forDue: null, sent: 0 },
    undelivered: [],
    pause: null,
    redFlags: [],
    timeline: [],
  };
  const t = new Transition(state, now);
  t.record(
    {
      actor: e.enrolledBy,
      event: 'enrolled',
      numbers: {
        definition: e.definition.id,
        definitionVersion: e.definition.version,
        baselinePainNrs: e.baseline.painNrs,
        baselineOdi: e.baseline.odi ?? null,
        baselinePgic: e.baseline.pgic ?? null,
        ...(e.baseline.dailyMme !== undefined ? { baselineDailyMme: e.baseline.dailyMme } : {}),
        ...(e.conservativeCareSince ? { conservativeCareSince: state.conservativeCareSince! } : {}),
      },
      summary: `Enrolled in ${e.definition.id} v${e.definition.version}; conservative care begins.`,
    },
    () => t.enterStage('conservative'),
  );
  if (e.redFlags.length > 0) t.raiseRedFlags(e.enrolledBy, e.redFlags);
  return t.outcome();
}

function permissionFor(event: PathwayEvent): Permission {
  switch (event.type) {
    case 'reassessment':
      return 'record-reassessment';
    case 'procedure':
      return 'record-procedure';
    case 'workup-result':
      return 'record-workup';
    case 'red-flags':
      return 'report-red-flags';
    case 'action':
      return `action:${event.input.action}`;
  }
}

const conflict = (message: string, field?: string): Refusal => ({ code: 'conflict', message, ...(field ? { field } : {}) });
const day = (atMs: number): string => iso(atMs).slice(0, 10);

/** Clocks differ: a time up to an hour ahead of the workflow's is not "in the future". */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

/** Follow-up bookkeeping the pathway does by itself; every other entry is a recorded event. */
const BOOKKEEPING: readonly TimelineEvent[] = ['reminder', 'notification', 'overdue', 'lost-to-follow-up'];

/** When the pathway's last recorded event happened. */
export function lastEventAt(s: PathwayState): number {
  return Math.max(...s.timeline.filter((e) => !BOOKKEEPING.includes(e.event)).map((e) => ms(e.occurredAt ?? e.at)));
}

/**
 * A time a clinic gives for when something happened: not in the future, within the
 * definition's back-dating window, and not before the pathway's last recorded event.
 */
function checkClinicalTime(s: PathwayState, field: string, value: string | undefined, now: number): Refusal | null {
  if (value === undefined) return null;
  const at = ms(value);
  if (at > now + CLOCK_SKEW_MS) return { code: 'invalid', field, message: `${field} is in the future` };
  const window = s.definition.backdateWindowDays;
  if (at < now - (window ?? 0) * DAY_MS - CLOCK_SKEW_MS) {
    return {
      code: 'invalid',
      field,
      message:
        window === undefined
          ? `${field} is back-dated, and ${s.definition.id} v${s.definition.version} sets no back-dating window: its events are recorded as they happen`
          : `${field} is more than ${window} days ago (the definition's backdateWindowDays)`,
    };
  }
  const last = lastEventAt(s);
  if (at < last) return conflict(`${field} is before the pathway's last recorded event (${iso(last)})`, field);
  return null;
}

/**
 * Can this event be applied now? Returns the refusal, or null. Checks only what the state
 * decides; the shape of the input is checked by the zod schemas before this.
 */
export function checkEvent(s: PathwayState, event: PathwayEvent, now: number): Refusal | null {
  if (event.actor.role !== 'system' && !may(event.actor.role, permissionFor(event))) {
    return { code: 'forbidden', message: `role ${event.actor.role} may not ${permissionFor(event)}` };
  }
  if (isClosed(s.status)) return conflict(`the pathway is ${s.status}; it accepts no more changes`);
  const d = s.definition.stages;
  switch (event.type) {
    case 'reassessment': {
      const time = checkClinicalTime(s, 'assessedAt', event.input.assessedAt, now);
      if (time) return time;
      if (event.input.redFlags?.length) return null; // red flags are always accepted
      if (s.status !== 'active') return conflict(`the pathway is ${s.status}; resume it before recording a reassessment`);
      if (missingBaseline(s).length > 0) return null; // it becomes the stage's baseline
      if (s.stage === 'scs' && !s.scs.implantedAt && !(s.scs.trialStartedAt && s.scs.trialSucceeded === undefined)) {
        return conflict('in spinal cord stimulation a reassessment evaluates a trial or an implant, and neither is under way');
      }
      return null;
    }
    case 'procedure': {
      const p = event.input;
      if (s.status !== 'active') return conflict(`the pathway is ${s.status}; resume it before recording a procedure`);
      const performedAt = p.performedAt ? ms(p.performedAt) : now;
      if (performedAt > now + 60 * 60 * 1000) return { code: 'invalid', field: 'performedAt', message: 'performedAt is in the future' };
      if (performedAt < ms(s.stageEnteredAt)) return conflict('performedAt is before the current stage began', 'performedAt');
      if (p.outcome !== undefined && p.type !== 'psychological-evaluation') {
        return { code: 'invalid', field: 'outcome', message: 'outcome is only for a psychological evaluation' };
      }
      if (p.overrideReason !== undefined) {
        if (p.type !== 'scs-trial') return { code: 'invalid', field: 'overrideReason', message: 'overrideReason is only for a spinal cord stimulation trial' };
        if (!isClinicalRole(event.actor.role)) return { code: 'forbidden', field: 'overrideReason', message: 'only a clinician may override the months of conservative care before a trial' };
      }
      const belongs =
        s.stage === 'interventional'
          ? (d.interventional.procedures as string[]).includes(p.type)
          : s.stage === 'scs' && (['psychological-evaluation', 'scs-trial', 'scs-implant'] as string[]).includes(p.type);
      const missing = missingBaseline(s);
      if (belongs && missing.length > 0) {
        return conflict(
          `${ruleSentence('baseline.required', s.definition)} Missing: ${measureNames(missing)}; record a reassessment with them first.`,
          `baseline.${missing[0]}`,
        );
      }
      if (s.stage === 'interventional') {
        if (!belongs) return conflict(`a ${p.type} does not belong to the interventional stage`, 'type');
        const interventional = s.procedures.filter((r) => r.stage === 'interventional').map((r) => ms(r.performedAt));
        if (procedureLimitReached(s.definition, interventional, performedAt)) {
          return conflict(ruleSentence('limit.interventional-procedures', s.definition), 'type');
        }
        const tooClose = procedureTooClose(s.definition, interventional, performedAt);
        if (tooClose !== null) {
          const apart = Math.abs(calendarDaysBetween(tooClose, performedAt));
          return conflict(
            `${ruleSentence('limit.procedure-interval', s.definition)} A procedure was performed ${day(tooClose)}, ${apart} days from this one (${day(performedAt)}); the next may be performed from ${day(tooClose + d.interventional.minimumIntervalDays! * DAY_MS)}.`,
            'performedAt',
          );
        }
        return null;
      }
      if (s.stage === 'scs') {
        switch (p.type) {
          case 'psychological-evaluation':
            if (p.outcome === undefined) return { code: 'invalid', field: 'outcome', message: 'outcome is required for a psychological evaluation' };
            if (s.scs.psychology === 'cleared') return conflict('the psychological evaluation has already cleared the patient', 'type');
            return null;
          case 'scs-trial': {
            if (s.scs.psychology !== 'cleared') return conflict('a trial needs psychological clearance first', 'type');
            if (s.scs.trialStartedAt) return conflict('a trial is already recorded', 'type');
            const eligibleFrom = scsTrialEligibleFrom(s.definition, ms(conservativeCareSince(s)));
            if (eligibleFrom !== null && performedAt < eligibleFrom && p.overrideReason === undefined) {
              return conflict(
                `${ruleSentence('eligibility.scs-conservative-care', s.definition)} Conservative care began ${day(ms(conservativeCareSince(s)))}; a trial may be performed from ${day(eligibleFrom)} (this one: ${day(performedAt)}).`,
                'performedAt',
              );
            }
            return null;
          }
          case 'scs-implant':
            if (!s.scs.trialSucceeded) return conflict('an implant needs a successful trial first', 'type');
            if (s.scs.implantedAt) return conflict('an implant is already recorded', 'type');
            return null;
          default:
            return conflict(`a ${p.type} does not belong to the spinal cord stimulation stage`, 'type');
        }
      }
      return conflict(`no procedure belongs to the ${s.stage} stage`, 'type');
    }
    case 'workup-result': {
      if (s.status !== 'active') return conflict(`the pathway is ${s.status}; resume it before recording work-up`);
      const time = checkClinicalTime(s, 'completedAt', event.input.completedAt, now);
      if (time) return time;
      if (s.stage !== 'revision-referral') return conflict('work-up results belong to the revision-referral stage', 'item');
      const item = event.input.item;
      if (item === 'surgical-consult') {
        return s.workup.referralIssuedAt ? null : conflict('the surgical consult follows the referral, which is not issued yet', 'item');
      }
      if (!d['revision-referral'].workupItems.includes(item)) return conflict(`${item} is not part of this pathway's work-up`, 'item');
      if (s.workup.completed[item]) return conflict(`${item} is already complete`, 'item');
      return null;
    }
    case 'red-flags':
      return checkClinicalTime(s, 'reportedAt', event.input.reportedAt, now);
    case 'action': {
      const a = event.input;
      switch (a.action) {
        case 'escalate': {
          if (s.status !== 'active') return conflict(`the pathway is ${s.status}; only an active pathway escalates`);
          const next = nextStage(s.stage);
          if (!next) return conflict('revision referral is the last stage');
          if (a.toStage && STAGES.indexOf(a.toStage) <= STAGES.indexOf(s.stage)) {
            return conflict(`${a.toStage} is not later than ${s.stage}`, 'toStage');
          }
          return null;
        }
        case 'hold':
          return s.status === 'active' ? null : conflict(`the pathway is ${s.status}; only an active pathway can be held`);
        case 'resume':
          // Stepped care after a red flag is a clinical decision; a hold or lost to follow-up is not.
          if (s.status === 'urgent-referral' && !isClinicalRole(event.actor.role) && event.actor.role !== 'system') {
            return { code: 'forbidden', message: 'only a clinician may resume a pathway after an urgent referral' };
          }
          return s.status === 'on-hold' || s.status === 'urgent-referral'
            ? null
            : conflict(`the pathway is ${s.status}; only a held or urgently referred pathway resumes`);
        case 'withdraw':
          return null;
        case 'discharge':
          return s.status === 'active' || s.status === 'on-hold'
            ? null
            : conflict(`the pathway is ${s.status}; resume or close it instead`);
        case 'close':
          return s.status === 'urgent-referral' ? null : conflict('only a pathway in urgent referral is closed; withdraw or discharge instead');
        case 'acknowledge':
          return s.undelivered.some((u) => !u.resolvedAt) ? null : conflict('no message of this pathway is waiting to be acknowledged');
      }
    }
  }
}

/** Applies an event that `checkEvent` accepted. Pure: the input state is not changed. */
export function applyEvent(state: PathwayState, event: PathwayEvent, now: number): Outcome {
  const t = new Transition(copy(state), now, occurredAtOf(event, now));
  // Someone of the care team has acted on the pathway: messages that did not reach them are no longer outstanding.
  if (event.actor.role !== 'system' && event.actor.role !== 'patient') {
    for (const u of t.s.undelivered) u.resolvedAt ??= t.recordedIso;
  }
  switch (event.type) {
    case 'reassessment':
      applyReassessment(t, event.actor, event.input);
      break;
    case 'procedure':
      applyProcedure(t, event.actor, event.input);
      break;
    case 'workup-result':
      applyWorkup(t, event.actor, event.input);
      break;
    case 'red-flags':
      t.raiseRedFlags(event.actor, event.input.redFlags, event.input.note);
      break;
    case 'action':
      applyAction(t, event.actor, event.input);
      break;
  }
  return t.outcome();
}

/** When a clinical event happened (its time if given, else now); procedures keep their own performedAt. */
function occurredAtOf(event: PathwayEvent, now: number): number | undefined {
  const given =
    event.type === 'reassessment' ? event.input.assessedAt
    : event.type === 'red-flags' ? event.input.reportedAt
    : event.type === 'workup-result' ? event.input.completedAt
    : undefined;
  if (event.type === 'procedure' || event.type === 'action') return undefined;
  return given !== undefined ? ms(given) : now;
}

function evaluate(t: Transition, r: Scores): Evaluation | undefined {
  const s = t.s;
  switch (s.stage) {
    case 'conservative':
      return evaluateConservative(s.definition, s.reference, r);
    case 'interventional':
      return evaluateInterventional(s.definition, s.reference.painNrs, r.painNrs);
    case 'scs':
      return s.scs.implantedAt
        ? evaluateScsFollowUp(s.definition, s.reference.painNrs, r.painNrs)
        : evaluateScsTrial(s.definition, s.reference, r);
    case 'revision-referral':
      return undefined; // scores are kept for the record; the work-up decides this stage
  }
}

function applyReassessment(t: Transition, actor: Actor, input: ReassessmentInput): void {
  const s = t.s;
  const redFlags = input.redFlags ?? [];
  const scores: Scores = { painNrs: input.painNrs, odi: input.odi, pgic: input.pgic, ...(input.dailyMme !== undefined ? { dailyMme: input.dailyMme } : {}) };
  const steppedCareRuns = s.status === 'active' && redFlags.length === 0;
  const needsBaseline = steppedCareRuns && missingBaseline(s).length > 0;
  const evaluation = steppedCareRuns && !needsBaseline ? evaluate(t, scores) : undefined;
  const record: ReassessmentRecord = {
    ...scores,
    at: t.nowIso,
    recordedAt: t.recordedIso,
    ...(input.sourceIds ? { sourceIds: input.sourceIds } : {}),
    stage: s.stage,
    redFlags,
    note: input.note,
    evaluation,
  };
  s.reassessments.push(record);
  s.latest = record;
  const measured = { painNrs: scores.painNrs, odi: scores.odi ?? null, pgic: scores.pgic ?? null, ...(scores.dailyMme !== undefined ? { dailyMme: scores.dailyMme } : {}) };

  if (needsBaseline) {
    // The stage's baseline is incomplete: this assessment becomes its reference, before any procedure.
    const required = requiredBaseline(s.definition, s.stage);
    s.reference = referenceFrom(record);
    const missing = missingBaseline(s);
    if (missing.length === 0) t.dueAfterBaseline();
    t.record({
      actor,
      event: 'reassessment',
      ruleId: 'baseline.required',
      numbers: { ...measured, required: required.join(', '), missing: missing.length ? missing.join(', ') : null },
      summary: missing.length ? `Baseline recorded; still missing ${measureNames(missing)}.` : 'Baseline recorded: it is the stage reference.',
    });
    return;
  }

  if (!evaluation) {
    t.record({ actor, event: 'reassessment', numbers: measured, summary: 'Reassessment recorded.' });
    if (redFlags.length > 0) t.raiseRedFlags(actor, redFlags, input.note);
    return;
  }

  const entry = t.record({
    actor,
    event: 'reassessment',
    ruleId: evaluation.ruleId,
    numbers: evaluation.numbers,
    summary: evaluation.responding ? 'Reassessment: responding.' : 'Reassessment: not responding.',
  });
  decideAfterReassessment(t, evaluation, record);
  // The entry shows what the decision left due, so a reader sees the next step beside the numbers.
  entry.due = s.due;
}

function decideAfterReassessment(t: Transition, evaluation: Evaluation, record: ReassessmentRecord): void {
  const s = t.s;
  const d = s.definition.stages;
  const active = t.activeDays();

  if (evaluation.responding) {
    if (evaluation.ruleId === 'response.scs-trial') {
      s.scs.trialSucceeded = true;
      t.setDue('scs-implant', t.now + d.scs.scheduleWithinDays * DAY_MS);
      return;
    }
    s.consecutiveResponses += 1;
    s.proceduresAwaitingReassessment = 0;
    if (sustainedResponse(s.definition, s.consecutiveResponses)) {
      t.complete('completion.sustained-response', 'Sustained response: discharged to self-management.', {
        consecutiveResponses: s.consecutiveResponses,
        required: s.definition.sustainedResponse.consecutiveResponses,
      });
      return;
    }
    if (s.cadence) t.setDue('reassessment', t.nextCadencePoint());
    else t.setDue('reassessment', t.now + d.interventional.reassessAfterProcedureDays * DAY_MS);
    return;
  }

  s.consecutiveResponses = 0;
  if (s.reference.painNrs === 0 && s.stage !== 'revision-referral') {
    // No percentage can be taken from 0: nothing escalates, and this assessment is measured against from now on.
    const referenceBefore = s.reference;
    t.record(
      {
        actor: SYSTEM,
        event: 'reassessment',
        ruleId: 'escalation.acceptable-pain',
        numbers: { ...evaluation.numbers, referencePainNrs: 0, newReferencePainNrs: record.painNrs, referenceFrom: referenceBefore.at },
        summary: 'Not responding against a pain reference of 0, which cannot justify an escalation: this assessment becomes the stage reference.',
      },
      () => {
        s.reference = referenceFrom(record);
        if (s.cadence) t.setDue('reassessment', t.nextCadencePoint());
        else if (s.stage === 'interventional') {
          s.proceduresAwaitingReassessment = 0;
          t.setDue('procedure', t.now + d.interventional.scheduleProcedureWithinDays * DAY_MS);
        }
      },
    );
    return;
  }
  switch (s.stage) {
    case 'conservative': {
      const minimum = d.conservative.minimumDays;
      if (minimumDurationReached(minimum, active)) {
        t.escalate('interventional', 'escalation.conservative', { ...evaluation.numbers, activeDays: round(active), minimumDays: minimum });
      } else {
        t.setDue('reassessment', t.nextCadencePoint());
        t.record({
          actor: SYSTEM,
          event: 'reassessment',
          ruleId: 'escalation.minimum-duration',
          numbers: { activeDays: round(active), minimumDays: minimum },
          summary: 'Not responding, but the stage has not lasted its minimum: no escalation yet.',
        });
      }
      return;
    }
    case 'interventional': {
      s.proceduresWithoutResponse += s.proceduresAwaitingReassessment;
      s.proceduresAwaitingReassessment = 0;
      const needed = d.interventional.escalateAfterProceduresWithoutResponse;
      const numbers = { proceduresWithoutResponse: s.proceduresWithoutResponse, required: needed, activeDays: round(active), minimumDays: d.interventional.minimumDays };
      if (s.proceduresWithoutResponse >= needed) {
        if (minimumDurationReached(d.interventional.minimumDays, active)) {
          t.escalate('scs', 'escalation.interventional', { ...evaluation.numbers, ...numbers });
          return;
        }
        t.record({ actor: SYSTEM, event: 'reassessment', ruleId: 'escalation.minimum-duration', numbers, summary: 'Not responding, but the stage has not lasted its minimum: no escalation yet.' });
      }
      t.setDue('procedure', t.now + d.interventional.scheduleProcedureWithinDays * DAY_MS);
      return;
    }
    case 'scs':
      if (s.scs.implantedAt) {
        t.escalate('revision-referral', 'escalation.scs-follow-up', evaluation.numbers);
      } else {
        s.scs.trialSucceeded = false;
        t.escalate('revision-referral', 'escalation.scs-trial', evaluation.numbers);
      }
      return;
    case 'revision-referral':
      return;
  }
}

/** Down to 0.1, so a stage 41.98 days old never reads as having reached a 42-day minimum. */
const round = (n: number): number => Math.floor(n * 10) / 10;

function applyProcedure(t: Transition, actor: Actor, input: ProcedureInput): void {
  const s = t.s;
  const d = s.definition.stages;
  const performedAt = input.performedAt ? ms(input.performedAt) : t.now;
  const record: ProcedureRecord = {
    type: input.type,
    stage: s.stage,
    performedAt: iso(performedAt),
    recordedAt: t.recordedIso,
    ...(input.outcome ? { outcome: input.outcome } : {}),
    ...(input.spinalRegion ? { spinalRegion: input.spinalRegion } : {}),
    ...(input.note ? { note: input.note } : {}),
  };
  s.procedures.push(record);
  const occurredAt = record.performedAt;
  const eligibleFrom = scsTrialEligibleFrom(s.definition, ms(conservativeCareSince(s)));
  switch (input.type) {
    case 'psychological-evaluation': {
      s.scs.psychology = input.outcome;
      if (input.outcome === 'not-cleared') {
        t.record({ actor, event: 'procedure', occurredAt, numbers: { type: input.type, outcome: 'not-cleared' }, summary: 'Psychological evaluation: not cleared.' });
        t.escalate('revision-referral', 'escalation.scs-psychology', { psychologicalEvaluation: 'not-cleared' });
        return;
      }
      // The trial falls due no earlier than the months of conservative care the definition asks for.
      t.setDue('scs-trial', Math.max(t.now + d.scs.scheduleWithinDays * DAY_MS, eligibleFrom ?? 0));
      t.record({
        actor,
        event: 'procedure',
        occurredAt,
        numbers: { type: input.type, outcome: 'cleared', scheduleWithinDays: d.scs.scheduleWithinDays, ...(eligibleFrom !== null ? { trialEligibleFrom: iso(eligibleFrom) } : {}) },
        ...(eligibleFrom !== null ? { cite: ['eligibility.scs-conservative-care' as const] } : {}),
        summary: 'Psychological evaluation: cleared for a trial.',
      });
      return;
    }
    case 'scs-trial': {
      s.scs.trialStartedAt = record.performedAt;
      t.setDue('trial-reassessment', performedAt + d.scs.trialDays * DAY_MS);
      const early = eligibleFrom !== null && performedAt < eligibleFrom;
      t.record({
        actor,
        event: 'procedure',
        occurredAt,
        ruleId: 'procedure.scs-trial-days',
        numbers: {
          type: input.type,
          trialDays: d.scs.trialDays,
          ...(eligibleFrom !== null
            ? { conservativeCareSince: conservativeCareSince(s), trialEligibleFrom: iso(eligibleFrom), minimumConservativeCareMonths: d.scs.minimumConservativeCareMonths!, overridden: early }
            : {}),
        },
        ...(eligibleFrom !== null ? { cite: ['eligibility.scs-conservative-care' as const] } : {}),
        ...(early ? { reason: input.overrideReason } : {}),
        summary: early ? 'Spinal cord stimulation trial started before the months of conservative care, on a clinician\'s override.' : 'Spinal cord stimulation trial started.',
      });
      return;
    }
    case 'scs-implant':
      s.scs.implantedAt = record.performedAt;
      s.consecutiveResponses = 0;
      s.cadence = { anchorAt: record.performedAt, everyDays: d.scs.followUpEveryDays };
      t.setDue('reassessment', performedAt + d.scs.followUpEveryDays * DAY_MS);
      t.record({ actor, event: 'procedure', occurredAt, ruleId: 'procedure.scs-follow-up', numbers: { type: input.type, followUpEveryDays: d.scs.followUpEveryDays }, summary: 'Permanent stimulator implanted.' });
      return;
    default: {
      s.proceduresAwaitingReassessment += 1;
      t.setDue('reassessment', performedAt + d.interventional.reassessAfterProcedureDays * DAY_MS);
      const { count, windowDays } = d.interventional.procedureLimit;
      const inWindow = s.procedures.filter((r) => r.stage === 'interventional' && ms(r.performedAt) > performedAt - windowDays * DAY_MS).length;
      const interval = d.interventional.minimumIntervalDays;
      t.record({
        actor,
        event: 'procedure',
        occurredAt,
        ruleId: 'procedure.reassess-after',
        cite: ['limit.interventional-procedures', ...(interval !== undefined ? (['limit.procedure-interval'] as const) : [])],
        numbers: {
          type: input.type,
          reassessAfterDays: d.interventional.reassessAfterProcedureDays,
          proceduresInWindow: inWindow,
          limit: count,
          windowDays,
          ...(interval !== undefined ? { minimumIntervalDays: interval, nextProcedureFrom: iso(performedAt + interval * DAY_MS).slice(0, 10) } : {}),
        },
        summary: `Procedure recorded: ${input.type} (${inWindow} of ${count} in ${windowDays} days); reassessment due in ${d.interventional.reassessAfterProcedureDays} days.`,
      });
    }
  }
}

function applyWorkup(t: Transition, actor: Actor, input: WorkupResultInput): void {
  const s = t.s;
  const d = s.definition.stages['revision-referral'];
  if (input.item === 'surgical-consult') {
    s.workup.consultRecordedAt = t.nowIso; // when the consult happened
    t.record({ actor, event: 'workup-result', numbers: { item: input.item }, summary: 'Surgical consult recorded.' });
    t.complete('completion.surgical-consult', 'Surgical consult recorded: pathway complete.', { item: 'surgical-consult', referralIssuedAt: s.workup.referralIssuedAt ?? null });
    return;
  }
  s.workup.completed[input.item] = t.nowIso;
  const pending = pendingWorkup(s);
  t.record({ actor, event: 'workup-result', numbers: { item: input.item, pending: pending.length }, summary: `Work-up complete: ${input.item}.` });
  if (pending.length === 0) {
    // The referral goes out now, when the last result is recorded, whenever that item was done.
    t.record(
      {
        actor: SYSTEM,
        event: 'referral-issued',
        occurredAt: t.recordedIso,
        ruleId: 'referral.workup-complete',
        numbers: { itemsComplete: d.workupItems.length },
        summary: 'Work-up complete: revision-surgery referral issued.',
      },
      () => {
        s.workup.referralIssuedAt = t.recordedIso;
        t.setDue('surgical-consult', t.recordedNow + d.consultDueDays * DAY_MS);
      },
    );
    t.effects.push({ type: 'issue-revision-referral', key: t.effectKey('referral') });
  }
}

/** Everything a coordinator, clinician or dashboard sees of a pathway: the workflow's answers and the record's reads alike. */
export interface PathwayView extends PathwayState {
  pendingWorkup: WorkupItem[];
}

export function pendingWorkup(s: PathwayState): WorkupItem[] {
  if (s.stage !== 'revision-referral') return [];
  return s.definition.stages['revision-referral'].workupItems.filter((item) => !s.workup.completed[item]);
}

function applyAction(t: Transition, actor: Actor, a: ActionInput): void {
  const s = t.s;
  switch (a.action) {
    case 'escalate': {
      const to = a.toStage ?? nextStage(s.stage)!;
      t.escalate(to, 'override.escalate', { requestedStage: a.toStage ?? null }, actor, a.reason);
      return;
    }
    case 'hold':
      t.record({ actor, event: 'override', ruleId: 'override.hold', reason: a.reason, summary: 'Pathway put on hold.' }, () => {
        s.status = 'on-hold';
        s.pause = { since: t.nowIso, kind: 'hold' };
      });
      return;
    case 'resume': {
      const pause = s.pause!;
      const heldMs = t.now - ms(pause.since);
      const shift = (isoString: string): string => iso(ms(isoString) + heldMs);
      const dueBefore = s.due?.dueAt ?? null;
      t.record(
        {
          actor,
          event: 'override',
          ruleId: 'override.resume',
          reason: a.reason,
          numbers: { pausedFor: pause.kind, heldDays: round(heldMs / DAY_MS), dueBefore },
          summary: `Pathway resumed after ${round(heldMs / DAY_MS)} days paused.`,
        },
        () => {
          s.status = 'active';
          s.pause = null;
          s.stageClockAt = shift(s.stageClockAt);
          if (s.cadence) s.cadence = { ...s.cadence, anchorAt: shift(s.cadence.anchorAt) };
          if (s.due) {
            // An item already overdue when the pause began falls due again now rather than at once being lost.
            const moved = Math.max(ms(s.due.dueAt) + heldMs, pause.kind === 'lost-to-follow-up' || s.overdue ? t.now : 0);
            t.setDue(s.due.kind, moved);
          }
        },
      );
      return;
    }
    case 'withdraw':
      t.record({ actor, event: 'override', ruleId: 'override.withdraw', reason: a.reason, summary: 'Patient withdrawn from the pathway.' }, () => {
        s.status = 'withdrawn';
        s.closedAt = t.nowIso;
        s.pause = null;
        t.clearDue();
      });
      t.notify('closed');
      return;
    case 'discharge':
      t.complete('override.discharge', 'Discharged by a clinician.', undefined, actor, a.reason);
      return;
    case 'close':
      t.record({ actor, event: 'override', ruleId: 'override.close', reason: a.reason, summary: 'Pathway closed after urgent referral.' }, () => {
        s.status = 'closed';
        s.closedAt = t.nowIso;
        s.pause = null;
        t.clearDue();
      });
      t.notify('closed');
      return;
    case 'acknowledge': {
      // applyEvent has marked them resolved (any person acting does): this says so in the timeline.
      const acknowledged = s.undelivered.filter((u) => u.resolvedAt === t.recordedIso).length;
      t.record({
        actor,
        event: 'override',
        ruleId: 'override.acknowledge',
        numbers: { messages: acknowledged },
        ...(a.reason ? { reason: a.reason } : {}),
        summary: `Undelivered ${acknowledged === 1 ? 'message' : 'messages'} acknowledged (${acknowledged}).`,
      });
      return;
    }
  }
}

/** A point in the follow-up of one due item: a reminder, the overdue mark, or lost to follow-up. */
interface FollowUpPoint {
  at: number;
  sequence: number;
  kind: 'due' | 'overdue' | 'reminder' | 'lost';
}

const dueKey = (due: Due): string => `${due.kind}@${due.dueAt}`;

/**
 * The follow-up of the current due item: a reminder when it falls due; after the grace period
 * it is overdue (reminding the coordinator); then a reminder every few days; and at the end the
 * pathway goes on hold as lost to follow-up.
 */
export function followUpPoints(s: PathwayState): FollowUpPoint[] {
  if (!s.due) return [];
  const f = s.definition.followUp;
  const dueAt = ms(s.due.dueAt);
  const overdueAt = dueAt + f.graceDays * DAY_MS;
  const lostAt = overdueAt + f.lostToFollowUpAfterOverdueDays * DAY_MS;
  const points: FollowUpPoint[] = [
    { at: dueAt, sequence: 1, kind: 'due' },
    { at: overdueAt, sequence: 2, kind: 'overdue' },
  ];
  for (let at = overdueAt + f.reminderEveryDays * DAY_MS; at < lostAt; at += f.reminderEveryDays * DAY_MS) {
    points.push({ at, sequence: points.length + 1, kind: 'reminder' });
  }
  points.push({ at: lostAt, sequence: points.length + 1, kind: 'lost' });
  return points;
}

function remindersSent(s: PathwayState): number {
  return s.due && s.reminders.forDue === dueKey(s.due) ? s.reminders.sent : 0;
}

/** When the passing of time next changes something, or null while nothing is due (or the pathway is paused). */
export function nextWakeUpAt(s: PathwayState): number | null {
  if (s.status !== 'active' || !s.due) return null;
  const sent = remindersSent(s);
  return followUpPoints(s).find((p) => p.sequence > sent)?.at ?? null;
}

/**
 * Applies what the passing of time decides. After a long gap (a backdated procedure, a worker
 * that was down) only the latest point that has passed is acted on: one reminder, not a burst.
 */
export function applyClock(state: PathwayState, now: number): Outcome {
  const wake = nextWakeUpAt(state);
  if (wake === null || now < wake) return { state, entries: [], effects: [] };
  const t = new Transition(copy(state), now);
  const s = t.s;
  const due = s.due!;
  const f = s.definition.followUp;
  const sent = remindersSent(s);
  const passed = followUpPoints(s).filter((p) => p.sequence > sent && p.at <= now);
  const latest = passed[passed.length - 1]!;
  s.reminders = { forDue: dueKey(due), sent: latest.sequence };

  if (!s.overdue && latest.kind !== 'due') {
    t.record(
      {
        actor: SYSTEM,
        event: 'overdue',
        ruleId: 'follow-up.overdue',
        numbers: { dueKind: due.kind, dueAt: due.dueAt, graceDays: f.graceDays },
        summary: `Overdue: ${due.kind} was due ${due.dueAt.slice(0, 10)}.`,
      },
      () => {
        s.overdue = true;
      },
    );
  }
  if (latest.kind === 'lost') {
    t.record(
      {
        actor: SYSTEM,
        event: 'lost-to-follow-up',
        ruleId: 'follow-up.lost',
        numbers: { dueKind: due.kind, dueAt: due.dueAt, overdueDays: f.lostToFollowUpAfterOverdueDays },
        summary: 'Lost to follow-up: pathway on hold until a coordinator resumes it.',
      },
      () => {
        s.status = 'on-hold';
        s.pause = { since: t.nowIso, kind: 'lost-to-follow-up' };
      },
    );
    t.notify('lost-to-follow-up');
    return t.outcome();
  }
  const level = latest.kind === 'due' ? 'due' : 'overdue';
  t.record({
    actor: SYSTEM,
    event: 'reminder',
    ruleId: 'follow-up.reminder',
    numbers: { dueKind: due.kind, dueAt: due.dueAt, sequence: latest.sequence, level },
    summary: level === 'due' ? `Reminder: ${due.kind} due today.` : `Reminder to the coordinator: ${due.kind} overdue since ${due.dueAt.slice(0, 10)}.`,
  });
  t.effects.push({
    type: 'send-reminder',
    key: `${s.pathwayId}.reminder.${due.kind}.${due.dueAt.replace(/[^0-9]/g, '')}.${latest.sequence}`,
    level,
    sequence: latest.sequence,
    stage: s.stage,
    due,
  });
  return t.outcome();
}

export type DeliveryOutcome = 'webhook' | 'worklist' | 'undelivered';

const describeEffect = (effect: Effect): string =>
  effect.type === 'notify-care-team'
    ? `care-team notification (${effect.topic})`
    : effect.type === 'send-reminder'
      ? `reminder ${effect.sequence} (${effect.due.kind} ${effect.level})`
      : 'revision-surgery referral';

/** Records in the timeline how a side effect went: by webhook, onto the worklist only, or not delivered after every retry. */
export function noteSideEffect(state: PathwayState, now: number, effect: Effect, outcome: DeliveryOutcome): PathwayState {
  const t = new Transition(copy(state), now);
  const what = describeEffect(effect);
  const summary = {
    webhook: `Delivered by webhook: ${what}.`,
    worklist: `On the worklist (no webhook configured): ${what}.`,
    undelivered: `Not delivered after every retry: ${what}. It stays on the worklist until someone acts on the pathway.`,
  }[outcome];
  t.record({ actor: SYSTEM, event: 'notification', numbers: { messageId: effect.key, sideEffect: effect.type, outcome }, summary });
  if (outcome === 'undelivered') t.s.undelivered.push({ messageId: effect.key, effect: effect.type, at: t.nowIso });
  return t.s;
}

/**
 * Records that a closed pathway handed the messages it still owed to a workflow of their own
 * (`deliveredBy`), which delivers them and keeps their outcome, so that closing frees the patient at once.
 */
export function noteHandover(state: PathwayState, now: number, effects: Effect[], deliveredBy: string): PathwayState {
  const t = new Transition(copy(state), now);
  for (const effect of effects) {
    t.record({
      actor: SYSTEM,
      event: 'notification',
      numbers: { messageId: effect.key, sideEffect: effect.type, outcome: 'handed-over', deliveredBy },
      summary: `Handed over for delivery after closing: ${describeEffect(effect)}; its outcome is kept by ${deliveredBy}.`,
    });
  }
  return t.s;
}

/** What a migration of a running pathway to a newer published version carries (workflows/messages.ts). */
export interface DefinitionMigration {
  migrationId: string;
  /** The newer version, whole: the workflow carries it, never reads it from elsewhere. */
  definition: PathwayDefinition;
  /** The simulation of the same cohort that preceded it. */
  simulationId: string;
  reason: string;
  /** Where a stage goes in the new version, where it should not stay where it is; absent: the same stage. */
  stageMapping?: Partial<Record<Stage, Stage>>;
}

/**
 * Whether the pathway can move to the new version: the same definition, a newer version, a stage
 * that the mapping keeps or moves on, and a state the new version can take. Null, or why not.
 */
export function checkMigration(s: PathwayState, m: DefinitionMigration, actor: Actor): Refusal | null {
  if (!may(actor.role as Role, 'migrate-pathways')) return { code: 'forbidden', message: `role ${actor.role} may not migrate-pathways` };
  if (isClosed(s.status)) return conflict(`the pathway is ${s.status}; it accepts no more changes`);
  const from = s.definition;
  const to = m.definition;
  if (to.id !== from.id) return { code: 'invalid', field: 'definition.id', message: `the pathway follows ${from.id}, not ${to.id}` };
  if (to.version <= from.version) return conflict(`the pathway is on ${from.id} v${from.version} already, not older than v${to.version}`, 'definition.version');
  const stage = m.stageMapping?.[s.stage] ?? s.stage;
  if (!STAGES.includes(stage)) return { code: 'invalid', field: `stageMapping.${s.stage}`, message: `${String(stage)} is not a stage` };
  if (STAGES.indexOf(stage) < STAGES.indexOf(s.stage)) return conflict(`the stage mapping moves ${s.stage} back to ${stage}; a migration never undoes care given`, `stageMapping.${s.stage}`);
  // A responding run the new version would already call sustained: discharging is a clinician's decision, not a migration's.
  if (stage === s.stage && s.consecutiveResponses >= to.sustainedResponse.consecutiveResponses) {
    return conflict(
      `the pathway has ${s.consecutiveResponses} responding reassessments in a row, which ${to.id} v${to.version} already counts as a sustained response (${to.sustainedResponse.consecutiveResponses}); discharge it instead`,
      'definition.sustainedResponse.consecutiveResponses',
    );
  }
  if (stage === 'interventional' && s.stage === 'interventional' && s.proceduresAwaitingReassessment > 0) {
    const last = [...s.procedures].reverse().find((p) => p.stage === 'interventional');
    if (last && !(to.stages.interventional.procedures as string[]).includes(last.type)) {
      return conflict(`a ${last.type} awaits its reassessment, and ${to.id} v${to.version} offers no ${last.type}`, 'definition.stages.interventional.procedures');
    }
  }
  if (stage === 'revision-referral' && s.stage === 'revision-referral' && s.workup.referralIssuedAt === undefined) {
    const done = Object.keys(s.workup.completed);
    const unknown = done.filter((item) => !(to.stages['revision-referral'].workupItems as string[]).includes(item));
    if (unknown.length) return conflict(`completed work-up ${unknown.join(', ')} is not part of ${to.id} v${to.version}`, 'definition.stages.revision-referral.workupItems');
  }
  return null;
}

/**
 * Moves the pathway to the new version. Decisions already taken stand; from now on the new
 * version's numbers decide, its cadence included. The item due now stays as it was set, unless
 * the mapping moves the stage on, which enters the new stage as an escalation does.
 */
export function applyMigration(state: PathwayState, m: DefinitionMigration, actor: Actor, now: number): Outcome {
  const t = new Transition(copy(state), now);
  const s = t.s;
  const from = s.definition;
  const stage = m.stageMapping?.[s.stage] ?? s.stage;
  const stageBefore = s.stage;
  t.record(
    {
      actor,
      event: 'definition-migrated',
      reason: m.reason,
      numbers: {
        definition: from.id,
        fromVersion: from.version,
        toVersion: m.definition.version,
        migrationId: m.migrationId,
        simulationId: m.simulationId,
        fromStage: stageBefore,
        toStage: stage,
      },
      summary: `Moved from ${from.id} v${from.version} to v${m.definition.version}${stage !== stageBefore ? `, from ${stageBefore} to ${stage}` : ''}.`,
    },
    () => {
      s.definition = m.definition;
      if (stage !== stageBefore) t.enterStage(stage);
      else if (s.cadence) s.cadence = { ...s.cadence, everyDays: s.stage === 'scs' ? m.definition.stages.scs.followUpEveryDays : m.definition.stages.conservative.reassessEveryDays };
    },
  );
  if (stage !== stageBefore) t.notify('stage-changed');
  return t.outcome();
}
