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
