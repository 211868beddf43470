/**
 * What a coordinator or clinician can do to a pathway, each as a small form in a dialog. A button
 * is shown only where the role may act and the pathway's stage and status say the rules would
 * accept it; the dialog checks its fields in plain words before sending, shows what saving will
 * do (the API's preview, from the workflow's own rules), and a refusal once, in sentences.
 */
import type { PathwayState } from '../../clinical/pathway';
import { may, type Permission, type Role } from '../../clinical/permissions';
import { scsTrialEligibleFrom } from '../../clinical/rules';
import { isClosed } from '../../clinical/vocabulary';
import type { ChangeResult } from '../../workflows/messages';
import { api, ApiError } from './api';
import { capital, day, h, label, replace, when, words } from './dom';
import { failure, failureText, loading } from './states';
import { vocabulary } from './vocabulary';
import { decisionSentence, dueName, fieldName, inWords, isSystemMessage, nextDue, numberRows, type Decision } from './words';

export type { Decision };

/** A pathway as GET /v1/pathways/{id} answers it. */
export type FullPathway = PathwayState & { pendingWorkup: string[] };

/** What the buttons are judged on: a worklist row knows the due item; the pathway page knows everything. */
export interface PathwayFacts {
  pathwayId: string;
  stage: string;
  status: string;
  dueKind: string | null;
  dueAt: string | null;
  pendingWorkup: string[];
  /** Messages that could not be delivered and no one has acted on since. */
  undelivered: boolean;
  full?: FullPathway;
}

export const factsOf = (p: FullPathway): PathwayFacts => ({
  pathwayId: p.pathwayId,
  stage: p.stage,
  status: p.status,
  dueKind: p.due?.kind ?? null,
  dueAt: p.due?.dueAt ?? null,
  pendingWorkup: p.pendingWorkup,
  undelivered: p.undelivered.some((u) => !u.resolvedAt),
  full: p,
});

export type { ChangeResult };

type Field =
  | { kind: 'number'; name: string; label: string; min: number; max: number; step: number; required?: boolean; hint?: string; problem: string }
  | { kind: 'select'; name: string; label: string; options: Array<[string, string]>; required?: boolean; blank?: string; hint?: string; showWhen?: (form: HTMLFormElement) => boolean }
  | { kind: 'flags'; name: string; label: string; required?: boolean }
  | { kind: 'text'; name: string; label: string; required?: boolean; hint?: string; showWhen?: (form: HTMLFormElement) => boolean }
  | { kind: 'datetime'; name: string; label: string; hint: string; min: number; max: number; earliest: string };

export interface ActionSpec {
  id: string;
  label: string;
  /** "Saving this <noun> will …" */
  noun: string;
  permission: Permission;
  path: 'reassessments' | 'procedures' | 'workup' | 'red-flags' | 'actions';
  action?: string;
  fields(p: FullPathway, role: Role): Field[];
  available(f: PathwayFacts, role: Role): boolean;
}

const DAY = 86_400_000;
const open = (f: PathwayFacts) => !isClosed(f.status);
const active = (f: PathwayFacts) => f.status === 'active';
const reason = (hint = 'At least 3 characters; kept in the timeline'): Field => ({ kind: 'text', name: 'reason', label: 'Reason', required: true, hint });
const note: Field = { kind: 'text', name: 'note', label: 'Clinical note (optional)', hint: 'Kept in the pathway record, encrypted' };

/** Follow-up bookkeeping: not a recorded event, so it does not bound back-dating (clinical/pathway.ts, lastEventAt). */
const BOOKKEEPING = ['reminder', 'notification', 'overdue', 'lost-to-follow-up'];

/**
 * When something may be said to have happened: within the definition's back-dating window, and
 * not before the pathway's last recorded event; null when the definition allows no back-dating.
 */
