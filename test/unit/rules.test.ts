/**
 * The clinical rules on their own: thresholds at their boundaries, the relief arithmetic,
 * and the clinician-readable sentences filled in from the definition.
 */
import { describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema, type PathwayDefinition } from '../../clinical/definition';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from '../../clinical/definitions/psps-lumbar.v2.json';
import {
  DAY_MS,
  addMonths,
  calendarDaysBetween,
  procedureTooClose,
  requiredBaseline,
  scsTrialEligibleFrom,
  describeRules,
  evaluateConservative,
  evaluateInterventional,
  evaluateScsFollowUp,
  evaluateScsTrial,
  minimumDurationReached,
  procedureLimitReached,
  reliefPercent,
  ruleSentence,
  sustainedResponse,
  type RuleId,
} from '../../clinical/rules';

const base = (): PathwayDefinition => PathwayDefinitionSchema.parse(structuredClone(pspsLumbarV1));
const v2 = (): PathwayDefinition => PathwayDefinitionSchema.parse(structuredClone(pspsLumbarV2));
/** A copy of the default definition with one change. */
const tuned = (change: (d: PathwayDefinition) => void): PathwayDefinition => {
  const d = base();
  change(d);
  return PathwayDefinitionSchema.parse(d);
};

/** Every rule id; `satisfies` makes the compiler complain if RuleId gains a member not listed here. */
const ALL_RULES = {
  'red-flag.urgent-referral': true,
  'response.conservative': true,
  'response.interventional': true,
  'response.scs-trial': true,
  'response.scs-follow-up': true,
  'escalation.acceptable-pain': true,
  'escalation.minimum-duration': true,
  'escalation.conservative': true,
  'baseline.required': true,
  'procedure.reassess-after': true,
  'procedure.scs-trial-days': true,
  'procedure.scs-follow-up': true,
  'limit.procedure-interval': true,
  'eligibility.scs-conservative-care': true,
  'recording.clinical-time': true,
  'escalation.interventional': true,
  'escalation.scs-psychology': true,
  'escalation.scs-trial': true,
  'escalation.scs-follow-up': true,
  'limit.interventional-procedures': true,
  'completion.sustained-response': true,
  'referral.workup-complete': true,
  'completion.surgical-consult': true,
  'follow-up.reminder': true,
  'follow-up.overdue': true,
  'follow-up.lost': true,
  'override.escalate': true,
  'override.hold': true,
  'override.resume': true,
  'override.withdraw': true,
  'override.discharge': true,
  'override.close': true,
  'override.acknowledge': true,
} satisfies Record<RuleId, true>;
const RULE_IDS = Object.keys(ALL_RULES) as RuleId[];

describe('reliefPercent', () => {
  it('is exactly 30 for 10 → 7 (rounded to 0.001, no floating-point residue)', () => {
    expect(reliefPercent(10, 7)).toBe(30);
    // Without rounding, (10 - 7.1) / 10 * 100 is 28.999999999999996.
    expect(reliefPercent(10, 7.1)).toBe(29);
    expect(reliefPercent(10, 5.1)).toBe(49);
    expect(reliefPercent(10, 5)).toBe(50);
    expect(reliefPercent(3, 2)).toBe(33.333);
    expect(reliefPercent(3, 1)).toBe(66.667);
  });

  it('is null for a zero reference and negative when pain got worse', () => {
    expect(reliefPercent(0, 0)).toBeNull();
    expect(reliefPercent(0, 4)).toBeNull();
    expect(reliefPercent(4, 6)).toBe(-50);
    expect(reliefPercent(8, 0)).toBe(100);
  });
});

