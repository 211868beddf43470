/**
 * The cohort dashboard of a clinical lead: headline counts of what needs attention, patients per
 * stage and status per care team, and the outcomes report (responders per stage, time in stage,
 * response per procedure type). The care team filters the whole page; the definition and dates
 * filter the outcomes, and the page says so. One colour per status everywhere, urgent in red.
 */
import { api, ApiError } from './api';
import { Chart } from './charts';
import { app, h, label, replace } from './dom';
import { run, type Shell } from './shell';
import { failure, loadInto } from './states';
import { vocabulary } from './vocabulary';
import { inWords, statusName } from './words';

interface TeamSummary {
  careTeam: string;
  total: number;
  overdue: number;
  undelivered?: number;
  byStage: Record<string, number>;
  byStatus: Record<string, number>;
}

interface OutcomesReport {
  stages: Array<{
    stage: string;
    entered: number;
    responded: number;
    escalated: number;
    withdrawn: number;
    urgentReferral: number;
    completed: number;
    stillInStage: number;
    medianDaysInStage: number | null;
    medianPainReliefPercent: number | null;
    medianOdiChange: number | null;
  }>;
  procedures: Array<{ type: string; performed: number; reassessed: number; responded: number; responseRate: number | null }>;
}

const STATUSES = ['active', 'on-hold', 'urgent-referral', 'completed', 'withdrawn', 'closed'];
// One colour per status, the same wherever a status is drawn; urgent referral alone is red.
// Every colour is at least 3:1 against white (WCAG 1.4.11).
const STATUS_COLOURS: Record<string, string> = {
  active: '#0b5cad',
  'on-hold': '#8a4b00',
  'urgent-referral': '#b3261e',
  completed: '#2f7d32',
  withdrawn: '#5f6b7a',
  closed: '#3e4751',
};
// Stages and outcome measures: no red, which means urgent.
const PALETTE = ['#0b5cad', '#00695c', '#6a3d9a', '#8a4b00', '#5f6b7a'];
const charts: Chart[] = [];

/** Responded out of reassessed, in percent: from the counts, so it reads the same whatever scale the report uses. */
const rate = (p: OutcomesReport['procedures'][number]) => (p.reassessed > 0 ? (100 * p.responded) / p.reassessed : null);
const cell = (v: number | null | undefined, suffix = '') => (v === null || v === undefined ? '–' : `${Math.round(v * 10) / 10}${suffix}`);

function table(caption: string, head: string[], rows: Array<Array<string | number>>, id: string): HTMLElement {
  // A wide table scrolls inside its own region, which the keyboard can reach.
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption }, h(
    'table',
    { class: 'data compact', id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))),
  ));
}

function barChart(id: string, description: string, labels: string[], datasets: Array<{ label: string; data: Array<number | null>; colour?: string }>, opts: { stacked?: boolean; percent?: boolean; empty?: string } = {}): HTMLElement {
  // Nothing to draw: say why, rather than show an empty frame.
  if (labels.length === 0 || datasets.every((d) => d.data.every((v) => v === null || v === 0))) {
    return h('figure', { class: 'chart-figure' }, h('h3', {}, description), h('p', { class: 'empty', id: `${id}-empty` }, opts.empty ?? 'Nothing to show for these filters yet.'));
  }
  const canvas = h('canvas', { id, role: 'img', 'aria-label': `${description}; the table below has the same figures.` });
  charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: { labels, datasets: datasets.map((d, i) => ({ label: d.label, data: d.data, backgroundColor: d.colour ?? PALETTE[i % PALETTE.length] })) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: opts.stacked },
          y: { stacked: opts.stacked, beginAtZero: true, ...(opts.percent ? { max: 100, title: { display: true, text: '%' } } : { ticks: { precision: 0 } }) },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    }),
  );
  return h('figure', { class: 'chart-figure' }, h('h3', {}, description), h('div', { class: 'chart' }, canvas));
}

