/**
 * Issue 9's rules on the pure state machine, at their boundaries, on psps-lumbar v2 (and v1
 * where v1 keeps its behaviour): who resumes an urgent referral, days between injections, the
 * baseline before procedures, acceptable pain, months before an SCS trial, a trial's success
 * by pain or by MME, the full red-flag list, back-dated events, and decisions that carry their
 * numbers and the due item they leave. Day n is T0 + n days; enrolment is at day 0.
 */
import { describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema, type PathwayDefinition, type ProcedureType, type RedFlag } from '../../clinical/definition';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from '../../clinical/definitions/psps-lumbar.v2.json';
import type { ActionInput, Actor, ProcedureInput, ReassessmentInput, Scores } from '../../clinical/events';
import {
  applyClock,
  applyEvent,
  checkEvent,
  enroll,
  type Outcome,
  type PathwayEvent,
  type PathwayState,
  type Refusal,
} from '../../clinical/pathway';
import { DAY_MS, addMonths, ruleSentence } from '../../clinical/rules';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const at = (days: number): number => T0 + days * DAY_MS;
const isoAt = (days: number): string => new Date(at(days)).toISOString();

const CLINICIAN: Actor = { id: 'dr-lee', role: 'clinician' };
const COORDINATOR: Actor = { id: 'coord-kim', role: 'coordinator' };
const V1: PathwayDefinition = PathwayDefinitionSchema.parse(structuredClone(pspsLumbarV1));
const V2: PathwayDefinition = PathwayDefinitionSchema.parse(structuredClone(pspsLumbarV2));

const reassess = (painNrs: number, extra: Partial<ReassessmentInput> = {}, actor: Actor = CLINICIAN): PathwayEvent => ({ type: 'reassessment', actor, input: { painNrs, ...extra } });
const procedure = (type: ProcedureType, extra: Partial<ProcedureInput> = {}, actor: Actor = COORDINATOR): PathwayEvent => ({ type: 'procedure', actor, input: { type, ...extra } });
const performed = (days: number): Partial<ProcedureInput> => ({ performedAt: isoAt(days) });
const action = (input: ActionInput, actor: Actor): PathwayEvent => ({ type: 'action', actor, input });
const flags = (redFlags: RedFlag[], extra: { reportedAt?: string } = {}): PathwayEvent => ({ type: 'red-flags', actor: CLINICIAN, input: { redFlags, ...extra } });

function start(opts: { baseline?: Scores; definition?: PathwayDefinition; redFlags?: RedFlag[]; conservativeCareSince?: string } = {}): PathwayState {
  return enroll(
    {
      pathwayId: 'pw-unit',
      careTeam: 'spine-a',
      definition: opts.definition ?? V2,
      baseline: opts.baseline ?? { painNrs: 8, odi: 40 },
      redFlags: opts.redFlags ?? [],
      ...(opts.conservativeCareSince ? { conservativeCareSince: opts.conservativeCareSince } : {}),
      enrolledBy: COORDINATOR,
    },
    T0,
  ).state;
}
function step(state: PathwayState, event: PathwayEvent, now: number): Outcome {
  const refused = checkEvent(state, event, now);
  if (refused) throw new Error(`unexpected refusal of ${event.type}: ${JSON.stringify(refused)}`);
  return applyEvent(state, event, now);
}
function refusal(state: PathwayState, event: PathwayEvent, now: number): Refusal {
  const r = checkEvent(state, event, now);
  if (!r) throw new Error(`expected ${event.type} ${JSON.stringify(event.input)} to be refused`);
  return r;
}

/** Interventional from day 42, reference pain 10 and ODI 50 (a complete baseline). */
function toInterventional(def: PathwayDefinition = V2, extra: Partial<ReassessmentInput> = {}): PathwayState {
  const s = step(start({ definition: def, baseline: { painNrs: 10, odi: 50 } }), reassess(10, { odi: 50, ...extra }), at(42)).state;
  expect(s.stage).toBe('interventional');
  return s;
}
/** SCS from day 108 (two injections without response), reference pain 10, ODI 50 and 90 MME. */
function toScs(def: PathwayDefinition = V2, enrolment: { conservativeCareSince?: string } = {}): PathwayState {
  let s = step(start({ definition: def, baseline: { painNrs: 10, odi: 50 }, ...enrolment }), reassess(10, { odi: 50 }), at(42)).state;
  s = step(s, procedure('epidural-steroid-injection', performed(45)), at(45)).state;
  s = step(s, reassess(10, { odi: 50 }), at(73)).state;
  s = step(s, procedure('facet-joint-injection', performed(80)), at(80)).state;
  s = step(s, reassess(10, { odi: 50, dailyMme: 90 }), at(108)).state;
  expect(s.stage).toBe('scs');
  return step(s, procedure('psychological-evaluation', { outcome: 'cleared', ...performed(110) }), at(110)).state;
}

