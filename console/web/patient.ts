/**
 * Who the patient is, for the care team that treats them (the API sends it only to coordinators
 * and clinicians of the patient's care team, and records each disclosure): name, reference, date
 * of birth and how to reach them, and a coordinator's correction of the name and contact.
 */
import { api, ApiError } from './api';
import { day, h, message, replace } from './dom';

export interface Patient {
  reference: string;
  name?: string;
  birthDate?: string;
  contact?: { mobile?: string; email?: string; language: string };
}

const LANGUAGES: Record<string, string> = { en: 'English', es: 'Spanish' };

/** Name and reference, as lists show them. */
export function patientLabel(patient: Pick<Patient, 'reference' | 'name'> | undefined): HTMLElement {
  if (!patient) return h('span', { class: 'muted' }, '–');
  return h('span', { class: 'patient' }, h('span', { class: 'patient-name' }, patient.name ?? 'Name not recorded'), h('span', { class: 'patient-ref' }, ` ${patient.reference}`));
}

function correctionForm(pathwayId: string, patient: Patient, onSaved: (p: Patient) => void): HTMLElement {
  const status = h('div', { 'aria-live': 'polite' });
  const input = (id: string, text: string, attrs: Record<string, string | boolean | number>, value?: string) =>
    h('div', { class: 'field' }, h('label', { for: id }, text), h('input', { id, ...attrs, ...(value !== undefined ? { value } : {}) }));
  const language = h(
    'select',
    { id: 'patient-language', name: 'language' },
    Object.entries(LANGUAGES).map(([code, text]) => h('option', { value: code, selected: (patient.contact?.language ?? 'en') === code }, text)),
  );
  const form = h(
    'form',
    {
      class: 'stack',
      id: 'patient-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const data = new FormData(form);
        const text = (k: string) => String(data.get(k) ?? '').trim();
        const contact = { ...(text('mobile') ? { mobile: text('mobile') } : {}), ...(text('email') ? { email: text('email') } : {}), language: text('language') || 'en' };
        try {
          const { patient: saved } = await api<{ patient: Patient }>('PATCH', `/v1/pathways/${pathwayId}/patient`, {
            name: text('name'),
            birthDate: text('birthDate') || null,
            contact,
          });
          onSaved(saved);
        } catch (err) {
          const e2 = err instanceof ApiError ? err : new ApiError(0, String(err));
          replace(status, message('error', `Not saved: ${e2.message}`, e2.errors.map((x) => `${x.field}: ${x.message}`)));
        }
      },
    },
    input('patient-name', 'Name', { name: 'name', required: true, maxlength: 120, autocomplete: 'off' }, patient.name),
    input('patient-birth-date', 'Date of birth', { name: 'birthDate', type: 'date' }, patient.birthDate),
    input('patient-mobile', 'Mobile (international, e.g. +447700900123)', { name: 'mobile', type: 'tel', autocomplete: 'off', pattern: '\\+[1-9][0-9]{6,14}' }, patient.contact?.mobile),
    input('patient-email', 'Email', { name: 'email', type: 'email', autocomplete: 'off' }, patient.contact?.email),
    h('div', { class: 'field' }, h('label', { for: 'patient-language' }, 'Language'), language),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save the corrections')),
    status,
  );
  return h('details', { class: 'correct' }, h('summary', {}, 'Correct name or contact'), form);
}

/** The patient panel of the pathway page. */
export function patientPanel(pathwayId: string, patient: Patient, canCorrect: boolean, onSaved: (p: Patient) => void): HTMLElement {
  const contact = patient.contact;
  const rows: Array<[string, string]> = [
    ['Name', patient.name ?? 'Not recorded'],
    ['Reference', patient.reference],
    ['Date of birth', patient.birthDate ? day(patient.birthDate) : 'Not recorded'],
    ['Mobile', contact?.mobile ?? 'Not recorded'],
    ['Email', contact?.email ?? 'Not recorded'],
    ['Language', LANGUAGES[contact?.language ?? 'en'] ?? contact?.language ?? 'English'],
  ];
  return h(
    'section',
    { 'aria-labelledby': 'patient-title', class: 'panel', id: 'patient' },
    h('h2', { id: 'patient-title' }, 'Patient'),
    h('dl', { class: 'glance' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    canCorrect ? correctionForm(pathwayId, patient, onSaved) : null,
  );
}