function clinicalTime(p: FullPathway, name: string, text: string): Field | null {
  const windowDays = p.definition.backdateWindowDays;
  if (windowDays === undefined) return null;
  const now = Date.now();
  const last = Math.max(...p.timeline.filter((e) => !BOOKKEEPING.includes(e.event)).map((e) => Date.parse(e.occurredAt ?? e.at)));
  const byWindow = now - windowDays * DAY;
  const min = Math.max(byWindow, last);
  const earliest = min === last ? `the last recorded event (${when(new Date(last).toISOString())})` : `${windowDays} days ago (${when(new Date(byWindow).toISOString())})`;
  return { kind: 'datetime', name, label: text, min, max: now, earliest, hint: `Now, or earlier back to ${earliest}` };
}

const SCORES: Field[] = [
  { kind: 'number', name: 'painNrs', label: 'Pain NRS (0-10)', min: 0, max: 10, step: 0.1, required: true, problem: 'Pain NRS is a number from 0 to 10, with at most one decimal (e.g. 4.5).' },
  { kind: 'number', name: 'odi', label: 'ODI (0-100)', min: 0, max: 100, step: 1, problem: 'ODI is a whole number from 0 to 100.' },
];
const MME: Field = { kind: 'number', name: 'dailyMme', label: 'Daily opioid dose (MME)', min: 0, max: 10000, step: 0.1, hint: 'Morphine milligram equivalents a day; 0 for none', problem: 'Daily MME is a number from 0 to 10000.' };
const PGIC: Field = {
  kind: 'select',
  name: 'pgic',
  label: "Patient's impression of change (PGIC)",
  blank: 'Not asked',
  options: [
    ['1', '1: very much improved'],
    ['2', '2: much improved'],
    ['3', '3: minimally improved'],
    ['4', '4: no change'],
    ['5', '5: minimally worse'],
    ['6', '6: much worse'],
    ['7', '7: very much worse'],
  ],
};

/** Where the stage's rules use daily opioid use: the SCS trial's success, or a baseline that asks for it. */
function usesMme(p: FullPathway): boolean {
  const d = p.definition.stages;
  const baseline = p.stage === 'interventional' ? d.interventional.requiredBaseline : p.stage === 'scs' ? d.scs.requiredBaseline : undefined;
  return (p.stage === 'scs' && d.scs.response.trialMmeReductionPercent !== undefined) || (baseline ?? []).includes('dailyMme');
}

function scoreFields(p: FullPathway, withPgic: boolean): Field[] {
  return [...SCORES, ...(usesMme(p) ? [MME] : []), ...(withPgic ? [PGIC] : []), ...[clinicalTime(p, 'assessedAt', 'Assessed at')].filter((f): f is Field => f !== null)];
}

/** Procedures the rules would accept now, by stage and what the stage has recorded. */
export function procedureOptions(p: FullPathway): string[] {
  if (p.stage === 'interventional') return p.definition.stages.interventional.procedures;
  if (p.stage !== 'scs') return [];
  if (p.scs.psychology !== 'cleared') return ['psychological-evaluation'];
  if (!p.scs.trialStartedAt) return ['scs-trial'];
  if (p.scs.trialSucceeded && !p.scs.implantedAt) return ['scs-implant'];
  return [];
}

/** Why no procedure may be recorded now although the stage has them, or null. */
export function procedureBlocked(p: FullPathway): string | null {
  if (p.stage !== 'interventional' || p.status !== 'active') return null;
  const d = p.definition.stages.interventional;
  const done = p.procedures.filter((r) => r.stage === 'interventional').map((r) => Date.parse(r.performedAt));
  const now = Date.now();
  if (done.filter((t) => t > now - d.procedureLimit.windowDays * DAY).length >= d.procedureLimit.count) {
    return `The limit of ${d.procedureLimit.count} procedures in ${d.procedureLimit.windowDays} days is reached.`;
  }
  const gap = d.minimumIntervalDays;
  const latest = done.length ? Math.max(...done) : null;
  if (gap !== undefined && latest !== null && Math.floor(now / DAY) - Math.floor(latest / DAY) < gap) {
    return `Procedures are at least ${gap} days apart: the next may be performed from ${day(new Date(latest + gap * DAY).toISOString())}.`;
  }
  return null;
}

