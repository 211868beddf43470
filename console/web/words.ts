/**
 * The service's decisions, dates and refusals in the clinic's words: a sentence a clinician
 * reads at a glance, numbers rounded as a clinician would, local dates, never a raw key.
 */
import type { TimelineEntry } from '../../clinical/pathway';
import { capital, day, when, words } from './dom';
import { vocabulary } from './vocabulary';

/** A decision as the API answers it (the timeline entry, its codes as strings). */
export type Decision = Omit<TimelineEntry, 'ruleId' | 'numbers' | 'event' | 'stageBefore' | 'stageAfter' | 'statusBefore' | 'statusAfter'> & {
  event: string;
  ruleId?: string;
  numbers?: Record<string, unknown>;
  stageBefore?: string;
  stageAfter?: string;
  statusBefore?: string;
  statusAfter?: string;
};

const DAY = 86_400_000;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** NRS and ODI to one decimal at most ("4.5", "4"); percentages whole ("43%"). */
const score = (n: number) => String(Math.round(n * 10) / 10);
const pct = (n: number) => `${Math.round(n)}%`;

const DUE_NAMES: Record<string, string> = {
  baseline: 'baseline scores',
  reassessment: 'reassessment',
  procedure: 'procedure',
  'psychological-evaluation': 'psychological evaluation',
  'scs-trial': 'spinal cord stimulation trial',
  'trial-reassessment': 'reassessment at the end of the trial',
  'scs-implant': 'permanent stimulator implant',
  workup: 'work-up',
  'surgical-consult': 'surgical consult',
};
export const dueName = (kind: string): string => DUE_NAMES[kind] ?? words(kind);

const STATUS_NAMES: Record<string, string> = {
  active: 'active',
  'on-hold': 'on hold',
  'urgent-referral': 'urgent referral',
  completed: 'completed',
  withdrawn: 'withdrawn',
  closed: 'closed',
};
export const statusName = (status: string): string => STATUS_NAMES[status] ?? words(status);

/** Whole days between the local dates of two instants. */
export function calendarDays(fromMs: number, toMs: number): number {
  const midnight = (ms: number) => {
    const d = new Date(ms);
    return Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  };
  return Math.round((midnight(toMs) - midnight(fromMs)) / DAY);
}

/** "9 days overdue", "due today", "due tomorrow", "due in 5 days". */
export function dueWhen(dueAt: string, now = Date.now()): { text: string; late: boolean } {
  const days = calendarDays(Date.parse(dueAt), now);
  if (days > 0) return { text: `${days} ${days === 1 ? 'day' : 'days'} overdue`, late: true };
  if (days === 0) return { text: 'due today', late: false };
  if (days === -1) return { text: 'due tomorrow', late: false };
  return { text: `due in ${-days} days`, late: false };
}

const FIELD_NAMES: Record<string, string> = {
  assessedAt: 'the assessment date',
  reportedAt: 'the date the red flags were found',
  completedAt: 'the date it was completed',
  performedAt: 'the date it was performed',
  painNrs: 'pain NRS',
  odi: 'ODI',
  pgic: 'PGIC',
  dailyMme: 'daily MME',
  redFlags: 'red flags',
  reason: 'the reason',
  toStage: 'the stage',
};
export const fieldName = (field: string): string => FIELD_NAMES[field.split('.').pop() ?? field] ?? words(field);

