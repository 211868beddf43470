/**
 * The pathway state machine, driven with explicit millisecond clocks: no Temporal here.
 * Day n of a scenario is T0 + n * DAY_MS; enrolment is at day 0 unless a test says otherwise.
 */
import { describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema, type PathwayDefinition, type ProcedureType, type RedFlag, type WorkupItem } from '../../clinical/definition';
import { STAGES } from '../../clinical/vocabulary';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import type { ActionInput, Actor, ProcedureInput, ReassessmentInput, Scores } from '../../clinical/events';
import {
  SYSTEM,
  applyClock,
  applyEvent,
  checkEvent,
  enroll,
  followUpPoints,
  nextStage,
  nextWakeUpAt,
  noteSideEffect,
  pendingWorkup,
  type Effect,
  type Outcome,
  type PathwayEvent,
  type PathwayState,
  type Refusal,
  type TimelineEntry,
} from '../../clinical/pathway';
import { DAY_MS, ruleSentence, type RuleId } from '../../clinical/rules';

// ---------------------------------------------------------------------------------------------
// Clock, actors, definitions

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const at = (days: number): number => T0 + days * DAY_MS;
const isoAt = (days: number): string => new Date(at(days)).toISOString();
const HOUR_MS = 60 * 60 * 1000;

const CLINICIAN: Actor = { id: 'dr-lee', role: 'clinician' };
const COORDINATOR: Actor = { id: 'coord-kim', role: 'coordinator' };
const VIEWER: Actor = { id: 'viewer-ng', role: 'viewer' };

const definition = (change?: (d: PathwayDefinition) => void): PathwayDefinition => {
  const d = PathwayDefinitionSchema.parse(structuredClone(pspsLumbarV1));
  change?.(d);
  return PathwayDefinitionSchema.parse(d);
};
const DEF = definition();
const sentence = (id: RuleId, d: PathwayDefinition = DEF): string => ruleSentence(id, d);

// ---------------------------------------------------------------------------------------------
// Events

const reassess = (painNrs: number, extra: Partial<ReassessmentInput> = {}, actor: Actor = CLINICIAN): PathwayEvent => ({
  type: 'reassessment',
  actor,
  input: { painNrs, ...extra },
});
const procedure = (type: ProcedureType, extra: Partial<ProcedureInput> = {}, actor: Actor = COORDINATOR): PathwayEvent => ({
  type: 'procedure',
  actor,
  input: { type, ...extra },
});
const performed = (days: number): Partial<ProcedureInput> => ({ performedAt: isoAt(days) });
const workup = (item: WorkupItem | 'surgical-consult', actor: Actor = COORDINATOR): PathwayEvent => ({
  type: 'workup-result',
  actor,
  input: { item },
});
const flags = (redFlags: RedFlag[], actor: Actor = CLINICIAN): PathwayEvent => ({ type: 'red-flags', actor, input: { redFlags } });
const action = (input: ActionInput, actor: Actor = CLINICIAN): PathwayEvent => ({ type: 'action', actor, input });
const hold = (actor: Actor = COORDINATOR) => action({ action: 'hold', reason: 'patient travelling' }, actor);
const resume = (actor: Actor = COORDINATOR) => action({ action: 'resume', reason: 'patient back' }, actor);

// ---------------------------------------------------------------------------------------------
// Driving the state machine

function start(opts: { baseline?: Scores; redFlags?: RedFlag[]; definition?: PathwayDefinition; now?: number } = {}): Outcome {
  return enroll(
    {
      pathwayId: 'pw-unit',
      careTeam: 'spine-a',
      definition: opts.definition ?? DEF,
      baseline: opts.baseline ?? { painNrs: 8, odi: 40 },
      redFlags: opts.redFlags ?? [],
      enrolledBy: COORDINATOR,
    },
    opts.now ?? T0,
  );
}

/** Applies an event that checkEvent must accept. */
function step(state: PathwayState, event: PathwayEvent, now: number): Outcome {
  const refused = checkEvent(state, event, now);
  if (refused) throw new Error(`unexpected refusal of ${event.type}: ${JSON.stringify(refused)}`);
  return applyEvent(state, event, now);
}

/** The refusal checkEvent must give. */
function refusal(state: PathwayState, event: PathwayEvent, now: number): Refusal {
  const r = checkEvent(state, event, now);
  if (!r) throw new Error(`expected ${event.type} ${JSON.stringify(event.input)} to be refused`);
  return r;
}

/** Conservative care from a baseline, then a non-responding reassessment at day 42: interventional. */
function toInterventional(baseline: Scores = { painNrs: 8, odi: 40 }, painAtEscalation = 7, def: PathwayDefinition = DEF): PathwayState {
  const s = step(start({ baseline, definition: def }).state, reassess(painAtEscalation), at(42)).state;
  expect(s.stage).toBe('interventional');
  return s;
}

/** Interventional from day 42 with a pain reference of 10; two procedures without response escalate at day 108. */
function toScs(def: PathwayDefinition = DEF): PathwayState {
  let s = toInterventional({ painNrs: 10, odi: 50 }, 10, def);
  s = step(s, procedure('epidural-steroid-injection'), at(45)).state;
  s = step(s, reassess(10), at(73)).state;
  s = step(s, procedure('facet-joint-injection'), at(80)).state;
  s = step(s, reassess(10), at(108)).state;
  expect(s.stage).toBe('scs');
  expect(s.reference.painNrs).toBe(10);
  return s;
}

/** SCS with a cleared psychological evaluation (day 110) and a trial started day 120, recorded day 121. */
function toScsTrial(def: PathwayDefinition = DEF): PathwayState {
  let s = toScs(def);
  s = step(s, procedure('psychological-evaluation', { outcome: 'cleared' }), at(110)).state;
  return step(s, procedure('scs-trial', performed(120)), at(121)).state;
}

/** A successful trial (day 127) and an implant performed day 139, recorded day 140. */
function toImplanted(def: PathwayDefinition = DEF): PathwayState {
  let s = toScsTrial(def);
  s = step(s, reassess(4), at(127)).state;
  return step(s, procedure('scs-implant', performed(139)), at(140)).state;
}

/** Revision referral, entered at day 110 because the psychological evaluation did not clear the patient. */
function toRevision(def: PathwayDefinition = DEF): PathwayState {
  const s = step(toScs(def), procedure('psychological-evaluation', { outcome: 'not-cleared' }), at(110)).state;
  expect(s.stage).toBe('revision-referral');
  return s;
}

const snapshot = (s: PathwayState): string => JSON.stringify(s);

// =============================================================================================

describe('enrolment', () => {
  it('starts conservative care with the first reassessment due after reassessEveryDays and one timeline entry', () => {
    const o = start({ baseline: { painNrs: 8, odi: 40, pgic: 4 } });
    const s = o.state;
    expect(s.status).toBe('active');
    expect(s.stage).toBe('conservative');
    expect(s.enrolledAt).toBe(isoAt(0));
    expect(s.stageClockAt).toBe(isoAt(0));
    expect(s.reference).toEqual({ painNrs: 8, odi: 40, from: 'enrollment', at: isoAt(0) });
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(42) });
    expect(s.cadence).toEqual({ anchorAt: isoAt(0), everyDays: 42 });
    expect(s.overdue).toBe(false);
    expect(s.reminders).toEqual({ forDue: null, sent: 0 });
    expect(s.undelivered).toEqual([]);
    expect(s.proceduresAwaitingReassessment).toBe(0);
    expect(s.proceduresWithoutResponse).toBe(0);
    expect(s.pause).toBeNull();
    expect(o.effects).toEqual([]);
    expect(o.entries).toEqual(s.timeline);
    expect(s.timeline).toHaveLength(1);
    expect(s.timeline[0]).toMatchObject({
      seq: 1,
      at: isoAt(0),
      actor: COORDINATOR,
      event: 'enrolled',
      numbers: { definition: 'psps-lumbar', definitionVersion: 1, baselinePainNrs: 8, baselineOdi: 40, baselinePgic: 4 },
      stageBefore: 'conservative',
      stageAfter: 'conservative',
      statusBefore: 'active',
      statusAfter: 'active',
      due: { kind: 'reassessment', dueAt: isoAt(42) },
    });
    // The first thing time changes is the reminder on the due date itself.
    expect(nextWakeUpAt(s)).toBe(at(42));
  });

  it('takes the first due date from the definition it is enrolled with', () => {
    const d = definition((x) => void (x.stages.conservative.reassessEveryDays = 28));
    const s = start({ definition: d }).state;
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(28) });
    expect(s.definition.stages.conservative.reassessEveryDays).toBe(28);
  });

  it('red flags at enrolment go straight to urgent referral and notify the care team', () => {
    const o = start({ redFlags: ['saddle-anaesthesia', 'bladder-bowel-dysfunction'] });
    const s = o.state;
    expect(s.status).toBe('urgent-referral');
    expect(s.stage).toBe('conservative');
    expect(s.pause).toEqual({ since: isoAt(0), kind: 'urgent-referral' });
    expect(s.redFlags).toEqual([{ at: isoAt(0), flags: ['saddle-anaesthesia', 'bladder-bowel-dysfunction'] }]);
    expect(o.entries.map((e) => e.event)).toEqual(['enrolled', 'red-flags']);
    expect(o.entries[1]).toMatchObject({
      seq: 2,
      ruleId: 'red-flag.urgent-referral',
      rule: sentence('red-flag.urgent-referral'),
      numbers: { redFlags: 'saddle-anaesthesia, bladder-bowel-dysfunction' },
      statusBefore: 'active',
      statusAfter: 'urgent-referral',
      stageBefore: 'conservative',
      stageAfter: 'conservative',
    });
    expect(o.effects).toEqual([
      {
        type: 'notify-care-team',
        key: 'pw-unit.20250106090000000.urgent-referral.2',
        topic: 'urgent-referral',
        stage: 'conservative',
        status: 'urgent-referral',
        due: { kind: 'reassessment', dueAt: isoAt(42) },
      },
    ]);
    // Stepped-care timers are stopped.
    expect(nextWakeUpAt(s)).toBeNull();
    expect(applyClock(s, at(400)).entries).toEqual([]);
  });
});

