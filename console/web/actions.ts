/**
 * What a coordinator or clinician can do to a pathway, each as a small form in a dialog. A button
 * is shown only where the role may act and the pathway's stage and status make sense; the API
 * checks everything again and its refusal is shown as it is.
 */
import type { Permission } from '../../clinical/permissions';
import { isClosed } from '../../clinical/vocabulary';
import type { ChangeResult } from '../../workflows/messages';
import { api, ApiError } from './api';
import { h, label, message, replace } from './dom';
import { vocabulary } from './vocabulary';

export interface PathwayFacts {
  pathwayId: string;
  stage: string;
  status: string;
  pendingWorkup?: string[];
}

export type { ChangeResult };
/** A timeline entry: a decision, with its rule and numbers. */
export type Decision = ChangeResult['decisions'][number];

type Field =
  | { kind: 'number'; name: string; label: string; min: number; max: number; step: number; required?: boolean; hint?: string }
  | { kind: 'select'; name: string; label: string; options: readonly string[]; required?: boolean; blank?: string }
  | { kind: 'flags'; name: string; label: string; required?: boolean }
  | { kind: 'text'; name: string; label: string; required?: boolean; hint?: string }
  | { kind: 'datetime'; name: string; label: string; hint?: string };

export interface ActionSpec {
  id: string;
  label: string;
  permission: Permission;
  path: 'reassessments' | 'procedures' | 'workup' | 'red-flags' | 'actions';
  action?: string;
  fields: Field[];
  available(p: PathwayFacts): boolean;
}

const open = (p: PathwayFacts) => !isClosed(p.status);
const reason: Field = { kind: 'text', name: 'reason', label: 'Reason', required: true, hint: 'Required: at least 3 characters; kept in the timeline' };
const note: Field = { kind: 'text', name: 'note', label: 'Note (optional)' };

export const ACTIONS: ActionSpec[] = [
  {
    id: 'reassessment',
    label: 'Record reassessment',
    permission: 'record-reassessment',
    path: 'reassessments',
    fields: [
      { kind: 'number', name: 'painNrs', label: 'Pain NRS (0-10)', min: 0, max: 10, step: 0.1, required: true },
      { kind: 'number', name: 'odi', label: 'ODI (0-100)', min: 0, max: 100, step: 1 },
      { kind: 'number', name: 'pgic', label: 'PGIC (1 very much improved – 7 very much worse)', min: 1, max: 7, step: 1 },
      { kind: 'flags', name: 'redFlags', label: 'Red flags found' },
      note,
    ],
    available: (p) => open(p),
  },
  {
    id: 'procedure',
    label: 'Record procedure',
    permission: 'record-procedure',
    path: 'procedures',
    fields: [
      { kind: 'select', name: 'type', label: 'Procedure', options: vocabulary.procedures, required: true },
      { kind: 'datetime', name: 'performedAt', label: 'Performed at', hint: 'Leave empty for now' },
      { kind: 'select', name: 'outcome', label: 'Outcome (psychological evaluation only)', options: ['cleared', 'not-cleared'], blank: 'Not applicable' },
      note,
    ],
    available: (p) => p.status === 'active' && (p.stage === 'interventional' || p.stage === 'scs'),
  },
  {
    id: 'workup',
    label: 'Record work-up result',
    permission: 'record-workup',
    path: 'workup',
    fields: [{ kind: 'select', name: 'item', label: 'Work-up item', options: [...vocabulary.workupItems, 'surgical-consult'], required: true }, note],
    available: (p) => p.status === 'active' && p.stage === 'revision-referral',
  },
  {
    id: 'red-flags',
    label: 'Report red flags',
    permission: 'report-red-flags',
    path: 'red-flags',
    fields: [{ kind: 'flags', name: 'redFlags', label: 'Red flags', required: true }, note],
    available: (p) => open(p) && p.status !== 'urgent-referral',
  },
  {
    id: 'escalate',
    label: 'Escalate',
    permission: 'action:escalate',
    path: 'actions',
    action: 'escalate',
    fields: [{ kind: 'select', name: 'toStage', label: 'To stage', options: vocabulary.stages.filter((s) => s !== 'conservative'), blank: 'The next stage' }, reason],
    available: (p) => p.status === 'active' && p.stage !== 'revision-referral',
  },
  { id: 'hold', label: 'Hold', permission: 'action:hold', path: 'actions', action: 'hold', fields: [reason], available: (p) => p.status === 'active' },
  { id: 'resume', label: 'Resume', permission: 'action:resume', path: 'actions', action: 'resume', fields: [reason], available: (p) => p.status === 'on-hold' },
  { id: 'discharge', label: 'Discharge', permission: 'action:discharge', path: 'actions', action: 'discharge', fields: [reason], available: (p) => p.status === 'active' },
  { id: 'close', label: 'Close', permission: 'action:close', path: 'actions', action: 'close', fields: [reason], available: (p) => p.status === 'urgent-referral' },
  { id: 'withdraw', label: 'Withdraw', permission: 'action:withdraw', path: 'actions', action: 'withdraw', fields: [reason], available: open },
];

let fieldIds = 0;

