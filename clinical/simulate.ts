/**
 * What-if: a pathway's recorded inputs replayed through the pure rules of another definition
 * version. No Temporal, no clock of its own: the inputs (enrolment, reassessments, procedures,
 * work-up, red flags, holds and overrides) come from the record, each at the time it was
 * recorded, and the passing of time is replayed as the workflow's loop does it (applyClock at
 * each wake-up). Where the recorded workflow woke for the same due item, the replay wakes when
 * it did; elsewhere at the wake-up the candidate asks for. Deterministic: the horizon is the
 * pathway's last recorded entry, never the wall clock.
 *
 * Its first duty is to agree with the workflow: with the pathway's own version it reproduces
 * every recorded decision exactly (test/workflows: the trajectories and the pathway-year).
 */
import type { PathwayDefinition, RedFlag, Stage } from './definition';
import type { ActionInput, Actor, ProcedureInput, ReassessmentInput, Scores } from './events';
import {
  applyClock,
  applyEvent,
  checkEvent,
  enroll,
  nextWakeUpAt,
  type PathwayEvent,
  type PathwayState,
  type PathwayStatus,
  type ProcedureRecord,
  type ReassessmentRecord,
  type TimelineEntry,
} from './pathway';
import type { Numbers, RuleId } from './rules';
import { STAGES } from './vocabulary';

/** A pathway as the record keeps it: enough to replay it (no notes, no reasons: free text is never read). */
export interface RecordedHistory {
  enrolmentId: string;
  pathwayId: string;
  careTeam: string;
  /** The version the pathway runs now (its own copy; the version it was enrolled on, unless it was migrated). */
  definition: PathwayDefinition;
  baseline: Scores;
  conservativeCareSince?: string;
  timeline: TimelineEntry[];
  reassessments: ReassessmentRecord[];
  procedures: ProcedureRecord[];
}

/** A decision as compared: what happened, by which rule, on which numbers, and what it left. */
export interface Decision {
  at: string;
  occurredAt?: string;
  event: TimelineEntry['event'] | 'refused';
  ruleId?: RuleId;
  numbers?: Numbers;
  stageBefore: Stage;
  stageAfter: Stage;
  statusBefore: PathwayStatus;
  statusAfter: PathwayStatus;
  due?: TimelineEntry['due'];
  summary: string;
}

export interface FirstDifference {
  /** When (the recorded time of the first decision that differs). */
  at: string;
  /** The rule of the candidate's decision there (or the recorded one's, when the candidate decided nothing). */
  ruleId: string | null;
  recorded: Decision | null;
  simulated: Decision | null;
}

export interface PathwayOutcome {
  stage: Stage;
  status: PathwayStatus;
  enrolledAt: string;
  /** Days from enrolment to entering each stage reached. */
  daysToStage: Partial<Record<Stage, number>>;
  escalations: number;
  scsReferrals: number;
  scsTrials: number;
  revisionReferrals: number;
  urgentReferrals: number;
  /** Procedures the pathway scheduled (distinct due items for a procedure, a trial or an implant). */
  procedures: number;
}

/** One pathway's decisions side by side: as recorded, and as the candidate would have taken them. */
export interface DecisionComparison {
  recorded: Decision[];
  simulated: Decision[];
  /** The index in both lists of the first decision that differs, or null. */
  firstDifference: number | null;
}

export interface SimulatedPathway {
  enrolmentId: string;
  pathwayId: string;
  careTeam: string;
  recordedVersion: number;
  differs: boolean;
  firstDifference: FirstDifference | null;
  /** Recorded changes the candidate would have refused (e.g. a procedure in a stage it never reached). */
  refused: number;
  recorded: PathwayOutcome;
  simulated: PathwayOutcome;
}

type Input =
  | { kind: 'enrol'; seq: number; at: number; actor: Actor; redFlags: RedFlag[] }
  | { kind: 'event'; seq: number; at: number; event: PathwayEvent };

interface Tick {
  seq: number;
  at: number;
  dueKey: string;
}