describe('conservative care', () => {
  it('a non-responding reassessment before the minimum duration records escalation.minimum-duration and stays', () => {
    const s0 = start().state;
    const o = step(s0, reassess(7, { odi: 38 }), at(20));
    expect(o.state.stage).toBe('conservative');
    expect(o.state.status).toBe('active');
    expect(o.effects).toEqual([]);
    expect(o.entries.map((e) => [e.event, e.ruleId])).toEqual([
      ['reassessment', 'response.conservative'],
      ['reassessment', 'escalation.minimum-duration'],
    ]);
    expect(o.entries[0]!.numbers).toMatchObject({ referencePainNrs: 8, painNrs: 7, painReliefPercent: 12.5, odiDropPoints: 2 });
    expect(o.entries[1]).toMatchObject({
      actor: SYSTEM,
      rule: sentence('escalation.minimum-duration'),
      numbers: { activeDays: 20, minimumDays: 42 },
      stageBefore: 'conservative',
      stageAfter: 'conservative',
      statusBefore: 'active',
      statusAfter: 'active',
    });
    // The next reassessment stays on the cadence.
    expect(o.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(42) });
    expect(o.state.reassessments).toHaveLength(1);
    expect(o.state.reassessments[0]!.evaluation?.responding).toBe(false);
  });

  it('escalates at exactly the minimum duration, not an hour before', () => {
    const s0 = start().state;
    const early = step(s0, reassess(7), at(42) - HOUR_MS);
    expect(early.state.stage).toBe('conservative');
    expect(early.entries.map((e) => e.ruleId)).toContain('escalation.minimum-duration');
    const onTime = step(s0, reassess(7), at(42));
    expect(onTime.state.stage).toBe('interventional');
  });

  it('the numbers of a minimum-duration entry agree with its decision, even just before the minimum', () => {
    // 30 minutes short of 42 active days: no escalation, so the entry must not read as if 42 days had passed.
    const o = step(start().state, reassess(7), at(42) - HOUR_MS / 2);
    expect(o.state.stage).toBe('conservative');
    const e = o.entries.find((x) => x.ruleId === 'escalation.minimum-duration')!;
    expect(e.numbers?.minimumDays).toBe(42);
    expect(e.numbers?.activeDays as number).toBeLessThan(42);
    // 41.979 days, floored to 0.1 (rounding would have said 42).
    expect(e.numbers?.activeDays).toBe(41.9);
  });

  it('active days in the numbers are floored to 0.1 day, never rounded up', () => {
    // 20.99 days: 20.9, not 21.
    const nearly21 = step(start().state, reassess(7), at(20) + 0.99 * DAY_MS);
    expect(nearly21.entries[1]!.numbers).toMatchObject({ activeDays: 20.9, minimumDays: 42 });
    // Exactly 20.5 days stays 20.5.
    const half = step(start().state, reassess(7), at(20.5));
    expect(half.entries[1]!.numbers).toMatchObject({ activeDays: 20.5 });
    // An escalation 42.96 days in reads 42.9.
    const escalated = step(start().state, reassess(7), at(42) + 0.96 * DAY_MS);
    expect(escalated.entries[1]).toMatchObject({ ruleId: 'escalation.conservative', numbers: { activeDays: 42.9, minimumDays: 42 } });
  });

  it('a non-responding reassessment at day ≥ 42 escalates to interventional with the reference moved to it', () => {
    const s0 = start().state;
    const o = step(s0, reassess(7, { odi: 38 }), at(50));
    const s = o.state;
    expect(s.stage).toBe('interventional');
    expect(s.status).toBe('active');
    expect(s.stageEnteredAt).toBe(isoAt(50));
    expect(s.stageClockAt).toBe(isoAt(50));
    expect(s.reference).toEqual({ painNrs: 7, odi: 38, from: 'reassessment', at: isoAt(50) });
    expect(s.cadence).toBeNull();
    expect(s.due).toEqual({ kind: 'procedure', dueAt: isoAt(50 + 28) });
    expect(o.entries.map((e) => e.event)).toEqual(['reassessment', 'stage-changed']);
    expect(o.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'escalation.conservative',
      rule: sentence('escalation.conservative'),
      numbers: { activeDays: 50, minimumDays: 42, fromStage: 'conservative', toStage: 'interventional' },
      stageBefore: 'conservative',
      stageAfter: 'interventional',
      statusBefore: 'active',
      statusAfter: 'active',
      due: { kind: 'procedure', dueAt: isoAt(78) },
    });
    expect(o.effects).toEqual([
      {
        type: 'notify-care-team',
        key: 'pw-unit.20250106090000000.stage-changed.3',
        topic: 'stage-changed',
        stage: 'interventional',
        status: 'active',
        due: { kind: 'procedure', dueAt: isoAt(78) },
      },
    ]);
    // Interventional relief is measured from 7, not from the baseline of 8: 7 → 4 is 42.9% (8 → 4 would be 50%).
    const later = step(step(s, procedure('nerve-block'), at(52)).state, reassess(4), at(80));
    expect(later.entries[0]!.numbers).toMatchObject({ referencePainNrs: 7, painReliefPercent: 42.857 });
    expect(later.state.consecutiveResponses).toBe(0);
    expect(later.state.proceduresWithoutResponse).toBe(1);
    expect(later.state.proceduresAwaitingReassessment).toBe(0);
  });

  it('two responding reassessments in a row complete the pathway (completion.sustained-response)', () => {
    const s0 = start().state;
    const first = step(s0, reassess(5), at(42)); // 37.5% relief
    expect(first.state.status).toBe('active');
    expect(first.state.stage).toBe('conservative');
    expect(first.state.consecutiveResponses).toBe(1);
    expect(first.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(84) });
    expect(first.entries).toHaveLength(1);
    expect(first.entries[0]).toMatchObject({ ruleId: 'response.conservative', summary: 'Reassessment: responding.' });
    expect(first.effects).toEqual([]);

    const second = step(first.state, reassess(5.6), at(84)); // exactly 30%
    const s = second.state;
    expect(s.status).toBe('completed');
    expect(s.closedAt).toBe(isoAt(84));
    expect(s.due).toBeNull();
    expect(second.entries.map((e) => e.event)).toEqual(['reassessment', 'completed']);
    expect(second.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'completion.sustained-response',
      rule: sentence('completion.sustained-response'),
      numbers: { consecutiveResponses: 2, required: 2 },
      stageBefore: 'conservative',
      stageAfter: 'conservative',
      statusBefore: 'active',
      statusAfter: 'completed',
      due: null,
    });
    expect(second.effects).toEqual([
      { type: 'notify-care-team', key: 'pw-unit.20250106090000000.completed.4', topic: 'completed', stage: 'conservative', status: 'completed', due: null },
    ]);
    expect(nextWakeUpAt(s)).toBeNull();
  });

  it('an ODI drop of 10 points alone is a response; 9 points is not', () => {
    const s0 = start({ baseline: { painNrs: 8, odi: 40 } }).state;
    expect(step(s0, reassess(8, { odi: 30 }), at(42)).state).toMatchObject({ stage: 'conservative', consecutiveResponses: 1 });
    expect(step(s0, reassess(8, { odi: 31 }), at(42)).state.stage).toBe('interventional');
  });

  it('pain 29% vs 30% decides escalation at day 42', () => {
    const s0 = start({ baseline: { painNrs: 10 } }).state;
    expect(step(s0, reassess(7.1), at(42)).state.stage).toBe('interventional');
    const responding = step(s0, reassess(7), at(42));
    expect(responding.state.stage).toBe('conservative');
    expect(responding.entries[0]!.numbers?.painReliefPercent).toBe(30);
  });

  it('a response followed by a non-response resets the count', () => {
    let s = start().state;
    s = step(s, reassess(5), at(10)).state;
    expect(s.consecutiveResponses).toBe(1);
    const miss = step(s, reassess(7), at(20));
    expect(miss.state.consecutiveResponses).toBe(0);
    expect(miss.state.status).toBe('active');
    expect(miss.entries.map((e) => e.ruleId)).toEqual(['response.conservative', 'escalation.minimum-duration']);
    const again = step(miss.state, reassess(5), at(30));
    // One response after the reset is not two in a row.
    expect(again.state.status).toBe('active');
    expect(again.state.consecutiveResponses).toBe(1);
    expect(step(again.state, reassess(5), at(41)).state.status).toBe('completed');
  });

  it('with a zero pain reference pain cannot respond, but ODI still can; without a response nothing escalates (v1 too)', () => {
    const s0 = start({ baseline: { painNrs: 0, odi: 30 } }).state;
    const noOdiDrop = step(s0, reassess(0, { odi: 25 }), at(42));
    expect(noOdiDrop.entries[0]!.numbers).toMatchObject({ painReliefPercent: null, odiDropPoints: 5 });
    // A reference of 0 is never a reason to escalate: the assessment becomes the reference instead.
    expect(noOdiDrop.state.stage).toBe('conservative');
    expect(noOdiDrop.entries[1]).toMatchObject({ ruleId: 'escalation.acceptable-pain', numbers: { referencePainNrs: 0, newReferencePainNrs: 0 } });
    expect(noOdiDrop.state.reference).toMatchObject({ painNrs: 0, odi: 25, from: 'reassessment', at: isoAt(42) });
    expect(noOdiDrop.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(84) });
    const odiDrop = step(s0, reassess(0, { odi: 20 }), at(42));
    expect(odiDrop.entries[0]!.numbers).toMatchObject({ painReliefPercent: null, odiDropPoints: 10 });
    expect(odiDrop.state.stage).toBe('conservative');
    expect(odiDrop.state.consecutiveResponses).toBe(1);
  });

  it('keeps reassessments on the cadence: early ones point to the next point, late ones to the one after', () => {
    const s0 = start().state;
    expect(step(s0, reassess(5), at(20)).state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(42) });
    expect(step(s0, reassess(5), at(50)).state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(84) });
  });

  it('a reassessment clears the overdue flag', () => {
    const overdue = applyClock(start().state, at(45)).state;
    expect(overdue.overdue).toBe(true);
    const s = step(overdue, reassess(5), at(46)).state;
    expect(s.overdue).toBe(false);
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(84) });
  });
});

describe('interventional care', () => {
  it('a procedure sets the reassessment due performedAt + 28 days', () => {
    const s0 = toInterventional();
    const o = step(s0, procedure('nerve-block', { ...performed(45), spinalRegion: 'L4-L5' }), at(50));
    const s = o.state;
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(45 + 28) });
    expect(s.procedures).toEqual([
      { type: 'nerve-block', stage: 'interventional', performedAt: isoAt(45), recordedAt: isoAt(50), spinalRegion: 'L4-L5' },
    ]);
    expect(s.proceduresAwaitingReassessment).toBe(1);
    expect(s.proceduresWithoutResponse).toBe(0);
    expect(o.effects).toEqual([]);
    expect(o.entries).toHaveLength(1);
    expect(o.entries[0]).toMatchObject({
      event: 'procedure',
      actor: COORDINATOR,
      numbers: { type: 'nerve-block', proceduresInWindow: 1, limit: 4, reassessAfterDays: 28 },
      stageBefore: 'interventional',
      stageAfter: 'interventional',
      due: { kind: 'reassessment', dueAt: isoAt(73) },
    });
    // Without performedAt the procedure counts as performed now.
    expect(step(s0, procedure('nerve-block'), at(50)).state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(78) });
  });

  it('two procedures without response escalate to spinal cord stimulation', () => {
    let s = toInterventional(); // reference 7
    s = step(s, procedure('epidural-steroid-injection'), at(45)).state;
    const first = step(s, reassess(6), at(73)); // 14.3%
    expect(first.state.stage).toBe('interventional');
    expect(first.state.proceduresWithoutResponse).toBe(1);
    expect(first.state.proceduresAwaitingReassessment).toBe(0);
    expect(first.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(73 + 28) });
    expect(first.entries.map((e) => e.event)).toEqual(['reassessment']);
    expect(first.effects).toEqual([]);

    s = step(first.state, procedure('facet-joint-injection'), at(80)).state;
    const second = step(s, reassess(5), at(108)); // 28.6%
    expect(second.state.stage).toBe('scs');
    expect(second.state.reference).toEqual({ painNrs: 5, odi: undefined, from: 'reassessment', at: isoAt(108) });
    expect(second.state.due).toEqual({ kind: 'psychological-evaluation', dueAt: isoAt(108 + 42) });
    expect(second.entries.map((e) => e.event)).toEqual(['reassessment', 'stage-changed']);
    expect(second.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'escalation.interventional',
      rule: sentence('escalation.interventional'),
      numbers: { proceduresWithoutResponse: 2, required: 2, fromStage: 'interventional', toStage: 'scs' },
      stageBefore: 'interventional',
      stageAfter: 'scs',
      statusBefore: 'active',
      statusAfter: 'active',
    });
    expect(second.effects).toEqual([
      {
        type: 'notify-care-team',
        key: 'pw-unit.20250106090000000.stage-changed.8',
        topic: 'stage-changed',
        stage: 'scs',
        status: 'active',
        due: { kind: 'psychological-evaluation', dueAt: isoAt(150) },
      },
    ]);
    // The new stage starts its counts afresh.
    expect(second.state.proceduresWithoutResponse).toBe(0);
    expect(second.state.proceduresAwaitingReassessment).toBe(0);
  });

  it('with an interventional minimum, escalation waits for it and records escalation.minimum-duration', () => {
    const d = definition((x) => void (x.stages.interventional.minimumDays = 90));
    let s = toInterventional(undefined, undefined, d); // entered day 42
    s = step(s, procedure('nerve-block'), at(45)).state;
    s = step(s, reassess(7), at(73)).state;
    s = step(s, procedure('nerve-block'), at(80)).state;
    const early = step(s, reassess(7), at(108)); // 66 active days
    expect(early.state.stage).toBe('interventional');
    expect(early.state.proceduresWithoutResponse).toBe(2);
    expect(early.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'escalation.minimum-duration',
      rule: sentence('escalation.minimum-duration', d),
      numbers: { proceduresWithoutResponse: 2, required: 2, activeDays: 66, minimumDays: 90 },
      stageBefore: 'interventional',
      stageAfter: 'interventional',
    });
    expect(early.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(108 + 28) });
    expect(early.effects).toEqual([]);
    // Once the minimum is reached the next non-response escalates.
    const later = step(early.state, reassess(7), at(132));
    expect(later.state.stage).toBe('scs');
    expect(later.entries[1]).toMatchObject({ ruleId: 'escalation.interventional', numbers: { activeDays: 90, minimumDays: 90 } });
  });

  it('relief 49% is not a response, 50% is', () => {
    let s = toInterventional({ painNrs: 10 }, 10);
    s = step(s, procedure('medial-branch-block'), at(45)).state;
    const below = step(s, reassess(5.1), at(73));
    expect(below.entries[0]!.numbers).toMatchObject({ painReliefPercent: 49, reliefThresholdPercent: 50 });
    expect(below.state.proceduresWithoutResponse).toBe(1);
    const at50 = step(s, reassess(5), at(73));
    expect(at50.entries[0]).toMatchObject({ ruleId: 'response.interventional', summary: 'Reassessment: responding.' });
    expect(at50.state.proceduresWithoutResponse).toBe(0);
    expect(at50.state.proceduresAwaitingReassessment).toBe(0);
    expect(at50.state.consecutiveResponses).toBe(1);
  });

  it('two procedures before one non-responding reassessment count as two without response, and escalate', () => {
    let s = toInterventional({ painNrs: 10 }, 10); // entered day 42, reference 10
    s = step(s, procedure('epidural-steroid-injection'), at(45)).state;
    expect(s.proceduresAwaitingReassessment).toBe(1);
    s = step(s, procedure('facet-joint-injection'), at(50)).state;
    expect(s.proceduresAwaitingReassessment).toBe(2);
    expect(s.proceduresWithoutResponse).toBe(0);
    // The second procedure moves the reassessment to 28 days after it.
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(78) });
    const o = step(s, reassess(9), at(78)); // 10%
    expect(o.state.stage).toBe('scs');
    expect(o.entries.map((e) => e.event)).toEqual(['reassessment', 'stage-changed']);
    expect(o.entries[1]).toMatchObject({
      ruleId: 'escalation.interventional',
      numbers: { proceduresWithoutResponse: 2, required: 2, activeDays: 36, minimumDays: 0, fromStage: 'interventional', toStage: 'scs' },
    });
  });

  it('procedures awaiting reassessment add up across reassessments; a response clears the ones it judged', () => {
    const three = definition((x) => void (x.stages.interventional.escalateAfterProceduresWithoutResponse = 3));
    let s = toInterventional({ painNrs: 10 }, 10, three);
    s = step(s, procedure('nerve-block'), at(43)).state;
    s = step(s, procedure('nerve-block'), at(44)).state;
    const two = step(s, reassess(9), at(72));
    expect(two.state.stage).toBe('interventional');
    expect(two.state.proceduresWithoutResponse).toBe(2);
    expect(two.state.proceduresAwaitingReassessment).toBe(0);
    expect(two.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(100) });
    // A reassessment with no procedure since the last one adds nothing.
    const none = step(two.state, reassess(9), at(75));
    expect(none.state.proceduresWithoutResponse).toBe(2);
    expect(none.state.stage).toBe('interventional');
    // One more procedure without response makes three: escalation.
    const third = step(step(two.state, procedure('medial-branch-block'), at(80)).state, reassess(9), at(108));
    expect(third.state.stage).toBe('scs');
    expect(third.entries[1]).toMatchObject({ ruleId: 'escalation.interventional', numbers: { proceduresWithoutResponse: 3, required: 3 } });
    // A response instead clears the two procedures it judged: none of them counts later.
    const responded = step(s, reassess(4), at(72));
    expect(responded.state.proceduresAwaitingReassessment).toBe(0);
    expect(responded.state.proceduresWithoutResponse).toBe(0);
    const afterResponse = step(step(responded.state, procedure('nerve-block'), at(80)).state, reassess(9), at(108));
    expect(afterResponse.state.proceduresWithoutResponse).toBe(1);
    expect(afterResponse.state.stage).toBe('interventional');
  });

  it('two responses in a row after a procedure complete the pathway', () => {
    let s = toInterventional({ painNrs: 10 }, 10);
    s = step(s, procedure('radiofrequency-ablation'), at(45)).state;
    const first = step(s, reassess(4), at(73));
    expect(first.state.status).toBe('active');
    expect(first.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(73 + 28) });
    const second = step(first.state, reassess(3), at(101));
    expect(second.state.status).toBe('completed');
    expect(second.entries.at(-1)).toMatchObject({ ruleId: 'completion.sustained-response', stageAfter: 'interventional', statusAfter: 'completed' });
  });

  it('refuses a 5th procedure within 365 days with a conflict naming the limit', () => {
    let s = toInterventional();
    for (const day of [43, 50, 57, 64]) s = step(s, procedure('epidural-steroid-injection'), at(day)).state;
    expect(s.timeline.at(-1)!.numbers).toMatchObject({ proceduresInWindow: 4, limit: 4 });
    const r = refusal(s, procedure('nerve-block'), at(71));
    expect(r).toEqual({ code: 'conflict', field: 'type', message: sentence('limit.interventional-procedures') });
    // Still inside the window a day before the first one leaves it…
    expect(refusal(s, procedure('nerve-block'), at(43 + 364)).code).toBe('conflict');
    // …and accepted once it has.
    const later = step(s, procedure('nerve-block'), at(43 + 365));
    expect(later.state.timeline.at(-1)!.numbers).toMatchObject({ proceduresInWindow: 4 });
  });

  it('the limit follows the definition', () => {
    const d = definition((x) => void (x.stages.interventional.procedureLimit = { count: 2, windowDays: 30 }));
    let s = toInterventional(undefined, undefined, d);
    s = step(s, procedure('nerve-block'), at(43)).state;
    s = step(s, procedure('nerve-block'), at(50)).state;
    expect(refusal(s, procedure('nerve-block'), at(60))).toMatchObject({ code: 'conflict', message: sentence('limit.interventional-procedures', d) });
    expect(checkEvent(s, procedure('nerve-block'), at(74))).toBeNull();
  });

  it('refuses procedures that do not belong to the current stage', () => {
    const conservative = start().state;
    expect(refusal(conservative, procedure('nerve-block'), at(1))).toMatchObject({ code: 'conflict', field: 'type' });
    const interventional = toInterventional();
    for (const type of ['scs-trial', 'scs-implant', 'psychological-evaluation'] as const) {
      expect(refusal(interventional, procedure(type, type === 'psychological-evaluation' ? { outcome: 'cleared' } : {}), at(43))).toMatchObject({
        code: 'conflict',
        field: 'type',
      });
    }
    const onlyBlocks = definition((x) => void (x.stages.interventional.procedures = ['nerve-block']));
    const restricted = toInterventional(undefined, undefined, onlyBlocks);
    expect(refusal(restricted, procedure('radiofrequency-ablation'), at(43))).toMatchObject({ code: 'conflict', field: 'type' });
    expect(checkEvent(restricted, procedure('nerve-block'), at(43))).toBeNull();
    const scs = toScs();
    expect(refusal(scs, procedure('epidural-steroid-injection'), at(110))).toMatchObject({ code: 'conflict', field: 'type' });
    expect(refusal(toRevision(), procedure('nerve-block'), at(111))).toMatchObject({ code: 'conflict', field: 'type' });
  });

  it('checks performedAt and outcome', () => {
    const s = toInterventional(); // stage entered day 42
    expect(refusal(s, procedure('nerve-block', { performedAt: new Date(at(50) + 2 * HOUR_MS).toISOString() }), at(50))).toMatchObject({
      code: 'invalid',
      field: 'performedAt',
    });
    expect(checkEvent(s, procedure('nerve-block', { performedAt: new Date(at(50) + 30 * 60 * 1000).toISOString() }), at(50))).toBeNull();
    expect(refusal(s, procedure('nerve-block', performed(41)), at(50))).toMatchObject({ code: 'conflict', field: 'performedAt' });
    expect(refusal(s, procedure('nerve-block', { outcome: 'cleared' }), at(50))).toMatchObject({ code: 'invalid', field: 'outcome' });
  });
});