/** Pathways with an undelivered message: the summary's count when it has one, otherwise counted from the list. */
async function undeliveredCount(team: TeamSummary): Promise<number> {
  if (typeof team.undelivered === 'number') return team.undelivered;
  let count = 0;
  let pageToken: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({ careTeam: team.careTeam, undelivered: 'true', pageSize: '200', ...(pageToken ? { pageToken } : {}) });
    const page: { items: unknown[]; nextPageToken: string | null } = await api('GET', `/v1/pathways?${query}`);
    count += page.items.length;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return count;
}

/** Headline counts: what needs attention across the care teams shown. */
function headline(teams: TeamSummary[], undelivered: number[]): HTMLElement {
  const sum = (f: (t: TeamSummary) => number) => teams.reduce((n, t) => n + f(t), 0);
  const items: Array<[string, number, string]> = [
    ['Active', sum((t) => t.byStatus.active ?? 0), 'info'],
    ['Overdue', sum((t) => t.overdue), 'warning'],
    ['Urgent referral', sum((t) => t.byStatus['urgent-referral'] ?? 0), 'urgent'],
    ['Message not delivered', undelivered.reduce((a, b) => a + b, 0), 'warning'],
    ['On hold', sum((t) => t.byStatus['on-hold'] ?? 0), 'neutral'],
  ];
  return h('ul', { class: 'headline', id: 'headline', 'aria-label': 'Headline counts' }, items.map(([text, n, tone]) => h('li', { class: `tone-${tone}` }, h('span', { class: 'count' }, n), text)));
}