const ms = (iso: string): number => Date.parse(iso);
const BOOKKEEPING_TICKS = new Set(['reminder', 'overdue', 'lost-to-follow-up']);
/** Free text is never read back for a replay; the rules only need to know a reason was given. */
const RECORDED_REASON = 'recorded';

const flagsOf = (n: Numbers | undefined): RedFlag[] => String(n?.redFlags ?? '').split(', ').filter(Boolean) as RedFlag[];
const isSystem = (e: TimelineEntry) => e.actor.role === 'system';

/** The recorded inputs in the order they were applied, and the recorded clock's wake-ups. */
export function recordedInputs(h: RecordedHistory): { inputs: Input[]; ticks: Tick[] } {
  const inputs: Input[] = [];
  const ticks: Tick[] = [];
  const t = h.timeline;
  let reassessment = 0;
  let procedure = 0;
  const consumed = new Set<number>();
  /** The red-flag entry a reassessment or the enrolment raised in the same change. */
  const consumeRaisedFlags = (i: number) => {
    const next = t[i + 1];
    if (next && next.event === 'red-flags' && next.at === t[i]!.at && next.actor.id === t[i]!.actor.id) consumed.add(i + 1);
  };
  for (let i = 0; i < t.length; i++) {
    const e = t[i]!;
    if (consumed.has(i)) continue;
    const at = ms(e.at);
    if (BOOKKEEPING_TICKS.has(e.event) && isSystem(e)) {
      ticks.push({ seq: e.seq, at, dueKey: `${String(e.numbers?.dueKind)}@${String(e.numbers?.dueAt)}` });
      continue;
    }
    if (e.event === 'enrolled') {
      const flags = t[i + 1]?.event === 'red-flags' && t[i + 1]!.occurredAt === undefined ? flagsOf(t[i + 1]!.numbers) : [];
      if (flags.length) consumed.add(i + 1);
      inputs.push({ kind: 'enrol', seq: e.seq, at, actor: e.actor, redFlags: flags });
      continue;
    }
    if (isSystem(e)) continue; // a consequence the rules drew
    const event = ((): PathwayEvent | null => {
      switch (e.event) {
        case 'reassessment': {
          const r = h.reassessments[reassessment++];
          if (!r) throw new Error(`recorded history of ${h.enrolmentId} lacks reassessment ${reassessment}`);
          if (r.redFlags.length) consumeRaisedFlags(i);
          const input: ReassessmentInput = {
            painNrs: r.painNrs,
            ...(r.odi !== undefined && r.odi !== null ? { odi: r.odi } : {}),
            ...(r.pgic !== undefined && r.pgic !== null ? { pgic: r.pgic } : {}),
            ...(r.dailyMme !== undefined && r.dailyMme !== null ? { dailyMme: r.dailyMme } : {}),
            ...(r.sourceIds ? { sourceIds: r.sourceIds } : {}),
            redFlags: r.redFlags,
            assessedAt: r.at,
          };
          return { type: 'reassessment', actor: e.actor, input };
        }
        case 'procedure': {
          const p = h.procedures[procedure++];
          if (!p) throw new Error(`recorded history of ${h.enrolmentId} lacks procedure ${procedure}`);
          const input: ProcedureInput = {
            type: p.type,
            performedAt: p.performedAt,
            ...(p.outcome ? { outcome: p.outcome } : {}),
            ...(p.spinalRegion ? { spinalRegion: p.spinalRegion } : {}),
            ...(e.numbers?.overridden === true ? { overrideReason: RECORDED_REASON } : {}),
          };
          return { type: 'procedure', actor: e.actor, input };
        }
        case 'workup-result':
          return { type: 'workup-result', actor: e.actor, input: { item: e.numbers!.item as never, ...(e.occurredAt ? { completedAt: e.occurredAt } : {}) } };
        case 'red-flags':
          return { type: 'red-flags', actor: e.actor, input: { redFlags: flagsOf(e.numbers), ...(e.occurredAt ? { reportedAt: e.occurredAt } : {}) } };
        case 'override': {
          const action = e.ruleId?.replace('override.', '') as ActionInput['action'];
          return { type: 'action', actor: e.actor, input: { action, reason: RECORDED_REASON } as ActionInput };
        }
        case 'stage-changed':
          if (e.ruleId !== 'override.escalate') return null;
          return {
            type: 'action',
            actor: e.actor,
            input: { action: 'escalate', reason: RECORDED_REASON, ...(e.numbers?.requestedStage ? { toStage: e.numbers.requestedStage as Stage } : {}) },
          };
        case 'completed':
          return e.ruleId === 'override.discharge' ? { type: 'action', actor: e.actor, input: { action: 'discharge', reason: RECORDED_REASON } } : null;
        default:
          return null;
      }
    })();
    if (event) inputs.push({ kind: 'event', seq: e.seq, at, event });
  }
  return { inputs, ticks };
}