describe('spinal cord stimulation', () => {
  it('refuses a reassessment before a trial or implant is under way', () => {
    expect(refusal(toScs(), reassess(5), at(110)).code).toBe('conflict');
  });

  it('a psychological evaluation that does not clear escalates to revision referral (escalation.scs-psychology)', () => {
    const o = step(toScs(), procedure('psychological-evaluation', { outcome: 'not-cleared' }), at(110));
    const s = o.state;
    expect(s.stage).toBe('revision-referral');
    expect(s.scs.psychology).toBe('not-cleared');
    expect(s.due).toEqual({ kind: 'workup', dueAt: isoAt(110 + 42) });
    expect(o.entries.map((e) => e.event)).toEqual(['procedure', 'stage-changed']);
    expect(o.entries[0]!.numbers).toEqual({ type: 'psychological-evaluation', outcome: 'not-cleared' });
    expect(o.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'escalation.scs-psychology',
      rule: sentence('escalation.scs-psychology'),
      numbers: { psychologicalEvaluation: 'not-cleared', fromStage: 'scs', toStage: 'revision-referral' },
      stageBefore: 'scs',
      stageAfter: 'revision-referral',
      statusBefore: 'active',
      statusAfter: 'active',
    });
    expect(o.effects).toEqual([
      {
        type: 'notify-care-team',
        key: 'pw-unit.20250106090000000.stage-changed.10',
        topic: 'stage-changed',
        stage: 'revision-referral',
        status: 'active',
        due: { kind: 'workup', dueAt: isoAt(152) },
      },
    ]);
  });

  it('clearance, then a trial, then a trial reassessment; the SCS procedures come in order', () => {
    const s0 = toScs();
    expect(refusal(s0, procedure('psychological-evaluation'), at(110))).toMatchObject({ code: 'invalid', field: 'outcome' });
    expect(refusal(s0, procedure('scs-trial'), at(110))).toMatchObject({ code: 'conflict', field: 'type' });
    expect(refusal(s0, procedure('scs-implant'), at(110))).toMatchObject({ code: 'conflict', field: 'type' });

    const cleared = step(s0, procedure('psychological-evaluation', { outcome: 'cleared' }), at(110));
    expect(cleared.state.stage).toBe('scs');
    expect(cleared.state.due).toEqual({ kind: 'scs-trial', dueAt: isoAt(110 + 42) });
    expect(cleared.effects).toEqual([]);
    expect(refusal(cleared.state, procedure('psychological-evaluation', { outcome: 'cleared' }), at(111)).code).toBe('conflict');
    expect(refusal(cleared.state, procedure('scs-implant'), at(111)).code).toBe('conflict');
    expect(refusal(cleared.state, reassess(5), at(111)).code).toBe('conflict');

    const trial = step(cleared.state, procedure('scs-trial', performed(120)), at(121));
    expect(trial.state.scs.trialStartedAt).toBe(isoAt(120));
    expect(trial.state.due).toEqual({ kind: 'trial-reassessment', dueAt: isoAt(120 + 7) });
    expect(trial.entries[0]!.numbers).toEqual({ type: 'scs-trial', trialDays: 7 });
    expect(refusal(trial.state, procedure('scs-trial'), at(122)).code).toBe('conflict');
    expect(refusal(trial.state, procedure('scs-implant'), at(122)).code).toBe('conflict');
    expect(checkEvent(trial.state, reassess(5), at(127))).toBeNull();
  });

  it('a trial with ≥ 50% relief makes the implant due; no stage change', () => {
    const o = step(toScsTrial(), reassess(5), at(127)); // reference 10 → 5: 50%
    const s = o.state;
    expect(s.stage).toBe('scs');
    expect(s.status).toBe('active');
    expect(s.scs.trialSucceeded).toBe(true);
    expect(s.due).toEqual({ kind: 'scs-implant', dueAt: isoAt(127 + 42) });
    expect(o.entries).toHaveLength(1);
    expect(o.entries[0]).toMatchObject({ ruleId: 'response.scs-trial', numbers: { referencePainNrs: 10, painReliefPercent: 50, reliefThresholdPercent: 50 } });
    expect(o.effects).toEqual([]);
    // A successful trial is not a step towards discharge.
    expect(s.consecutiveResponses).toBe(0);
    // No second trial reassessment before the implant.
    expect(refusal(s, reassess(5), at(128)).code).toBe('conflict');
    expect(checkEvent(s, procedure('scs-implant'), at(130))).toBeNull();
  });

  it('a trial with 49% relief escalates to revision referral (escalation.scs-trial)', () => {
    const o = step(toScsTrial(), reassess(5.1), at(127));
    expect(o.state.stage).toBe('revision-referral');
    expect(o.state.scs.trialSucceeded).toBe(false);
    expect(o.state.due).toEqual({ kind: 'workup', dueAt: isoAt(127 + 42) });
    expect(o.entries.map((e) => e.event)).toEqual(['reassessment', 'stage-changed']);
    expect(o.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'escalation.scs-trial',
      rule: sentence('escalation.scs-trial'),
      numbers: { painReliefPercent: 49, reliefThresholdPercent: 50, fromStage: 'scs', toStage: 'revision-referral' },
      stageBefore: 'scs',
      stageAfter: 'revision-referral',
    });
    expect(o.effects.map((e) => e.type === 'notify-care-team' && e.topic)).toEqual(['stage-changed']);
  });

  it('an implant sets follow-ups every 84 days from when it was performed', () => {
    const s = toImplanted(); // performed day 139
    expect(s.scs.implantedAt).toBe(isoAt(139));
    expect(s.cadence).toEqual({ anchorAt: isoAt(139), everyDays: 84 });
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(139 + 84) });
    expect(refusal(s, procedure('scs-implant'), at(141)).code).toBe('conflict');

    const first = step(s, reassess(4), at(223));
    expect(first.entries[0]).toMatchObject({ ruleId: 'response.scs-follow-up' });
    expect(first.state.status).toBe('active');
    expect(first.state.consecutiveResponses).toBe(1);
    expect(first.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(139 + 168) });
    // A late follow-up keeps the cadence.
    expect(step(s, reassess(4), at(230)).state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(139 + 168) });

    const second = step(first.state, reassess(4), at(307));
    expect(second.state.status).toBe('completed');
    expect(second.entries.at(-1)).toMatchObject({ ruleId: 'completion.sustained-response', stageAfter: 'scs' });
  });

  it('a follow-up without response after the implant escalates to revision referral (escalation.scs-follow-up)', () => {
    const o = step(toImplanted(), reassess(6), at(223)); // 40%
    expect(o.state.stage).toBe('revision-referral');
    expect(o.state.cadence).toBeNull();
    expect(o.entries[1]).toMatchObject({
      ruleId: 'escalation.scs-follow-up',
      rule: sentence('escalation.scs-follow-up'),
      numbers: { painReliefPercent: 40, fromStage: 'scs', toStage: 'revision-referral' },
      stageBefore: 'scs',
      stageAfter: 'revision-referral',
    });
  });
});

