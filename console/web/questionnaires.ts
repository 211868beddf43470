/**
 * The pathway page's questionnaires: where each link sent to the patient stands (sent, reminded,
 * opened, answered, expired, undelivered), "Send again", and a clinician's review of a red flag
 * the patient reported at home.
 */
import { api, ApiError } from './api';
import { badge, day, h, label, message, replace } from './dom';

interface Questionnaire {
  id: string;
  state: 'sent' | 'reminded' | 'opened' | 'answered' | 'expired' | 'undelivered' | 'replaced';
  issuedAt: string;
  dueAt: string | null;
  expiresAt: string;
  answeredAt: string | null;
  scores: Record<string, number> | null;
  redFlags: string[] | null;
  redFlagReview: 'pending' | 'confirmed' | 'not-confirmed' | null;
  counted: 'reassessment' | 'staff-reassessment-first' | 'refused' | null;
}

const TONE: Record<Questionnaire['state'], string> = { sent: 'info', reminded: 'info', opened: 'info', answered: 'neutral', expired: 'warning', undelivered: 'warning', replaced: 'neutral' };
const COUNTED: Record<NonNullable<Questionnaire['counted']>, string> = {
  reassessment: 'became the reassessment',
  'staff-reassessment-first': 'kept, not counted: the care team had recorded the reassessment',
  refused: 'kept, not counted: the pathway did not accept a reassessment then',
};

function outcome(q: Questionnaire): string {
  if (q.state !== 'answered') return `expires ${day(q.expiresAt)}`;
  const scores = q.scores ? Object.entries(q.scores).map(([k, v]) => `${k === 'painNrs' ? 'NRS' : k === 'odi' ? 'ODI' : k === 'pgic' ? 'PGIC' : 'MME'} ${v}`).join(', ') : '';
  return `${day(q.answeredAt)}: ${scores}; ${q.counted ? COUNTED[q.counted] : ''}`;
}

export async function questionnairesPanel(pathwayId: string, can: (p: 'send-questionnaire' | 'report-red-flags') => boolean, onChange: () => void): Promise<HTMLElement> {
  const { items } = await api<{ items: Questionnaire[] }>('GET', `/v1/pathways/${pathwayId}/questionnaires`);
  const status = h('div', { 'aria-live': 'polite' });
  const act = async (what: () => Promise<unknown>, done: string) => {
    replace(status);
    try {
      await what();
      replace(status, message('info', done));
      onChange();
    } catch (err) {
      replace(status, message('error', err instanceof ApiError ? err.message : String(err)));
    }
  };
  const pending = items.find((q) => q.redFlagReview === 'pending');
  const review =
    pending && can('report-red-flags')
      ? h(
          'div',
          { class: 'message message-error', role: 'alert', id: 'patient-red-flag' },
          h('p', {}, `The patient reported at home: ${(pending.redFlags ?? []).map(label).join(', ')} (${day(pending.answeredAt)}). The stage changes only when a clinician confirms.`),
          h(
            'div',
            { class: 'buttons' },
            h('button', { type: 'button', id: 'confirm-red-flag', onclick: () => void act(() => api('POST', `/v1/pathways/${pathwayId}/questionnaires/${pending.id}/review`, { confirmed: true }), 'Confirmed: urgent referral.') }, 'Confirm red flag'),
            h('button', { type: 'button', class: 'secondary', id: 'dismiss-red-flag', onclick: () => void act(() => api('POST', `/v1/pathways/${pathwayId}/questionnaires/${pending.id}/review`, { confirmed: false }), 'Recorded as not present.') }, 'Not present'),
          ),
        )
      : pending
        ? message('error', `The patient reported a red flag at home (${(pending.redFlags ?? []).map(label).join(', ')}); a clinician must confirm it.`)
        : null;
  const send = can('send-questionnaire')
    ? h('button', { type: 'button', id: 'send-questionnaire', onclick: () => void act(() => api('POST', `/v1/pathways/${pathwayId}/questionnaires`, {}, `console-${crypto.randomUUID()}`), 'Sent a new link to the patient.') }, items.length ? 'Send again' : 'Send the questionnaire')
    : null;
  const table = items.length
    ? h(
        'table',
        { class: 'data compact', id: 'questionnaires' },
        h('caption', {}, 'Questionnaires sent to the patient, newest first'),
        h('thead', {}, h('tr', {}, ['Sent', 'For the reassessment due', 'State', 'Outcome'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, items.map((q) => h('tr', { 'data-state': q.state }, h('td', {}, day(q.issuedAt)), h('td', {}, day(q.dueAt)), h('td', {}, badge(label(q.state), TONE[q.state])), h('td', {}, outcome(q))))),
      )
    : h('p', { class: 'muted' }, 'No questionnaire sent yet.');
  return h('div', {}, review, table, send ? h('div', { class: 'buttons' }, send) : null, status);
}
