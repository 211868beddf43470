/**
 * One pathway: stage and status at a glance, what is due, the pain and function chart against the
 * stage reference, the timeline with each decision's rule and numbers, and the actions the
 * person may take; a change shows the decisions it caused at once.
 */
import { api } from './api';
import { actionButtons, decisionList, decisionParts, type ChangeResult, type Decision } from './actions';
import { Chart, markersPlugin, type Marker } from './charts';
import { app, badge, day, h, label, replace, when, words } from './dom';
import { patientPanel, type Patient } from './patient';
import { questionnairesPanel } from './questionnaires';
import { run, type Shell } from './shell';

interface Reassessment {
  at: string;
  stage: string;
  painNrs: number;
  odi?: number;
  pgic?: number;
}

interface PathwayView {
  pathwayId: string;
  patient?: Patient;
  careTeam: string;
  definition: {
    id: string;
    version: number;
    title: string;
    stages: { conservative: { response: { painReductionPercent: number; odiReductionPoints: number } }; interventional: { response: { reliefPercent: number } } };
  };
  status: string;
  stage: string;
  enrolledAt: string;
  baseline: { painNrs: number; odi?: number };
  stageEnteredAt: string;
  reference: { painNrs: number; odi?: number; from: string; at: string };
  reassessments: Reassessment[];
  due: { kind: string; dueAt: string } | null;
  overdue: boolean;
  pendingWorkup: string[];
  consecutiveResponses: number;
  timeline: Array<Decision & { stageBefore: string; stageAfter: string; statusBefore: string; statusAfter: string }>;
}

const DAY = 86_400_000;
const STATUS_TONE: Record<string, string> = { active: 'info', 'on-hold': 'warning', 'urgent-referral': 'urgent', completed: 'neutral', withdrawn: 'neutral', closed: 'neutral' };