describe('revision referral', () => {
  const ITEMS = ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const;

  it('records each work-up item; the last one issues the referral', () => {
    let s = toRevision(); // entered day 110
    expect(pendingWorkup(s)).toEqual([...ITEMS]);
    ITEMS.slice(0, -1).forEach((item, i) => {
      const o = step(s, workup(item), at(111 + i));
      expect(o.entries).toHaveLength(1);
      expect(o.entries[0]).toMatchObject({ event: 'workup-result', numbers: { item, pending: ITEMS.length - i - 1 } });
      expect(o.effects).toEqual([]);
      expect(o.state.due).toEqual({ kind: 'workup', dueAt: isoAt(152) });
      expect(o.state.workup.completed[item]).toBe(isoAt(111 + i));
      s = o.state;
    });
    expect(pendingWorkup(s)).toEqual(['second-opinion']);
    expect(s.workup.referralIssuedAt).toBeUndefined();

    const last = step(s, workup('second-opinion'), at(120));
    expect(last.entries.map((e) => e.event)).toEqual(['workup-result', 'referral-issued']);
    expect(last.entries[1]).toMatchObject({
      actor: SYSTEM,
      ruleId: 'referral.workup-complete',
      rule: sentence('referral.workup-complete'),
      numbers: { itemsComplete: 5 },
      stageBefore: 'revision-referral',
      stageAfter: 'revision-referral',
      statusBefore: 'active',
      statusAfter: 'active',
      due: { kind: 'surgical-consult', dueAt: isoAt(120 + 56) },
    });
    expect(last.effects).toEqual([{ type: 'issue-revision-referral', key: 'pw-unit.20250106090000000.referral.16' }]);
    expect(last.state.workup.referralIssuedAt).toBe(isoAt(120));
    expect(last.state.due).toEqual({ kind: 'surgical-consult', dueAt: isoAt(176) });
    expect(pendingWorkup(last.state)).toEqual([]);
  });

  it('refuses a repeated item and a surgical consult before the referral; the consult completes the pathway', () => {
    let s = toRevision();
    s = step(s, workup('imaging'), at(111)).state;
    expect(refusal(s, workup('imaging'), at(112))).toMatchObject({ code: 'conflict', field: 'item' });
    expect(refusal(s, workup('surgical-consult'), at(112))).toMatchObject({ code: 'conflict', field: 'item' });
    for (const item of ITEMS.slice(1)) s = step(s, workup(item), at(113)).state;
    expect(refusal(s, workup('labs'), at(114))).toMatchObject({ code: 'conflict', field: 'item' });

    const o = step(s, workup('surgical-consult'), at(150));
    expect(o.state.status).toBe('completed');
    expect(o.state.closedAt).toBe(isoAt(150));
    expect(o.state.due).toBeNull();
    expect(o.state.workup.consultRecordedAt).toBe(isoAt(150));
    expect(o.entries.map((e) => [e.event, e.ruleId])).toEqual([
      ['workup-result', undefined],
      ['completed', 'completion.surgical-consult'],
    ]);
    expect(o.entries[1]).toMatchObject({
      actor: SYSTEM,
      rule: sentence('completion.surgical-consult'),
      numbers: { item: 'surgical-consult', referralIssuedAt: isoAt(113) },
      stageBefore: 'revision-referral',
      stageAfter: 'revision-referral',
      statusBefore: 'active',
      statusAfter: 'completed',
    });
    expect(o.effects).toEqual([
      { type: 'notify-care-team', key: 'pw-unit.20250106090000000.completed.18', topic: 'completed', stage: 'revision-referral', status: 'completed', due: null },
    ]);
  });

  it('uses the definition’s own work-up list', () => {
    const d = definition((x) => void (x.stages['revision-referral'].workupItems = ['imaging', 'labs']));
    let s = toRevision(d);
    expect(refusal(s, workup('bone-density'), at(111))).toMatchObject({ code: 'conflict', field: 'item' });
    s = step(s, workup('labs'), at(111)).state;
    const o = step(s, workup('imaging'), at(112));
    expect(o.effects).toEqual([{ type: 'issue-revision-referral', key: 'pw-unit.20250106090000000.referral.13' }]);
    expect(o.entries[1]).toMatchObject({ numbers: { itemsComplete: 2 }, rule: sentence('referral.workup-complete', d) });
  });

  it('work-up belongs to the revision-referral stage only', () => {
    expect(refusal(start().state, workup('imaging'), at(1))).toMatchObject({ code: 'conflict', field: 'item' });
    expect(refusal(toScs(), workup('imaging'), at(110))).toMatchObject({ code: 'conflict', field: 'item' });
  });

  it('a reassessment in revision referral is kept for the record and decides nothing', () => {
    const o = step(toRevision(), reassess(1), at(120));
    expect(o.entries).toHaveLength(1);
    expect(o.entries[0]).toMatchObject({ event: 'reassessment', summary: 'Reassessment recorded.' });
    expect(o.entries[0]!.ruleId).toBeUndefined();
    expect(o.state.reassessments.at(-1)!.evaluation).toBeUndefined();
    expect(o.state.stage).toBe('revision-referral');
    expect(o.state.status).toBe('active');
    expect(o.effects).toEqual([]);
  });
});

describe('red flags', () => {
  const urgent = (e: Outcome): void => {
    expect(e.state.status).toBe('urgent-referral');
    expect(e.effects).toContainEqual(expect.objectContaining({ type: 'notify-care-team', topic: 'urgent-referral', status: 'urgent-referral' }));
  };

  it('in a reassessment: recorded without evaluation, then urgent referral', () => {
    let s = start().state;
    s = step(s, reassess(5), at(10)).state; // one response so far
    const o = step(s, reassess(2, { redFlags: ['progressive-motor-deficit'], note: 'new foot drop' }), at(20));
    urgent(o);
    expect(o.entries.map((e) => e.event)).toEqual(['reassessment', 'red-flags']);
    expect(o.entries[0]!.ruleId).toBeUndefined();
    expect(o.entries[1]).toMatchObject({
      ruleId: 'red-flag.urgent-referral',
      rule: sentence('red-flag.urgent-referral'),
      numbers: { redFlags: 'progressive-motor-deficit' },
      reason: 'new foot drop',
      statusBefore: 'active',
      statusAfter: 'urgent-referral',
    });
    // A large pain drop with a red flag is not a response: the pathway must not complete.
    expect(o.state.consecutiveResponses).toBe(1);
    expect(o.state.reassessments.at(-1)).toMatchObject({ painNrs: 2, redFlags: ['progressive-motor-deficit'], evaluation: undefined });
    expect(o.state.pause).toEqual({ since: isoAt(20), kind: 'urgent-referral' });
  });

  it('alone: urgent referral from any stage; stepped care waits', () => {
    const o = step(toInterventional(), flags(['infection']), at(50));
    urgent(o);
    expect(o.state.stage).toBe('interventional');
    expect(o.entries).toHaveLength(1);
    expect(o.effects).toEqual([
      {
        type: 'notify-care-team',
        key: 'pw-unit.20250106090000000.urgent-referral.4',
        topic: 'urgent-referral',
        stage: 'interventional',
        status: 'urgent-referral',
        due: { kind: 'procedure', dueAt: isoAt(70) },
      },
    ]);
    expect(nextWakeUpAt(o.state)).toBeNull();
    expect(refusal(o.state, reassess(5), at(51)).code).toBe('conflict');
    expect(refusal(o.state, procedure('nerve-block'), at(51)).code).toBe('conflict');
    expect(refusal(o.state, action({ action: 'escalate', reason: 'no time' }), at(51)).code).toBe('conflict');
    expect(refusal(o.state, action({ action: 'discharge', reason: 'no time' }), at(51)).code).toBe('conflict');
    expect(refusal(o.state, hold(), at(51)).code).toBe('conflict');
    // More red flags are always accepted.
    expect(checkEvent(o.state, flags(['suspected-fracture']), at(51))).toBeNull();
    expect(checkEvent(o.state, reassess(5, { redFlags: ['suspected-fracture'] }), at(51))).toBeNull();
  });

  it('resume after an urgent referral returns to the same stage and moves the due date by the time paused', () => {
    let s = toInterventional(); // entered day 42, procedure due day 70
    s = step(s, flags(['suspected-malignancy']), at(50)).state;
    const o = step(s, resume(CLINICIAN), at(65));
    expect(o.state.status).toBe('active');
    expect(o.state.stage).toBe('interventional');
    expect(o.state.pause).toBeNull();
    expect(o.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(70 + 15) });
    expect(o.state.stageClockAt).toBe(isoAt(42 + 15));
    expect(o.entries[0]).toMatchObject({
      event: 'override',
      ruleId: 'override.resume',
      rule: sentence('override.resume'),
      reason: 'patient back',
      numbers: { pausedFor: 'urgent-referral', heldDays: 15, dueBefore: isoAt(70) },
      statusBefore: 'urgent-referral',
      statusAfter: 'active',
      stageBefore: 'interventional',
      stageAfter: 'interventional',
      due: { kind: 'procedure', dueAt: isoAt(85) },
    });
    // The reminder on the moved due date.
    expect(nextWakeUpAt(o.state)).toBe(at(85));
  });

  it('resume after red flags at enrolment moves the first reassessment and the cadence', () => {
    const s = step(start({ redFlags: ['infection'] }).state, resume(CLINICIAN), at(5)).state;
    expect(s.status).toBe('active');
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(47) });
    expect(s.cadence).toEqual({ anchorAt: isoAt(5), everyDays: 42 });
    // The stage clock skipped the 5 days: day 46 is 41 active days.
    expect(step(s, reassess(7), at(46)).state.stage).toBe('conservative');
    expect(step(s, reassess(7), at(47)).state.stage).toBe('interventional');
  });

  it('red flags during a hold keep the pause start, so resuming moves due dates by the whole time', () => {
    let s = start().state;
    s = step(s, hold(), at(10)).state;
    expect(checkEvent(s, reassess(6, { redFlags: ['suspected-fracture'] }), at(15))).toBeNull();
    s = step(s, flags(['suspected-fracture']), at(15)).state;
    expect(s.status).toBe('urgent-referral');
    expect(s.pause).toEqual({ since: isoAt(10), kind: 'urgent-referral' });
    s = step(s, resume(CLINICIAN), at(30)).state;
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(62) });
    expect(s.stageClockAt).toBe(isoAt(20));
  });

  it('close after an urgent referral; close is refused otherwise', () => {
    const active = start().state;
    expect(refusal(active, action({ action: 'close', reason: 'admitted' }), at(1)).code).toBe('conflict');
    const s = step(active, flags(['bladder-bowel-dysfunction']), at(3)).state;
    const o = step(s, action({ action: 'close', reason: 'admitted for surgery' }), at(4));
    expect(o.state.status).toBe('closed');
    expect(o.state.closedAt).toBe(isoAt(4));
    expect(o.state.due).toBeNull();
    expect(o.state.pause).toBeNull();
    expect(o.entries[0]).toMatchObject({
      ruleId: 'override.close',
      reason: 'admitted for surgery',
      actor: CLINICIAN,
      statusBefore: 'urgent-referral',
      statusAfter: 'closed',
    });
    expect(o.effects).toEqual([{ type: 'notify-care-team', key: 'pw-unit.20250106090000000.closed.3', topic: 'closed', stage: 'conservative', status: 'closed', due: null }]);
  });
});

describe('hold, resume, withdraw, discharge, escalate', () => {
  it('hold and resume move the due date and the stage clock by the time held', () => {
    let s = start().state;
    const held = step(s, hold(), at(10));
    expect(held.state.status).toBe('on-hold');
    expect(held.state.pause).toEqual({ since: isoAt(10), kind: 'hold' });
    expect(held.entries[0]).toMatchObject({ ruleId: 'override.hold', reason: 'patient travelling', statusBefore: 'active', statusAfter: 'on-hold' });
    expect(nextWakeUpAt(held.state)).toBeNull();
    // Timers stop: nothing happens long after the original due date.
    expect(applyClock(held.state, at(80)).entries).toEqual([]);
    expect(refusal(held.state, reassess(5), at(20)).code).toBe('conflict');
    expect(refusal(held.state, hold(), at(20)).code).toBe('conflict');

    s = step(held.state, resume(), at(30)).state;
    expect(s.status).toBe('active');
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(62) });
    expect(s.stageClockAt).toBe(isoAt(20));
    expect(s.stageEnteredAt).toBe(isoAt(0));
    expect(s.cadence).toEqual({ anchorAt: isoAt(20), everyDays: 42 });
    expect(nextWakeUpAt(s)).toBe(at(62));
    expect(refusal(s, resume(), at(31)).code).toBe('conflict');

    // Active time excludes the 20 days held.
    const early = step(s, reassess(7), at(61));
    expect(early.state.stage).toBe('conservative');
    expect(early.entries[1]).toMatchObject({ ruleId: 'escalation.minimum-duration', numbers: { activeDays: 41, minimumDays: 42 } });
    expect(early.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(62) });
    const onTime = step(s, reassess(7), at(62));
    expect(onTime.state.stage).toBe('interventional');
    expect(onTime.entries[1]).toMatchObject({ ruleId: 'escalation.conservative', numbers: { activeDays: 42 } });
  });

  it('hold and resume in interventional move the procedure-driven reassessment', () => {
    let s = toInterventional();
    s = step(s, procedure('nerve-block'), at(45)).state; // reassessment due day 73
    s = step(s, hold(), at(50)).state;
    s = step(s, resume(), at(57)).state;
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(80) });
  });

  it('withdraw closes the pathway from any open status', () => {
    const seqs: number[] = [];
    for (const s of [start().state, step(start().state, hold(), at(1)).state, start({ redFlags: ['infection'] }).state]) {
      const o = step(s, action({ action: 'withdraw', reason: 'moved away' }, COORDINATOR), at(2));
      seqs.push(o.entries[0]!.seq);
      expect(o.state.status).toBe('withdrawn');
      expect(o.state.closedAt).toBe(isoAt(2));
      expect(o.state.due).toBeNull();
      expect(o.state.pause).toBeNull();
      expect(o.entries[0]).toMatchObject({ ruleId: 'override.withdraw', statusAfter: 'withdrawn', reason: 'moved away' });
      expect(o.effects).toEqual([
        { type: 'notify-care-team', key: `pw-unit.20250106090000000.closed.${o.entries[0]!.seq}`, topic: 'closed', stage: 'conservative', status: 'withdrawn', due: null },
      ]);
      expect(nextWakeUpAt(o.state)).toBeNull();
    }
    expect(seqs).toEqual([2, 3, 3]);
  });

  it('discharge completes the pathway by a clinician with a reason', () => {
    const o = step(toInterventional(), action({ action: 'discharge', reason: 'symptoms resolved' }), at(50));
    expect(o.state.status).toBe('completed');
    expect(o.entries[0]).toMatchObject({
      event: 'completed',
      actor: CLINICIAN,
      ruleId: 'override.discharge',
      reason: 'symptoms resolved',
      stageAfter: 'interventional',
      statusBefore: 'active',
      statusAfter: 'completed',
    });
    expect(o.effects).toEqual([
      { type: 'notify-care-team', key: 'pw-unit.20250106090000000.completed.4', topic: 'completed', stage: 'interventional', status: 'completed', due: null },
    ]);
  });

  it('escalate override: to the next stage, or a named later one, never backwards or past the last', () => {
    const s = start().state;
    const next = step(s, action({ action: 'escalate', reason: 'intolerant of NSAIDs' }), at(5));
    expect(next.state.stage).toBe('interventional');
    expect(next.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(33) });
    expect(next.entries[0]).toMatchObject({
      event: 'stage-changed',
      actor: CLINICIAN,
      ruleId: 'override.escalate',
      reason: 'intolerant of NSAIDs',
      numbers: { requestedStage: null, fromStage: 'conservative', toStage: 'interventional' },
    });
    const named = step(s, action({ action: 'escalate', toStage: 'scs', reason: 'failed injections elsewhere' }), at(5));
    expect(named.state.stage).toBe('scs');
    expect(named.state.due).toEqual({ kind: 'psychological-evaluation', dueAt: isoAt(47) });
    expect(refusal(toScs(), action({ action: 'escalate', toStage: 'interventional', reason: 'go back' }), at(110))).toMatchObject({
      code: 'conflict',
      field: 'toStage',
    });
    expect(refusal(toScs(), action({ action: 'escalate', toStage: 'scs', reason: 'same' }), at(110)).code).toBe('conflict');
    expect(refusal(toRevision(), action({ action: 'escalate', reason: 'no further' }), at(111)).code).toBe('conflict');
    expect(nextStage('revision-referral')).toBeNull();
    expect(nextStage('conservative')).toBe('interventional');
  });
});

