/**
 * The worklist of the person's care teams, most urgent first, with what is due and since when;
 * the coordinator acts from the row. Also finds a patient's pathway by the clinic's reference.
 */
import { api, ApiError } from './api';
import { actionButtons, type ChangeResult } from './actions';
import { app, badge, day, h, label, message, replace, words } from './dom';
import { patientLabel, type Patient } from './patient';
import { run, type Shell } from './shell';

interface WorklistItem {
  pathwayId: string;
  patient?: Pick<Patient, 'reference' | 'name'>;
  careTeam: string;
  stage: string;
  status: string;
  nextDueAt: string | null;
  nextDueKind: string | null;
  overdue: boolean;
  category: 'patient-reported-red-flag' | 'urgent-referral' | 'undelivered' | 'lost-to-follow-up' | 'overdue' | 'due-today' | 'due-soon';
  pendingWorkup?: string[];
  undeliveredMessages?: Array<{ messageId: string; effect: string; at: string }>;
  patientReport?: { questionnaireId: string; redFlags: string[]; reportedAt: string };
  notAnsweredByPatient?: true;
}

const CATEGORY: Record<WorklistItem['category'], [string, string]> = {
  'patient-reported-red-flag': ['Red flag reported by the patient', 'urgent'],
  'urgent-referral': ['Urgent referral', 'urgent'],
  undelivered: ['Message not delivered', 'warning'],
  'lost-to-follow-up': ['Lost to follow-up', 'warning'],
  overdue: ['Overdue', 'warning'],
  'due-today': ['Due today', 'info'],
  'due-soon': ['Due soon', 'neutral'],
};

/** "since" for what is late, "on" for what is coming. */
function dueText(item: WorklistItem): string {
  if (item.patientReport) return `reported ${day(item.patientReport.reportedAt)}`;
  if (item.category === 'undelivered' && item.undeliveredMessages?.[0]) return `not delivered since ${day(item.undeliveredMessages[0].at)}`;
  if (!item.nextDueAt) return item.category === 'urgent-referral' ? 'urgent referral' : '–';
  const late = new Date(item.nextDueAt).getTime() < Date.now();
  return `${late ? 'since' : 'on'} ${day(item.nextDueAt)}`;
}

function lookupForm(): HTMLElement {
  const status = h('div');
  const input = h('input', { id: 'lookup-ref', name: 'patientRef', autocomplete: 'off', required: true, minlength: 6, maxlength: 128, 'aria-describedby': 'lookup-hint' });
  return h(
    'section',
    { 'aria-labelledby': 'lookup-title', class: 'panel' },
    h('h2', { id: 'lookup-title' }, "Find a patient's pathway"),
    h(
      'form',
      {
        class: 'inline',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          replace(status);
          try {
            const { pathway } = await api<{ pathway: { pathwayId: string } }>('POST', '/v1/pathways/lookup', { patientRef: input.value.trim() });
            input.value = '';
            location.assign(`/pathways/${pathway.pathwayId}`);
          } catch (err) {
            replace(status, message('error', err instanceof ApiError && err.status === 404 ? 'No pathway for this reference in your care teams.' : `Not found: ${(err as Error).message}`));
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: 'lookup-ref' }, 'Patient reference'), h('span', { class: 'hint', id: 'lookup-hint' }, "The clinic's reference (medical record number)"), input),
      h('button', { type: 'submit' }, 'Find'),
    ),
    status,
  );
}

