/**
 * Recorded pathways without Temporal, for the simulation's tests and benchmark: the pure model
 * driven as the workflow's loop drives it (the clock acts at each wake-up before the next
 * change), written to a record store batch by batch as the workflow writes it.
 */
import type { PathwayDefinition } from '../../clinical/definition';
import type { Actor, ActionInput, ProcedureInput, ReassessmentInput, Scores } from '../../clinical/events';
import { applyClock, applyEvent, checkEvent, enroll, nextWakeUpAt, pendingWorkup, type PathwayEvent, type PathwayState } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import type { RecordedHistory } from '../../clinical/simulate';
import { NOTHING_RECORDED, recordBatch, type RecordProgress } from '../../record/batch';
import type { NoteCipher } from '../../record/note-cipher';
import type { RecordDb } from '../../record/store';
import { writeBatch } from '../../record/write';

export const CLINICIAN: Actor = { id: 'dr-sim', role: 'clinician' };
export const COORDINATOR: Actor = { id: 'coord-sim', role: 'coordinator' };

export class PurePathway {
  state: PathwayState;
  private progress: RecordProgress = NOTHING_RECORDED;
  private now: number;

  constructor(
    readonly enrolmentId: string,
    definition: PathwayDefinition,
    opts: { pathwayId?: string; careTeam?: string; baseline?: Scores; at: number; conservativeCareSince?: string },
  ) {
    this.now = opts.at;
    this.state = enroll(
      {
        pathwayId: opts.pathwayId ?? `pw-${enrolmentId.replace(/[^0-9a-f]/g, '').padStart(32, '0').slice(-32)}`,
        careTeam: opts.careTeam ?? 'spine-a',
        definition,
        baseline: opts.baseline ?? { painNrs: 10, odi: 50 },
        redFlags: [],
        ...(opts.conservativeCareSince ? { conservativeCareSince: opts.conservativeCareSince } : {}),
        enrolledBy: COORDINATOR,
      },
      opts.at,
    ).state;
  }

  /** Time passes to `at`: every wake-up before it acts, as the workflow's timer would. */
  passTo(at: number): this {
    for (let wake = nextWakeUpAt(this.state); wake !== null && wake < at; wake = nextWakeUpAt(this.state)) {
      this.state = applyClock(this.state, wake).state;
    }
    this.now = at;
    return this;
  }

  /** A change at `day` days after enrolment; refused changes throw (a test's mistake). */
  apply(day: number, event: PathwayEvent): this {
    const at = Date.parse(this.state.enrolledAt) + day * DAY_MS;
    this.passTo(at);
    const refusal = checkEvent(this.state, event, at);
    if (refusal) throw new Error(`${this.enrolmentId} day ${day}: ${refusal.message}`);
    this.state = applyEvent(this.state, event, at).state;
    return this;
  }

  reassess(day: number, input: Omit<ReassessmentInput, 'redFlags'> & { redFlags?: ReassessmentInput['redFlags'] }, actor = CLINICIAN): this {
    return this.apply(day, { type: 'reassessment', actor, input: { redFlags: [], ...input } });
  }

  procedure(day: number, input: ProcedureInput, actor = CLINICIAN): this {
    return this.apply(day, { type: 'procedure', actor, input });
  }

  action(day: number, input: ActionInput, actor = CLINICIAN): this {
    return this.apply(day, { type: 'action', actor, input });
  }

  /** The record as the workflow would have written it up to now. */
  history(): RecordedHistory {
    const s = this.state;
    return {
      enrolmentId: this.enrolmentId,
      pathwayId: s.pathwayId,
      careTeam: s.careTeam,
      definition: s.definition,
      baseline: s.baseline,
      ...(s.conservativeCareSince ? { conservativeCareSince: s.conservativeCareSince } : {}),
      timeline: s.timeline,
      reassessments: s.reassessments,
      procedures: s.procedures,
    };
  }

  async write(db: RecordDb, cipher: NoteCipher): Promise<void> {
    const next = recordBatch(this.enrolmentId, this.state, pendingWorkup(this.state), this.progress);
    await writeBatch(db, cipher, next.batch);
    this.progress = next.progress;
  }
}