describe('1. only a clinician resumes from an urgent referral', () => {
  for (const def of [V1, V2]) {
    it(`v${def.version}: a coordinator is refused (forbidden), a clinician resumes`, () => {
      const urgent = step(start({ definition: def }), flags(['infection']), at(3)).state;
      const r = refusal(urgent, action({ action: 'resume', reason: 'seen in clinic' }, COORDINATOR), at(5));
      expect(r).toEqual({ code: 'forbidden', message: 'only a clinician may resume a pathway after an urgent referral' });
      expect(step(urgent, action({ action: 'resume', reason: 'seen in clinic' }, CLINICIAN), at(5)).state.status).toBe('active');
    });
  }

  it('a coordinator still resumes a hold and a pathway lost to follow-up', () => {
    const held = step(start(), action({ action: 'hold', reason: 'travelling' }, COORDINATOR), at(3)).state;
    expect(step(held, action({ action: 'resume', reason: 'back' }, COORDINATOR), at(10)).state.status).toBe('active');
    const lost = applyClock(applyClock(start(), at(45)).state, at(73)).state;
    expect(lost.pause?.kind).toBe('lost-to-follow-up');
    expect(step(lost, action({ action: 'resume', reason: 'reached by phone' }, COORDINATOR), at(80)).state.status).toBe('active');
  });
});

describe('2. interventional procedures at least 14 days apart (v2)', () => {
  it('13 calendar days after the last is refused with a conflict naming the rule and the dates; 14 is accepted', () => {
    const s = step(toInterventional(), procedure('epidural-steroid-injection', performed(45)), at(45)).state;
    const r = refusal(s, procedure('epidural-steroid-injection', performed(58)), at(58));
    expect(r.code).toBe('conflict');
    expect(r.field).toBe('performedAt');
    expect(r.message).toContain(ruleSentence('limit.procedure-interval', V2));
    expect(r.message).toContain(`performed ${isoAt(45).slice(0, 10)}, 13 days from this one (${isoAt(58).slice(0, 10)})`);
    expect(r.message).toContain(`the next may be performed from ${isoAt(59).slice(0, 10)}`);
    expect(checkEvent(s, procedure('nerve-block', performed(59)), at(59))).toBeNull();
  });

  it('counts calendar days: a morning injection 14 days after an afternoon one is accepted', () => {
    const s = step(toInterventional(), procedure('epidural-steroid-injection', { performedAt: new Date(at(45) + 6 * 3600_000).toISOString() }), at(46)).state;
    expect(checkEvent(s, procedure('epidural-steroid-injection', { performedAt: new Date(at(59) - 2 * 3600_000).toISOString() }), at(60))).toBeNull();
  });

  it('a back-dated procedure must keep 14 days from those on either side', () => {
    let s = step(toInterventional(), procedure('epidural-steroid-injection', performed(45)), at(45)).state;
    s = step(s, procedure('facet-joint-injection', performed(75)), at(75)).state;
    expect(refusal(s, procedure('nerve-block', performed(62)), at(76)).message).toContain(`performed ${isoAt(75).slice(0, 10)}, 13 days`);
    expect(checkEvent(s, procedure('nerve-block', performed(60)), at(76))).toBeNull();
  });

  it('v1 sets no interval: injections a day apart are accepted as before', () => {
    const s = step(toInterventional(V1), procedure('epidural-steroid-injection', performed(45)), at(45)).state;
    expect(checkEvent(s, procedure('epidural-steroid-injection', performed(46)), at(46))).toBeNull();
  });
});

