/**
 * The stepped-care pathway as a pure state machine: enrolment, events, and the passing of time.
 * No Temporal here: the workflow feeds events and its deterministic clock in, and carries out
 * the side effects that come back. Every decision adds a timeline entry that names the rule,
 * the numbers it used, and the stage and status before and after.
 */
import type { PathwayDefinition, RedFlag, Stage, WorkupItem } from './definition';
import { STAGES } from './definition';
import type { ActionInput, Actor, ProcedureInput, ReassessmentInput, RedFlagReport, Scores, WorkupResultInput } from './events';
import { may, type Permission, type Role } from './permissions';
import {
  DAY_MS,
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

export const PATHWAY_STATUSES = ['active', 'on-hold', 'urgent-referral', 'completed', 'withdrawn', 'closed'] as const;
export type PathwayStatus = (typeof PATHWAY_STATUSES)[number];
export const CLOSED_STATUSES: readonly PathwayStatus[] = ['completed', 'withdrawn', 'closed'];
export const isClosed = (status: PathwayStatus): boolean => CLOSED_STATUSES.includes(status);

/** What the pathway waits for next. */
export type DueKind =
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
  | 'notification';

export interface TimelineEntry {
  seq: number;
  at: string;
  actor: Actor;
  event: TimelineEvent;
  summary: string;
  ruleId?: RuleId;
  rule?: string;
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
  /** When it was recorded. */
  recordedAt?: string;
  dailyMme?: number;
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
  stageEnteredAt: string;
  /** The stage's clock: its entry moved later by every pause, so active time and due dates skip held time. */
  stageClockAt: string;
  /** The pain (and ODI) every response in this stage is measured against. */
  reference: { painNrs: number; odi?: number; from: 'enrollment' | 'reassessment'; at: string };
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
export interface Enrollment {
  pathwayId: string;
  careTeam: string;
  definition: PathwayDefinition;
  baseline: Scores;
  redFlags: RedFlag[];
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

/** Builds entries and effects for one event, on a private copy of the state. */
class Transition {
  readonly entries: TimelineEntry[] = [];
  readonly effects: Effect[] = [];
  constructor(
    readonly s: PathwayState,
    readonly now: number,
  ) {}

  get nowIso(): string {
    return iso(this.now);
  }

  /** Runs a change and records it, with the stage and status before and after. */
  record(
    fields: Omit<TimelineEntry, 'seq' | 'at' | 'stageBefore' | 'stageAfter' | 'statusBefore' | 'statusAfter' | 'rule' | 'due'>,
    change: () => void = () => undefined,
  ): void {
    const stageBefore = this.s.stage;
    const statusBefore = this.s.status;
    change();
    const entry: TimelineEntry = {
      seq: this.s.timeline.length + 1,
      at: this.nowIso,
      ...fields,
      ...(fields.ruleId ? { rule: ruleSentence(fields.ruleId, this.s.definition) } : {}),
      stageBefore,
      stageAfter: this.s.stage,
      statusBefore,
      statusAfter: this.s.status,
      due: this.s.due,
    };
    this.s.timeline.push(entry);
    this.entries.push(entry);
  }

  /** The key of an effect caused by the latest timeline entry. */
  effectKey(what: string): string {
    return `${this.s.pathwayId}.${what}.${this.s.timeline.length}`;
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
    if (s.latest) s.reference = { painNrs: s.latest.painNrs, odi: s.latest.odi, from: 'reassessment', at: s.latest.at };
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
      this.s.closedAt = this.nowIso;
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

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function enroll(e: Enrollment, now: number): Outcome {
  const at = iso(now);
  const state: PathwayState = {
    pathwayId: e.pathwayId,
    careTeam: e.careTeam,
    definition: e.definition,
    status: 'active',
    stage: 'conservative',
    enrolledAt: at,
    baseline: e.baseline,
    stageEnteredAt: at,
    stageClockAt: at,
    reference: { painNrs: e.baseline.painNrs, odi: e.baseline.odi, from: 'enrollment', at },
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

/**
 * Can this event be applied now? Returns the refusal, or null. Checks only what the state
 * decides; the shape of the input is checked by the zod schemas before this.
 */
export function checkEvent(s: PathwayState, event: PathwayEvent, now: number): Refusal | null {
  if (event.actor.role !== 'system' && !may(event.actor.role as Role, permissionFor(event))) {
    return { code: 'forbidden', message: `role ${event.actor.role} may not ${permissionFor(event)}` };
  }
  if (isClosed(s.status)) return conflict(`the pathway is ${s.status}; it accepts no more changes`);
  const d = s.definition.stages;
  switch (event.type) {
    case 'reassessment': {
      if (event.input.assessedAt && ms(event.input.assessedAt) > now + 60 * 60 * 1000) {
        return { code: 'invalid', field: 'assessedAt', message: 'assessedAt is in the future' };
      }
      if (event.input.redFlags?.length) return null; // red flags are always accepted
      if (s.status !== 'active') return conflict(`the pathway is ${s.status}; resume it before recording a reassessment`);
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
      if (s.stage === 'interventional') {
        if (!(d.interventional.procedures as string[]).includes(p.type)) {
          return conflict(`a ${p.type} does not belong to the interventional stage`, 'type');
        }
        const interventional = s.procedures.filter((r) => r.stage === 'interventional').map((r) => ms(r.performedAt));
        if (procedureLimitReached(s.definition, interventional, performedAt)) {
          return conflict(ruleSentence('limit.interventional-procedures', s.definition), 'type');
        }
        return null;
      }
      if (s.stage === 'scs') {
        switch (p.type) {
          case 'psychological-evaluation':
            if (p.outcome === undefined) return { code: 'invalid', field: 'outcome', message: 'outcome is required for a psychological evaluation' };
            if (s.scs.psychology === 'cleared') return conflict('the psychological evaluation has already cleared the patient', 'type');
            return null;
          case 'scs-trial':
            if (s.scs.psychology !== 'cleared') return conflict('a trial needs psychological clearance first', 'type');
            if (s.scs.trialStartedAt) return conflict('a trial is already recorded', 'type');
            return null;
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
      return null;
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
      }
    }
  }
}

/** Applies an event that `checkEvent` accepted. Pure: the input state is not changed. */
export function applyEvent(state: PathwayState, event: PathwayEvent, now: number): Outcome {
  const t = new Transition(copy(state), now);
  // Someone has acted on the pathway: messages that did not reach them are no longer outstanding.
  if (event.actor.role !== 'system') {
    for (const u of t.s.undelivered) u.resolvedAt ??= t.nowIso;
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
        : evaluateScsTrial(s.definition, s.reference.painNrs, r.painNrs);
    case 'revision-referral':
      return undefined; // scores are kept for the record; the work-up decides this stage
  }
}

function applyReassessment(t: Transition, actor: Actor, input: ReassessmentInput): void {
  const s = t.s;
  const d = s.definition.stages;
  const redFlags = input.redFlags ?? [];
  const scores: Scores = { painNrs: input.painNrs, odi: input.odi, pgic: input.pgic };
  const steppedCareRuns = s.status === 'active' && redFlags.length === 0;
  const evaluation = steppedCareRuns ? evaluate(t, scores) : undefined;
  const record: ReassessmentRecord = {
    ...scores,
    at: input.assessedAt ? iso(ms(input.assessedAt)) : t.nowIso,
    recordedAt: t.nowIso,
    ...(input.dailyMme !== undefined ? { dailyMme: input.dailyMme } : {}),
    ...(input.sourceIds ? { sourceIds: input.sourceIds } : {}),
    stage: s.stage,
    redFlags,
    note: input.note,
    evaluation,
  };
  s.reassessments.push(record);
  s.latest = record;

  if (!evaluation) {
    t.record({
      actor,
      event: 'reassessment',
      numbers: { painNrs: scores.painNrs, odi: scores.odi ?? null, pgic: scores.pgic ?? null },
      summary: 'Reassessment recorded.',
    });
    if (redFlags.length > 0) t.raiseRedFlags(actor, redFlags, input.note);
    return;
  }

  const active = t.activeDays();
  t.record({
    actor,
    event: 'reassessment',
    ruleId: evaluation.ruleId,
    numbers: evaluation.numbers,
    summary: evaluation.responding ? 'Reassessment: responding.' : 'Reassessment: not responding.',
  });

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
  switch (s.stage) {
    case 'conservative': {
      const minimum = d.conservative.minimumDays;
      if (minimumDurationReached(minimum, active)) {
        t.escalate('interventional', 'escalation.conservative', { activeDays: round(active), minimumDays: minimum });
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
          t.escalate('scs', 'escalation.interventional', numbers);
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
    recordedAt: t.nowIso,
    ...(input.outcome ? { outcome: input.outcome } : {}),
    ...(input.spinalRegion ? { spinalRegion: input.spinalRegion } : {}),
    ...(input.note ? { note: input.note } : {}),
  };
  s.procedures.push(record);
  switch (input.type) {
    case 'psychological-evaluation':
      s.scs.psychology = input.outcome;
      if (input.outcome === 'not-cleared') {
        t.record({ actor, event: 'procedure', numbers: { type: input.type, outcome: 'not-cleared' }, summary: 'Psychological evaluation: not cleared.' });
        t.escalate('revision-referral', 'escalation.scs-psychology', { psychologicalEvaluation: 'not-cleared' });
        return;
      }
      t.setDue('scs-trial', t.now + d.scs.scheduleWithinDays * DAY_MS);
      t.record({ actor, event: 'procedure', numbers: { type: input.type, outcome: 'cleared' }, summary: 'Psychological evaluation: cleared for a trial.' });
      return;
    case 'scs-trial':
      s.scs.trialStartedAt = record.performedAt;
      t.setDue('trial-reassessment', performedAt + d.scs.trialDays * DAY_MS);
      t.record({ actor, event: 'procedure', numbers: { type: input.type, trialDays: d.scs.trialDays }, summary: 'Spinal cord stimulation trial started.' });
      return;
    case 'scs-implant':
      s.scs.implantedAt = record.performedAt;
      s.consecutiveResponses = 0;
      s.cadence = { anchorAt: record.performedAt, everyDays: d.scs.followUpEveryDays };
      t.setDue('reassessment', performedAt + d.scs.followUpEveryDays * DAY_MS);
      t.record({ actor, event: 'procedure', numbers: { type: input.type, followUpEveryDays: d.scs.followUpEveryDays }, summary: 'Permanent stimulator implanted.' });
      return;
    default: {
      s.proceduresAwaitingReassessment += 1;
      t.setDue('reassessment', performedAt + d.interventional.reassessAfterProcedureDays * DAY_MS);
      const inWindow = s.procedures.filter((r) => r.stage === 'interventional' && ms(r.performedAt) > performedAt - d.interventional.procedureLimit.windowDays * DAY_MS).length;
      t.record({
        actor,
        event: 'procedure',
        numbers: { type: input.type, proceduresInWindow: inWindow, limit: d.interventional.procedureLimit.count, reassessAfterDays: d.interventional.reassessAfterProcedureDays },
        summary: `Procedure recorded: ${input.type}.`,
      });
    }
  }
}

function applyWorkup(t: Transition, actor: Actor, input: WorkupResultInput): void {
  const s = t.s;
  const d = s.definition.stages['revision-referral'];
  if (input.item === 'surgical-consult') {
    s.workup.consultRecordedAt = t.nowIso;
    t.record({ actor, event: 'workup-result', numbers: { item: input.item }, summary: 'Surgical consult recorded.' });
    t.complete('completion.surgical-consult', 'Surgical consult recorded: pathway complete.', { item: 'surgical-consult', referralIssuedAt: s.workup.referralIssuedAt ?? null });
    return;
  }
  s.workup.completed[input.item] = t.nowIso;
  const pending = pendingWorkup(s);
  t.record({ actor, event: 'workup-result', numbers: { item: input.item, pending: pending.length }, summary: `Work-up complete: ${input.item}.` });
  if (pending.length === 0) {
    t.record(
      { actor: SYSTEM, event: 'referral-issued', ruleId: 'referral.workup-complete', numbers: { itemsComplete: d.workupItems.length }, summary: 'Work-up complete: revision-surgery referral issued.' },
      () => {
        s.workup.referralIssuedAt = t.nowIso;
        t.setDue('surgical-consult', t.now + d.consultDueDays * DAY_MS);
      },
    );
    t.effects.push({ type: 'issue-revision-referral', key: t.effectKey('referral') });
  }
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

/** Records in the timeline how a side effect went: by webhook, onto the worklist only, or not delivered after every retry. */
export function noteSideEffect(state: PathwayState, now: number, effect: Effect, outcome: DeliveryOutcome): PathwayState {
  const t = new Transition(copy(state), now);
  const what =
    effect.type === 'notify-care-team'
      ? `care-team notification (${effect.topic})`
      : effect.type === 'send-reminder'
        ? `reminder ${effect.sequence} (${effect.due.kind} ${effect.level})`
        : 'revision-surgery referral';
  const summary = {
    webhook: `Delivered by webhook: ${what}.`,
    worklist: `On the worklist (no webhook configured): ${what}.`,
    undelivered: `Not delivered after every retry: ${what}. It stays on the worklist until someone acts on the pathway.`,
  }[outcome];
  t.record({ actor: SYSTEM, event: 'notification', numbers: { messageId: effect.key, sideEffect: effect.type, outcome }, summary });
  if (outcome === 'undelivered') t.s.undelivered.push({ messageId: effect.key, effect: effect.type, at: t.nowIso });
  return t.s;
}