function decisionOf(e: TimelineEntry): Decision {
  return {
    at: e.at,
    ...(e.occurredAt !== undefined ? { occurredAt: e.occurredAt } : {}),
    event: e.event,
    ...(e.ruleId ? { ruleId: e.ruleId } : {}),
    ...(e.numbers ? { numbers: e.numbers } : {}),
    stageBefore: e.stageBefore,
    stageAfter: e.stageAfter,
    statusBefore: e.statusBefore,
    statusAfter: e.statusAfter,
    ...(e.due !== undefined ? { due: e.due } : {}),
    summary: e.summary,
  };
}

/**
 * Numbers a decision repeats from its definition (the threshold it was judged against, the
 * limit it counted to): a candidate changes them everywhere, so they are shown, never compared.
 * What the decision made of them (responding or not, the stage, the due date) is compared.
 */
const DEFINITION_NUMBERS = new Set([
  'definition',
  'definitionVersion',
  'painThresholdPercent',
  'odiThresholdPoints',
  'reliefThresholdPercent',
  'mmeThresholdPercent',
  'acceptablePainNrs',
  'minimumDays',
  'required',
  'trialDays',
  'followUpEveryDays',
  'reassessAfterDays',
  'limit',
  'windowDays',
  'minimumIntervalDays',
  'minimumConservativeCareMonths',
  'scheduleWithinDays',
  'graceDays',
  'overdueDays',
  'itemsComplete',
]);

/** Whether a reassessment responded, from its entry (null for any other decision). */
const respondingOf = (d: Decision): boolean | null =>
  d.event === 'reassessment' && d.ruleId?.startsWith('response.') ? d.summary === 'Reassessment: responding.' : null;

/** The part of a decision that must agree (not its wording, nor its position among delivery notes). */
const comparable = (d: Decision): string =>
  JSON.stringify([d.at, d.occurredAt ?? null, d.event, d.ruleId ?? null, respondingOf(d), decisionNumbers(d.numbers), d.stageBefore, d.stageAfter, d.statusBefore, d.statusAfter, d.due ?? null]);

function decisionNumbers(n: Numbers | undefined): Array<[string, unknown]> | null {
  return n === undefined ? null : Object.keys(n).filter((k) => !DEFINITION_NUMBERS.has(k)).sort().map((k) => [k, n[k]]);
}

/**
 * Keeps of the state only what the rules read back, so each step's copy stays cheap: of the
 * timeline, each entry's kind and times; of the reassessments (only ever appended), none.
 */
function lean(state: PathwayState, from: number): void {
  state.reassessments = [];
  for (let i = from; i < state.timeline.length; i++) {
    const e = state.timeline[i]!;
    state.timeline[i] = { event: e.event, at: e.at, ...(e.occurredAt ? { occurredAt: e.occurredAt } : {}) } as TimelineEntry;
  }
}

const PROCEDURE_DUES = new Set(['procedure', 'scs-trial', 'scs-implant']);