describe('3. a baseline of pain and function before procedures (v2)', () => {
  const withoutOdi = (): PathwayState => {
    const s = step(start({ baseline: { painNrs: 8 } }), reassess(7), at(42)).state;
    expect(s.stage).toBe('interventional');
    return s;
  };

  it('a stage entered without ODI waits for a baseline, due at once (on the worklist)', () => {
    const s = withoutOdi();
    expect(s.due).toEqual({ kind: 'baseline', dueAt: isoAt(42) });
    expect(s.timeline.at(-1)).toMatchObject({ event: 'stage-changed', due: { kind: 'baseline', dueAt: isoAt(42) } });
  });

  it('a procedure without the baseline is refused, naming what is missing; present, it is accepted', () => {
    const s = withoutOdi();
    const r = refusal(s, procedure('epidural-steroid-injection'), at(43));
    expect(r).toMatchObject({ code: 'conflict', field: 'baseline.odi' });
    expect(r.message).toContain('Missing: ODI');
    const complete = step(s, reassess(7, { odi: 44 }), at(44));
    expect(complete.entries[0]).toMatchObject({ event: 'reassessment', ruleId: 'baseline.required', numbers: { painNrs: 7, odi: 44, missing: null } });
    expect(complete.state.reference).toMatchObject({ painNrs: 7, odi: 44, from: 'reassessment', at: isoAt(44) });
    // The procedure is due by the stage's own schedule: 28 days from its start.
    expect(complete.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(70) });
    expect(complete.entries[0]!.due).toEqual({ kind: 'procedure', dueAt: isoAt(70) });
    expect(checkEvent(complete.state, procedure('epidural-steroid-injection'), at(45))).toBeNull();
  });

  it('a baseline reassessment still without ODI keeps the baseline due', () => {
    const o = step(withoutOdi(), reassess(6), at(44));
    expect(o.entries[0]).toMatchObject({ ruleId: 'baseline.required', numbers: { missing: 'odi' } });
    expect(o.state.due?.kind).toBe('baseline');
  });

  it('a stage entered with pain and ODI needs nothing more', () => {
    expect(toInterventional().due).toEqual({ kind: 'procedure', dueAt: isoAt(70) });
  });

  it('v1 names no baseline: the first injection is accepted without ODI, as before', () => {
    const s = step(start({ definition: V1, baseline: { painNrs: 8 } }), reassess(7), at(42)).state;
    expect(s.due?.kind).toBe('procedure');
    expect(checkEvent(s, procedure('epidural-steroid-injection'), at(43))).toBeNull();
  });
});

describe('4. acceptable pain, or a reference of 0, never escalates', () => {
  it('v2: NRS 0 then NRS 0 is acceptable pain, a response: no escalation', () => {
    const o = step(start({ baseline: { painNrs: 0, odi: 10 } }), reassess(0), at(42));
    expect(o.state.stage).toBe('conservative');
    expect(o.entries[0]).toMatchObject({ ruleId: 'response.conservative', numbers: { referencePainNrs: 0, painReliefPercent: null, acceptablePainNrs: 3, painAcceptable: true } });
    expect(o.state.consecutiveResponses).toBe(1);
  });

  it('v2: pain at the acceptable level (NRS 3) responds whatever the change; 3.1 does not', () => {
    const acceptable = step(start({ baseline: { painNrs: 4, odi: 30 } }), reassess(3), at(42));
    expect(acceptable.state.stage).toBe('conservative');
    expect(acceptable.entries[0]!.numbers).toMatchObject({ painReliefPercent: 25, painAcceptable: true });
    const above = step(start({ baseline: { painNrs: 4, odi: 30 } }), reassess(3.1), at(42));
    expect(above.state.stage).toBe('interventional');
    expect(above.entries[0]!.numbers).toMatchObject({ painAcceptable: false });
  });

  it('v2: a reference of 0 with pain now above the acceptable level escalates nothing and becomes the reference', () => {
    const o = step(start({ baseline: { painNrs: 0, odi: 10 } }), reassess(5), at(42));
    expect(o.state.stage).toBe('conservative');
    expect(o.entries.map((e) => e.ruleId)).toEqual(['response.conservative', 'escalation.acceptable-pain']);
    expect(o.entries[1]!.rule).toBe(ruleSentence('escalation.acceptable-pain', V2));
    expect(o.state.reference).toMatchObject({ painNrs: 5, from: 'reassessment' });
    // Measured against 5 from now on: 5 -> 5 at day 84 is no response, and escalates.
    expect(step(o.state, reassess(5), at(84)).state.stage).toBe('interventional');
  });

  it('v1 (no acceptable level): a zero reference is not a reason to escalate either; other pain is judged as before', () => {
    expect(step(start({ definition: V1, baseline: { painNrs: 0 } }), reassess(0), at(42)).state.stage).toBe('conservative');
    expect(step(start({ definition: V1, baseline: { painNrs: 4 } }), reassess(3), at(42)).state.stage).toBe('interventional');
  });

  it('in interventional care, acceptable pain after an injection is a response (no count toward SCS)', () => {
    let s = step(toInterventional(), procedure('epidural-steroid-injection', performed(45)), at(45)).state;
    s = step(s, reassess(3, { odi: 40 }), at(73)).state;
    expect(s.proceduresWithoutResponse).toBe(0);
    expect(s.consecutiveResponses).toBe(1);
  });
});