function glance(p: PathwayView): HTMLElement {
  const rows: Array<[string, Node | string]> = [
    ['Stage', label(p.stage)],
    ['Status', badge(label(p.status), STATUS_TONE[p.status] ?? 'neutral')],
    ['Next due', p.due ? h('span', {}, `${label(p.due.kind)} on ${day(p.due.dueAt)} `, p.overdue ? badge('Overdue', 'warning') : '') : 'Nothing'],
    ['Pending work-up', p.pendingWorkup.length ? p.pendingWorkup.map(words).join(', ') : 'None'],
    ['Stage reference', `NRS ${p.reference.painNrs}${p.reference.odi !== undefined ? `, ODI ${p.reference.odi}` : ''} (from ${p.reference.from}, ${day(p.reference.at)})`],
    ['Consecutive responses', String(p.consecutiveResponses)],
    ['In this stage since', day(p.stageEnteredAt)],
    ['Care team', p.careTeam],
    ['Definition', `${p.definition.title} (v${p.definition.version})`],
    ['Enrolled', day(p.enrolledAt)],
  ];
  return h('dl', { class: 'glance' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

let chart: Chart<'line'> | undefined;

/** Pain NRS and ODI over time (days since enrolment), with the response thresholds of the current stage reference. */
function scoresChart(p: PathwayView): HTMLElement {
  const t0 = new Date(p.enrolledAt).getTime();
  const x = (iso: string) => Math.round(((new Date(iso).getTime() - t0) / DAY) * 10) / 10;
  const points = [{ at: p.enrolledAt, painNrs: p.baseline.painNrs, odi: p.baseline.odi, stage: 'baseline' }, ...p.reassessments];
  const from = x(p.stageEnteredAt);
  // Up to the next due item too, so the chart shows how far the pathway is from its next reassessment.
  const to = Math.max(x(new Date().toISOString()), ...points.map((q) => x(q.at)), p.due ? x(p.due.dueAt) : 0, from + 1);
  const thirty = p.definition.stages.conservative.response.painReductionPercent;
  const fifty = p.definition.stages.interventional.response.reliefPercent;
  const odiPoints = p.definition.stages.conservative.response.odiReductionPoints;
  const level = (y: number) => [
    { x: from, y },
    { x: to, y },
  ];
  const threshold = (text: string, data: Array<{ x: number; y: number }>, colour: string, dash: number[], axis = 'y') => ({
    label: text,
    data,
    borderColor: colour,
    borderDash: dash,
    borderWidth: 1.5,
    pointRadius: 0,
    yAxisID: axis,
  });
  const markers: Marker[] = p.timeline.filter((e) => e.stageBefore !== e.stageAfter).map((e) => ({ x: x(e.at), label: `→ ${words(e.stageAfter)}` }));
  const datasets = [
    { label: 'Pain NRS', data: points.map((q) => ({ x: x(q.at), y: q.painNrs })), borderColor: '#0b5cad', backgroundColor: '#0b5cad', borderWidth: 2.5, pointRadius: 4, yAxisID: 'y' },
    { label: 'ODI', data: points.filter((q) => q.odi !== undefined).map((q) => ({ x: x(q.at), y: q.odi! })), borderColor: '#8a4b00', backgroundColor: '#8a4b00', borderWidth: 2.5, pointRadius: 4, pointStyle: 'rectRot', yAxisID: 'y1' },
    threshold(`${thirty}% relief (NRS ${(p.reference.painNrs * (1 - thirty / 100)).toFixed(1)})`, level(p.reference.painNrs * (1 - thirty / 100)), '#2f7d32', [6, 4]),
    threshold(`${fifty}% relief (NRS ${(p.reference.painNrs * (1 - fifty / 100)).toFixed(1)})`, level(p.reference.painNrs * (1 - fifty / 100)), '#1b5e20', [2, 2]),
    ...(p.reference.odi !== undefined ? [threshold(`ODI −${odiPoints} points (${Math.max(0, p.reference.odi - odiPoints)})`, level(Math.max(0, p.reference.odi - odiPoints)), '#a35200', [8, 3, 2, 3], 'y1')] : []),
  ];
  const canvas = h('canvas', {
    id: 'scores-chart',
    role: 'img',
    'data-points': points.length,
    'aria-label': `Pain NRS and ODI at ${points.length} assessments since enrolment, against the ${words(p.stage)} stage reference (NRS ${p.reference.painNrs}); the table below lists the same scores.`,
  });
  chart?.destroy();
  chart = new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: { type: 'linear', min: 0, max: Math.ceil(to), title: { display: true, text: 'Days since enrolment' } },
        y: { min: 0, max: 10, title: { display: true, text: 'Pain NRS (0-10)' } },
        y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: 'ODI (0-100)' } },
      },
      plugins: { legend: { position: 'bottom' }, markers: { markers } } as never,
    },
    plugins: [markersPlugin],
  });
  const table = h(
    'table',
    { class: 'data compact', id: 'scores' },
    h('caption', {}, 'Scores'),
    h('thead', {}, h('tr', {}, ['When', 'Stage', 'Pain NRS', 'ODI', 'PGIC'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, points.map((q) => h('tr', {}, h('td', {}, day(q.at)), h('td', {}, label(q.stage)), h('td', {}, q.painNrs), h('td', {}, q.odi ?? '–'), h('td', {}, 'pgic' in q && q.pgic !== undefined ? q.pgic : '–')))),
  );
  return h('div', {}, h('div', { class: 'chart' }, canvas), table);
}

function timeline(p: PathwayView): HTMLElement {
  return h(
    'ol',
    { class: 'timeline', reversed: true },
    [...p.timeline].reverse().map((e) =>
      h(
        'li',
        { 'data-event': e.event },
        h('p', { class: 'meta' }, h('time', { datetime: e.at }, when(e.at)), ` · ${e.actor.role === 'patient' ? 'reported by the patient at home' : `${e.actor.id} (${e.actor.role})`} · ${label(e.event)}`),
        decisionParts(e),
      ),
    ),
  );
}

async function page(shell: Shell): Promise<void> {
  const pathwayId = location.pathname.split('/').pop()!;
  const latest = h('section', { id: 'latest-decisions', 'aria-live': 'polite', 'aria-labelledby': 'latest-title', hidden: true });
  const sections = {
    patient: h('div', {}),
    glance: h('div', {}),
    questionnaires: h('div', {}),
    actions: h('div', { class: 'buttons', id: 'actions' }),
    chart: h('div', {}),
    timeline: h('div', {}),
  };
  const title = document.getElementById('title')!;
  title.textContent = `Pathway ${pathwayId.slice(3, 11)}`;

  const show = (r: ChangeResult) => {
    latest.hidden = false;
    replace(
      latest,
      h('h2', { id: 'latest-title' }, 'Decisions just taken'),
      r.decisions.length ? decisionList(r.decisions) : h('p', {}, 'Recorded; no change of stage or status.'),
    );
    void load();
  };

  async function load(): Promise<void> {
    const { pathway } = await api<{ pathway: PathwayView }>('GET', `/v1/pathways/${pathwayId}`);
    document.body.dataset.stage = pathway.stage;
    document.body.dataset.status = pathway.status;
    const short = `Pathway ${pathwayId.slice(3, 11)}`;
    title.textContent = pathway.patient?.name ? `${pathway.patient.name} · ${short}` : short;
    replace(sections.patient, pathway.patient ? patientPanel(pathwayId, pathway.patient, shell.can('correct-identity'), () => void load()) : null);
    replace(sections.glance, glance(pathway));
    const buttons = actionButtons(shell.can, pathway, `pathway ${pathwayId.slice(3, 11)}`, show);
    replace(sections.actions, buttons.length ? buttons : h('p', { class: 'muted' }, shell.can('enroll') ? 'No action applies at this stage and status.' : 'Your role reads pathways only.'));
    replace(sections.questionnaires, await questionnairesPanel(pathwayId, shell.can, () => void load()));
    replace(sections.chart, scoresChart(pathway));
    replace(sections.timeline, timeline(pathway));
  }

  replace(
    app(),
    sections.patient,
    h('section', { 'aria-labelledby': 'glance-title', class: 'panel' }, h('h2', { id: 'glance-title' }, 'At a glance'), sections.glance),
    h('section', { 'aria-labelledby': 'actions-title', class: 'panel' }, h('h2', { id: 'actions-title' }, 'Actions'), sections.actions),
    latest,
    h('section', { 'aria-labelledby': 'questionnaires-title', class: 'panel' }, h('h2', { id: 'questionnaires-title' }, 'Questionnaires at home'), sections.questionnaires),
    h('section', { 'aria-labelledby': 'chart-title', class: 'panel' }, h('h2', { id: 'chart-title' }, 'Pain and function'), sections.chart),
    h('section', { 'aria-labelledby': 'timeline-title', class: 'panel' }, h('h2', { id: 'timeline-title' }, 'Timeline'), sections.timeline),
  );
  await load();
}

run(page);