describe('response.conservative', () => {
  const d = base();

  it('pain: 29% is not a response, 30% is', () => {
    const below = evaluateConservative(d, { painNrs: 10 }, { painNrs: 7.1 });
    expect(below.responding).toBe(false);
    expect(below.numbers.painReliefPercent).toBe(29);
    const at = evaluateConservative(d, { painNrs: 10 }, { painNrs: 7 });
    expect(at.responding).toBe(true);
    expect(at.ruleId).toBe('response.conservative');
    expect(at.numbers).toEqual({
      referencePainNrs: 10,
      painNrs: 7,
      painReliefPercent: 30,
      painThresholdPercent: 30,
      referenceOdi: null,
      odi: null,
      odiDropPoints: null,
      odiThresholdPoints: 10,
    });
  });

  it('ODI: a 9-point drop is not a response, 10 points is (pain unchanged)', () => {
    const below = evaluateConservative(d, { painNrs: 8, odi: 40 }, { painNrs: 8, odi: 31 });
    expect(below.responding).toBe(false);
    expect(below.numbers.odiDropPoints).toBe(9);
    const at = evaluateConservative(d, { painNrs: 8, odi: 40 }, { painNrs: 8, odi: 30 });
    expect(at.responding).toBe(true);
    expect(at.numbers).toMatchObject({ referenceOdi: 40, odi: 30, odiDropPoints: 10, painReliefPercent: 0 });
  });

  it('ODI counts only when both the reference and the reassessment have it', () => {
    expect(evaluateConservative(d, { painNrs: 8 }, { painNrs: 8, odi: 0 }).responding).toBe(false);
    expect(evaluateConservative(d, { painNrs: 8, odi: 50 }, { painNrs: 8 }).responding).toBe(false);
    expect(evaluateConservative(d, { painNrs: 8, odi: 50 }, { painNrs: 8 }).numbers.odiDropPoints).toBeNull();
  });

  it('a zero pain reference cannot respond on pain, but ODI still can', () => {
    const painOnly = evaluateConservative(d, { painNrs: 0, odi: 30 }, { painNrs: 0, odi: 25 });
    expect(painOnly.responding).toBe(false);
    expect(painOnly.numbers.painReliefPercent).toBeNull();
    const odi = evaluateConservative(d, { painNrs: 0, odi: 30 }, { painNrs: 0, odi: 20 });
    expect(odi.responding).toBe(true);
    expect(odi.numbers.painReliefPercent).toBeNull();
  });

  it('uses the thresholds of the definition it is given', () => {
    const strict = tuned((x) => {
      x.stages.conservative.response = { painReductionPercent: 40, odiReductionPoints: 15 };
    });
    expect(evaluateConservative(strict, { painNrs: 10, odi: 40 }, { painNrs: 7, odi: 30 }).responding).toBe(false);
    expect(evaluateConservative(strict, { painNrs: 10, odi: 40 }, { painNrs: 6, odi: 30 }).responding).toBe(true);
    expect(evaluateConservative(strict, { painNrs: 10, odi: 40 }, { painNrs: 9, odi: 25 }).responding).toBe(true);
    expect(evaluateConservative(strict, { painNrs: 10 }, { painNrs: 6 }).numbers).toMatchObject({ painThresholdPercent: 40, odiThresholdPoints: 15 });
  });
});

describe('relief rules: interventional, SCS trial, SCS follow-up', () => {
  const d = base();
  const cases = [
    ['response.interventional', evaluateInterventional],
    ['response.scs-trial', (d: PathwayDefinition, reference: number, pain: number) => evaluateScsTrial(d, { painNrs: reference }, { painNrs: pain })],
    ['response.scs-follow-up', evaluateScsFollowUp],
  ] as const;

  for (const [ruleId, evaluate] of cases) {
    it(`${ruleId}: 49% is not a response, 50% is`, () => {
      const below = evaluate(d, 10, 5.1);
      expect(below).toEqual({
        ruleId,
        responding: false,
        numbers: { referencePainNrs: 10, painNrs: 5.1, painReliefPercent: 49, reliefThresholdPercent: 50 },
      });
      const at = evaluate(d, 10, 5);
      expect(at.ruleId).toBe(ruleId);
      expect(at.responding).toBe(true);
      expect(at.numbers.painReliefPercent).toBe(50);
    });

    it(`${ruleId}: a zero reference never responds`, () => {
      const e = evaluate(d, 0, 0);
      expect(e.responding).toBe(false);
      expect(e.numbers.painReliefPercent).toBeNull();
    });
  }

  it('each relief rule reads its own threshold from the definition', () => {
    const x = tuned((y) => {
      y.stages.interventional.response.reliefPercent = 60;
      y.stages.scs.response.trialReliefPercent = 40;
      y.stages.scs.response.followUpReliefPercent = 70;
    });
    // 10 → 5 is 50% relief.
    expect(evaluateInterventional(x, 10, 5).responding).toBe(false);
    expect(evaluateInterventional(x, 10, 4).responding).toBe(true);
    expect(evaluateScsTrial(x, { painNrs: 10 }, { painNrs: 6 }).responding).toBe(true);
    expect(evaluateScsTrial(x, { painNrs: 10 }, { painNrs: 6.1 }).responding).toBe(false);
    expect(evaluateScsFollowUp(x, 10, 4).responding).toBe(false);
    expect(evaluateScsFollowUp(x, 10, 3).responding).toBe(true);
    expect(evaluateScsFollowUp(x, 10, 3).numbers.reliefThresholdPercent).toBe(70);
  });
});