describe('closed pathways', () => {
  const everything = (): PathwayEvent[] => [
    reassess(5),
    reassess(5, { redFlags: ['infection'] }),
    procedure('nerve-block'),
    workup('imaging'),
    workup('surgical-consult'),
    flags(['infection']),
    action({ action: 'escalate', reason: 'try' }),
    action({ action: 'hold', reason: 'try' }),
    action({ action: 'resume', reason: 'try' }),
    action({ action: 'withdraw', reason: 'try' }),
    action({ action: 'discharge', reason: 'try' }),
    action({ action: 'close', reason: 'try' }),
  ];

  it('refuse every event with a conflict, whatever the way they closed', () => {
    const completed = step(step(start().state, reassess(5), at(42)).state, reassess(5), at(84)).state;
    const withdrawn = step(start().state, action({ action: 'withdraw', reason: 'moved' }), at(1)).state;
    const closed = step(step(start().state, flags(['infection']), at(1)).state, action({ action: 'close', reason: 'admitted' }), at(2)).state;
    expect([completed.status, withdrawn.status, closed.status]).toEqual(['completed', 'withdrawn', 'closed']);
    for (const s of [completed, withdrawn, closed]) {
      for (const e of everything()) {
        expect(refusal(s, e, at(100)), `${s.status}: ${e.type} ${JSON.stringify(e.input)}`).toMatchObject({ code: 'conflict' });
      }
      expect(applyClock(s, at(1000)).entries).toEqual([]);
    }
  });
});

describe('roles', () => {
  it('a coordinator cannot record a reassessment, report red flags or take clinical actions', () => {
    const s = start().state;
    expect(refusal(s, reassess(5, {}, COORDINATOR), at(42))).toMatchObject({ code: 'forbidden' });
    expect(refusal(s, reassess(5, { redFlags: ['infection'] }, COORDINATOR), at(42))).toMatchObject({ code: 'forbidden' });
    expect(refusal(s, flags(['infection'], COORDINATOR), at(1)).code).toBe('forbidden');
    expect(refusal(s, action({ action: 'escalate', reason: 'x'.repeat(5) }, COORDINATOR), at(1)).code).toBe('forbidden');
    expect(refusal(s, action({ action: 'discharge', reason: 'done now' }, COORDINATOR), at(1)).code).toBe('forbidden');
    const urgent = step(s, flags(['infection']), at(1)).state;
    expect(refusal(urgent, action({ action: 'close', reason: 'admitted' }, COORDINATOR), at(2)).code).toBe('forbidden');
  });

  it('a coordinator may record procedures and work-up, hold, resume and withdraw', () => {
    expect(checkEvent(toInterventional(), procedure('nerve-block', {}, COORDINATOR), at(43))).toBeNull();
    expect(checkEvent(toRevision(), workup('imaging', COORDINATOR), at(111))).toBeNull();
    const s = start().state;
    expect(checkEvent(s, hold(COORDINATOR), at(1))).toBeNull();
    expect(checkEvent(step(s, hold(COORDINATOR), at(1)).state, resume(COORDINATOR), at(2))).toBeNull();
    expect(checkEvent(s, action({ action: 'withdraw', reason: 'moved' }, COORDINATOR), at(1))).toBeNull();
  });

  it('a viewer can do nothing, and is told so before anything about the state', () => {
    const states = [start().state, toInterventional(), toRevision(), step(start().state, flags(['infection']), at(1)).state];
    const events = (a: Actor): PathwayEvent[] => [
      reassess(5, {}, a),
      reassess(5, { redFlags: ['infection'] }, a),
      procedure('nerve-block', {}, a),
      workup('imaging', a),
      flags(['infection'], a),
      ...(['escalate', 'hold', 'resume', 'withdraw', 'discharge', 'close'] as const).map((name) => action({ action: name, reason: 'because' }, a)),
    ];
    for (const s of states) {
      for (const e of events(VIEWER)) {
        const r = refusal(s, e, at(120));
        expect(r.code, `${s.stage}/${s.status}: ${e.type}`).toBe('forbidden');
        expect(r.message).toContain('viewer');
      }
    }
  });

  it('the system actor is not limited by role', () => {
    expect(checkEvent(start().state, reassess(5, {}, SYSTEM), at(42))).toBeNull();
  });
});