describe('5. six months of conservative care before an SCS trial; success by pain or MME (v2)', () => {
  it('a trial before six months is refused, naming the rule and the dates', () => {
    const s = toScs();
    const r = refusal(s, procedure('scs-trial', performed(120)), at(120));
    expect(r.code).toBe('conflict');
    expect(r.field).toBe('performedAt');
    expect(r.message).toContain(ruleSentence('eligibility.scs-conservative-care', V2));
    expect(r.message).toContain(`Conservative care began ${isoAt(0).slice(0, 10)}; a trial may be performed from 2025-07-06 (this one: ${isoAt(120).slice(0, 10)})`);
  });

  it('the cleared psychological evaluation makes the trial due no earlier than six months', () => {
    const s = toScs();
    expect(s.due).toEqual({ kind: 'scs-trial', dueAt: new Date(addMonths(T0, 6)).toISOString() });
    expect(s.timeline.at(-1)).toMatchObject({ numbers: { trialEligibleFrom: new Date(addMonths(T0, 6)).toISOString() }, cites: [{ ruleId: 'eligibility.scs-conservative-care' }] });
  });

  it('5 vs 6 months, counting care before enrolment when the enrolment records it', () => {
    // Conservative care began 20 days before enrolment (2024-12-17): five months end 2025-05-17, six 2025-06-17.
    const since = new Date(at(-20)).toISOString();
    const s = toScs(V2, { conservativeCareSince: since });
    const fiveMonths = addMonths(at(-20), 5);
    const sixMonths = addMonths(at(-20), 6);
    expect(new Date(fiveMonths).toISOString()).toBe('2025-05-17T09:00:00.000Z');
    expect(new Date(sixMonths).toISOString()).toBe('2025-06-17T09:00:00.000Z');
    const early = refusal(s, procedure('scs-trial', { performedAt: new Date(fiveMonths).toISOString() }), at(170));
    expect(early.code).toBe('conflict');
    expect(early.message).toContain('Conservative care began 2024-12-17; a trial may be performed from 2025-06-17 (this one: 2025-05-17)');
    expect(refusal(s, procedure('scs-trial', { performedAt: new Date(sixMonths - 60_000).toISOString() }), at(170)).code).toBe('conflict');
    const ok = step(s, procedure('scs-trial', { performedAt: new Date(sixMonths).toISOString() }), at(170));
    expect(ok.entries[0]).toMatchObject({
      ruleId: 'procedure.scs-trial-days',
      numbers: { conservativeCareSince: since, overridden: false, minimumConservativeCareMonths: 6 },
      cites: [{ ruleId: 'eligibility.scs-conservative-care' }],
    });
  });

  it('a clinician may override with a reason, which the timeline keeps; a coordinator may not', () => {
    const s = toScs();
    const forbidden = refusal(s, procedure('scs-trial', { ...performed(120), overrideReason: 'intractable pain, MDT agreed' }), at(120));
    expect(forbidden).toMatchObject({ code: 'forbidden', field: 'overrideReason' });
    const o = step(s, procedure('scs-trial', { ...performed(120), overrideReason: 'intractable pain, MDT agreed' }, CLINICIAN), at(120));
    expect(o.entries[0]).toMatchObject({ reason: 'intractable pain, MDT agreed', numbers: { overridden: true }, actor: CLINICIAN });
    expect(o.state.scs.trialStartedAt).toBe(isoAt(120));
    expect(refusal(s, procedure('scs-implant', { overrideReason: 'no' }, CLINICIAN), at(120))).toMatchObject({ code: 'invalid', field: 'overrideReason' });
  });

  const trial = (): PathwayState =>
    step(toScs(V2, { conservativeCareSince: new Date(at(-100)).toISOString() }), procedure('scs-trial', performed(120)), at(120)).state;

  it('49% pain relief with 50% fewer MME than the reference succeeds; with 49% fewer it fails', () => {
    const s = trial();
    expect(s.reference).toMatchObject({ painNrs: 10, dailyMme: 90 });
    const byMme = step(s, reassess(5.1, { dailyMme: 45 }), at(127));
    expect(byMme.state.scs.trialSucceeded).toBe(true);
    expect(byMme.entries[0]!.numbers).toMatchObject({ painReliefPercent: 49, referenceDailyMme: 90, dailyMme: 45, mmeReductionPercent: 50, mmeThresholdPercent: 50 });
    expect(byMme.entries[0]!.due).toEqual({ kind: 'scs-implant', dueAt: isoAt(127 + 42) });
    const neither = step(s, reassess(5.1, { dailyMme: 45.9 }), at(127));
    expect(neither.state.stage).toBe('revision-referral');
    expect(neither.entries[1]).toMatchObject({ ruleId: 'escalation.scs-trial', numbers: { painReliefPercent: 49, mmeReductionPercent: 49, referencePainNrs: 10, painNrs: 5.1 } });
  });

  it('v1 reads pain only, and sets no months before a trial', () => {
    const s = step(toScs(V1), procedure('scs-trial', performed(120)), at(120)).state;
    expect(step(s, reassess(5.1, { dailyMme: 0 }), at(127)).state.stage).toBe('revision-referral');
  });
});