/** Work-up items the rules would accept: those pending, then the consult once the referral is out. */
function workupOptions(f: PathwayFacts): string[] {
  const consult = f.full ? Boolean(f.full.workup.referralIssuedAt && !f.full.workup.consultRecordedAt) : f.dueKind === 'surgical-consult';
  return [...f.pendingWorkup, ...(consult ? ['surgical-consult'] : [])];
}

/** Would the rules take a reassessment (not a baseline) now? In SCS only for a trial or an implant under way. */
function reassessmentAccepted(f: PathwayFacts): boolean {
  if (!active(f) || f.dueKind === 'baseline') return false;
  if (f.stage !== 'scs') return true;
  if (f.full) return Boolean(f.full.scs.implantedAt || (f.full.scs.trialStartedAt && f.full.scs.trialSucceeded === undefined));
  return f.dueKind === 'trial-reassessment' || f.dueKind === 'reassessment';
}

const PROCEDURE_DUE = ['procedure', 'psychological-evaluation', 'scs-trial', 'scs-implant'];

export const ACTIONS: ActionSpec[] = [
  {
    id: 'baseline',
    label: 'Record baseline',
    noun: 'baseline',
    permission: 'record-reassessment',
    path: 'reassessments',
    fields: (p) => [...scoreFields(p, false), note],
    available: (f) => active(f) && f.dueKind === 'baseline',
  },
  {
    id: 'reassessment',
    label: 'Record reassessment',
    noun: 'reassessment',
    permission: 'record-reassessment',
    path: 'reassessments',
    fields: (p) => [...scoreFields(p, true), note],
    available: reassessmentAccepted,
  },
  {
    id: 'procedure',
    label: 'Record procedure',
    noun: 'procedure',
    permission: 'record-procedure',
    path: 'procedures',
    fields: (p, role) => {
      const options = procedureOptions(p);
      const eligibleFrom = scsTrialEligibleFrom(p.definition, Date.parse(p.conservativeCareSince ?? p.enrolledAt));
      const early = options.includes('scs-trial') && eligibleFrom !== null && eligibleFrom > Date.now();
      const isType = (type: string) => (form: HTMLFormElement) => (form.elements.namedItem('type') as HTMLSelectElement | null)?.value === type;
      return [
        { kind: 'select', name: 'type', label: 'Procedure', options: options.map((o) => [o, capital(words(o))]), required: true },
        {
          kind: 'datetime',
          name: 'performedAt',
          label: 'Performed at',
          min: Date.parse(p.stageEnteredAt),
          max: Date.now(),
          earliest: `the start of this stage (${when(p.stageEnteredAt)})`,
          hint: `Now, or earlier back to the start of this stage (${day(p.stageEnteredAt)})`,
        },
        ...(options.includes('psychological-evaluation')
          ? [{ kind: 'select', name: 'outcome', label: 'Outcome', options: [['cleared', 'Cleared for a trial'], ['not-cleared', 'Not cleared']], required: true, showWhen: isType('psychological-evaluation') } as Field]
          : []),
        ...(early && role === 'clinician'
          ? [{ kind: 'text', name: 'overrideReason', label: 'Reason to start the trial early', required: true, hint: `Conservative care reaches its minimum on ${day(new Date(eligibleFrom!).toISOString())}; an earlier trial needs a clinician's reason`, showWhen: isType('scs-trial') } as Field]
          : []),
        note,
      ];
    },
    available: (f, role) => {
      if (!active(f) || f.dueKind === 'baseline' || (f.stage !== 'interventional' && f.stage !== 'scs')) return false;
      if (!f.full) return f.stage === 'interventional' || PROCEDURE_DUE.includes(f.dueKind ?? '');
      if (procedureBlocked(f.full)) return false;
      const options = procedureOptions(f.full);
      // Before the months of conservative care only a clinician may start a trial (with a reason).
      const eligibleFrom = scsTrialEligibleFrom(f.full.definition, Date.parse(f.full.conservativeCareSince ?? f.full.enrolledAt));
      if (options.length === 1 && options[0] === 'scs-trial' && eligibleFrom !== null && eligibleFrom > Date.now() && role !== 'clinician') return false;
      return options.length > 0;
    },
  },
  {
    id: 'workup',
    label: 'Record work-up result',
    noun: 'work-up result',
    permission: 'record-workup',
    path: 'workup',
    fields: (p) => [
      { kind: 'select', name: 'item', label: 'Work-up item', options: workupOptions(factsOf(p)).map((o) => [o, capital(words(o))]), required: true },
      ...[clinicalTime(p, 'completedAt', 'Completed at')].filter((f): f is Field => f !== null),
      note,
    ],
    available: (f) => active(f) && f.stage === 'revision-referral' && workupOptions(f).length > 0,
  },
  {
    id: 'acknowledge',
    label: 'Acknowledge undelivered',
    noun: 'acknowledgement',
    permission: 'action:acknowledge',
    path: 'actions',
    action: 'acknowledge',
    fields: () => [{ kind: 'text', name: 'reason', label: 'What was done instead (optional)', hint: 'For example: phoned the patient; kept in the timeline' }],
    available: (f) => open(f) && f.undelivered,
  },
  {
    id: 'resume',
    label: 'Resume',
    noun: 'resumption',
    permission: 'action:resume',
    path: 'actions',
    action: 'resume',
    fields: (p) => [reason(p.status === 'urgent-referral' ? 'Why stepped care may go on after the red flag; kept in the timeline' : undefined)],
    // After a red flag, going on is a clinical decision (clinical/pathway.ts, checkEvent).
    available: (f, role) => f.status === 'on-hold' || (f.status === 'urgent-referral' && role === 'clinician'),
  },
  { id: 'close', label: 'Close', noun: 'closure', permission: 'action:close', path: 'actions', action: 'close', fields: () => [reason()], available: (f) => f.status === 'urgent-referral' },
  {
    id: 'red-flags',
    label: 'Report red flags',
    noun: 'red-flag report',
    permission: 'report-red-flags',
    path: 'red-flags',
    fields: (p) => [{ kind: 'flags', name: 'redFlags', label: 'Red flags found', required: true }, ...[clinicalTime(p, 'reportedAt', 'Found at')].filter((f): f is Field => f !== null), note],
    available: (f) => open(f) && f.status !== 'urgent-referral',
  },
  {
    id: 'escalate',
    label: 'Escalate',
    noun: 'escalation',
    permission: 'action:escalate',
    path: 'actions',
    action: 'escalate',
    fields: (p) => {
      const later = vocabulary.stages.slice(vocabulary.stages.indexOf(p.stage) + 1);
      return [{ kind: 'select', name: 'toStage', label: 'To stage', options: later.map((s) => [s, capital(words(s))]), required: true }, reason()];
    },
    available: (f) => active(f) && f.stage !== 'revision-referral',
  },
  { id: 'hold', label: 'Hold', noun: 'hold', permission: 'action:hold', path: 'actions', action: 'hold', fields: () => [reason()], available: active },
  { id: 'discharge', label: 'Discharge', noun: 'discharge', permission: 'action:discharge', path: 'actions', action: 'discharge', fields: () => [reason()], available: (f) => f.status === 'active' || f.status === 'on-hold' },
  { id: 'withdraw', label: 'Withdraw', noun: 'withdrawal', permission: 'action:withdraw', path: 'actions', action: 'withdraw', fields: () => [reason()], available: open },
];