describe('the passing of time', () => {
  const due = 42; // first reassessment, 2025-02-17
  const DUE = { kind: 'reassessment', dueAt: isoAt(due) } as const;
  const KEY = 'pw-unit.reminder.reassessment.20250217090000000';

  /** Applies the clock at each wake-up in turn, up to and including `untilDay`. */
  function drive(s: PathwayState, untilDay: number): { state: PathwayState; wakes: number[]; outcomes: Outcome[] } {
    const wakes: number[] = [];
    const outcomes: Outcome[] = [];
    for (let wake = nextWakeUpAt(s); wake !== null && wake <= at(untilDay); wake = nextWakeUpAt(s)) {
      // Nothing happens a millisecond before the wake-up.
      expect(applyClock(s, wake - 1).entries).toEqual([]);
      const o = applyClock(s, wake);
      expect(o.entries.length, `clock at ${new Date(wake).toISOString()}`).toBeGreaterThan(0);
      wakes.push(wake);
      outcomes.push(o);
      s = o.state;
    }
    return { state: s, wakes, outcomes };
  }
  const reminderEffects = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: 'send-reminder' }> => e.type === 'send-reminder');

  it('nothing happens before the due date', () => {
    const s = start().state;
    for (const now of [at(1), at(20), at(due) - 1]) {
      const o = applyClock(s, now);
      expect(o.entries).toEqual([]);
      expect(o.effects).toEqual([]);
      expect(o.state).toBe(s);
    }
  });

  it('followUpPoints: due, overdue after the grace, weekly reminders, lost at overdue + 28 (default definition)', () => {
    expect(followUpPoints(start().state)).toEqual([
      { at: at(42), sequence: 1, kind: 'due' },
      { at: at(45), sequence: 2, kind: 'overdue' },
      { at: at(52), sequence: 3, kind: 'reminder' },
      { at: at(59), sequence: 4, kind: 'reminder' },
      { at: at(66), sequence: 5, kind: 'reminder' },
      { at: at(73), sequence: 6, kind: 'lost' },
    ]);
    // Nothing due, no points.
    const completed = step(step(start().state, reassess(5), at(42)).state, reassess(5), at(84)).state;
    expect(followUpPoints(completed)).toEqual([]);
  });

  it('followUpPoints follows the definition; no reminder falls on the lost point', () => {
    const d = definition((x) => {
      x.followUp = { graceDays: 2, lostToFollowUpAfterOverdueDays: 10, reminderEveryDays: 4 };
    });
    expect(followUpPoints(start({ definition: d }).state)).toEqual([
      { at: at(42), sequence: 1, kind: 'due' },
      { at: at(44), sequence: 2, kind: 'overdue' },
      { at: at(48), sequence: 3, kind: 'reminder' },
      { at: at(52), sequence: 4, kind: 'reminder' },
      { at: at(54), sequence: 5, kind: 'lost' },
    ]);
    // 10 days overdue with reminders every 5: one at +5; +10 is the lost point itself.
    const five = definition((x) => {
      x.followUp = { graceDays: 3, lostToFollowUpAfterOverdueDays: 10, reminderEveryDays: 5 };
    });
    expect(followUpPoints(start({ definition: five }).state).map((p) => [p.sequence, p.kind, (p.at - T0) / DAY_MS])).toEqual([
      [1, 'due', 42],
      [2, 'overdue', 45],
      [3, 'reminder', 50],
      [4, 'lost', 55],
    ]);
    // Reminders less often than the lost period: none between overdue and lost.
    const rare = definition((x) => {
      x.followUp = { graceDays: 3, lostToFollowUpAfterOverdueDays: 7, reminderEveryDays: 30 };
    });
    expect(followUpPoints(start({ definition: rare }).state).map((p) => p.kind)).toEqual(['due', 'overdue', 'lost']);
  });

  it('a reminder to the care team when the item falls due: level due, sequence 1', () => {
    const s = start().state;
    const o = applyClock(s, at(due));
    expect(o.state.overdue).toBe(false);
    expect(o.state.status).toBe('active');
    expect(o.state.reminders).toEqual({ forDue: `reassessment@${isoAt(due)}`, sent: 1 });
    expect(o.entries).toHaveLength(1);
    expect(o.entries[0]).toEqual({
      seq: 2,
      at: isoAt(42),
      actor: SYSTEM,
      event: 'reminder',
      ruleId: 'follow-up.reminder',
      rule: sentence('follow-up.reminder'),
      numbers: { dueKind: 'reassessment', dueAt: isoAt(42), sequence: 1, level: 'due' },
      summary: 'Reminder: reassessment due today.',
      stageBefore: 'conservative',
      stageAfter: 'conservative',
      statusBefore: 'active',
      statusAfter: 'active',
      due: DUE,
    });
    expect(o.effects).toEqual([{ type: 'send-reminder', key: `${KEY}.1`, level: 'due', sequence: 1, stage: 'conservative', due: DUE }]);
    // Once: not again at the same moment, nor before the grace runs out.
    expect(nextWakeUpAt(o.state)).toBe(at(45));
    expect(applyClock(o.state, at(due)).entries).toEqual([]);
    expect(applyClock(o.state, at(45) - 1).entries).toEqual([]);
    expect(applyClock(o.state, at(45) - 1).state).toBe(o.state);
  });

  it('overdue after the grace days: the overdue entry, then a reminder to the coordinator with sequence 2', () => {
    const reminded = applyClock(start().state, at(due)).state;
    const o = applyClock(reminded, at(due + 3));
    expect(o.state.overdue).toBe(true);
    expect(o.state.status).toBe('active');
    expect(o.state.reminders).toEqual({ forDue: `reassessment@${isoAt(due)}`, sent: 2 });
    expect(o.entries.map((e) => [e.seq, e.event, e.ruleId])).toEqual([
      [3, 'overdue', 'follow-up.overdue'],
      [4, 'reminder', 'follow-up.reminder'],
    ]);
    expect(o.entries[0]).toMatchObject({
      at: isoAt(45),
      actor: SYSTEM,
      rule: sentence('follow-up.overdue'),
      numbers: { dueKind: 'reassessment', dueAt: isoAt(42), graceDays: 3 },
      summary: 'Overdue: reassessment was due 2025-02-17.',
      stageBefore: 'conservative',
      stageAfter: 'conservative',
      statusBefore: 'active',
      statusAfter: 'active',
      due: DUE,
    });
    expect(o.entries[1]).toMatchObject({
      at: isoAt(45),
      actor: SYSTEM,
      rule: sentence('follow-up.reminder'),
      numbers: { dueKind: 'reassessment', dueAt: isoAt(42), sequence: 2, level: 'overdue' },
      summary: 'Reminder to the coordinator: reassessment overdue since 2025-02-17.',
      statusBefore: 'active',
      statusAfter: 'active',
    });
    // One reminder and no care-team notification: there is no 'overdue' topic any more.
    expect(o.effects).toEqual([{ type: 'send-reminder', key: `${KEY}.2`, level: 'overdue', sequence: 2, stage: 'conservative', due: DUE }]);
    expect(nextWakeUpAt(o.state)).toBe(at(52));
    expect(applyClock(o.state, at(52) - 1).entries).toEqual([]);
  });

  it('weekly reminders at overdue + 7, + 14, + 21, then lost to follow-up at overdue + 28', () => {
    const { state, wakes, outcomes } = drive(start().state, 400);
    expect(wakes).toEqual([at(42), at(45), at(52), at(59), at(66), at(73)]);
    expect(outcomes.map((o) => o.entries.map((e) => e.event))).toEqual([
      ['reminder'],
      ['overdue', 'reminder'],
      ['reminder'],
      ['reminder'],
      ['reminder'],
      ['lost-to-follow-up'],
    ]);
    const reminders = outcomes.flatMap((o) => reminderEffects(o.effects));
    expect(reminders.map((r) => [r.sequence, r.level])).toEqual([
      [1, 'due'],
      [2, 'overdue'],
      [3, 'overdue'],
      [4, 'overdue'],
      [5, 'overdue'],
    ]);
    for (const [i, o] of outcomes.slice(2, 5).entries()) {
      expect(o.entries[0]).toMatchObject({
        at: isoAt(52 + 7 * i),
        ruleId: 'follow-up.reminder',
        numbers: { dueKind: 'reassessment', dueAt: isoAt(42), sequence: 3 + i, level: 'overdue' },
      });
      expect(o.effects).toEqual([{ type: 'send-reminder', key: `${KEY}.${3 + i}`, level: 'overdue', sequence: 3 + i, stage: 'conservative', due: DUE }]);
      // Still overdue; only one overdue entry in the whole run.
      expect(o.state.overdue).toBe(true);
    }
    expect(state.timeline.filter((e) => e.event === 'overdue')).toHaveLength(1);

    const lost = outcomes[5]!;
    expect(lost.entries[0]).toMatchObject({
      seq: 8,
      at: isoAt(73),
      actor: SYSTEM,
      event: 'lost-to-follow-up',
      ruleId: 'follow-up.lost',
      rule: sentence('follow-up.lost'),
      numbers: { dueKind: 'reassessment', dueAt: isoAt(42), overdueDays: 28 },
      summary: 'Lost to follow-up: pathway on hold until a coordinator resumes it.',
      statusBefore: 'active',
      statusAfter: 'on-hold',
    });
    // The lost point notifies the care team and sends no reminder.
    expect(lost.effects).toEqual([
      { type: 'notify-care-team', key: 'pw-unit.20250106090000000.lost-to-follow-up.8', topic: 'lost-to-follow-up', stage: 'conservative', status: 'on-hold', due: DUE },
    ]);
    expect(state.status).toBe('on-hold');
    expect(state.pause).toEqual({ since: isoAt(73), kind: 'lost-to-follow-up' });
    expect(state.reminders).toEqual({ forDue: `reassessment@${isoAt(42)}`, sent: 6 });
    expect(nextWakeUpAt(state)).toBeNull();
    expect(applyClock(state, at(400)).entries).toEqual([]);
    expect(refusal(state, reassess(5), at(80)).code).toBe('conflict');
  });

  it('after a long gap only the latest passed point acts: one reminder, and the overdue entry when crossing it', () => {
    // From nothing sent to day 62: the due, overdue and two weekly points have passed; the latest is sequence 4.
    const o = applyClock(start().state, at(62));
    expect(o.entries.map((e) => [e.event, e.numbers?.sequence ?? null])).toEqual([
      ['overdue', null],
      ['reminder', 4],
    ]);
    expect(o.entries.every((e) => e.at === isoAt(62))).toBe(true);
    expect(o.effects).toEqual([{ type: 'send-reminder', key: `${KEY}.4`, level: 'overdue', sequence: 4, stage: 'conservative', due: DUE }]);
    expect(o.state.overdue).toBe(true);
    expect(o.state.reminders.sent).toBe(4);
    expect(nextWakeUpAt(o.state)).toBe(at(66));
    expect(applyClock(o.state, at(66)).effects.map((e) => e.type === 'send-reminder' && e.sequence)).toEqual([5]);

    // Already overdue (sequence 2 sent), then a gap to day 70: one reminder, sequence 5, and no second overdue entry.
    const overdue = applyClock(applyClock(start().state, at(42)).state, at(45)).state;
    const gap = applyClock(overdue, at(70));
    expect(gap.entries.map((e) => e.event)).toEqual(['reminder']);
    expect(gap.entries[0]!.numbers).toMatchObject({ sequence: 5, level: 'overdue' });
    expect(reminderEffects(gap.effects).map((r) => r.sequence)).toEqual([5]);
    expect(nextWakeUpAt(gap.state)).toBe(at(73));

    // From the due date straight past the grace: overdue, and reminder 2, not 1.
    const late = applyClock(start().state, at(50));
    expect(late.entries.map((e) => e.event)).toEqual(['overdue', 'reminder']);
    expect(reminderEffects(late.effects).map((r) => [r.sequence, r.level])).toEqual([[2, 'overdue']]);

    // A gap past the lost point: overdue and lost recorded, no reminder at all.
    const gone = applyClock(start().state, at(200));
    expect(gone.entries.map((e) => e.event)).toEqual(['overdue', 'lost-to-follow-up']);
    expect(gone.effects).toEqual([
      { type: 'notify-care-team', key: 'pw-unit.20250106090000000.lost-to-follow-up.3', topic: 'lost-to-follow-up', stage: 'conservative', status: 'on-hold', due: DUE },
    ]);
    expect(gone.state.status).toBe('on-hold');
    expect(gone.state.pause).toEqual({ since: isoAt(200), kind: 'lost-to-follow-up' });
    expect(nextWakeUpAt(gone.state)).toBeNull();
  });

  it('reminder keys are stable and distinct across sequences', () => {
    const { outcomes } = drive(start().state, 400);
    const keys = outcomes.flatMap((o) => o.effects.map((e) => e.key));
    expect(keys).toEqual([`${KEY}.1`, `${KEY}.2`, `${KEY}.3`, `${KEY}.4`, `${KEY}.5`, 'pw-unit.20250106090000000.lost-to-follow-up.8']);
    expect(new Set(keys).size).toBe(keys.length);
    // Stable: the same point gives the same key whenever the clock reaches it, and the clock is deterministic.
    const reminded = applyClock(start().state, at(42)).state;
    expect(applyClock(reminded, at(45)).effects[0]!.key).toBe(`${KEY}.2`);
    expect(applyClock(reminded, at(47) + 5 * HOUR_MS).effects[0]!.key).toBe(`${KEY}.2`);
    expect(applyClock(reminded, at(45))).toEqual(applyClock(reminded, at(45)));
    // Replaying a whole run gives the same effects.
    expect(drive(start().state, 400).outcomes.flatMap((o) => o.effects)).toEqual(outcomes.flatMap((o) => o.effects));
    // Another pathway, or another due item, gets other keys.
    const other = enroll({ pathwayId: 'pw-other', careTeam: 'spine-a', definition: DEF, baseline: { painNrs: 8 }, redFlags: [], enrolledBy: COORDINATOR }, T0);
    expect(applyClock(other.state, at(42)).effects[0]!.key).toBe('pw-other.reminder.reassessment.20250217090000000.1');
    const next = step(reminded, reassess(5), at(43)).state; // next reassessment due day 84, 2025-03-31
    expect(applyClock(next, at(84)).effects[0]!.key).toBe('pw-unit.reminder.reassessment.20250331090000000.1');
    expect(applyClock(toInterventional(), at(70)).effects[0]!.key).toBe('pw-unit.reminder.procedure.20250317090000000.1');
  });

  it('a recorded reassessment stops the reminders for the old due item and schedules the new one', () => {
    const overdue = applyClock(applyClock(start().state, at(42)).state, at(45)).state;
    expect(overdue.reminders.sent).toBe(2);
    const o = step(overdue, reassess(5), at(46));
    const s = o.state;
    expect(o.effects).toEqual([]);
    expect(s.overdue).toBe(false);
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(84) });
    expect(nextWakeUpAt(s)).toBe(at(84));
    // The weekly points of the old item pass without a word.
    for (const day of [52, 59, 66, 73, 83]) expect(applyClock(s, at(day)).entries, `day ${day}`).toEqual([]);
    // The new item starts afresh: a due reminder with sequence 1, then overdue at + 3.
    const fresh = applyClock(s, at(84));
    expect(fresh.entries.map((e) => e.event)).toEqual(['reminder']);
    expect(fresh.effects).toEqual([
      {
        type: 'send-reminder',
        key: 'pw-unit.reminder.reassessment.20250331090000000.1',
        level: 'due',
        sequence: 1,
        stage: 'conservative',
        due: { kind: 'reassessment', dueAt: isoAt(84) },
      },
    ]);
    expect(fresh.state.reminders).toEqual({ forDue: `reassessment@${isoAt(84)}`, sent: 1 });
    expect(nextWakeUpAt(fresh.state)).toBe(at(87));
    const again = applyClock(fresh.state, at(87));
    expect(again.entries.map((e) => e.event)).toEqual(['overdue', 'reminder']);
    expect(reminderEffects(again.effects).map((r) => r.sequence)).toEqual([2]);
  });

  it('an escalation or a procedure moves the reminders to the new due item', () => {
    const overdue = applyClock(applyClock(start().state, at(42)).state, at(45)).state;
    // A non-responding reassessment escalates: the procedure falls due 28 days later.
    const escalated = step(overdue, reassess(7), at(46)).state;
    expect(escalated.stage).toBe('interventional');
    expect(escalated.overdue).toBe(false);
    expect(nextWakeUpAt(escalated)).toBe(at(74));
    expect(applyClock(escalated, at(73)).entries).toEqual([]);
    expect(reminderEffects(applyClock(escalated, at(74)).effects)).toEqual([
      { type: 'send-reminder', key: 'pw-unit.reminder.procedure.20250321090000000.1', level: 'due', sequence: 1, stage: 'interventional', due: { kind: 'procedure', dueAt: isoAt(74) } },
    ]);
    // An overdue procedure, then the procedure: the reassessment after it is reminded from its own due date.
    const procedureOverdue = applyClock(toInterventional(), at(73)).state; // due day 70
    expect(procedureOverdue.overdue).toBe(true);
    const done = step(procedureOverdue, procedure('nerve-block'), at(74)).state;
    expect(done.overdue).toBe(false);
    expect(done.due).toEqual({ kind: 'reassessment', dueAt: isoAt(102) });
    expect(nextWakeUpAt(done)).toBe(at(102));
  });

  it('a backdated procedure whose reassessment is already past acts at once, with one reminder', () => {
    const s = step(toInterventional(), procedure('nerve-block', performed(43)), at(76)).state; // reassessment due day 71
    expect(nextWakeUpAt(s)).toBe(at(71));
    const o = applyClock(s, at(76));
    expect(o.entries.map((e) => e.event)).toEqual(['overdue', 'reminder']);
    expect(reminderEffects(o.effects).map((r) => [r.sequence, r.level])).toEqual([[2, 'overdue']]);
  });

  it('a second procedure giving the very same due item keeps it overdue and its reminders running (no second overdue entry)', () => {
    // Two procedures performed in one session (day 43); the second is recorded late, on day 75, when the
    // reassessment both call for (day 71) is already overdue and reminded twice.
    let s = step(toInterventional(), procedure('nerve-block', performed(43)), at(43)).state;
    s = applyClock(applyClock(s, at(71)).state, at(74)).state;
    expect(s.overdue).toBe(true);
    expect(s.reminders).toEqual({ forDue: `reassessment@${isoAt(71)}`, sent: 2 });
    const second = step(s, procedure('facet-joint-injection', performed(43)), at(75)).state;
    expect(second.due).toEqual({ kind: 'reassessment', dueAt: isoAt(71) });
    // The same due item (kind and date): its follow-up goes on from where it was, so it is still overdue.
    expect(second.reminders).toEqual({ forDue: `reassessment@${isoAt(71)}`, sent: 2 });
    expect(nextWakeUpAt(second)).toBe(at(81));
    expect(second.overdue).toBe(true);
    const next = applyClock(second, at(81));
    expect(next.entries.map((e) => [e.event, e.numbers?.sequence ?? null])).toEqual([['reminder', 3]]);
    expect(next.state.timeline.filter((e) => e.event === 'overdue')).toHaveLength(1);
  });

  it('a hold stops the reminders; resume moves them and starts them afresh', () => {
    const reminded = applyClock(start().state, at(42)).state; // due reminder sent
    const held = step(reminded, hold(), at(43)).state;
    expect(nextWakeUpAt(held)).toBeNull();
    for (const day of [45, 52, 73, 200]) expect(applyClock(held, at(day)).entries, `day ${day}`).toEqual([]);
    // Held 7 days: due on day 49, a new item whose reminders start again at sequence 1.
    const resumed = step(held, resume(), at(50)).state;
    expect(resumed.due).toEqual({ kind: 'reassessment', dueAt: isoAt(49) });
    expect(resumed.overdue).toBe(false);
    expect(nextWakeUpAt(resumed)).toBe(at(49));
    const o = applyClock(resumed, at(50));
    expect(o.entries.map((e) => e.event)).toEqual(['reminder']);
    expect(o.effects).toEqual([
      {
        type: 'send-reminder',
        key: 'pw-unit.reminder.reassessment.20250224090000000.1',
        level: 'due',
        sequence: 1,
        stage: 'conservative',
        due: { kind: 'reassessment', dueAt: isoAt(49) },
      },
    ]);
    expect(nextWakeUpAt(o.state)).toBe(at(52));
    expect(followUpPoints(o.state).map((p) => (p.at - T0) / DAY_MS)).toEqual([49, 52, 59, 66, 73, 80]);

    // A hold before the due date: nothing while held, everything moved by the time held.
    const early = step(step(start().state, hold(), at(30)).state, resume(), at(40)).state;
    expect(early.due).toEqual({ kind: 'reassessment', dueAt: isoAt(52) });
    expect(nextWakeUpAt(early)).toBe(at(52));
    expect(applyClock(early, at(51)).entries).toEqual([]);
    expect(reminderEffects(applyClock(early, at(52)).effects).map((r) => [r.sequence, r.due.dueAt])).toEqual([[1, isoAt(52)]]);
  });

  it('an urgent referral stops the reminders like a hold', () => {
    const reminded = applyClock(start().state, at(42)).state;
    const urgent = step(reminded, flags(['infection']), at(43)).state;
    expect(nextWakeUpAt(urgent)).toBeNull();
    expect(applyClock(urgent, at(100)).entries).toEqual([]);
    const back = step(urgent, resume(CLINICIAN), at(53)).state;
    expect(back.due).toEqual({ kind: 'reassessment', dueAt: isoAt(52) });
    expect(nextWakeUpAt(back)).toBe(at(52));
  });

  it('lost to follow-up (on hold) at due + 3 + 28 days', () => {
    const overdue = applyClock(start().state, at(due + 3)).state;
    const o = applyClock(overdue, at(due + 31));
    expect(o.state.status).toBe('on-hold');
    expect(o.state.pause).toEqual({ since: isoAt(73), kind: 'lost-to-follow-up' });
    expect(o.entries).toHaveLength(1);
    expect(o.entries[0]).toMatchObject({
      actor: SYSTEM,
      event: 'lost-to-follow-up',
      ruleId: 'follow-up.lost',
      rule: sentence('follow-up.lost'),
      numbers: { dueKind: 'reassessment', dueAt: isoAt(42), overdueDays: 28 },
      statusBefore: 'active',
      statusAfter: 'on-hold',
    });
    expect(o.effects).toEqual([
      { type: 'notify-care-team', key: 'pw-unit.20250106090000000.lost-to-follow-up.4', topic: 'lost-to-follow-up', stage: 'conservative', status: 'on-hold', due: DUE },
    ]);
    expect(nextWakeUpAt(o.state)).toBeNull();
    expect(applyClock(o.state, at(400)).entries).toEqual([]);
    expect(refusal(o.state, reassess(5), at(80)).code).toBe('conflict');
  });

  it('resume from lost to follow-up makes the item due at resume time: reminded at once, not lost again', () => {
    const lost = applyClock(applyClock(start().state, at(45)).state, at(73)).state;
    const o = step(lost, resume(), at(80));
    const s = o.state;
    expect(s.status).toBe('active');
    expect(s.overdue).toBe(false);
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(80) });
    expect(o.entries[0]!.numbers).toMatchObject({ pausedFor: 'lost-to-follow-up', heldDays: 7, dueBefore: isoAt(42) });
    expect(o.effects).toEqual([]);
    expect(nextWakeUpAt(s)).toBe(at(80));
    const now = applyClock(s, at(80));
    expect(now.entries.map((e) => e.event)).toEqual(['reminder']);
    expect(now.state.status).toBe('active');
    expect(reminderEffects(now.effects).map((r) => [r.sequence, r.level, r.due.dueAt])).toEqual([[1, 'due', isoAt(80)]]);
    expect(applyClock(now.state, at(83) - 1).entries).toEqual([]);
    const again = applyClock(now.state, at(83));
    expect(again.entries.map((e) => e.event)).toEqual(['overdue', 'reminder']);
    expect(again.state.status).toBe('active');
    // The whole follow-up runs again from the new due date: lost at 80 + 3 + 28.
    expect(followUpPoints(again.state).at(-1)).toEqual({ at: at(111), sequence: 6, kind: 'lost' });
  });

  it('an item overdue when a hold began falls due at resume time', () => {
    const overdue = applyClock(start().state, at(50)).state;
    const s = step(step(overdue, hold(), at(55)).state, resume(), at(60)).state;
    expect(s.overdue).toBe(false);
    expect(s.due).toEqual({ kind: 'reassessment', dueAt: isoAt(60) });
    expect(nextWakeUpAt(s)).toBe(at(60));
    expect(reminderEffects(applyClock(s, at(60)).effects).map((r) => [r.sequence, r.level])).toEqual([[1, 'due']]);
  });

  it('nextWakeUpAt follows the definition’s grace, reminder and lost-to-follow-up days', () => {
    const d = definition((x) => {
      x.followUp = { graceDays: 0, lostToFollowUpAfterOverdueDays: 10, reminderEveryDays: 4 };
    });
    const s = start({ definition: d }).state;
    expect(nextWakeUpAt(s)).toBe(at(42));
    // No grace: the due and overdue points coincide, and the later one acts.
    const overdue = applyClock(s, at(42));
    expect(overdue.entries.map((e) => e.event)).toEqual(['overdue', 'reminder']);
    expect(reminderEffects(overdue.effects).map((r) => [r.sequence, r.level])).toEqual([[2, 'overdue']]);
    expect(overdue.entries[0]!.numbers).toMatchObject({ graceDays: 0 });
    const { state, wakes } = drive(overdue.state, 400);
    expect(wakes).toEqual([at(46), at(50), at(52)]);
    expect(state.status).toBe('on-hold');
    expect(state.timeline.at(-1)).toMatchObject({ event: 'lost-to-follow-up', numbers: { overdueDays: 10 }, rule: sentence('follow-up.lost', d) });
  });

  it('nextWakeUpAt for other waits: procedure, trial reassessment, implant follow-up, work-up, surgical consult', () => {
    expect(nextWakeUpAt(toInterventional())).toBe(at(42 + 28));
    expect(nextWakeUpAt(toScsTrial())).toBe(at(127));
    expect(nextWakeUpAt(toImplanted())).toBe(at(139 + 84));
    expect(nextWakeUpAt(toRevision())).toBe(at(110 + 42));
    let s = toRevision();
    for (const item of ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const) s = step(s, workup(item), at(120)).state;
    expect(nextWakeUpAt(s)).toBe(at(120 + 56));
    expect(applyClock(s, at(176)).effects).toEqual([
      {
        type: 'send-reminder',
        key: 'pw-unit.reminder.surgical-consult.20250701090000000.1',
        level: 'due',
        sequence: 1,
        stage: 'revision-referral',
        due: { kind: 'surgical-consult', dueAt: isoAt(176) },
      },
    ]);
  });

  it('closed pathways have no wake-up', () => {
    const completed = step(step(start().state, reassess(5), at(42)).state, reassess(5), at(84)).state;
    const withdrawn = step(applyClock(start().state, at(45)).state, action({ action: 'withdraw', reason: 'moved' }), at(46)).state;
    for (const s of [completed, withdrawn]) {
      expect(s.due).toBeNull();
      expect(nextWakeUpAt(s)).toBeNull();
      expect(applyClock(s, at(1000)).state).toBe(s);
    }
  });
});