describe('durations, sustained response, procedure limit', () => {
  it('minimumDurationReached is inclusive of the minimum', () => {
    expect(minimumDurationReached(42, 41.99)).toBe(false);
    expect(minimumDurationReached(42, 42)).toBe(true);
    expect(minimumDurationReached(0, 0)).toBe(true);
  });

  it('sustainedResponse needs the configured number of consecutive responses', () => {
    expect(sustainedResponse(base(), 1)).toBe(false);
    expect(sustainedResponse(base(), 2)).toBe(true);
    const three = tuned((x) => {
      x.sustainedResponse.consecutiveResponses = 3;
    });
    expect(sustainedResponse(three, 2)).toBe(false);
    expect(sustainedResponse(three, 3)).toBe(true);
  });

  it('procedureLimitReached counts procedures inside the rolling window only', () => {
    const d = base(); // 4 in 365 days
    const now = Date.UTC(2026, 5, 1);
    const daysAgo = (n: number) => now - n * DAY_MS;
    expect(procedureLimitReached(d, [daysAgo(300), daysAgo(200), daysAgo(100)], now)).toBe(false);
    expect(procedureLimitReached(d, [daysAgo(300), daysAgo(200), daysAgo(100), daysAgo(1)], now)).toBe(true);
    // One of the four fell out of the window: exactly 365 days ago is outside it.
    expect(procedureLimitReached(d, [daysAgo(365), daysAgo(200), daysAgo(100), daysAgo(1)], now)).toBe(false);
    expect(procedureLimitReached(d, [daysAgo(364), daysAgo(200), daysAgo(100), daysAgo(1)], now)).toBe(true);
    const two = tuned((x) => {
      x.stages.interventional.procedureLimit = { count: 2, windowDays: 30 };
    });
    expect(procedureLimitReached(two, [daysAgo(40), daysAgo(10)], now)).toBe(false);
    expect(procedureLimitReached(two, [daysAgo(29), daysAgo(10)], now)).toBe(true);
  });
});