function control(field: Field): HTMLElement {
  const id = `f${++fieldIds}-${field.name}`;
  const hintId = `${id}-hint`;
  const hint = 'hint' in field && field.hint ? h('span', { class: 'hint', id: hintId }, field.hint) : null;
  const described = hint ? hintId : undefined;
  switch (field.kind) {
    case 'number':
      return h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, h('input', { id, name: field.name, type: 'number', inputmode: 'decimal', min: field.min, max: field.max, step: field.step, required: field.required, 'aria-describedby': described }));
    case 'select':
      return h(
        'div',
        { class: 'field' },
        h('label', { for: id }, field.label),
        h('select', { id, name: field.name, required: field.required }, field.blank !== undefined ? h('option', { value: '' }, field.blank) : null, field.options.map((o) => h('option', { value: o }, label(o)))),
      );
    case 'datetime':
      return h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, h('input', { id, name: field.name, type: 'datetime-local', 'aria-describedby': described }));
    case 'text':
      return h('div', { class: 'field' }, h('label', { for: id }, field.label), hint, h('textarea', { id, name: field.name, rows: 2, maxlength: 2000, required: field.required, 'aria-describedby': described }));
    case 'flags':
      return h(
        'fieldset',
        { class: 'field flags' },
        h('legend', {}, field.label),
        vocabulary.redFlags.map((flag) => {
          const flagId = `${id}-${flag}`;
          return h('div', { class: 'check' }, h('input', { type: 'checkbox', id: flagId, name: field.name, value: flag }), h('label', { for: flagId }, label(flag)));
        }),
      );
  }
}

/** The request body from the form: numbers as numbers, empty optional fields left out. */
function bodyOf(spec: ActionSpec, form: HTMLFormElement): Record<string, unknown> {
  const data = new FormData(form);
  const body: Record<string, unknown> = spec.action ? { action: spec.action } : {};
  for (const field of spec.fields) {
    if (field.kind === 'flags') {
      const flags = data.getAll(field.name).map(String);
      if (flags.length > 0 || spec.path === 'reassessments') body[field.name] = flags;
      continue;
    }
    const value = String(data.get(field.name) ?? '').trim();
    if (value === '') continue;
    if (field.kind === 'number') body[field.name] = Number(value);
    else if (field.kind === 'datetime') body[field.name] = new Date(value).toISOString();
    else body[field.name] = value;
  }
  return body;
}

/** Opens the action's dialog; resolves with the API's answer, or undefined when cancelled. */
export function openAction(spec: ActionSpec, pathway: PathwayFacts, title: string): Promise<ChangeResult | undefined> {
  return new Promise((resolve) => {
    // One key per dialog: pressing Record twice, or again after a lost answer, records once.
    const idempotencyKey = `console-${crypto.randomUUID()}`;
    const status = h('div', { class: 'dialog-status' });
    const submit = h('button', { type: 'submit' }, spec.label);
    let result: ChangeResult | undefined;
    const form = h(
      'form',
      {
        method: 'dialog',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          submit.disabled = true;
          replace(status);
          try {
            result = await api<ChangeResult>('POST', `/v1/pathways/${pathway.pathwayId}/${spec.path}`, bodyOf(spec, form), idempotencyKey);
            dialog.close();
          } catch (err) {
            const e2 = err instanceof ApiError ? err : new ApiError(0, String(err));
            replace(status, message('error', `Not recorded: ${e2.message}`, e2.errors.map((x) => `${x.field}: ${x.message}`)));
            submit.disabled = false;
          }
        },
      },
      spec.fields.map(control),
      status,
      h('div', { class: 'buttons' }, submit, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')),
    );
    const headingId = `dialog-${++fieldIds}`;
    const dialog = h('dialog', { 'aria-labelledby': headingId, class: 'action-dialog', 'data-action': spec.id }, h('h2', { id: headingId }, `${spec.label}: ${title}`), form);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** The buttons this person may use on this pathway now. */
export function actionButtons(can: (p: Permission) => boolean, pathway: PathwayFacts, title: string, onDone: (r: ChangeResult) => void, only?: string[]): HTMLElement[] {
  return ACTIONS.filter((a) => (!only || only.includes(a.id)) && can(a.permission) && a.available(pathway)).map((spec) =>
    h(
      'button',
      {
        type: 'button',
        class: 'action',
        'data-action': spec.id,
        'aria-label': `${spec.label}: ${title}`,
        onclick: async () => {
          const result = await openAction(spec, pathway, title);
          if (result) onDone(result);
        },
      },
      spec.label,
    ),
  );
}

/** A decision as a clinician reads it: what happened, the rule that fired and on which numbers. */
export function decisionParts(d: Decision): Array<HTMLElement | null> {
  return [
    h('p', { class: 'summary' }, d.summary),
    d.rule ? h('p', { class: 'rule' }, h('span', { class: 'rule-id' }, d.ruleId ?? 'rule'), ' ', d.rule) : null,
    d.numbers && Object.keys(d.numbers).length
      ? h('dl', { class: 'numbers' }, Object.entries(d.numbers).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v === null ? '–' : String(v))]))
      : null,
    d.reason ? h('p', { class: 'reason' }, `Reason: ${d.reason}`) : null,
  ];
}

export function decisionList(decisions: Decision[]): HTMLElement {
  return h('ol', { class: 'decisions' }, decisions.map((d) => h('li', { 'data-event': d.event }, decisionParts(d))));
}