describe('noteSideEffect', () => {
  const reminder = (): Outcome => applyClock(start().state, at(42));

  it('records a delivery by webhook or onto the worklist, with the message id, and changes nothing else', () => {
    const o = reminder();
    const effect = o.effects[0]!;
    const byWebhook = noteSideEffect(o.state, at(42), effect, 'webhook');
    expect(byWebhook.timeline).toHaveLength(o.state.timeline.length + 1);
    expect(byWebhook.timeline.at(-1)).toEqual({
      seq: 3,
      at: isoAt(42),
      actor: SYSTEM,
      event: 'notification',
      numbers: { messageId: 'pw-unit.reminder.reassessment.20250217090000000.1', sideEffect: 'send-reminder', outcome: 'webhook' },
      summary: 'Delivered by webhook: reminder 1 (reassessment due).',
      stageBefore: 'conservative',
      stageAfter: 'conservative',
      statusBefore: 'active',
      statusAfter: 'active',
      due: { kind: 'reassessment', dueAt: isoAt(42) },
    });
    expect(byWebhook.undelivered).toEqual([]);
    expect({ ...byWebhook, timeline: [] }).toEqual({ ...o.state, timeline: [] });
    // The clock is not disturbed: the next point is still the overdue one.
    expect(nextWakeUpAt(byWebhook)).toBe(at(45));

    const onWorklist = noteSideEffect(o.state, at(42), effect, 'worklist');
    expect(onWorklist.timeline.at(-1)).toMatchObject({
      numbers: { messageId: effect.key, sideEffect: 'send-reminder', outcome: 'worklist' },
      summary: 'On the worklist (no webhook configured): reminder 1 (reassessment due).',
    });
    expect(onWorklist.undelivered).toEqual([]);

    const overdue = applyClock(o.state, at(45));
    expect(noteSideEffect(overdue.state, at(45), overdue.effects[0]!, 'webhook').timeline.at(-1)!.summary).toBe(
      'Delivered by webhook: reminder 2 (reassessment overdue).',
    );
    const urgent = start({ redFlags: ['infection'] });
    expect(noteSideEffect(urgent.state, at(0), urgent.effects[0]!, 'worklist').timeline.at(-1)).toMatchObject({
      numbers: { messageId: 'pw-unit.20250106090000000.urgent-referral.2', sideEffect: 'notify-care-team', outcome: 'worklist' },
      summary: 'On the worklist (no webhook configured): care-team notification (urgent-referral).',
    });
    const referral: Effect = { type: 'issue-revision-referral', key: 'pw-unit.20250106090000000.referral.16' };
    expect(noteSideEffect(toRevision(), at(120), referral, 'webhook').timeline.at(-1)).toMatchObject({
      numbers: { messageId: 'pw-unit.20250106090000000.referral.16', sideEffect: 'issue-revision-referral', outcome: 'webhook' },
      summary: 'Delivered by webhook: revision-surgery referral.',
    });
  });

  it('undelivered: kept on the pathway until a person acts on it, then resolved', () => {
    const o = reminder();
    const s = noteSideEffect(o.state, at(42) + HOUR_MS, o.effects[0]!, 'undelivered');
    expect(s.timeline.at(-1)).toMatchObject({
      actor: SYSTEM,
      event: 'notification',
      numbers: { messageId: `pw-unit.reminder.reassessment.20250217090000000.1`, sideEffect: 'send-reminder', outcome: 'undelivered' },
      summary: 'Not delivered after every retry: reminder 1 (reassessment due). It stays on the worklist until someone acts on the pathway.',
    });
    expect(s.undelivered).toEqual([
      { messageId: 'pw-unit.reminder.reassessment.20250217090000000.1', effect: 'send-reminder', at: new Date(at(42) + HOUR_MS).toISOString() },
    ]);
    expect(s.status).toBe('active');

    // The passing of time does not resolve it.
    const later = applyClock(s, at(45));
    expect(later.state.undelivered).toEqual(s.undelivered);
    expect(later.state.undelivered[0]!.resolvedAt).toBeUndefined();
    // Nor does an event by the system.
    expect(step(s, reassess(7, {}, SYSTEM), at(43)).state.undelivered[0]!.resolvedAt).toBeUndefined();
    // A second undelivered message is listed too.
    const two = noteSideEffect(later.state, at(45), later.effects[0]!, 'undelivered');
    expect(two.undelivered.map((u) => u.messageId)).toEqual([
      'pw-unit.reminder.reassessment.20250217090000000.1',
      'pw-unit.reminder.reassessment.20250217090000000.2',
    ]);

    // A clinician records the reassessment: every outstanding message is resolved at that moment.
    const acted = step(two, reassess(5), at(46));
    expect(acted.state.undelivered).toEqual([
      { messageId: 'pw-unit.reminder.reassessment.20250217090000000.1', effect: 'send-reminder', at: new Date(at(42) + HOUR_MS).toISOString(), resolvedAt: isoAt(46) },
      { messageId: 'pw-unit.reminder.reassessment.20250217090000000.2', effect: 'send-reminder', at: isoAt(45), resolvedAt: isoAt(46) },
    ]);
    // Purity: the state given is unchanged.
    expect(two.undelivered.every((u) => u.resolvedAt === undefined)).toBe(true);

    // A later failure stays open; the earlier resolution keeps its time.
    const next = applyClock(acted.state, at(84));
    const reopened = noteSideEffect(next.state, at(84), next.effects[0]!, 'undelivered');
    expect(reopened.undelivered.map((u) => u.resolvedAt ?? null)).toEqual([isoAt(46), isoAt(46), null]);
    // Any person's action counts, a coordinator's hold included.
    const heldBy = step(reopened, hold(COORDINATOR), at(85)).state;
    expect(heldBy.undelivered.map((u) => u.resolvedAt ?? null)).toEqual([isoAt(46), isoAt(46), isoAt(85)]);
  });

  it('acknowledge: a coordinator clears undelivered messages without another change, and only when some are waiting', () => {
    const o = reminder();
    const s = noteSideEffect(o.state, at(42) + HOUR_MS, o.effects[0]!, 'undelivered');
    const acknowledged = step(s, action({ action: 'acknowledge', reason: 'Phoned the patient' }, COORDINATOR), at(43));
    expect(acknowledged.state.undelivered[0]!.resolvedAt).toBe(isoAt(43));
    expect(acknowledged.entries).toEqual([
      expect.objectContaining({ event: 'override', ruleId: 'override.acknowledge', numbers: { messages: 1 }, reason: 'Phoned the patient', summary: 'Undelivered message acknowledged (1).' }),
    ]);
    // Nothing else moves: stage, status and the due item stay.
    expect(acknowledged.state).toMatchObject({ stage: s.stage, status: s.status, due: s.due });
    expect(refusal(acknowledged.state, action({ action: 'acknowledge' }, COORDINATOR), at(44))).toMatchObject({ code: 'conflict' });
    expect(refusal(s, action({ action: 'acknowledge' }, VIEWER), at(44))).toMatchObject({ code: 'forbidden' });
  });

  it('undelivered care-team notifications and referrals are listed by effect type', () => {
    const urgent = start({ redFlags: ['infection'] });
    const s = noteSideEffect(urgent.state, at(1), urgent.effects[0]!, 'undelivered');
    expect(s.undelivered).toEqual([{ messageId: 'pw-unit.20250106090000000.urgent-referral.2', effect: 'notify-care-team', at: isoAt(1) }]);
    expect(s.timeline.at(-1)!.summary).toBe(
      'Not delivered after every retry: care-team notification (urgent-referral). It stays on the worklist until someone acts on the pathway.',
    );
    const resumed = step(s, resume(CLINICIAN), at(2)).state;
    expect(resumed.undelivered[0]!.resolvedAt).toBe(isoAt(2));
  });

  it('the notify-care-team topics no longer include overdue', () => {
    // @ts-expect-error 'overdue' is not a care-team notification topic any more: overdue items get a send-reminder.
    const old: Effect = { type: 'notify-care-team', key: 'k', topic: 'overdue', stage: 'conservative', status: 'active', due: null };
    expect(old.type).toBe('notify-care-team');
    // No route through the pathway produces one.
    const { effects } = applyClock(start().state, at(200));
    const all = [...effects, ...applyClock(start().state, at(45)).effects, ...applyClock(start().state, at(59)).effects];
    expect(all.some((e) => e.type === 'notify-care-team' && (e.topic as string) === 'overdue')).toBe(false);
  });
});