describe('rule sentences', () => {
  it('describeRules gives one non-empty sentence for every rule v1 uses; v1 lacks the rules of numbers it does not set', () => {
    const rules = describeRules(base());
    const v2Only: RuleId[] = ['baseline.required', 'limit.procedure-interval', 'eligibility.scs-conservative-care'];
    expect(rules.map((r) => r.id).sort()).toEqual(RULE_IDS.filter((id) => !v2Only.includes(id)).sort());
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const r of rules) {
      expect(r.sentence.length).toBeGreaterThan(20);
      expect(r.sentence).toBe(ruleSentence(r.id as RuleId, base()));
      expect(r.sentence).not.toMatch(/undefined|NaN|\[object/);
    }
  });

  it('describeRules of v2: every RuleId, then each red flag of the reference with its own sentence', () => {
    const rules = describeRules(v2());
    const ruleIds = rules.filter((r) => !r.id.startsWith('red-flag.') || r.id === 'red-flag.urgent-referral').map((r) => r.id);
    expect(ruleIds.sort()).toEqual([...RULE_IDS].sort());
    const flags = rules.filter((r) => r.id.startsWith('red-flag.') && r.id !== 'red-flag.urgent-referral');
    expect(flags.map((f) => f.id).sort()).toEqual(
      [
        'bilateral-leg-weakness',
        'bladder-bowel-dysfunction',
        'infection',
        'progressive-motor-deficit',
        'saddle-anaesthesia',
        'sexual-dysfunction',
        'suspected-fracture',
        'suspected-malignancy',
      ].map((f) => `red-flag.${f}`),
    );
    for (const r of rules) expect(r.sentence, r.id).not.toMatch(/undefined|NaN|\[object/);
    const s = (id: RuleId) => ruleSentence(id, v2());
    expect(s('red-flag.urgent-referral')).toContain('sexual dysfunction');
    expect(s('red-flag.urgent-referral')).toContain('bilateral leg weakness');
    expect(s('red-flag.urgent-referral')).toContain('until a clinician resumes or closes');
    expect(s('limit.procedure-interval')).toContain('at least 14 days apart');
    expect(s('baseline.required')).toContain('baseline of pain NRS and ODI');
    // One sentence for both stages, not two glued with a semicolon.
    expect(s('baseline.required')).toMatch(/^Before any procedure, interventional care needs a baseline of pain NRS and ODI, and spinal cord stimulation needs a baseline of pain NRS and ODI: /);
    expect(s('eligibility.scs-conservative-care')).toContain('6 months');
    expect(s('response.scs-trial')).toContain('50% from the stage reference');
    expect(s('response.scs-trial')).toContain('MME');
    expect(s('response.conservative')).toContain('at or below NRS 3');
    expect(s('escalation.acceptable-pain')).toContain('NRS 3');
    expect(s('escalation.acceptable-pain')).toContain('reference of 0');
    expect(s('recording.clinical-time')).toContain('14 days back');
    expect(ruleSentence('recording.clinical-time', base())).toBe('A reassessment, red-flag report or work-up result is dated when it is recorded.');
  });

  it('the resume sentence says what resuming does, and who may', () => {
    const sentence = ruleSentence('override.resume', base());
    expect(sentence).toContain('only a clinician may resume after an urgent referral');
    expect(sentence).toContain('falls due at resumption');
    expect(sentence).not.toContain('moves every due date later by the time the pathway was held.');
  });

  it('sentences carry the default definition’s own numbers', () => {
    const s = (id: RuleId) => ruleSentence(id, base());
    expect(s('response.conservative')).toContain('30%');
    expect(s('response.conservative')).toContain('10 points');
    expect(s('response.interventional')).toContain('50%');
    expect(s('response.scs-trial')).toContain('50%');
    expect(s('response.scs-follow-up')).toContain('50%');
    expect(s('escalation.conservative')).toContain('42 days');
    expect(s('escalation.interventional')).toContain('After 2 interventional procedures');
    expect(s('escalation.scs-trial')).toContain('less than 50%');
    expect(s('escalation.scs-follow-up')).toContain('less than 50%');
    expect(s('limit.interventional-procedures')).toContain('At most 4 interventional procedures are recorded in any 365 days');
    expect(s('completion.sustained-response')).toMatch(/^2 responding reassessments in a row/);
    expect(s('referral.workup-complete')).toContain('(imaging, labs, bone-density, health-optimisation, second-opinion)');
    expect(s('follow-up.overdue')).toContain('3 days of grace');
    expect(s('follow-up.lost')).toContain('After 28 days overdue');
    expect(s('follow-up.reminder')).toContain('every 7 days');
    expect(s('follow-up.reminder')).toContain('when an item falls due');
    expect(s('follow-up.reminder')).toContain('coordinator');
  });

  it('the follow-up rules come in the order they act: reminder, overdue, lost', () => {
    const ids = describeRules(base()).map((r) => r.id);
    const followUp = ids.filter((id) => id.startsWith('follow-up.'));
    expect(followUp).toEqual(['follow-up.reminder', 'follow-up.overdue', 'follow-up.lost']);
    // The same order on every call.
    expect(describeRules(base()).map((r) => r.id)).toEqual(ids);
  });

  /** For every rule that quotes a number: change it in a copy of the definition and see the sentence follow. */
  const numbered: Array<[RuleId, (d: PathwayDefinition) => void, string, string]> = [
    ['response.conservative', (d) => void (d.stages.conservative.response.painReductionPercent = 35), '30%', '35%'],
    ['response.conservative', (d) => void (d.stages.conservative.response.odiReductionPoints = 12), '10 points', '12 points'],
    ['response.interventional', (d) => void (d.stages.interventional.response.reliefPercent = 80), '50%', '80%'],
    ['response.scs-trial', (d) => void (d.stages.scs.response.trialReliefPercent = 55), '50%', '55%'],
    ['response.scs-follow-up', (d) => void (d.stages.scs.response.followUpReliefPercent = 45), '50%', '45%'],
    ['escalation.conservative', (d) => void (d.stages.conservative.minimumDays = 28), '42 days', '28 days'],
    ['escalation.interventional', (d) => void (d.stages.interventional.escalateAfterProceduresWithoutResponse = 3), 'After 2 ', 'After 3 '],
    ['escalation.scs-trial', (d) => void (d.stages.scs.response.trialReliefPercent = 55), '50%', '55%'],
    ['escalation.scs-follow-up', (d) => void (d.stages.scs.response.followUpReliefPercent = 45), '50%', '45%'],
    ['limit.interventional-procedures', (d) => void (d.stages.interventional.procedureLimit.count = 6), 'At most 4 ', 'At most 6 '],
    ['limit.interventional-procedures', (d) => void (d.stages.interventional.procedureLimit.windowDays = 180), '365 days', '180 days'],
    ['completion.sustained-response', (d) => void (d.sustainedResponse.consecutiveResponses = 3), '2 responding', '3 responding'],
    ['referral.workup-complete', (d) => void (d.stages['revision-referral'].workupItems = ['imaging', 'labs']), 'bone-density', '(imaging, labs)'],
    ['follow-up.overdue', (d) => void (d.followUp.graceDays = 7), '3 days', '7 days'],
    ['follow-up.lost', (d) => void (d.followUp.lostToFollowUpAfterOverdueDays = 14), '28 days', '14 days'],
    ['follow-up.reminder', (d) => void (d.followUp.reminderEveryDays = 14), 'every 7 days', 'every 14 days'],
  ];

  for (const [id, change, before, after] of numbered) {
    it(`${id} follows the definition: ${before.trim()} → ${after.trim()}`, () => {
      const original = ruleSentence(id, base());
      const changed = ruleSentence(id, tuned(change));
      expect(original).toContain(before);
      expect(changed).not.toBe(original);
      expect(changed).toContain(after);
      expect(changed).not.toContain(before);
      // describeRules reflects the same change.
      expect(describeRules(tuned(change)).find((r) => r.id === id)?.sentence).toBe(changed);
    });
  }

  it('changing one number leaves the sentences of unrelated rules alone', () => {
    const original = describeRules(base());
    const changed = describeRules(tuned((d) => void (d.stages.interventional.response.reliefPercent = 80)));
    const differing = changed.filter((r, i) => r.sentence !== original[i]!.sentence).map((r) => r.id);
    expect(differing).toEqual(['response.interventional']);
  });

  it('the reminder interval changes the reminder sentence only; grace and lost days leave it alone', () => {
    const original = describeRules(base());
    const differing = (change: (d: PathwayDefinition) => void): string[] =>
      describeRules(tuned(change))
        .filter((r, i) => r.sentence !== original[i]!.sentence)
        .map((r) => r.id);
    expect(differing((d) => void (d.followUp.reminderEveryDays = 3))).toEqual(['follow-up.reminder']);
    expect(differing((d) => void (d.followUp.graceDays = 5))).toEqual(['follow-up.overdue']);
    expect(differing((d) => void (d.followUp.lostToFollowUpAfterOverdueDays = 21))).toEqual(['follow-up.lost']);
  });
});

describe('issue 9 rules at their boundaries', () => {
  const day = (iso: string): number => Date.parse(iso);

  it('procedureTooClose: 13 calendar days is too close, 14 is not; either way round; none in v1', () => {
    const last = day('2026-03-01T16:00:00Z');
    expect(procedureTooClose(v2(), [last], day('2026-03-14T08:00:00Z'))).toBe(last);
    expect(procedureTooClose(v2(), [last], day('2026-03-15T08:00:00Z'))).toBeNull();
    expect(procedureTooClose(v2(), [last], day('2026-02-16T08:00:00Z'))).toBe(last);
    expect(procedureTooClose(v2(), [last], day('2026-02-15T08:00:00Z'))).toBeNull();
    expect(procedureTooClose(base(), [last], day('2026-03-02T08:00:00Z'))).toBeNull();
    expect(calendarDaysBetween(last, day('2026-03-15T00:00:00Z'))).toBe(14);
  });

  it('scsTrialEligibleFrom: six calendar months (v2), the day clamped to the month; none in v1', () => {
    expect(new Date(scsTrialEligibleFrom(v2(), day('2025-01-15T10:00:00Z'))!).toISOString()).toBe('2025-07-15T10:00:00.000Z');
    expect(new Date(addMonths(day('2025-08-31T00:00:00Z'), 6)).toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(new Date(addMonths(day('2023-08-31T00:00:00Z'), 6)).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(new Date(addMonths(day('2025-01-15T10:00:00Z'), 5)).getTime()).toBeLessThan(scsTrialEligibleFrom(v2(), day('2025-01-15T10:00:00Z'))!);
    expect(scsTrialEligibleFrom(base(), 0)).toBeNull();
  });

  it('SCS trial: 49% pain with 50% fewer MME succeeds; 49% and 49% fails; no MME reference, no MME criterion; v1 reads pain only', () => {
    const ref = { painNrs: 10, dailyMme: 90 };
    expect(evaluateScsTrial(v2(), ref, { painNrs: 5.1, dailyMme: 45 })).toMatchObject({
      responding: true,
      numbers: { painReliefPercent: 49, mmeReductionPercent: 50, mmeThresholdPercent: 50, referenceDailyMme: 90, dailyMme: 45 },
    });
    expect(evaluateScsTrial(v2(), ref, { painNrs: 5.1, dailyMme: 45.9 }).responding).toBe(false);
    expect(evaluateScsTrial(v2(), { painNrs: 10 }, { painNrs: 5.1, dailyMme: 0 })).toMatchObject({ responding: false, numbers: { mmeReductionPercent: null } });
    expect(evaluateScsTrial(v2(), { painNrs: 10, dailyMme: 0 }, { painNrs: 5.1, dailyMme: 0 }).numbers.mmeReductionPercent).toBeNull();
    expect(evaluateScsTrial(base(), ref, { painNrs: 5.1, dailyMme: 0 }).responding).toBe(false);
    expect(evaluateScsTrial(base(), ref, { painNrs: 5.1, dailyMme: 0 }).numbers).not.toHaveProperty('mmeReductionPercent');
  });

  it('acceptable pain (v2 NRS 3): at the level responds in every stage; above it does not; v1 has no level', () => {
    expect(evaluateConservative(v2(), { painNrs: 4 }, { painNrs: 3 })).toMatchObject({ responding: true, numbers: { painAcceptable: true, acceptablePainNrs: 3 } });
    expect(evaluateConservative(v2(), { painNrs: 4 }, { painNrs: 3.1 })).toMatchObject({ responding: false, numbers: { painAcceptable: false } });
    expect(evaluateConservative(v2(), { painNrs: 0 }, { painNrs: 0 }).responding).toBe(true);
    expect(evaluateInterventional(v2(), 4, 3).responding).toBe(true);
    expect(evaluateScsFollowUp(v2(), 4, 3).responding).toBe(true);
    expect(evaluateScsTrial(v2(), { painNrs: 4 }, { painNrs: 3 }).responding).toBe(true);
    expect(evaluateConservative(base(), { painNrs: 4 }, { painNrs: 3 }).responding).toBe(false);
    expect(evaluateConservative(base(), { painNrs: 0 }, { painNrs: 0 }).numbers).not.toHaveProperty('painAcceptable');
  });

  it('requiredBaseline: pain and ODI before interventional and SCS procedures in v2, nothing in v1', () => {
    expect(requiredBaseline(v2(), 'interventional')).toEqual(['painNrs', 'odi']);
    expect(requiredBaseline(v2(), 'scs')).toEqual(['painNrs', 'odi']);
    expect(requiredBaseline(v2(), 'conservative')).toEqual([]);
    expect(requiredBaseline(base(), 'interventional')).toEqual([]);
  });
});