/** The action the due item asks for, tried first on a row and a page. */
export function dueAction(f: PathwayFacts): string | null {
  if (f.status === 'urgent-referral') return 'resume';
  if (f.status === 'on-hold') return 'resume';
  switch (f.dueKind) {
    case 'baseline':
      return 'baseline';
    case 'reassessment':
    case 'trial-reassessment':
      return 'reassessment';
    case 'workup':
    case 'surgical-consult':
      return 'workup';
    default:
      return f.dueKind && PROCEDURE_DUE.includes(f.dueKind) ? 'procedure' : null;
  }
}

/** What this person may do now, the most likely first (undelivered: the due item, then acknowledge). */
export function availableActions(role: Role, f: PathwayFacts, only?: string[]): ActionSpec[] {
  const allowed = ACTIONS.filter((a) => (!only || only.includes(a.id)) && may(role, a.permission) && a.available(f, role));
  const first = dueAction(f);
  return [...allowed.filter((a) => a.id === first), ...allowed.filter((a) => a.id !== first)];
}

// ---- the dialog ----

let ids = 0;
const pad = (n: number) => String(n).padStart(2, '0');
/** A datetime-local input's value: local time to the minute. */
const localInput = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

interface Control {
  field: Field;
  wrap: HTMLElement;
  input?: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  error: HTMLElement;
}