describe('purity', () => {
  it('applyEvent does not change the state it is given', () => {
    const cases: Array<[PathwayState, PathwayEvent, number]> = [
      [start().state, reassess(7, { odi: 38 }), at(20)],
      [start().state, reassess(7), at(42)],
      [start().state, reassess(5), at(42)],
      [step(start().state, reassess(5), at(42)).state, reassess(5), at(84)],
      [start().state, reassess(3, { redFlags: ['infection'] }), at(10)],
      [toInterventional(), procedure('nerve-block'), at(43)],
      [toScs(), procedure('psychological-evaluation', { outcome: 'not-cleared' }), at(110)],
      [toScsTrial(), reassess(5), at(127)],
      [toRevision(), workup('imaging'), at(111)],
      [step(start().state, hold(), at(5)).state, resume(), at(10)],
      [start().state, action({ action: 'withdraw', reason: 'moved' }), at(3)],
      [step(step(toInterventional(), procedure('nerve-block'), at(43)).state, procedure('nerve-block'), at(44)).state, reassess(7), at(72)],
      [noteSideEffect(applyClock(start().state, at(42)).state, at(42), applyClock(start().state, at(42)).effects[0]!, 'undelivered'), reassess(5), at(43)],
    ];
    for (const [state, event, now] of cases) {
      const before = snapshot(state);
      const o = applyEvent(state, event, now);
      expect(snapshot(state)).toBe(before);
      expect(o.state).not.toBe(state);
      expect(o.state.timeline.length).toBeGreaterThan(state.timeline.length);
    }
  });

  it('applyClock and noteSideEffect do not change the state they are given', () => {
    const s = start().state;
    const before = snapshot(s);
    const reminded = applyClock(s, at(42));
    expect(snapshot(s)).toBe(before);
    expect(s.reminders).toEqual({ forDue: null, sent: 0 });
    expect(s.timeline).toHaveLength(1);
    const before2 = snapshot(reminded.state);
    const overdue = applyClock(reminded.state, at(45));
    expect(snapshot(reminded.state)).toBe(before2);
    expect(reminded.state.overdue).toBe(false);
    expect(reminded.state.reminders.sent).toBe(1);
    const before3 = snapshot(overdue.state);
    applyClock(overdue.state, at(60));
    applyClock(overdue.state, at(73));
    expect(snapshot(overdue.state)).toBe(before3);

    for (const outcome of ['webhook', 'worklist', 'undelivered'] as const) {
      const noted = noteSideEffect(overdue.state, at(45), overdue.effects[0]!, outcome);
      expect(snapshot(overdue.state)).toBe(before3);
      expect(noted).not.toBe(overdue.state);
      expect(noted.timeline.at(-1)).toMatchObject({
        actor: SYSTEM,
        event: 'notification',
        numbers: { messageId: overdue.effects[0]!.key, sideEffect: 'send-reminder', outcome },
      });
      expect(noted.timeline.at(-1)!.ruleId).toBeUndefined();
    }
    expect(overdue.state.undelivered).toEqual([]);
  });
});

describe('the timeline', () => {
  /** Runs the main routes through the pathway and returns every final state. */
  function routes(): PathwayState[] {
    const conservativeCompletion = step(step(start().state, reassess(5), at(42)).state, reassess(5), at(84)).state;
    let early = step(start().state, reassess(7), at(20)).state;
    early = step(early, reassess(7), at(42)).state;
    const trialFailure = step(toScsTrial(), reassess(6), at(127)).state;
    let revision = toRevision();
    for (const item of ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const) revision = step(revision, workup(item), at(120)).state;
    revision = step(revision, workup('surgical-consult'), at(150)).state;
    const implantCompletion = step(step(toImplanted(), reassess(4), at(223)).state, reassess(4), at(307)).state;
    const followUpFailure = step(toImplanted(), reassess(8), at(223)).state;
    const lost = step(applyClock(applyClock(start().state, at(45)).state, at(73)).state, resume(), at(80)).state;
    const redFlagged = step(step(start({ redFlags: ['infection'] }).state, resume(CLINICIAN), at(3)).state, reassess(2, { redFlags: ['suspected-fracture'] }), at(10)).state;
    let reminded = start().state;
    for (const day of [42, 45, 52]) reminded = applyClock(reminded, at(day)).state;
    reminded = step(reminded, reassess(5), at(53)).state;
    return [conservativeCompletion, early, trialFailure, revision, implantCompletion, followUpFailure, lost, redFlagged, reminded];
  }

  const AUTOMATIC = new Set(['stage-changed', 'completed', 'referral-issued', 'overdue', 'lost-to-follow-up', 'red-flags', 'reminder']);
  const isAutomatic = (e: TimelineEntry): boolean =>
    !e.ruleId?.startsWith('override.') && (AUTOMATIC.has(e.event) || (e.actor.role === 'system' && e.event !== 'notification') || !!e.ruleId);

  it('numbers entries 1, 2, 3… in time order', () => {
    for (const s of routes()) {
      expect(s.timeline.map((e) => e.seq)).toEqual(s.timeline.map((_, i) => i + 1));
      const times = s.timeline.map((e) => Date.parse(e.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    }
  });

  it('every automatic decision carries its rule id, the rule sentence, numbers and the stage and status before and after', () => {
    const seen = new Set<string>();
    for (const s of routes()) {
      for (const e of s.timeline.filter(isAutomatic)) {
        const label = `${e.event} ${e.ruleId} (${e.summary})`;
        seen.add(e.ruleId!);
        expect(e.ruleId, label).toBeDefined();
        expect(e.rule, label).toBe(sentence(e.ruleId!, s.definition));
        expect(e.numbers, label).toBeTypeOf('object');
        expect(Object.keys(e.numbers ?? {}).length, label).toBeGreaterThan(0);
        expect(STAGES, label).toContain(e.stageBefore);
        expect(STAGES, label).toContain(e.stageAfter);
        expect(e.statusBefore, label).toMatch(/^(active|on-hold|urgent-referral|completed|withdrawn|closed)$/);
        expect(e.statusAfter, label).toMatch(/^(active|on-hold|urgent-referral|completed|withdrawn|closed)$/);
        if (e.event === 'stage-changed') {
          expect(e.stageAfter, label).not.toBe(e.stageBefore);
          expect(e.numbers, label).toMatchObject({ fromStage: e.stageBefore, toStage: e.stageAfter });
        }
        if (e.event === 'completed') expect(e.statusAfter, label).toBe('completed');
        if (e.event === 'red-flags') expect(e.statusAfter, label).toBe('urgent-referral');
        if (e.event === 'lost-to-follow-up') expect([e.statusBefore, e.statusAfter], label).toEqual(['active', 'on-hold']);
        if (e.event === 'reminder') {
          expect(e.ruleId, label).toBe('follow-up.reminder');
          expect([e.statusBefore, e.statusAfter], label).toEqual(['active', 'active']);
          expect(e.numbers, label).toMatchObject({ dueKind: e.due?.kind, dueAt: e.due?.dueAt });
          expect(e.numbers?.level, label).toBe(e.numbers?.sequence === 1 ? 'due' : 'overdue');
        }
      }
    }
    // The routes above exercise all of these automatic rules.
    expect([...seen].sort()).toEqual(
      [
        'completion.sustained-response',
        'completion.surgical-consult',
        'procedure.reassess-after',
        'procedure.scs-follow-up',
        'procedure.scs-trial-days',
        'escalation.conservative',
        'escalation.interventional',
        'escalation.minimum-duration',
        'escalation.scs-psychology',
        'escalation.scs-follow-up',
        'escalation.scs-trial',
        'follow-up.lost',
        'follow-up.overdue',
        'follow-up.reminder',
        'red-flag.urgent-referral',
        'referral.workup-complete',
        'response.conservative',
        'response.interventional',
        'response.scs-follow-up',
        'response.scs-trial',
      ].sort(),
    );
  });

  it('the completion on a surgical consult carries its rule, numbers and stage and status before and after', () => {
    let s = toRevision();
    for (const item of ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const) s = step(s, workup(item), at(120)).state;
    const e = step(s, workup('surgical-consult'), at(150)).entries.find((x) => x.event === 'completed')!;
    expect(e).toMatchObject({
      ruleId: 'completion.surgical-consult',
      rule: sentence('completion.surgical-consult'),
      stageBefore: 'revision-referral',
      stageAfter: 'revision-referral',
      statusBefore: 'active',
      statusAfter: 'completed',
    });
    expect(e.numbers).toEqual({ item: 'surgical-consult', referralIssuedAt: isoAt(120) });
  });

  it('every effect of a long route has its own key, and the same route gives the same keys', () => {
    function run(): Effect[] {
      const effects: Effect[] = [];
      let s = start({ baseline: { painNrs: 10, odi: 50 } }).state;
      const event = (e: PathwayEvent, day: number) => {
        const o = step(s, e, at(day));
        effects.push(...o.effects);
        s = o.state;
        for (const x of o.effects) s = noteSideEffect(s, at(day), x, 'webhook');
      };
      const clock = (day: number) => {
        const o = applyClock(s, at(day));
        effects.push(...o.effects);
        s = o.state;
        for (const x of o.effects) s = noteSideEffect(s, at(day), x, 'worklist');
      };
      for (const day of [42, 45, 52]) clock(day);
      event(reassess(10), 53); // interventional
      clock(81); // procedure due day 81
      event(procedure('nerve-block'), 82);
      event(reassess(10), 110);
      clock(138);
      clock(141);
      event(procedure('nerve-block'), 142);
      event(reassess(10), 170); // scs
      event(procedure('psychological-evaluation', { outcome: 'not-cleared' }), 171); // revision referral
      for (const item of ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const) event(workup(item), 172);
      clock(228); // surgical consult due day 228
      event(workup('surgical-consult'), 230);
      expect(s.status).toBe('completed');
      return effects;
    }
    const effects = run();
    const keys = effects.map((e) => e.key);
    expect(effects.map((e) => (e.type === 'notify-care-team' ? e.topic : e.type))).toEqual([
      'send-reminder',
      'send-reminder',
      'send-reminder',
      'stage-changed',
      'send-reminder',
      'send-reminder',
      'send-reminder',
      'stage-changed',
      'stage-changed',
      'issue-revision-referral',
      'send-reminder',
      'completed',
    ]);
    expect(keys.every((k) => k.startsWith('pw-unit.'))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(run().map((e) => e.key)).toEqual(keys);
  });

  it('the entries an outcome returns are exactly the ones appended to the timeline', () => {
    const s = start().state;
    const o = step(s, reassess(7), at(42));
    expect(o.state.timeline.slice(s.timeline.length)).toEqual(o.entries);
    expect(o.entries.map((e) => e.seq)).toEqual([2, 3]);
    expect(o.entries.every((e) => e.at === isoAt(42))).toBe(true);
  });
});