async function page(shell: Shell): Promise<void> {
  const params = new URLSearchParams(location.search);
  const teams = shell.person.careTeams;
  const careTeam = h(
    'select',
    { id: 'care-team', name: 'careTeam' },
    h('option', { value: '' }, teams ? 'All my care teams' : 'All care teams'),
    (teams ?? []).map((t) => h('option', { value: t, selected: params.get('careTeam') === t }, t)),
  );
  if (!teams) {
    const summary = await api<{ careTeams: Array<{ careTeam: string }> }>('GET', '/v1/pathways/summary');
    careTeam.append(...summary.careTeams.map((t) => h('option', { value: t.careTeam, selected: params.get('careTeam') === t.careTeam }, t.careTeam)));
  }
  const dueSoon = h('select', { id: 'due-soon', name: 'dueSoonDays' }, [7, 14, 28, 60].map((d) => h('option', { value: d, selected: params.get('dueSoonDays') === String(d) }, `${d} days`)));
  const filters = h(
    'form',
    { class: 'inline filters', 'aria-label': 'Worklist filters', onsubmit: (e: Event) => (e.preventDefault(), void load()) },
    h('div', { class: 'field' }, h('label', { for: 'care-team' }, 'Care team'), careTeam),
    h('div', { class: 'field' }, h('label', { for: 'due-soon' }, 'Due soon within'), dueSoon),
    h('button', { type: 'submit' }, 'Show'),
  );
  const notice = h('div', { 'aria-live': 'polite' });
  const list = h('div', { id: 'worklist' });
  const enrol = shell.can('enroll') ? h('p', { class: 'page-actions' }, h('a', { class: 'button', href: '/enrol' }, 'Enrol a patient')) : null;
  replace(app(), enrol, filters, notice, list, lookupForm());

  /** The first page, or the next one after those shown. */
  async function load(more?: { pageToken: string; shown: WorklistItem[] }): Promise<void> {
    const query = new URLSearchParams({ dueSoonDays: dueSoon.value, ...(careTeam.value ? { careTeam: careTeam.value } : {}) });
    // A page size from the address (the service's default otherwise): a shorter page for a small screen.
    const pageSize = params.get('pageSize');
    if (pageSize && /^\d{1,3}$/.test(pageSize)) query.set('pageSize', pageSize);
    if (!more) history.replaceState(null, '', `/?${query}`);
    if (more) query.set('pageToken', more.pageToken);
    const page = await api<{ items: WorklistItem[]; generatedAt: string; nextPageToken: string | null }>('GET', `/v1/worklist?${query}`);
    const items = [...(more?.shown ?? []), ...page.items];
    const { generatedAt, nextPageToken } = page;
    const done = (r: ChangeResult) => {
      replace(notice, message('info', `Recorded: ${r.decisions.map((d) => d.summary).join(' ') || 'no change of stage or status'}`));
      void load();
    };
    const showMore = nextPageToken
      ? h('p', { class: 'page-actions' }, h('button', { type: 'button', id: 'worklist-more', onclick: () => void load({ pageToken: nextPageToken, shown: items }) }, 'Show more'))
      : null;
    if (items.length === 0) {
      replace(list, h('p', { class: 'empty' }, 'Nothing needs attention in this window.'));
      return;
    }
    // Only the care team that treats the patients sees who they are; the API sends no more to others.
    const named = shell.can('read-identity');
    replace(
      list,
      h(
        'table',
        { class: 'data' },
        h(
          'caption',
          {},
          nextPageToken
            ? `The ${items.length} most urgent of the pathways that need attention (as of ${day(generatedAt)}); more below`
            : `${items.length} ${items.length === 1 ? 'pathway needs' : 'pathways need'} attention, most urgent first (as of ${day(generatedAt)})`,
        ),
        h('thead', {}, h('tr', {}, ['Priority', ...(named ? ['Patient'] : []), 'Pathway', 'Care team', 'Stage', 'Status', 'What is due', 'When', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          items.map((item) => {
            const [text, tone] = CATEGORY[item.category];
            const title = item.patient?.name ? `${item.patient.name}'s pathway` : `pathway ${item.pathwayId.slice(3, 11)}`;
            const workup = item.pendingWorkup?.length ? ` (work-up: ${item.pendingWorkup.map(words).join(', ')})` : '';
            return h(
              'tr',
              { 'data-pathway-id': item.pathwayId, 'data-category': item.category },
              h('td', {}, badge(text, tone)),
              named ? h('td', { class: 'patient-cell' }, patientLabel(item.patient)) : null,
              h('th', { scope: 'row' }, h('a', { href: `/pathways/${item.pathwayId}` }, item.pathwayId.slice(0, 11))),
              h('td', {}, item.careTeam),
              h('td', {}, label(item.stage)),
              h('td', {}, label(item.status)),
              h(
                'td',
                {},
                item.patientReport ? `Confirm: ${item.patientReport.redFlags.map(words).join(', ')}` : item.nextDueKind ? `${label(item.nextDueKind)}${workup}` : '–',
                item.notAnsweredByPatient ? h('span', { class: 'hint' }, 'Not answered by the patient') : null,
              ),
              h('td', {}, dueText(item)),
              h('td', { class: 'row-actions' }, h('div', {}, actionButtons(shell.can, item, title, done, ['procedure', 'workup', 'hold', 'resume', 'withdraw']))),
            );
          }),
        ),
      ),
      showMore,
    );
  }
  await load();
}

run(page);