function control(field: Field): Control {
  const id = `f${++ids}-${field.name}`;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const hint = 'hint' in field && field.hint ? h('span', { class: 'hint', id: `${id}-hint` }, field.hint) : null;
  const described = [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  switch (field.kind) {
    case 'number': {
      const input = h('input', { id, name: field.name, type: 'number', inputmode: 'decimal', min: field.min, max: field.max, step: field.step, required: field.required, 'aria-describedby': described });
      return { field, input, error, wrap: h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, input, error) };
    }
    case 'select': {
      const input = h('select', { id, name: field.name, required: field.required, 'aria-describedby': described }, field.blank !== undefined ? h('option', { value: '' }, field.blank) : null, field.options.map(([v, text]) => h('option', { value: v }, text)));
      return { field, input, error, wrap: h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, input, error) };
    }
    case 'datetime': {
      // Marked once the person sets a time: theirs is sent even when it falls in the minute the dialog opened.
      const input = h('input', { id, name: field.name, type: 'datetime-local', value: localInput(field.max), min: localInput(field.min), max: localInput(field.max + 60_000), 'aria-describedby': described, oninput: (e: Event) => ((e.target as HTMLInputElement).dataset.set = 'true') });
      return { field, input, error, wrap: h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, input, error) };
    }
    case 'text': {
      const input = h('textarea', { id, name: field.name, rows: 2, maxlength: 2000, required: field.required, 'aria-describedby': described });
      return { field, input, error, wrap: h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, input, error) };
    }
    case 'flags': {
      const wrap = h(
        'fieldset',
        { class: 'field flags', 'aria-describedby': `${id}-error` },
        h('legend', {}, field.label),
        vocabulary.redFlags.map((flag) => h('div', { class: 'check' }, h('input', { type: 'checkbox', id: `${id}-${flag}`, name: field.name, value: flag }), h('label', { for: `${id}-${flag}` }, label(flag)))),
        error,
      );
      return { field, error, wrap };
    }
  }
}

/** A field's problem in plain words, or null. */
function problemOf(c: Control, form: HTMLFormElement): string | null {
  const f = c.field;
  if (c.wrap.hidden) return null;
  if (f.kind === 'flags') return f.required && new FormData(form).getAll(f.name).length === 0 ? 'Tick at least one red flag.' : null;
  const value = (c.input?.value ?? '').trim();
  if (value === '') {
    if (!('required' in f) || !f.required) return null;
    return f.kind === 'select' ? `Choose ${f.label.toLowerCase()}.` : f.kind === 'text' ? `Enter ${f.label.toLowerCase()}.` : `Enter ${f.label.replace(/ \(.*\)$/, '')}.`;
  }
  switch (f.kind) {
    case 'number': {
      const n = Number(value);
      const decimals = f.step < 1 ? 1 : 0;
      if (!Number.isFinite(n) || n < f.min || n > f.max || Math.abs(Math.round(n * 10 ** decimals) - n * 10 ** decimals) > 1e-9) return f.problem;
      return null;
    }
    case 'datetime': {
      const at = new Date(value).getTime();
      if (Number.isNaN(at)) return 'Enter a date and time.';
      if (at > Date.now() + 60_000) return 'This is in the future: use a time up to now.';
      if (at < f.min - 60_000) return `Too early: the earliest allowed is ${f.earliest}.`;
      return null;
    }
    case 'text':
      return f.required && value.length < 3 ? `${f.label} needs at least 3 characters.` : null;
    default:
      return null;
  }
}

