/**
 * The cohort dashboard of a clinical lead: patients per stage and status per care team, overdue
 * and undelivered counts, and the outcomes report (responders per stage, time in stage, response
 * per procedure type), filtered by care team, definition version and date range.
 */
import { api, ApiError } from './api';
import { Chart } from './charts';
import { app, h, label, message, replace } from './dom';
import { run, type Shell } from './shell';
import { vocabulary } from './vocabulary';

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
// Distinguishable colours, each at least 3:1 against white (WCAG 1.4.11).
const PALETTE = ['#0b5cad', '#8a4b00', '#2f7d32', '#b3261e', '#6a3d9a', '#00695c', '#5f6b7a'];
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

function barChart(id: string, description: string, labels: string[], datasets: Array<{ label: string; data: Array<number | null> }>, opts: { stacked?: boolean; percent?: boolean } = {}): HTMLElement {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': `${description}; the table below has the same figures.` });
  charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: { labels, datasets: datasets.map((d, i) => ({ ...d, backgroundColor: PALETTE[i % PALETTE.length] })) },
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

async function page(shell: Shell): Promise<void> {
  const params = new URLSearchParams(location.search);
  const [{ careTeams: allTeams }, { items: definitions }] = await Promise.all([
    api<{ careTeams: TeamSummary[] }>('GET', '/v1/pathways/summary'),
    api<{ items: Array<{ id: string; version: number; title: string }> }>('GET', '/v1/definitions'),
  ]);
  const teamNames = shell.person.careTeams ?? allTeams.map((t) => t.careTeam);
  const control = (id: string, text: string, input: HTMLElement) => h('div', { class: 'field' }, h('label', { for: id }, text), input);
  const careTeam = h('select', { id: 'f-team', name: 'careTeam' }, h('option', { value: '' }, 'All care teams'), teamNames.map((t) => h('option', { value: t, selected: params.get('careTeam') === t }, t)));
  const definition = h('select', { id: 'f-definition', name: 'definition' }, h('option', { value: '' }, 'All definitions'), definitions.map((d) => h('option', { value: `${d.id}@${d.version}`, selected: params.get('definition') === `${d.id}@${d.version}` }, `${d.title} v${d.version}`)));
  const from = h('input', { id: 'f-from', name: 'from', type: 'date', value: params.get('from') ?? undefined });
  const to = h('input', { id: 'f-to', name: 'to', type: 'date', value: params.get('to') ?? undefined });
  const filters = h(
    'form',
    { class: 'inline filters', 'aria-label': 'Dashboard filters', onsubmit: (e: Event) => (e.preventDefault(), void load()) },
    control('f-team', 'Care team', careTeam),
    control('f-definition', 'Definition version', definition),
    control('f-from', 'From', from),
    control('f-to', 'To', to),
    h('button', { type: 'submit' }, 'Apply'),
  );
  const cohort = h('section', { class: 'panel', 'aria-labelledby': 'cohort-title' });
  const outcomes = h('section', { class: 'panel', id: 'outcomes', 'aria-labelledby': 'outcomes-title' });
  replace(app(), filters, cohort, outcomes);

  async function load(): Promise<void> {
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
    const { careTeams } = await api<{ careTeams: TeamSummary[] }>('GET', `/v1/pathways/summary${careTeam.value ? `?careTeam=${encodeURIComponent(careTeam.value)}` : ''}`);
    const undelivered = await Promise.all(careTeams.map(undeliveredCount));
    const names = careTeams.map((t) => t.careTeam);
    replace(
      cohort,
      h('h2', { id: 'cohort-title' }, 'Where patients stand'),
      h('p', { class: 'muted' }, 'Running and closed pathways of every definition, now; the outcomes below follow every filter.'),
      careTeams.length === 0
        ? h('p', { class: 'empty' }, 'No pathways yet.')
        : [
            h(
              'div',
              { class: 'charts' },
              barChart('chart-stage', 'Patients in each stage per care team', names, vocabulary.stages.map((s) => ({ label: label(s), data: careTeams.map((t) => t.byStage[s] ?? 0) })), { stacked: true }),
              barChart('chart-status', 'Patients in each status per care team', names, STATUSES.map((s) => ({ label: label(s), data: careTeams.map((t) => t.byStatus[s] ?? 0) })), { stacked: true }),
            ),
            table(
              'Patients per care team, by stage',
              ['Care team', 'Total', 'Overdue', 'Undelivered', ...vocabulary.stages.map(label)],
              careTeams.map((t, i) => [t.careTeam, t.total, t.overdue, undelivered[i]!, ...vocabulary.stages.map((s) => t.byStage[s] ?? 0)]),
              'cohort-table',
            ),
            table('Patients per care team, by status', ['Care team', ...STATUSES.map(label)], careTeams.map((t) => [t.careTeam, ...STATUSES.map((s) => t.byStatus[s] ?? 0)]), 'status-table'),
          ],
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
    let report: OutcomesReport;
    try {
      report = await api<OutcomesReport>('GET', `/v1/reports/outcomes${query.size ? `?${query}` : ''}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        replace(outcomes, heading, h('p', { class: 'unavailable', id: 'outcomes-unavailable' }, 'The outcomes report is not available on this server yet.'));
        return;
      }
      replace(outcomes, heading, message('error', `The outcomes report could not load: ${(err as Error).message}`));
      return;
    }
    const stages = report.stages.map((s) => label(s.stage));
    const procedures = report.procedures.map((p) => label(p.type));
    replace(
      outcomes,
      heading,
      h(
        'div',
        { class: 'charts' },
        barChart('chart-responders', 'Patients entering each stage and how they left it', stages, [
          { label: 'Entered', data: report.stages.map((s) => s.entered) },
          { label: 'Responded', data: report.stages.map((s) => s.responded) },
          { label: 'Escalated', data: report.stages.map((s) => s.escalated) },
          { label: 'Still in stage', data: report.stages.map((s) => s.stillInStage) },
        ]),
        barChart('chart-days', 'Median days in each stage', stages, [{ label: 'Median days in stage', data: report.stages.map((s) => s.medianDaysInStage) }]),
        barChart('chart-procedures', 'Response rate per procedure type, percent', procedures, [{ label: 'Response rate (%)', data: report.procedures.map(rate) }], { percent: true }),
      ),
      table(
        'Outcomes per stage',
        ['Stage', 'Entered', 'Responded', 'Escalated', 'Withdrawn', 'Urgent referral', 'Completed', 'Still in stage', 'Median days', 'Median pain relief', 'Median ODI change'],
        report.stages.map((s) => [label(s.stage), s.entered, s.responded, s.escalated, s.withdrawn, s.urgentReferral, s.completed, s.stillInStage, cell(s.medianDaysInStage), cell(s.medianPainReliefPercent, '%'), cell(s.medianOdiChange)]),
        'outcomes-stages',
      ),
      table(
        'Response per procedure type',
        ['Procedure', 'Performed', 'Reassessed', 'Responded', 'Response rate'],
        report.procedures.map((p) => [label(p.type), p.performed, p.reassessed, p.responded, cell(rate(p), '%')]),
        'outcomes-procedures',
      ),
    );
  }

  await load();
}

run(page);