/** A small seeded generator (mulberry32), so every run seeds the same pathways. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A pathway that does what clinics do: each due item met a few days late (or, now and then,
 * never: lost to follow-up), pain relief drawn at random, holds, red flags and their
 * resumption, every stage reachable. Changes the rules would refuse are not made.
 */
export function randomPathway(i: number, definition: PathwayDefinition, start: number, rnd = seeded(i + 1)): PurePathway {
  const baseline = { painNrs: 6 + Math.round(rnd() * 40) / 10, odi: 30 + Math.round(rnd() * 40) };
  const p = new PurePathway(`random-${i}`, definition, { at: start, careTeam: `team-${i % 5}`, baseline });
  const startDay = (at: string) => (Date.parse(at) - Date.parse(p.state.enrolledAt)) / DAY_MS;
  const tryApply = (day: number, event: PathwayEvent): boolean => {
    const at = Date.parse(p.state.enrolledAt) + day * DAY_MS;
    p.passTo(at);
    if (checkEvent(p.state, event, at)) return false;
    p.state = applyEvent(p.state, event, at).state;
    return true;
  };
  let day = 0;
  for (let step = 0; step < 30 && p.state.status !== 'completed' && p.state.status !== 'withdrawn' && p.state.status !== 'closed'; step++) {
    if (p.state.status !== 'active') {
      day += 7 + Math.floor(rnd() * 21);
      if (!tryApply(day, { type: 'action', actor: CLINICIAN, input: { action: 'resume', reason: 'ready again' } })) break;
      continue;
    }
    const due = p.state.due;
    if (!due) break;
    const roll = rnd();
    if (roll < 0.03) break; // lost to follow-up from here on
    day = Math.max(day, startDay(due.dueAt)) + Math.floor(rnd() * 5) + 0.25;
    if (roll < 0.07) {
      tryApply(day, { type: 'action', actor: COORDINATOR, input: { action: 'hold', reason: 'travelling' } });
      continue;
    }
    if (roll < 0.09) {
      tryApply(day, { type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } });
      continue;
    }
    const pain = Math.round(p.state.reference.painNrs * (1 - rnd() * 0.75) * 10) / 10;
    const odi = Math.max(0, Math.round((p.state.reference.odi ?? 40) - rnd() * 15));
    const procedure = (type: ProcedureInput['type'], extra: Partial<ProcedureInput> = {}) =>
      tryApply(day, { type: 'procedure', actor: CLINICIAN, input: { type, performedAt: new Date(Date.parse(p.state.enrolledAt) + day * DAY_MS).toISOString(), ...extra } });
    let done = true;
    switch (due.kind) {
      case 'baseline':
      case 'reassessment':
      case 'trial-reassessment':
        done = tryApply(day, { type: 'reassessment', actor: CLINICIAN, input: { painNrs: pain, odi, dailyMme: Math.round(rnd() * 90), redFlags: [] } });
        break;
      case 'procedure':
        done = procedure(definition.stages.interventional.procedures[Math.floor(rnd() * definition.stages.interventional.procedures.length)]!);
        break;
      case 'psychological-evaluation':
        done = procedure('psychological-evaluation', { outcome: rnd() < 0.85 ? 'cleared' : 'not-cleared' });
        break;
      case 'scs-trial':
        done = procedure('scs-trial');
        break;
      case 'scs-implant':
        done = procedure('scs-implant');
        break;
      case 'workup': {
        const item = pendingWorkup(p.state)[0];
        done = item ? tryApply(day, { type: 'workup-result', actor: COORDINATOR, input: { item } }) : false;
        break;
      }
      case 'surgical-consult':
        done = tryApply(day, { type: 'workup-result', actor: COORDINATOR, input: { item: 'surgical-consult' } });
        break;
    }
    if (!done) tryApply(day, { type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'could not go on' } });
  }
  // Time passes to the end of the seed: what is owed is reminded, then lost to follow-up.
  p.passTo(Date.parse(p.state.enrolledAt) + (day + 60) * DAY_MS);
  return p;
}
