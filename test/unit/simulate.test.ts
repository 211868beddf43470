/**
 * The what-if replay on pathways driven through the pure model as the workflow drives them:
 * with a pathway's own version it reproduces every recorded decision; with the conservative
 * response threshold raised from 30% to 50% it reports exactly the pathways whose decisions
 * change, at the boundaries worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import type { PathwayDefinition } from '../../clinical/definition';
import { loadDefinitions } from '../../clinical/registry';
import { DAY_MS } from '../../clinical/rules';
import { recordedInputs, simulatePathway, summarise } from '../../clinical/simulate';
import { CLINICIAN, COORDINATOR, PurePathway, randomPathway } from '../harness/recorded-pathways';

const V2 = loadDefinitions().get('psps-lumbar', 2)!;
const T0 = Date.UTC(2026, 0, 5, 9);
const stricter = (): PathwayDefinition => {
  const d = structuredClone(V2);
  d.version = 3;
  d.stages.conservative.response.painReductionPercent = 50;
  return d;
};
let n = 0;
const pathway = (baseline = { painNrs: 10, odi: 50 }) => new PurePathway(`enrolment-${++n}`, V2, { at: T0 + n * 3600_000, baseline });

/** Every stage, procedures, a red flag and its resumption, a hold, reminders and lost to follow-up. */
function variedPathways(): PurePathway[] {
  const throughEveryStage = pathway()
    .reassess(43, { painNrs: 9, odi: 49 }) // not responding after 42 days: interventional
    .procedure(50, { type: 'epidural-steroid-injection' })
    .reassess(79, { painNrs: 8, odi: 48 })
    .procedure(95, { type: 'facet-joint-injection' })
    .reassess(124, { painNrs: 8, odi: 48 }) // 2 without response: SCS
    .procedure(130, { type: 'psychological-evaluation', outcome: 'cleared' })
    .procedure(190, { type: 'scs-trial' })
    .reassess(198, { painNrs: 7, odi: 45, dailyMme: 60 }) // trial fails: revision referral
    .apply(205, { type: 'workup-result', actor: COORDINATOR, input: { item: 'imaging' } });
  const redFlag = pathway()
    .reassess(20, { painNrs: 8, odi: 50 })
    .apply(25, { type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } })
    .action(40, { action: 'resume', reason: 'infection treated' })
    .reassess(70, { painNrs: 4, odi: 30 })
    .reassess(112, { painNrs: 3, odi: 20 });
  const lost = pathway().passTo(T0 + 120 * DAY_MS); // reminders, overdue, then lost to follow-up
  const held = pathway()
    .action(10, { action: 'hold', reason: 'travelling' }, COORDINATOR)
    .action(30, { action: 'resume', reason: 'back' }, COORDINATOR)
    .reassess(75, { painNrs: 6.9, odi: 45, assessedAt: new Date(T0 + 70 * DAY_MS).toISOString() }) // back-dated
    .action(80, { action: 'escalate', toStage: 'scs', reason: 'severe radicular pain' })
    .action(90, { action: 'withdraw', reason: 'moved away' }, COORDINATOR);
  return [throughEveryStage, redFlag, lost, held];
}

describe('simulatePathway with the pathway\'s own version', () => {
  it('reproduces every recorded decision, the clock\'s included', () => {
    for (const p of variedPathways()) {
      const result = simulatePathway(p.history(), p.state.definition);
      expect(result.firstDifference, p.enrolmentId).toBeNull();
      expect(result.simulated).toEqual(result.recorded);
    }
  });

  it('reproduces 300 seeded pathways of every kind (each stage, holds, red flags, lost to follow-up), on v1 and v2', () => {
    for (const definition of [loadDefinitions().get('psps-lumbar', 1)!, V2]) {
      const pathways = Array.from({ length: 150 }, (_, i) => randomPathway(i, definition, T0 + i * 3600_000));
      const reached = new Set(pathways.flatMap((p) => p.state.timeline.map((e) => `${e.stageAfter}/${e.statusAfter}`)));
      for (const kind of ['revision-referral/completed', 'scs/active', 'conservative/urgent-referral', 'interventional/on-hold', 'conservative/completed']) expect(reached).toContain(kind);
      const differing = pathways.map((p) => simulatePathway(p.history(), definition)).filter((r) => r.differs);
      expect(differing.map((r) => [r.enrolmentId, r.firstDifference])).toEqual([]);
    }
  });

  it('reads the inputs a clinic gave, not the consequences the rules drew', () => {
    const [throughEveryStage] = variedPathways();
    const { inputs, ticks } = recordedInputs(throughEveryStage!.history());
    expect(inputs.map((i) => (i.kind === 'enrol' ? 'enrol' : i.event.type))).toEqual([
      'enrol', 'reassessment', 'procedure', 'reassessment', 'procedure', 'reassessment', 'procedure', 'procedure', 'reassessment', 'workup-result',
    ]);
    expect(ticks.length).toBeGreaterThan(0); // the psychological evaluation waited past its due date
  });
});