function bodyOf(spec: ActionSpec, controls: Control[], form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const body: Record<string, unknown> = spec.action ? { action: spec.action } : {};
  for (const { field, wrap, input } of controls) {
    if (wrap.hidden) continue;
    if (field.kind === 'flags') {
      const flags = data.getAll(field.name).map(String);
      if (flags.length > 0) body[field.name] = flags;
      continue;
    }
    const value = String(data.get(field.name) ?? '').trim();
    if (value === '') continue;
    if (field.kind === 'number' || (field.kind === 'select' && field.name === 'pgic')) body[field.name] = Number(value);
    else if (field.kind === 'datetime') {
      // Left as the dialog opened it: "now", which the service takes when none is given.
      if ((input as HTMLInputElement).dataset.set === 'true') body[field.name] = new Date(value).toISOString();
    } else body[field.name] = value;
  }
  return body;
}

/** "Saving this reassessment will count as a response and discharge the patient to self-management." */
export function consequence(noun: string, decisions: Decision[]): string {
  const effects: string[] = [];
  for (const d of decisions) {
    if (d.ruleId?.startsWith('response.')) effects.push(/not responding/i.test(d.summary) ? 'count as no response' : 'count as a response');
    if (d.ruleId === 'baseline.required') effects.push('become the stage reference');
    if (d.stageAfter && d.stageBefore && d.stageAfter !== d.stageBefore) effects.push(`move the patient from ${words(d.stageBefore)} to ${words(d.stageAfter)}`);
    if (d.statusAfter && d.statusAfter !== d.statusBefore) {
      const status: Record<string, string> = {
        completed: d.ruleId === 'completion.sustained-response' ? 'discharge the patient to self-management' : d.ruleId === 'override.discharge' ? 'discharge the patient' : 'complete the pathway',
        'urgent-referral': 'make an urgent referral and pause stepped care',
        'on-hold': 'put the pathway on hold',
        active: 'resume stepped care',
        withdrawn: 'withdraw the patient from the pathway',
        closed: 'close the pathway',
      };
      effects.push(status[d.statusAfter] ?? `make the pathway ${d.statusAfter}`);
    }
    if (d.ruleId === 'override.acknowledge') effects.push('take the undelivered messages off the worklist');
  }
  if (effects.length === 0 || effects.every((e) => e.startsWith('count as'))) effects.push('leave the stage and status as they are');
  const last = decisions[decisions.length - 1];
  const next = last?.due && !['completed', 'withdrawn', 'closed'].includes(last.statusAfter ?? '') ? `; next: ${dueName(last.due.kind)} due ${day(last.due.dueAt)}` : '';
  const list = effects.length === 1 ? effects[0] : `${effects.slice(0, -1).join(', ')} and ${effects[effects.length - 1]}`;
  return `Saving this ${noun} will ${list}${next}.`;
}

const fetchPathway = (id: string) => api<{ pathway: FullPathway }>('GET', `/v1/pathways/${id}`).then((r) => r.pathway);