describe('6. the whole red-flag list', () => {
  for (const flag of ['sexual-dysfunction', 'bilateral-leg-weakness'] as const) {
    it(`${flag} refers urgently, with its sentence in the definition`, () => {
      const o = step(start(), flags([flag]), at(3));
      expect(o.state.status).toBe('urgent-referral');
      expect(o.entries[0]!.ruleId).toBe('red-flag.urgent-referral');
      expect(V2.redFlags?.find((f) => f.id === flag)?.sentence).toMatch(/cauda equina/);
    });
  }
});

describe('the time things happened', () => {
  it('a back-dated reassessment: the rules use when it happened; the timeline keeps both times', () => {
    const o = step(start(), reassess(5, { assessedAt: isoAt(40) }), at(44));
    expect(o.state.latest).toMatchObject({ at: isoAt(40), recordedAt: isoAt(44), painNrs: 5 });
    expect(o.entries[0]).toMatchObject({ at: isoAt(44), occurredAt: isoAt(40) });
    // Responding at day 40: the next point of the 42-day cadence is day 42, already past when recorded.
    expect(o.state.due).toEqual({ kind: 'reassessment', dueAt: isoAt(42) });
  });

  it('minimum durations use the assessment time: 41 days is too early to escalate even when recorded at day 44', () => {
    const early = step(start(), reassess(8, { assessedAt: isoAt(41) }), at(44));
    expect(early.state.stage).toBe('conservative');
    expect(early.entries.map((e) => e.ruleId)).toEqual(['response.conservative', 'escalation.minimum-duration']);
    const onTime = step(start(), reassess(8, { odi: 40, assessedAt: isoAt(42) }), at(44));
    expect(onTime.state.stage).toBe('interventional');
    expect(onTime.state.stageEnteredAt).toBe(isoAt(42));
    expect(onTime.state.due).toEqual({ kind: 'procedure', dueAt: isoAt(70) });
    expect(onTime.entries[1]).toMatchObject({ event: 'stage-changed', at: isoAt(44), occurredAt: isoAt(42), numbers: { activeDays: 42 } });
  });

  it('refuses a time in the future, beyond the window, or before the last recorded event', () => {
    const s = step(start(), reassess(6), at(20)).state;
    expect(refusal(s, reassess(6, { assessedAt: isoAt(31) }), at(30))).toMatchObject({ code: 'invalid', field: 'assessedAt', message: 'assessedAt is in the future' });
    expect(refusal(s, reassess(6, { assessedAt: isoAt(35 - 14.1) }), at(35))).toMatchObject({ code: 'invalid', field: 'assessedAt' });
    expect(checkEvent(s, reassess(6, { assessedAt: isoAt(21) }), at(35))).toBeNull();
    expect(refusal(s, reassess(6, { assessedAt: isoAt(19.9) }), at(30))).toMatchObject({ code: 'conflict', field: 'assessedAt' });
    expect(checkEvent(s, reassess(6, { assessedAt: isoAt(20) }), at(30))).toBeNull();
  });

  it('reminders are not recorded events: an assessment may be dated before them', () => {
    const reminded = applyClock(start(), at(42)).state;
    expect(reminded.timeline.at(-1)!.event).toBe('reminder');
    expect(checkEvent(reminded, reassess(5, { assessedAt: isoAt(41) }), at(43))).toBeNull();
  });

  it('v1 sets no back-dating window: a back-dated assessment is refused, naming the definition', () => {
    const r = refusal(start({ definition: V1 }), reassess(5, { assessedAt: isoAt(40) }), at(44));
    expect(r).toMatchObject({ code: 'invalid', field: 'assessedAt' });
    expect(r.message).toContain('psps-lumbar v1 sets no back-dating window');
  });

  it('a back-dated red-flag report pauses stepped care from when it was found', () => {
    const o = step(start(), flags(['infection'], { reportedAt: isoAt(10) }), at(12));
    expect(o.state.pause).toEqual({ since: isoAt(10), kind: 'urgent-referral' });
    expect(o.state.redFlags).toEqual([{ at: isoAt(10), flags: ['infection'] }]);
    expect(o.entries[0]).toMatchObject({ at: isoAt(12), occurredAt: isoAt(10) });
    expect(refusal(start(), flags(['infection'], { reportedAt: isoAt(13) }), at(12)).field).toBe('reportedAt');
  });
});