async function page(shell: Shell): Promise<void> {
  const params = new URLSearchParams(location.search);
  const filterArea = h('div', {});
  const head = h('div', { id: 'headline-area' });
  const cohort = h('section', { class: 'panel', 'aria-labelledby': 'cohort-title' }, h('h2', { id: 'cohort-title' }, 'Where patients stand'));
  const outcomes = h('section', { class: 'panel', id: 'outcomes', 'aria-labelledby': 'outcomes-title' }, h('h2', { id: 'outcomes-title' }, 'Outcomes'));
  replace(app(), filterArea, head, cohort, outcomes);
  let ready = false;
  await loadInto(
    filterArea,
    'the filters',
    () =>
      Promise.all([
        api<{ careTeams: TeamSummary[] }>('GET', '/v1/pathways/summary'),
        api<{ items: Array<{ id: string; version: number; title: string }> }>('GET', '/v1/definitions'),
      ]),
    ([{ careTeams: allTeams }, { items: definitions }]) => {
      ready = true;
      build(shell.person.careTeams ?? allTeams.map((t) => t.careTeam), definitions);
    },
  );
  if (!ready) return;

  function build(teamNames: string[], definitions: Array<{ id: string; version: number; title: string }>): void {
    const control = (id: string, text: string, input: HTMLElement) =>
      h('div', { class: 'field' }, h('label', { for: id }, text), input, h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
    const careTeam = h('select', { id: 'f-team', name: 'careTeam' }, h('option', { value: '' }, 'All care teams'), teamNames.map((t) => h('option', { value: t, selected: params.get('careTeam') === t }, t)));
    const definition = h('select', { id: 'f-definition', name: 'definition' }, h('option', { value: '' }, 'All definitions'), definitions.map((d) => h('option', { value: `${d.id}@${d.version}`, selected: params.get('definition') === `${d.id}@${d.version}` }, `${d.title} v${d.version}`)));
    const from = h('input', { id: 'f-from', name: 'from', type: 'date', value: params.get('from') ?? undefined, 'aria-describedby': 'f-from-error' });
    const to = h('input', { id: 'f-to', name: 'to', type: 'date', value: params.get('to') ?? undefined, 'aria-describedby': 'f-to-error' });
    const filters = h(
      'form',
      { class: 'inline filters', 'aria-label': 'Dashboard filters', novalidate: true, onsubmit: (e: Event) => (e.preventDefault(), void load()) },
      h('fieldset', { class: 'filter-group' }, h('legend', {}, 'Whole page'), control('f-team', 'Care team', careTeam)),
      h('fieldset', { class: 'filter-group' }, h('legend', {}, 'Outcomes only'), control('f-definition', 'Definition version', definition), control('f-from', 'From', from), control('f-to', 'To', to)),
      h('button', { type: 'submit' }, 'Apply'),
    );
    replace(filterArea, filters);

    /** A range that ends before it starts is said beside the field, not drawn as zeros. */
    const rangeProblem = (): boolean => {
      const error = document.getElementById('f-to-error')!;
      const wrong = Boolean(from.value && to.value && to.value < from.value);
      error.hidden = !wrong;
      replace(error, wrong ? 'The "To" date must be on or after the "From" date.' : '');
      if (wrong) to.setAttribute('aria-invalid', 'true');
      else to.removeAttribute('aria-invalid');
      return wrong;
    };

    async function load(): Promise<void> {
      if (rangeProblem()) {
        to.focus();
        return;
      }
      const query = new URLSearchParams();
      if (careTeam.value) query.set('careTeam', careTeam.value);
      if (definition.value) query.set('definition', definition.value);
      if (from.value) query.set('from', from.value);
      if (to.value) query.set('to', to.value);
      history.replaceState(null, '', `/dashboard${query.size ? `?${query}` : ''}`);
      while (charts.length) charts.pop()!.destroy();
      await Promise.all([loadCohort(), loadOutcomes()]);
    }

    async function loadCohort(): Promise<void> {
      const heading = h('h2', { id: 'cohort-title' }, 'Where patients stand');
      const body = h('div', {});
      replace(cohort, heading, body);
      await loadInto(
        body,
        'where patients stand',
        async () => {
          const { careTeams } = await api<{ careTeams: TeamSummary[] }>('GET', `/v1/pathways/summary${careTeam.value ? `?careTeam=${encodeURIComponent(careTeam.value)}` : ''}`);
          return { careTeams, undelivered: await Promise.all(careTeams.map(undeliveredCount)) };
        },
        ({ careTeams, undelivered }) => {
          const names = careTeams.map((t) => t.careTeam);
          replace(head, headline(careTeams, undelivered));
          replace(
            body,
            h('p', { class: 'muted scope-note' }, `Now, ${careTeam.value ? `care team ${careTeam.value}` : 'every care team you see'}, every definition; the definition and dates filter only the outcomes below.`),
            careTeams.length === 0
              ? h('p', { class: 'empty' }, 'No pathways yet.')
              : [
                  h(
                    'div',
                    { class: 'charts' },
                    barChart('chart-stage', 'Patients in each stage per care team', names, vocabulary.stages.map((st) => ({ label: label(st), data: careTeams.map((t) => t.byStage[st] ?? 0) })), { stacked: true }),
                    barChart('chart-status', 'Patients in each status per care team', names, STATUSES.map((st) => ({ label: label(statusName(st)), data: careTeams.map((t) => t.byStatus[st] ?? 0), colour: STATUS_COLOURS[st] })), { stacked: true }),
                  ),
                  table(
                    'Patients per care team, by stage',
                    ['Care team', 'Total', 'Overdue', 'Undelivered', ...vocabulary.stages.map(label)],
                    careTeams.map((t, i) => [t.careTeam, t.total, t.overdue, undelivered[i]!, ...vocabulary.stages.map((st) => t.byStage[st] ?? 0)]),
                    'cohort-table',
                  ),
                  table('Patients per care team, by status', ['Care team', ...STATUSES.map((st) => label(statusName(st)))], careTeams.map((t) => [t.careTeam, ...STATUSES.map((st) => t.byStatus[st] ?? 0)]), 'status-table'),
                ],
          );
        },
      );
    }

    async function loadOutcomes(): Promise<void> {
      const query = new URLSearchParams();
      if (careTeam.value) query.set('careTeam', careTeam.value);
      if (definition.value) {
        const [id, version] = definition.value.split('@');
        query.set('definitionId', id!);
        query.set('definitionVersion', version!);
      }
      if (from.value) query.set('from', new Date(`${from.value}T00:00:00Z`).toISOString());
      if (to.value) query.set('to', new Date(`${to.value}T23:59:59.999Z`).toISOString());
      const heading = h('h2', { id: 'outcomes-title' }, 'Outcomes');
      const scope = [careTeam.value ? `care team ${careTeam.value}` : 'every care team', definition.value ? definition.selectedOptions[0]?.textContent : 'every definition', from.value || to.value ? `stages entered ${from.value ? `from ${from.value}` : ''}${to.value ? ` to ${to.value}` : ''}` : 'all dates'].join(', ');
      let report: OutcomesReport;
      try {
        report = await api<OutcomesReport>('GET', `/v1/reports/outcomes${query.size ? `?${query}` : ''}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          replace(outcomes, heading, h('p', { class: 'unavailable', id: 'outcomes-unavailable' }, 'The outcomes report is not available on this server yet.'));
          return;
        }
        if (err instanceof ApiError && err.status === 400) {
          replace(outcomes, heading, h('div', { class: 'message message-error', role: 'alert' }, h('p', {}, `These filters were refused: ${err.errors.map((e) => inWords(e.message)).join('; ') || inWords(err.message)}.`)));
          return;
        }
        replace(outcomes, heading, failure(err, 'the outcomes report', () => void loadOutcomes()));
        return;
      }
      const entered = report.stages.reduce((n, st) => n + st.entered, 0);
      const stages = report.stages.map((st) => label(st.stage));
      // Every rate with its count: "(6 of 8)".
      const procedures = report.procedures.map((p) => `${label(p.type)} (${p.responded} of ${p.reassessed})`);
      replace(
        outcomes,
        heading,
        h('p', { class: 'muted scope-note' }, `For ${scope}.`),
        entered === 0 && report.procedures.length === 0
          ? h('p', { class: 'empty', id: 'outcomes-empty' }, 'No patient entered a stage in this range: choose a wider range or another care team.')
          : h(
              'div',
              { class: 'charts' },
              barChart('chart-responders', 'Patients entering each stage and how they left it', stages, [
                { label: 'Entered', data: report.stages.map((st) => st.entered) },
                { label: 'Responded', data: report.stages.map((st) => st.responded) },
                { label: 'Escalated', data: report.stages.map((st) => st.escalated) },
                { label: 'Still in stage', data: report.stages.map((st) => st.stillInStage) },
              ]),
              barChart('chart-days', 'Median days in each stage', stages, [{ label: 'Median days in stage', data: report.stages.map((st) => st.medianDaysInStage) }], { empty: 'No patient has left a stage yet: no median to show.' }),
              barChart('chart-procedures', 'Response rate per procedure type, percent (responded of reassessed)', procedures, [{ label: 'Response rate (%)', data: report.procedures.map(rate) }], { percent: true, empty: 'No procedure has been reassessed yet.' }),
            ),
        table(
          'Outcomes per stage',
          ['Stage', 'Entered', 'Responded', 'Escalated', 'Withdrawn', 'Urgent referral', 'Completed', 'Still in stage', 'Median days', 'Median pain relief', 'Median ODI change'],
          report.stages.map((st) => [label(st.stage), st.entered, st.responded, st.escalated, st.withdrawn, st.urgentReferral, st.completed, st.stillInStage, cell(st.medianDaysInStage), cell(st.medianPainReliefPercent, '%'), cell(st.medianOdiChange)]),
          'outcomes-stages',
        ),
        table(
          'Response per procedure type',
          ['Procedure', 'Performed', 'Reassessed', 'Responded', 'Response rate'],
          report.procedures.map((p) => [label(p.type), p.performed, p.reassessed, p.responded, p.reassessed ? `${cell(rate(p), '%')} (${p.responded} of ${p.reassessed})` : '–']),
          'outcomes-procedures',
        ),
      );
    }

    void load();
  }
}

run(page);
