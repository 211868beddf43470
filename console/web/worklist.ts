/**
 * The worklist of the person's care teams, most urgent first: for each pathway what is due and
 * how late, and the actions that make sense now, the most likely first. A table on a wide
 * screen, one card per patient on a phone. Also finds a patient's pathway by the clinic's reference.
 */
import type { WorklistRow } from '../../record/read';
import { api, ApiError } from './api';
import { actionButtons, confirmation, dueAction, type ActionSpec, type ChangeResult, type PathwayFacts } from './actions';
import { app, badge, day, h, label, message, replace, words } from './dom';
import { patientLabel, type Patient } from './patient';
import { run, type Shell } from './shell';
import { failure, loadInto } from './states';
import { dueName, dueWhen, statusName } from './words';

/** A worklist item as the API answers it; who the patient is only for the care team that treats them. */
type WorklistItem = Omit<WorklistRow, 'category'> & {
  category: WorklistRow['category'] | 'patient-reported-red-flag';
  patient?: Pick<Patient, 'reference' | 'name'>;
  patientReport?: { questionnaireId: string; redFlags: string[]; reportedAt: string };
  notAnsweredByPatient?: true;
  patientQuestionnaire?: { id: string; state: string; issuedAt: string };
};

const CATEGORY: Record<WorklistItem['category'], [string, string]> = {
  'patient-reported-red-flag': ['Red flag reported by the patient', 'urgent'],
  'urgent-referral': ['Urgent referral', 'urgent'],
  undelivered: ['Message not delivered', 'warning'],
  'lost-to-follow-up': ['Lost to follow-up', 'warning'],
  overdue: ['Overdue', 'warning'],
  'due-today': ['Due today', 'info'],
  'due-soon': ['Due soon', 'neutral'],
};

const EFFECT_NAMES: Record<string, string> = { 'send-reminder': 'reminder', 'notify-care-team': 'care-team notification', 'issue-revision-referral': 'revision-surgery referral' };

export const titleOf = (pathwayId: string) => `pathway ${pathwayId.slice(3, 11)}`;

const factsOfRow = (item: WorklistItem): PathwayFacts => ({
  pathwayId: item.pathwayId,
  stage: item.stage,
  status: item.status,
  dueKind: item.nextDueKind,
  dueAt: item.nextDueAt,
  pendingWorkup: item.pendingWorkup ?? [],
  undelivered: item.undelivered || item.category === 'undelivered',
});

/** What the team must do, in words: the due item, and what stands in its way. */
function whatIsDue(item: WorklistItem): HTMLElement {
  const lines: Array<string | HTMLElement> = [];
  if (item.patientReport) lines.push(h('strong', {}, `Confirm the red flag the patient reported (${day(item.patientReport.reportedAt)}): ${item.patientReport.redFlags.map(words).join(', ')}`));
  if (item.category === 'urgent-referral') lines.push(h('strong', {}, 'Red flag: a clinician decides to resume or close'));
  if (item.status === 'on-hold' && item.category === 'lost-to-follow-up') lines.push(h('strong', {}, 'Lost to follow-up: resume once the patient is reached'));
  const undelivered = item.undeliveredMessages ?? [];
  if (undelivered.length) {
    const first = undelivered[0]!;
    lines.push(h('strong', {}, `Not delivered: ${EFFECT_NAMES[first.effect] ?? words(first.effect)}${undelivered.length > 1 ? ` and ${undelivered.length - 1} more` : ''} (${day(first.at)})`));
    // A closed pathway takes no more changes, an acknowledgement included: the team reaches the patient directly.
    if (['completed', 'withdrawn', 'closed'].includes(item.status)) lines.push(`Pathway ${statusName(item.status)}: reach the patient or team directly`);
  }
  if (item.nextDueKind) {
    const workup = item.pendingWorkup?.length ? `: ${item.pendingWorkup.map(words).join(', ')}` : '';
    const paused = item.status !== 'active' ? ' (paused)' : '';
    lines.push(`${label(dueName(item.nextDueKind))}${workup}${paused}`);
  } else if (!lines.length) lines.push('Nothing due');
  if (item.notAnsweredByPatient) lines.push(h('span', { class: 'hint' }, 'Not answered by the patient: call them'));
  const questionnaire = item.patientQuestionnaire;
  if (questionnaire?.state === 'undelivered') lines.push(h('strong', {}, 'Questionnaire not delivered: send again from the pathway page'));
  else if (questionnaire) lines.push(h('span', { class: 'hint' }, `Questionnaire ${questionnaire.state} (sent ${day(questionnaire.issuedAt)})`));
  return h('div', { class: 'due-what' }, lines.map((l) => h('div', {}, l)));
}