/** Opens the action's dialog; resolves with the API's answer, or undefined when cancelled. */
export function openAction(spec: ActionSpec, facts: PathwayFacts, title: string, role: Role): Promise<ChangeResult | undefined> {
  return new Promise((resolve) => {
    // One key per dialog: pressing Save twice, or again after a lost answer, records once.
    const idempotencyKey = `console-${crypto.randomUUID()}`;
    const headingId = `dialog-${++ids}`;
    const body = h('div', { class: 'dialog-body' }, loading('the pathway'));
    const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel');
    const dialog = h('dialog', { 'aria-labelledby': headingId, class: 'action-dialog', 'data-action': spec.id }, h('h2', { id: headingId }, `${spec.label}: ${title}`), body, h('div', { class: 'buttons dialog-cancel' }, cancel));
    let result: ChangeResult | undefined;
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();

    const build = (p: FullPathway) => {
      dialog.querySelector('.dialog-cancel')?.remove();
      const controls = spec.fields(p, role).map(control);
      const preview = h('div', { class: 'preview', 'aria-live': 'polite', hidden: true });
      const status = h('div', { class: 'dialog-status' });
      const submit = h('button', { type: 'submit' }, `Save ${spec.noun}`);
      const form: HTMLFormElement = h(
        'form',
        { method: 'dialog', novalidate: true },
        h('div', { class: 'dialog-fields' }, controls.map((c) => c.wrap), preview, status),
        h('div', { class: 'buttons dialog-buttons' }, submit, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')),
      );
      const showWhen = () => {
        for (const c of controls) {
          const when = 'showWhen' in c.field ? c.field.showWhen : undefined;
          if (when) c.wrap.hidden = !when(form);
        }
      };
      /** Marks every field with its problem; true when there is none. */
      const check = (mark: boolean): boolean => {
        let ok = true;
        for (const c of controls) {
          const problem = problemOf(c, form);
          if (problem) ok = false;
          if (mark) setError(c, problem);
        }
        return ok;
      };
      let asked = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const askPreview = () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          if (!check(false)) {
            preview.hidden = true;
            return;
          }
          const mine = ++asked;
          try {
            const answer = await api<ChangeResult>('POST', `/v1/pathways/${p.pathwayId}/${spec.path}/preview`, bodyOf(spec, controls, form));
            if (mine !== asked) return;
            replace(preview, h('p', { class: 'consequence' }, consequence(spec.noun, answer.decisions)), decisionList(answer.decisions.filter((d) => !isSystemMessage(d))));
            preview.hidden = false;
          } catch (err) {
            if (mine !== asked) return;
            // A preview that cannot be had says nothing rather than guess; a refusal is said once, here.
            const e = err instanceof ApiError ? err : new ApiError(0, String(err));
            if (e.status >= 400 && e.status < 500 && e.status !== 401) {
              replace(preview, h('p', { class: 'consequence refused' }, `Saving this would be refused: ${refusalText(e, controls)}`));
              preview.hidden = false;
            } else preview.hidden = true;
          }
        }, 300);
      };
      form.addEventListener('input', () => {
        showWhen();
        askPreview();
      });
      form.addEventListener('change', () => {
        showWhen();
        askPreview();
      });
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        replace(status);
        if (!check(true)) {
          // The problem is said beside its field; here only that nothing was sent, for a screen reader.
          const marked = controls.filter((c) => !c.error.hidden);
          replace(status, h('p', { class: 'form-problem', role: 'alert' }, `Not saved: check ${marked.map((c) => c.field.label.replace(/ \(.*\)$/, '')).join(', ')}.`));
          marked[0]?.wrap.querySelector<HTMLElement>('input, select, textarea')?.focus();
          return;
        }
        clearTimeout(timer);
        asked++;
        submit.disabled = true;
        try {
          result = await api<ChangeResult>('POST', `/v1/pathways/${p.pathwayId}/${spec.path}`, bodyOf(spec, controls, form), idempotencyKey);
          dialog.close();
        } catch (err) {
          preview.hidden = true;
          const e2 = err instanceof ApiError ? err : new ApiError(0, String(err));
          if (e2.status === 0 || e2.status >= 500) {
            replace(status, h('div', { class: 'message message-error', role: 'alert' }, h('p', {}, `Not saved. ${failureText(e2, 'The change').replace(/^The change could not load: /, '')} Saving again is safe: it is recorded once.`)));
          } else {
            replace(status, h('div', { class: 'message message-error', role: 'alert' }, h('p', {}, `Not saved: ${refusalText(e2, controls)}`)));
          }
          submit.disabled = false;
        }
      });
      replace(body, form);
      showWhen();
      form.querySelector<HTMLElement>('input, select, textarea')?.focus();
      askPreview();
    };

    if (facts.full) build(facts.full);
    else {
      const attempt = () => {
        replace(body, loading('the pathway'));
        fetchPathway(facts.pathwayId).then(build, (err) => replace(body, failure(err, 'the pathway', attempt)));
      };
      attempt();
    }
  });
}