export function outcomeOf(decisions: Decision[], enrolledAt: string, final: { stage: Stage; status: PathwayStatus }): PathwayOutcome {
  const daysToStage: Partial<Record<Stage, number>> = { conservative: 0 };
  const dueItems = new Set<string>();
  let escalations = 0;
  let scsReferrals = 0;
  let scsTrials = 0;
  let revisionReferrals = 0;
  let urgentReferrals = 0;
  for (const d of decisions) {
    if (d.event === 'stage-changed') {
      escalations++;
      if (d.stageAfter === 'scs') scsReferrals++;
      if (d.stageAfter === 'revision-referral') revisionReferrals++;
      daysToStage[d.stageAfter] ??= Math.round(((ms(d.at) - ms(enrolledAt)) / 86_400_000) * 10) / 10;
    }
    if (d.event === 'procedure' && d.numbers?.type === 'scs-trial') scsTrials++;
    if (d.statusAfter === 'urgent-referral' && d.statusBefore !== 'urgent-referral') urgentReferrals++;
    if (d.due && PROCEDURE_DUES.has(d.due.kind)) dueItems.add(`${d.due.kind}@${d.due.dueAt}`);
  }
  return { ...final, enrolledAt, daysToStage, escalations, scsReferrals, scsTrials, revisionReferrals, urgentReferrals, procedures: dueItems.size };
}

const dueKeyOf = (s: PathwayState): string => (s.due ? `${s.due.kind}@${s.due.dueAt}` : '');

/** Replays one recorded pathway through `candidate`'s rules and compares its decisions with the recorded ones. */
export function simulatePathway(h: RecordedHistory, candidate: PathwayDefinition): SimulatedPathway {
  return replay(h, candidate).result;
}

/** Both lists of decisions of one pathway, for a side-by-side reading. */
export function compareDecisions(h: RecordedHistory, candidate: PathwayDefinition): DecisionComparison {
  const { recorded, simulated, firstIndex } = replay(h, candidate);
  return { recorded, simulated, firstDifference: firstIndex };
}

function replay(h: RecordedHistory, candidate: PathwayDefinition): { result: SimulatedPathway; recorded: Decision[]; simulated: Decision[]; firstIndex: number | null } {
  const { inputs, ticks } = recordedInputs(h);
  const enrolment = inputs[0];
  if (!enrolment || enrolment.kind !== 'enrol') throw new Error(`recorded history of ${h.enrolmentId} does not start with its enrolment`);
  const horizon = Math.max(...h.timeline.map((e) => ms(e.at)));
  const simulated: Decision[] = [];
  let refused = 0;
  let tick = 0;

  const first = enroll(
    {
      pathwayId: h.pathwayId,
      careTeam: h.careTeam,
      definition: candidate,
      baseline: h.baseline,
      redFlags: enrolment.redFlags,
      ...(h.conservativeCareSince ? { conservativeCareSince: h.conservativeCareSince } : {}),
      enrolledBy: enrolment.actor,
    },
    enrolment.at,
  );
  let state = first.state;
  const take = (entries: TimelineEntry[]) => {
    for (const e of entries) if (e.event !== 'notification') simulated.push(decisionOf(e));
    lean(state, state.timeline.length - entries.length);
  };
  take(first.entries);

  /** The wake-ups before an input (recorded at `until`, timeline seq `beforeSeq`), as the workflow's loop takes them. */
  const passTime = (until: number, beforeSeq: number, inclusive: boolean) => {
    for (;;) {
      const wake = nextWakeUpAt(state);
      if (wake === null) return;
      const key = dueKeyOf(state);
      while (tick < ticks.length && ticks[tick]!.seq < beforeSeq && ticks[tick]!.at < wake) tick++;
      const recorded = tick < ticks.length && ticks[tick]!.seq < beforeSeq && ticks[tick]!.dueKey === key ? ticks[tick]! : undefined;
      const at = recorded ? recorded.at : wake;
      if (!recorded && (inclusive ? wake > until : wake >= until)) return;
      if (recorded) tick++;
      const outcome = applyClock(state, at);
      state = outcome.state;
      take(outcome.entries);
    }
  };

  for (const input of inputs.slice(1)) {
    if (input.kind !== 'event') continue;
    passTime(input.at, input.seq, false);
    const refusal = checkEvent(state, input.event, input.at);
    if (refusal) {
      refused++;
      simulated.push({
        at: new Date(input.at).toISOString(),
        event: 'refused',
        stageBefore: state.stage,
        stageAfter: state.stage,
        statusBefore: state.status,
        statusAfter: state.status,
        summary: `The candidate would refuse the recorded ${input.event.type}: ${refusal.message}`,
      });
      continue;
    }
    const outcome = applyEvent(state, input.event, input.at);
    state = outcome.state;
    take(outcome.entries);
  }
  passTime(horizon, Number.POSITIVE_INFINITY, true);

  // A migration is no decision of the rules: the candidate is tried from enrolment on, in place of every version the pathway ran.
  const recordedDecisions = h.timeline.filter((e) => e.event !== 'notification' && e.event !== 'definition-migrated').map(decisionOf);
  let firstDifference: FirstDifference | null = null;
  let firstIndex: number | null = null;
  for (let i = 0; i < Math.max(recordedDecisions.length, simulated.length); i++) {
    const r = recordedDecisions[i] ?? null;
    const s = simulated[i] ?? null;
    if (r && s && comparable(r) === comparable(s)) continue;
    firstDifference = { at: (r ?? s)!.at, ruleId: s?.ruleId ?? r?.ruleId ?? null, recorded: r, simulated: s };
    firstIndex = i;
    break;
  }
  const last = h.timeline[h.timeline.length - 1]!;
  const enrolledAt = h.timeline[0]!.at;
  const result: SimulatedPathway = {
    enrolmentId: h.enrolmentId,
    pathwayId: h.pathwayId,
    careTeam: h.careTeam,
    recordedVersion: Number(h.timeline[0]!.numbers?.definitionVersion ?? h.definition.version),
    differs: firstDifference !== null,
    firstDifference,
    refused,
    recorded: outcomeOf(recordedDecisions, enrolledAt, { stage: last.stageAfter, status: last.statusAfter }),
    simulated: outcomeOf(simulated, enrolledAt, { stage: state.stage, status: state.status }),
  };
  return { result, recorded: recordedDecisions, simulated, firstIndex };
}