/** "9 days overdue" or "due in 3 days", with the date; a paused item says so. */
function whenText(item: WorklistItem): HTMLElement | string {
  if (!item.nextDueAt) return '–';
  if (item.status !== 'active') return h('span', {}, `paused (was due ${day(item.nextDueAt)})`);
  const { text, late } = dueWhen(item.nextDueAt);
  return h('span', { class: late ? 'late' : '' }, h('strong', {}, text), h('span', { class: 'muted' }, ` · ${day(item.nextDueAt)}`));
}

/** For a role that cannot do the due item itself: who can. */
function forSomeoneElse(shell: Shell, item: WorklistItem): string | null {
  const action = dueAction(factsOfRow(item));
  // Said where it is due now; on a row due in weeks it would only be noise.
  if (!action || shell.person.role === 'viewer' || item.category === 'due-soon') return null;
  if ((action === 'reassessment' || action === 'baseline') && !shell.can('record-reassessment')) return `For a clinician: ${action === 'baseline' ? 'record the baseline' : 'record the reassessment'}`;
  if (action === 'resume' && item.status === 'urgent-referral' && shell.person.role !== 'clinician') return 'For a clinician: resume or close';
  return null;
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
            replace(status, err instanceof ApiError && err.status === 404 ? message('error', 'No pathway for this reference in your care teams.') : failure(err, 'the lookup'));
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
  const dueSoon = h('select', { id: 'due-soon', name: 'dueSoonDays' }, [7, 14, 28, 60].map((d) => h('option', { value: d, selected: params.get('dueSoonDays') === String(d) }, `${d} days`)));
  const filters = h(
    'form',
    { class: 'inline filters', 'aria-label': 'Worklist filters', onsubmit: (e: Event) => (e.preventDefault(), void load()) },
    h('div', { class: 'field' }, h('label', { for: 'care-team' }, 'Care team'), careTeam),
    h('div', { class: 'field' }, h('label', { for: 'due-soon' }, 'Due soon within'), dueSoon),
    h('button', { type: 'submit' }, 'Show'),
  );
  const notice = h('div', { 'aria-live': 'polite', id: 'worklist-notice' });
  const list = h('div', { id: 'worklist' });
  const enrol = shell.can('enrol') ? h('p', { class: 'page-actions' }, h('a', { class: 'button', href: '/enrol' }, 'Enrol a patient')) : null;
  replace(app(), enrol, filters, notice, list, lookupForm());
  if (!teams) {
    // Every team's name for the filter: a failure here leaves the filter at "all".
    api<{ careTeams: Array<{ careTeam: string }> }>('GET', '/v1/pathways/summary').then(
      (summary) => careTeam.append(...summary.careTeams.map((t) => h('option', { value: t.careTeam, selected: params.get('careTeam') === t.careTeam }, t.careTeam))),
      () => undefined,
    );
  }

  /** After an action the row keeps the focus (or, gone from the list, the notice). */
  const refocus = (pathwayId: string, actionId: string) => {
    const row = list.querySelector<HTMLElement>(`[data-pathway-id="${pathwayId}"]`);
    const target = row?.querySelector<HTMLElement>(`button[data-action="${actionId}"]`) ?? row?.querySelector<HTMLElement>('button, a');
    if (target) target.focus();
    else {
      notice.setAttribute('tabindex', '-1');
      notice.focus();
    }
  };

  /** The first page, or the next one after those shown. */
  async function load(more?: { pageToken: string; shown: WorklistItem[] }, after?: { pathwayId: string; actionId: string }): Promise<void> {
    const query = new URLSearchParams({ dueSoonDays: dueSoon.value, ...(careTeam.value ? { careTeam: careTeam.value } : {}) });
    // A page size from the address (the service's default otherwise): a shorter page for a small screen.
    const pageSize = params.get('pageSize');
    if (pageSize && /^\d{1,3}$/.test(pageSize)) query.set('pageSize', pageSize);
    if (!more) history.replaceState(null, '', `/?${query}`);
    if (more) query.set('pageToken', more.pageToken);
    const fetched = await loadInto(
      list,
      'the worklist',
      () => api<{ items: WorklistItem[]; generatedAt: string; nextPageToken: string | null }>('GET', `/v1/worklist?${query}`),
      (page) => render([...(more?.shown ?? []), ...page.items], page.generatedAt, page.nextPageToken),
    );
    if (fetched && after) refocus(after.pathwayId, after.actionId);
  }

  function render(items: WorklistItem[], generatedAt: string, nextPageToken: string | null): void {
    const done = (item: WorklistItem) => (r: ChangeResult, spec: ActionSpec) => {
      replace(notice, message('info', confirmation(titleOf(item.pathwayId), r)));
      void load(undefined, { pathwayId: item.pathwayId, actionId: spec.id });
    };
    const showMore = nextPageToken
      ? h('p', { class: 'page-actions' }, h('button', { type: 'button', id: 'worklist-more', onclick: () => void load({ pageToken: nextPageToken, shown: items }) }, 'Show more'))
      : null;
    if (items.length === 0) {
      replace(list, h('p', { class: 'empty' }, 'Nothing needs attention in this window.'));
      return;
    }
    const cell = (name: string, ...content: Array<Node | string | null>) => h('td', { 'data-label': name }, ...content);
    // Only the care team that treats the patients sees who they are; the API sends no more to others.
    const named = shell.can('read-identity');
    replace(
      list,
      h(
        'table',
        { class: 'data worklist' },
        h(
          'caption',
          {},
          nextPageToken
            ? `The ${items.length} most urgent of the pathways that need attention (as of ${day(generatedAt)}); more below`
            : `${items.length} ${items.length === 1 ? 'pathway needs' : 'pathways need'} attention, most urgent first (as of ${day(generatedAt)})`,
        ),
        h('thead', {}, h('tr', {}, ['Priority', ...(named ? ['Patient'] : []), 'Pathway', 'Care team', 'Stage', 'What is due', 'When', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          items.map((item) => {
            const [text, tone] = CATEGORY[item.category];
            const title = item.patient?.name ? `${item.patient.name}'s pathway` : titleOf(item.pathwayId);
            // The due item's action, then what the row's state asks for; the rest is on the pathway page.
            const facts = factsOfRow(item);
            const buttons = actionButtons(shell.person.role, facts, title, done(item), [dueAction(facts) ?? '', 'acknowledge', 'resume', 'close', 'hold', 'withdraw']);
            const elsewhere = forSomeoneElse(shell, item);
            return h(
              'tr',
              { 'data-pathway-id': item.pathwayId, 'data-category': item.category },
              cell('Priority', badge(text, tone)),
              named ? h('td', { class: 'patient-cell', 'data-label': 'Patient' }, patientLabel(item.patient)) : null,
              h('th', { scope: 'row', 'data-label': 'Pathway' }, h('a', { href: `/pathways/${item.pathwayId}` }, title)),
              cell('Care team', item.careTeam),
              cell('Stage', label(item.stage)),
              cell('What is due', whatIsDue(item)),
              cell('When', whenText(item)),
              h('td', { class: 'row-actions', 'data-label': 'Actions' }, h('div', {}, buttons, elsewhere ? h('span', { class: 'muted for-someone' }, elsewhere) : null, buttons.length || elsewhere ? null : h('span', { class: 'muted' }, '–'))),
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