/** A message of the service with local dates and the clinic's words for its codes and fields. */
export function inWords(text: string): string {
  return capital(
    text
      .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g, (iso) => when(iso))
      .replace(/\b\d{4}-\d{2}-\d{2}\b/g, (date) => day(`${date}T12:00:00Z`))
      .replace(/ \(calendar days, UTC\)/g, '')
      .replace(/ \(the definition's backdateWindowDays\)/g, ' (the back-dating window)')
      .replace(/\bis (urgent-referral|on-hold)\b/g, (_m, s: string) => (s === 'urgent-referral' ? 'is in urgent referral' : 'is on hold'))
      .replace(/\b(assessedAt|reportedAt|completedAt|performedAt|painNrs|dailyMme|overrideReason)\b/g, (f) => FIELD_NAMES[f] ?? f)
      .replace(/\b[a-z]+(?:-[a-z]+)+\b|\bscs\b/g, (code) => vocabulary.names?.[code] ?? code),
  );
}

/** A pain reassessment's verdict as read at a glance: "Pain relief 43% from NRS 7 to 4 (needs 30%): responding". */
function evaluationSentence(d: Decision, n: Record<string, unknown>): string {
  const parts: string[] = [];
  const [reference, pain, relief] = [num(n.referencePainNrs), num(n.painNrs), num(n.painReliefPercent)];
  const needs = num(n.painThresholdPercent ?? n.reliefThresholdPercent);
  if (reference !== null && pain !== null) {
    if (relief === null) parts.push(`pain NRS ${score(pain)} against a stage reference of 0`);
    else if (relief >= 0) parts.push(`pain relief ${pct(relief)} from NRS ${score(reference)} to ${score(pain)}${needs !== null ? ` (needs ${pct(needs)})` : ''}`);
    else parts.push(`pain worse by ${pct(-relief)}, from NRS ${score(reference)} to ${score(pain)}${needs !== null ? ` (needs ${pct(needs)} relief)` : ''}`);
  }
  const [drop, refOdi, odi, odiNeeds] = [num(n.odiDropPoints), num(n.referenceOdi), num(n.odi), num(n.odiThresholdPoints)];
  if (drop !== null && refOdi !== null && odi !== null) {
    parts.push(`${drop >= 0 ? `ODI down ${score(drop)}` : `ODI up ${score(-drop)}`} ${Math.abs(drop) === 1 ? 'point' : 'points'} from ${score(refOdi)} to ${score(odi)}${odiNeeds !== null ? ` (needs a fall of ${score(odiNeeds)})` : ''}`);
  }
  const [cut, refMme, mme, mmeNeeds] = [num(n.mmeReductionPercent), num(n.referenceDailyMme), num(n.dailyMme), num(n.mmeThresholdPercent)];
  if (cut !== null && refMme !== null && mme !== null) parts.push(`daily MME down ${pct(cut)} from ${score(refMme)} to ${score(mme)}${mmeNeeds !== null ? ` (needs ${pct(mmeNeeds)})` : ''}`);
  if (n.painAcceptable === true) parts.push(`pain at or below NRS ${score(num(n.acceptablePainNrs) ?? 0)} is acceptable`);
  const verdict = /not responding/i.test(d.summary) ? 'not responding' : 'responding';
  return capital(`${parts.join('; ')}: ${verdict}`);
}

/** The sentence a clinician reads first for a decision: what happened, with its numbers. */
export function decisionSentence(d: Decision): string {
  const n = d.numbers ?? {};
  switch (d.ruleId) {
    case 'response.conservative':
    case 'response.interventional':
    case 'response.scs-trial':
    case 'response.scs-follow-up':
      return evaluationSentence(d, n);
    case 'escalation.minimum-duration':
      return `Not responding, but ${words(d.stageAfter ?? '')} has lasted ${score(num(n.activeDays) ?? 0)} of its minimum ${n.minimumDays} days: no escalation yet`;
    case 'completion.sustained-response':
      return `${n.consecutiveResponses} responding reassessments in a row (needs ${n.required}): discharged to self-management`;
    case 'escalation.acceptable-pain':
      return 'Not responding against a pain reference of 0, which cannot justify an escalation: this assessment is the new stage reference';
  }
  switch (d.event) {
    case 'stage-changed':
      return `Moved from ${words(d.stageBefore ?? '')} to ${words(d.stageAfter ?? '')}${d.actor.role === 'system' ? '' : ` by ${d.actor.id}`}`;
    case 'procedure':
      if (typeof n.type === 'string' && num(n.proceduresInWindow) !== null) {
        return `${capital(words(n.type))} recorded (${n.proceduresInWindow} of ${n.limit} allowed in ${n.windowDays} days)`;
      }
      break;
    case 'red-flags':
      return `Red ${String(n.redFlags ?? '').includes(',') ? 'flags' : 'flag'}: ${String(n.redFlags ?? '').split(', ').map(words).join(', ')}. Urgent referral; stepped care paused`;
    case 'overdue':
      return `Overdue: ${dueName(String(n.dueKind))} was due ${day(String(n.dueAt))}`;
    case 'reminder':
      return n.level === 'due' ? `Reminder sent: ${dueName(String(n.dueKind))} due today` : `Reminder to the coordinator: ${dueName(String(n.dueKind))} overdue since ${day(String(n.dueAt))}`;
  }
  return inWords(d.summary.replace(/\.$/, ''));
}

/** What the decision leaves due, for a clinical event: "Next: reassessment due 3 Jan 2027". */
export function nextDue(d: Decision): string | null {
  if (!d.due || !['reassessment', 'procedure', 'workup-result', 'enrolled', 'stage-changed', 'override'].includes(d.event)) return null;
  return `Next: ${dueName(d.due.kind)} due ${day(d.due.dueAt)}`;
}

const NUMBER_NAMES: Record<string, string> = {
  referencePainNrs: 'Stage reference NRS',
  painNrs: 'Pain NRS',
  painReliefPercent: 'Pain relief',
  painThresholdPercent: 'Relief needed',
  reliefThresholdPercent: 'Relief needed',
  referenceOdi: 'Stage reference ODI',
  odi: 'ODI',
  odiDropPoints: 'ODI fall (points)',
  odiThresholdPoints: 'ODI fall needed (points)',
  acceptablePainNrs: 'Acceptable pain (NRS)',
  painAcceptable: 'Pain acceptable',
  pgic: 'PGIC',
  dailyMme: 'Daily MME',
  referenceDailyMme: 'Stage reference daily MME',
  mmeReductionPercent: 'Daily MME cut',
  mmeThresholdPercent: 'Daily MME cut needed',
  activeDays: 'Days in the stage',
  minimumDays: 'Minimum days',
  heldDays: 'Days paused',
  dueBefore: 'Was due',
  dueKind: 'Due item',
  dueAt: 'Due',
  fromStage: 'From',
  toStage: 'To',
};
const PERCENT = /Percent$/;

/** The numbers a rule used, each with a name and its value rounded; message ids and other machine keys left out. */
export function numberRows(numbers: Record<string, unknown> | undefined): Array<[string, string]> {
  return Object.entries(numbers ?? {})
    .filter(([k, v]) => v !== null && !['messageId', 'sideEffect', 'deliveredBy', 'sequence'].includes(k))
    .map(([k, v]): [string, string] => {
      const name = NUMBER_NAMES[k] ?? capital(k.replace(/([A-Z])/g, ' $1').toLowerCase());
      let text: string;
      if (typeof v === 'number') text = `${score(v)}${PERCENT.test(k) ? '%' : ''}`;
      else if (typeof v === 'boolean') text = v ? 'yes' : 'no';
      else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) text = day(v.length === 10 ? `${v}T12:00:00Z` : v);
      else text = k === 'dueKind' ? dueName(String(v)) : String(v).split(', ').map(words).join(', ');
      return [name, text];
    });
}

/** Who acted, as the timeline names them. */
export const actorName = (actor: { id: string; role: string }): string =>
  actor.role === 'system' ? 'Pathway rules' : actor.role === 'patient' ? 'reported by the patient at home' : `${actor.id} (${actor.role})`;

/** Decisions the pathway takes by itself about its messages: shown apart from clinical events. */
export const isSystemMessage = (d: Decision): boolean => d.event === 'notification' || d.event === 'reminder';