export interface CohortFigures {
  pathways: number;
  escalations: number;
  scsReferrals: number;
  scsTrials: number;
  revisionReferrals: number;
  urgentReferrals: number;
  completed: number;
  /** Median days from enrolment to entering each stage, among the pathways that reached it (and how many did). */
  daysToStage: Record<Stage, { reached: number; medianDays: number | null }>;
  /** Procedures scheduled per month over the cohort's span (first enrolment to last recorded entry). */
  proceduresPerMonth: number;
}

export interface CohortSummary {
  pathways: number;
  differing: number;
  refusedChanges: number;
  recorded: CohortFigures;
  candidate: CohortFigures;
}

const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function figures(outcomes: PathwayOutcome[], months: number): CohortFigures {
  const sum = (f: (o: PathwayOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
  const daysToStage = Object.fromEntries(
    STAGES.map((stage) => {
      const days = outcomes.flatMap((o) => (o.daysToStage[stage] !== undefined ? [o.daysToStage[stage]!] : []));
      return [stage, { reached: days.length, medianDays: median(days) }];
    }),
  ) as CohortFigures['daysToStage'];
  return {
    pathways: outcomes.length,
    escalations: sum((o) => o.escalations),
    scsReferrals: sum((o) => o.scsReferrals),
    scsTrials: sum((o) => o.scsTrials),
    revisionReferrals: sum((o) => o.revisionReferrals),
    urgentReferrals: sum((o) => o.urgentReferrals),
    completed: outcomes.filter((o) => o.status === 'completed').length,
    daysToStage,
    proceduresPerMonth: months > 0 ? Math.round((sum((o) => o.procedures) / months) * 10) / 10 : 0,
  };
}

/** The cohort's figures, recorded against candidate; `span` is the cohort's first enrolment and last recorded entry. */
export function summarise(results: SimulatedPathway[], span: { from: number; to: number }): CohortSummary {
  const months = Math.max(1, (span.to - span.from) / (30.4375 * 86_400_000));
  return {
    pathways: results.length,
    differing: results.filter((r) => r.differs).length,
    refusedChanges: results.reduce((n, r) => n + r.refused, 0),
    recorded: figures(results.map((r) => r.recorded), months),
    candidate: figures(results.map((r) => r.simulated), months),
  };
}