function setError(c: Control, problem: string | null): void {
  c.error.hidden = !problem;
  replace(c.error, problem ?? '');
  const target = c.input ?? c.wrap;
  if (problem) target.setAttribute('aria-invalid', 'true');
  else target.removeAttribute('aria-invalid');
}

/** A refusal in sentences, once: beside the fields it names, or here when it names none of them. */
function refusalText(e: ApiError, controls: Control[]): string {
  const unplaced: string[] = [];
  for (const err of e.errors) {
    const c = controls.find((x) => x.field.name === err.field.split('.').pop() && !x.wrap.hidden);
    if (c) setError(c, `${capital(inWords(err.message.replace(new RegExp(`^${err.field}\\b:? ?`), '')))}`);
    else unplaced.push(`${capital(fieldName(err.field))}: ${inWords(err.message)}`);
  }
  if (e.errors.length > 0 && unplaced.length === 0) return 'see the field marked below.';
  if (unplaced.length > 0 && e.errors.length > 0 && e.status === 400) return `${unplaced.join('; ')}.`;
  return `${inWords(e.message)}.`;
}

/** The buttons this person may use on this pathway now, the most likely first. */
export function actionButtons(role: Role, facts: PathwayFacts, title: string, onDone: (r: ChangeResult, spec: ActionSpec) => void, only?: string[]): HTMLElement[] {
  const first = dueAction(facts);
  return availableActions(role, facts, only).map((spec) =>
    h(
      'button',
      {
        type: 'button',
        class: spec.id === first ? 'action primary' : 'action',
        'data-action': spec.id,
        'aria-label': `${spec.label}: ${title}`,
        onclick: async () => {
          const result = await openAction(spec, facts, title, role);
          if (result) onDone(result, spec);
        },
      },
      spec.label,
    ),
  );
}

/** A decision as a clinician reads it: the sentence, what is next, the rule beneath, the numbers on request. */
export function decisionParts(d: Decision): Array<HTMLElement | null> {
  const numbers = numberRows(d.numbers);
  const next = nextDue(d);
  const noteLabel = d.event === 'red-flags' ? 'Clinical note' : d.event === 'override' || d.event === 'stage-changed' || d.event === 'completed' ? 'Reason given' : 'Note';
  return [
    h('p', { class: 'summary' }, decisionSentence(d)),
    next ? h('p', { class: 'next' }, next) : null,
    d.rule ? h('p', { class: 'rule', 'data-rule-id': d.ruleId }, d.rule) : null,
    numbers.length
      ? h('details', { class: 'numbers' }, h('summary', {}, 'Numbers the rule used'), h('dl', {}, numbers.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])))
      : null,
    d.reason ? h('p', { class: 'reason' }, h('span', { class: 'reason-label' }, `${noteLabel}: `), d.reason) : null,
  ];
}

export function decisionList(decisions: Decision[]): HTMLElement {
  return h('ol', { class: 'decisions' }, decisions.map((d) => h('li', { 'data-event': d.event }, decisionParts(d))));
}

/** "Recorded for pathway 1a2b3c4d: Pain relief 43% … : responding." */
export function confirmation(title: string, r: ChangeResult): string {
  const clinical = r.decisions.filter((d) => !isSystemMessage(d));
  const what = clinical.map((d) => `${decisionSentence(d)}.`).join(' ');
  return `Recorded for ${title}: ${what || 'no change of stage or status.'}`;
}