describe('the conservative response threshold raised from 30% to 50%', () => {
  /**
   * Baseline pain 10, ODI 50, acceptable pain NRS 3 (v2). A reassessment at day 43 (past the
   * 42-day minimum), then one at day 85 with the same scores:
   *  - pain 7 (30% relief): responding at 30%, not at 50%: differs (escalates at day 43 instead).
   *  - pain 5.1 (49%): responding at 30%, not at 50%: differs.
   *  - pain 5 (50%): responding at both: the same.
   *  - pain 8 (20%): not responding at both: the same escalation.
   *  - pain 7 with ODI down 10 points: responding at both through ODI: the same.
   *  - pain 3 (70%, and acceptable): responding at both: the same.
   */
  const cases = [
    { name: 'pain 7', scores: { painNrs: 7, odi: 50 }, differs: true },
    { name: 'pain 5.1', scores: { painNrs: 5.1, odi: 50 }, differs: true },
    { name: 'pain 5', scores: { painNrs: 5, odi: 50 }, differs: false },
    { name: 'pain 8', scores: { painNrs: 8, odi: 50 }, differs: false },
    { name: 'pain 7, ODI -10', scores: { painNrs: 7, odi: 40 }, differs: false },
    { name: 'pain 3', scores: { painNrs: 3, odi: 50 }, differs: false },
  ];

  it('reports exactly the pathways whose decisions change, each at its first difference', () => {
    const recorded = cases.map((c) => {
      const p = pathway();
      p.reassess(43, c.scores);
      if (p.state.stage === 'conservative' && p.state.status === 'active') p.reassess(85, c.scores);
      return { c, p };
    });
    const results = recorded.map(({ p }) => simulatePathway(p.history(), stricter()));
    expect(results.map((r, i) => [cases[i]!.name, r.differs])).toEqual(cases.map((c) => [c.name, c.differs]));

    const first = results[0]!.firstDifference!;
    expect(first.at).toBe(new Date(Date.parse(recorded[0]!.p.state.enrolledAt) + 43 * DAY_MS).toISOString());
    expect(first.ruleId).toBe('response.conservative');
    expect(first.recorded?.summary).toBe('Reassessment: responding.');
    expect(first.simulated?.summary).toBe('Reassessment: not responding.');
    expect(first.recorded?.numbers).toMatchObject({ painReliefPercent: 30, painThresholdPercent: 30 });
    expect(first.simulated?.numbers).toMatchObject({ painReliefPercent: 30, painThresholdPercent: 50 });
    // Recorded: two responses in a row completed the pathway; the candidate escalates at day 43.
    expect(results[0]!.recorded).toMatchObject({ status: 'completed', stage: 'conservative', escalations: 0 });
    expect(results[0]!.simulated).toMatchObject({ stage: 'interventional', escalations: 1, daysToStage: { interventional: 43 } });

    const summary = summarise(results, { from: T0, to: T0 + 90 * DAY_MS });
    expect(summary).toMatchObject({ pathways: 6, differing: 2 });
    expect(summary.recorded.completed).toBe(5); // every case but pain 8
    expect(summary.candidate.completed).toBe(3);
    expect(summary.candidate.escalations - summary.recorded.escalations).toBe(2);
  });
});
