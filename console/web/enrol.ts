/**
 * Enrolment: who the patient is (the clinic's reference, name, date of birth, contact: kept
 * encrypted by the service, shown only to the care team), the care team, the baseline scores and
 * the red-flag screen.
 */
import { api, ApiError } from './api';
import { app, day, h, label, message, replace } from './dom';
import { run, type Shell } from './shell';
import { failure, loadInto } from './states';
import { vocabulary } from './vocabulary';
import { dueName, fieldName, inWords } from './words';

interface Enrolled {
  pathway: { pathwayId: string; stage: string; status: string };
  firstDue: { kind: string; dueAt: string } | null;
}

async function page(shell: Shell): Promise<void> {
  if (!shell.can('enrol')) {
    replace(app(), message('info', `Your role (${shell.person.role}) does not enrol patients.`));
    return;
  }
  await loadInto(app(), 'the pathway definitions', () => api<{ items: Array<{ id: string; version: number; title: string }> }>('GET', '/v1/definitions'), ({ items }) => enrolForm(shell, items));
}

function enrolForm(shell: Shell, definitions: Array<{ id: string; version: number; title: string }>): void {
  const teams = shell.person.careTeams;
  const field = (id: string, text: string, input: HTMLElement, hint?: string) => {
    input.setAttribute('aria-describedby', [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
    return h('div', { class: 'field' }, h('label', { for: id }, text), hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null, input, h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
  };
  /** Each field's problem in plain words, said beside it before anything is sent. */
  const value = (id: string) => (document.getElementById(id) as HTMLInputElement | HTMLSelectElement).value.trim();
  const number = (id: string, min: number, max: number, decimals: number) => {
    const v = value(id);
    const n = Number(v);
    return v !== '' && Number.isFinite(n) && n >= min && n <= max && Math.abs(Math.round(n * 10 ** decimals) - n * 10 ** decimals) < 1e-9;
  };
  const CHECKS: Array<[string, () => string | null]> = [
    ['patient-ref', () => (/^[A-Za-z0-9._:-]{6,128}$/.test(value('patient-ref')) ? null : "Enter the clinic's reference: 6 to 128 letters, digits or . _ : - (no spaces).")],
    ['care-team', () => (/^[a-z0-9][a-z0-9-]{0,62}$/.test(value('care-team')) ? null : 'Enter the care team: lower-case letters, digits and dashes.')],
    ['pain-nrs', () => (number('pain-nrs', 0, 10, 1) ? null : 'Pain NRS is a number from 0 to 10, with at most one decimal (e.g. 4.5).')],
    ['odi', () => (value('odi') === '' || number('odi', 0, 100, 0) ? null : 'ODI is a whole number from 0 to 100.')],
    ['daily-mme', () => (value('daily-mme') === '' || number('daily-mme', 0, 10000, 1) ? null : 'Daily MME is a number from 0 to 10000.')],
  ];
  const checkFields = (): boolean => {
    let first: HTMLElement | null = null;
    for (const [id, check] of CHECKS) {
      const problem = check();
      const error = document.getElementById(`${id}-error`)!;
      const input = document.getElementById(id)!;
      error.hidden = !problem;
      replace(error, problem ?? '');
      if (problem) {
        input.setAttribute('aria-invalid', 'true');
        first ??= input;
      } else input.removeAttribute('aria-invalid');
    }
    first?.focus();
    return first === null;
  };
  const result = h('div', { id: 'enrol-result', 'aria-live': 'polite' });
  const latest = new Map<string, number>();
  for (const d of definitions) latest.set(d.id, Math.max(latest.get(d.id) ?? 0, d.version));
  const form = h(
    'form',
    {
      id: 'enrol-form',
      class: 'stack',
      novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        replace(result);
        if (!checkFields()) return;
        const data = new FormData(form);
        const [definitionId, version] = String(data.get('definition')).split('@');
        const text = (k: string) => String(data.get(k) ?? '').trim();
        const contact = { ...(text('mobile') ? { mobile: text('mobile') } : {}), ...(text('email') ? { email: text('email') } : {}), language: text('language') || 'en' };
        const body = {
          patientRef: String(data.get('patientRef')).trim(),
          patient: { name: text('name'), ...(text('birthDate') ? { birthDate: text('birthDate') } : {}), contact },
          careTeam: String(data.get('careTeam')).trim(),
          baseline: { painNrs: Number(data.get('painNrs')), ...(data.get('odi') ? { odi: Number(data.get('odi')) } : {}), ...(data.get('dailyMme') ? { dailyMme: Number(data.get('dailyMme')) } : {}) },
          redFlags: data.getAll('redFlags').map(String),
          definition: { id: definitionId!, version: Number(version) },
        };
        replace(result);
        try {
          const enrolled = await api<Enrolled>('POST', '/v1/pathways', body, `console-${crypto.randomUUID()}`);
          // Who the patient is leaves the form: the next enrolment starts empty.
          for (const name of ['patientRef', 'name', 'birthDate', 'mobile', 'email']) (form.elements.namedItem(name) as HTMLInputElement).value = '';
          const { pathway, firstDue } = enrolled;
          replace(
            result,
            h(
              'div',
              { class: 'message message-info', role: 'status' },
              h('p', {}, `Enrolled: pathway ${pathway.pathwayId.slice(3, 11)}, ${label(pathway.stage)}${pathway.status === 'urgent-referral' ? ', in urgent referral (a red flag was ticked)' : ''}.`, firstDue ? ` First due: ${dueName(firstDue.kind)} on ${day(firstDue.dueAt)}.` : ''),
              h('p', {}, h('a', { href: `/pathways/${pathway.pathwayId}`, id: 'enrolled-link' }, 'Open the pathway')),
            ),
          );
        } catch (err) {
          const e2 = err instanceof ApiError ? err : new ApiError(0, String(err));
          const existing = e2.status === 409 && typeof e2.extra.pathwayId === 'string' ? e2.extra.pathwayId : null;
          if (existing) {
            // The patient is on a pathway already: the way there, rather than a dead end.
            replace(
              result,
              h('div', { class: 'message message-error', role: 'alert' }, h('p', {}, 'Not enrolled: this patient already has an active pathway.'), h('p', {}, h('a', { href: `/pathways/${existing}`, id: 'existing-link' }, `Open pathway ${existing.slice(3, 11)}`))),
            );
          } else if (e2.status === 0 || e2.status >= 500) replace(result, failure(e2, 'the enrolment'));
          else replace(result, message('error', `Not enrolled: ${inWords(e2.message)}.`, e2.errors.map((x) => `${fieldName(x.field)}: ${inWords(x.message)}`)));
        }
      },
    },
    h(
      'fieldset',
      { class: 'field' },
      h('legend', {}, 'Patient'),
      field('patient-ref', 'Patient reference', h('input', { id: 'patient-ref', name: 'patientRef', required: true, autocomplete: 'off', minlength: 6, maxlength: 128, 'aria-describedby': 'patient-ref-hint' }), "The clinic's reference, e.g. the medical record number (6-128 letters, digits or . _ : -)"),
      field('patient-name', 'Name', h('input', { id: 'patient-name', name: 'name', required: true, maxlength: 120, autocomplete: 'off' })),
      field('patient-birth-date', 'Date of birth (optional)', h('input', { id: 'patient-birth-date', name: 'birthDate', type: 'date' })),
      field('patient-mobile', 'Mobile (optional)', h('input', { id: 'patient-mobile', name: 'mobile', type: 'tel', autocomplete: 'off', pattern: '\\+[1-9][0-9]{6,14}', 'aria-describedby': 'patient-mobile-hint' }), 'International form, e.g. +447700900123'),
      field('patient-email', 'Email (optional)', h('input', { id: 'patient-email', name: 'email', type: 'email', autocomplete: 'off' })),
      field('patient-language', 'Language for questionnaires', h('select', { id: 'patient-language', name: 'language' }, h('option', { value: 'en' }, 'English'), h('option', { value: 'es' }, 'Spanish'))),
      h('p', { class: 'hint' }, 'Kept encrypted, and shown only to the coordinators and clinicians of the care team.'),
    ),
    field(
      'care-team',
      'Care team',
      teams
        ? h('select', { id: 'care-team', name: 'careTeam', required: true }, teams.map((t) => h('option', { value: t }, t)))
        : h('input', { id: 'care-team', name: 'careTeam', required: true, pattern: '[a-z0-9][a-z0-9\\-]{0,62}', 'aria-describedby': 'care-team-hint' }),
      teams ? undefined : 'Lower-case letters, digits and dashes',
    ),
    field(
      'definition',
      'Pathway definition',
      h('select', { id: 'definition', name: 'definition' }, definitions.map((d) => h('option', { value: `${d.id}@${d.version}`, selected: latest.get(d.id) === d.version && d.id === 'psps-lumbar' }, `${d.title} (v${d.version})`))),
    ),
    h(
      'fieldset',
      { class: 'field' },
      h('legend', {}, 'Baseline'),
      field('pain-nrs', 'Pain NRS (0-10)', h('input', { id: 'pain-nrs', name: 'painNrs', type: 'number', min: 0, max: 10, step: 0.1, required: true })),
      field('odi', 'ODI (0-100)', h('input', { id: 'odi', name: 'odi', type: 'number', min: 0, max: 100, step: 1, 'aria-describedby': 'odi-hint' }), 'Needed before any procedure later on'),
      field('daily-mme', 'Daily opioid dose (MME, optional)', h('input', { id: 'daily-mme', name: 'dailyMme', type: 'number', min: 0, max: 10000, step: 0.1, 'aria-describedby': 'daily-mme-hint' }), 'Morphine milligram equivalents a day; a spinal cord stimulation trial may be judged on its cut'),
    ),
    h(
      'fieldset',
      { class: 'field flags' },
      h('legend', {}, 'Red-flag screen: tick any present (any one means urgent referral)'),
      vocabulary.redFlags.map((flag) => h('div', { class: 'check' }, h('input', { type: 'checkbox', id: `flag-${flag}`, name: 'redFlags', value: flag }), h('label', { for: `flag-${flag}` }, label(flag)))),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Enrol')),
  );
  replace(app(), form, result);
}

run(page);