describe('decisions a clinician can follow', () => {
  it('an escalation names the reference and latest scores and the threshold, not only the days', () => {
    const o = step(start({ baseline: { painNrs: 8, odi: 40 } }), reassess(7, { odi: 38 }), at(42));
    expect(o.entries[1]).toMatchObject({
      event: 'stage-changed',
      ruleId: 'escalation.conservative',
      numbers: { referencePainNrs: 8, painNrs: 7, painReliefPercent: 12.5, painThresholdPercent: 30, referenceOdi: 40, odi: 38, odiDropPoints: 2, odiThresholdPoints: 10, activeDays: 42, minimumDays: 42 },
    });
  });

  it('a responding reassessment shows the next due date in its own entry', () => {
    const o = step(start(), reassess(4, { odi: 30 }), at(43));
    expect(o.entries[0]).toMatchObject({ ruleId: 'response.conservative', due: { kind: 'reassessment', dueAt: isoAt(84) } });
  });

  it('a recorded injection cites the rules it starts, with the count toward the limit', () => {
    let s = step(toInterventional(), procedure('epidural-steroid-injection', performed(45)), at(45)).state;
    const o = step(s, procedure('facet-joint-injection', performed(60)), at(60));
    s = o.state;
    expect(o.entries[0]).toMatchObject({
      occurredAt: isoAt(60),
      ruleId: 'procedure.reassess-after',
      rule: 'A reassessment is due 28 days after each interventional procedure was performed.',
      numbers: { reassessAfterDays: 28, proceduresInWindow: 2, limit: 4, windowDays: 365, minimumIntervalDays: 14, nextProcedureFrom: isoAt(74).slice(0, 10) },
      cites: [
        { ruleId: 'limit.interventional-procedures', rule: ruleSentence('limit.interventional-procedures', V2) },
        { ruleId: 'limit.procedure-interval', rule: ruleSentence('limit.procedure-interval', V2) },
      ],
      due: { kind: 'reassessment', dueAt: isoAt(88) },
    });
    expect(o.entries[0]!.summary).toBe('Procedure recorded: facet-joint-injection (2 of 4 in 365 days); reassessment due in 28 days.');
  });
});

describe('7. a patient enrolled again', () => {
  it('gets message ids of its own: receivers drop a repeated id, so the same pathway id and timeline position must not repeat one', () => {
    const first = step(start(), action({ action: 'withdraw', reason: 'moved away' }, COORDINATOR), at(1));
    const again = enroll({ pathwayId: 'pw-unit', careTeam: 'spine-a', definition: V2, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: COORDINATOR }, at(1)).state;
    const second = step(again, action({ action: 'withdraw', reason: 'moved away again' }, COORDINATOR), at(2));
    expect(first.effects[0]!.key).toBe('pw-unit.20250106090000000.closed.2');
    expect(second.effects[0]!.key).toBe('pw-unit.20250107090000000.closed.2');
  });
});
