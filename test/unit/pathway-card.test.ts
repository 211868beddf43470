/**
 * The CDS Hooks card of a pathway, pure: pathways driven through the clinical state machine with
 * explicit clocks, and the card's summary, detail, indicator and link at each point.
 */
import { describe, expect, it } from 'vitest';
import { PathwayDefinitionSchema } from '../../clinical/definition';
import pspsLumbarV2 from '../../clinical/definitions/psps-lumbar.v2.json';
import { applyClock, applyEvent, enroll, pendingWorkup, type PathwayEvent, type PathwayState } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import { pathwayCard } from '../../ehr/pathway-card';
import type { PathwayView } from '../../workflows/messages';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);
const at = (days: number) => T0 + days * DAY_MS;
const DEF = PathwayDefinitionSchema.parse(pspsLumbarV2);
const LINK = { launchUrl: 'https://pathway.example/smart/launch', uuid: 'card-1' };

function pathway(): { state: PathwayState; clock(day: number): PathwayView; apply(day: number, e: PathwayEvent): PathwayView } {
  const p = {
    state: enroll({ pathwayId: `pw-${'b'.repeat(32)}`, careTeam: 'spine-a', definition: DEF, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: { id: 'c', role: 'coordinator' } }, at(0)).state,
    view: (): PathwayView => ({ ...p.state, pendingWorkup: pendingWorkup(p.state) }),
    clock(day: number) {
      p.state = applyClock(p.state, at(day)).state;
      return p.view();
    },
    apply(day: number, e: PathwayEvent) {
      p.state = applyEvent(p.state, e, at(day)).state;
      return p.view();
    },
  };
  return p;
}

describe('the patient-view card', () => {
  it('says the stage, the status and what is due by when, as information, with a SMART link to the pathway', () => {
    const card = pathwayCard(pathway().clock(10), LINK);
    expect(card).toEqual({
      uuid: 'card-1',
      summary: 'Spinal pain pathway: Conservative care, active; reassessment due 2025-02-17',
      detail: '**Stage:** Conservative care (since 2025-01-06)\n\n**Status:** active\n\n**Next:** reassessment due 2025-02-17',
      indicator: 'info',
      source: { label: expect.any(String) },
      links: [{ label: 'Open the pathway', url: LINK.launchUrl, type: 'smart', appContext: `pw-${'b'.repeat(32)}` }],
    });
  });

  it('warns when the item is overdue, and when the patient is lost to follow-up', () => {
    const p = pathway();
    const overdue = pathwayCard(p.clock(46), LINK);
    expect(overdue).toMatchObject({ indicator: 'warning', summary: 'Spinal pain pathway: Conservative care, active; reassessment overdue since 2025-02-17' });
    const lost = pathwayCard(p.clock(46 + 28), LINK);
    expect(lost).toMatchObject({ indicator: 'warning', summary: expect.stringContaining('on hold, lost to follow-up') });
  });

  it('is critical after a red flag', () => {
    const p = pathway();
    const card = pathwayCard(p.apply(3, { type: 'red-flags', actor: { id: 'dr', role: 'clinician' }, input: { redFlags: ['infection'] } }), LINK);
    expect(card).toMatchObject({ indicator: 'critical', summary: expect.stringContaining('urgent referral (red flag)') });
    expect(card.summary.length).toBeLessThanOrEqual(140);
  });
});
