/**
 * A pathway's pain and function over time, made for reading a trend: a dated axis (days, then
 * weeks since enrolment), scores of the same day drawn apart, procedures and stage changes marked,
 * the stage's thresholds drawn against the axis they belong to and labelled on the line, and the
 * same scores in a table beside it.
 */
import type { ChartData, LegendItem, TooltipItem } from 'chart.js';
import type { FullPathway } from './actions';
import { Chart, lineLabelsPlugin, markersPlugin, type Marker } from './charts';
import { capital, day, h, label, when, words } from './dom';

const DAY = 86_400_000;
const NRS_COLOUR = '#0b5cad';
const ODI_COLOUR = '#8a4b00';
const short = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });

let chart: Chart<'line'> | undefined;

interface Point {
  at: string;
  stage: string;
  painNrs: number;
  odi?: number;
  pgic?: number;
  dailyMme?: number;
  what: string;
}

/** Days between ticks for a span: every day over a fortnight, weekly over two months, then fortnightly and four-weekly. */
const stepFor = (span: number) => (span <= 14 ? 1 : span <= 70 ? 7 : span <= 200 ? 14 : span <= 420 ? 28 : 56);

/** The stage's own response thresholds: conservative care 30% or ODI −10; later stages their relief percent. */
function thresholds(p: FullPathway): { nrs: Array<{ percent: number; text: string }>; odi: number | null } {
  const s = p.definition.stages;
  switch (p.stage) {
    case 'conservative':
      return { nrs: [{ percent: s.conservative.response.painReductionPercent, text: 'response' }], odi: s.conservative.response.odiReductionPoints };
    case 'interventional':
      return { nrs: [{ percent: s.interventional.response.reliefPercent, text: 'response' }], odi: null };
    case 'scs':
      return { nrs: [{ percent: p.scs.implantedAt ? s.scs.response.followUpReliefPercent : s.scs.response.trialReliefPercent, text: p.scs.implantedAt ? 'follow-up response' : 'trial success' }], odi: null };
    default:
      return { nrs: [], odi: null };
  }
}

export function scoresChart(p: FullPathway): HTMLElement {
  const t0 = Date.parse(p.enrolledAt);
  const days = (iso: string) => (Date.parse(iso) - t0) / DAY;
  const points: Point[] = [
    { at: p.enrolledAt, stage: 'conservative', painNrs: p.baseline.painNrs, odi: p.baseline.odi, pgic: p.baseline.pgic, dailyMme: p.baseline.dailyMme, what: 'Baseline at enrolment' },
    ...p.reassessments.map((r) => ({ ...r, what: 'Reassessment' })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const now = days(new Date().toISOString());
  const end = Math.max(now, ...points.map((q) => days(q.at)), p.due ? days(p.due.dueAt) : 0, 7);
  // Scores of the same day stay apart: each at least a small step after the one before.
  const gap = Math.max(0.3, end / 90);
  const xs: number[] = [];
  for (const q of points) xs.push(Math.max(days(q.at), xs.length ? xs[xs.length - 1]! + gap : -Infinity));
  const step = stepFor(end);
  const max = Math.ceil(end / step) * step;
  const pad = Math.max(0.4, max / 60);

  const from = days(p.stageEnteredAt);
  const level = (y: number) => [
    { x: from, y },
    { x: max + pad, y },
  ];
  const reference = p.reference;
  const { nrs, odi } = thresholds(p);
  const line = (text: string, data: Array<{ x: number; y: number }>, colour: string, dash: number[], axis: 'y' | 'y1') => ({
    label: text,
    data,
    borderColor: colour,
    backgroundColor: colour,
    borderDash: dash,
    borderWidth: 1.5,
    pointRadius: 0,
    yAxisID: axis,
    threshold: true,
  });
  const stageName = words(p.stage);
  const datasets = [
    {
      label: 'Pain NRS',
      data: points.map((q, i) => ({ x: xs[i]!, y: q.painNrs })),
      borderColor: NRS_COLOUR,
      backgroundColor: NRS_COLOUR,
      borderWidth: 2.5,
      pointRadius: 5,
      yAxisID: 'y',
    },
    {
      label: 'ODI',
      data: points.flatMap((q, i) => (q.odi === undefined ? [] : [{ x: xs[i]!, y: q.odi }])),
      borderColor: ODI_COLOUR,
      backgroundColor: ODI_COLOUR,
      borderWidth: 2.5,
      pointRadius: 5,
      pointStyle: 'rectRot',
      yAxisID: 'y1',
    },
    line(`Stage reference: NRS ${reference.painNrs}`, level(reference.painNrs), '#52606d', [1, 3], 'y'),
    ...nrs.map((t) => {
      const y = Math.round(reference.painNrs * (1 - t.percent / 100) * 10) / 10;
      return line(`${t.percent}% relief (${t.text}): NRS ${y}`, level(y), '#1b5e20', [6, 4], 'y');
    }),
    ...(odi !== null && reference.odi !== undefined
      ? [line(`ODI −${odi} points (response): ODI ${Math.max(0, reference.odi - odi)}`, level(Math.max(0, reference.odi - odi)), ODI_COLOUR, [8, 3, 2, 3], 'y1')]
      : []),
  ];
  const marks = [
    ...p.timeline.filter((e) => e.stageBefore !== e.stageAfter).map((e) => ({ at: e.occurredAt ?? e.at, label: `→ ${words(e.stageAfter)}`, kind: 'stage' as const })),
    ...p.procedures.map((r) => ({ at: r.performedAt, label: capital(words(r.type)), kind: 'procedure' as const })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const markers: Marker[] = marks.map((m, i) => ({ x: days(m.at), label: m.label, short: String(i + 1), kind: m.kind }));

  const canvas = h('canvas', {
    id: 'scores-chart',
    role: 'img',
    'data-points': points.length,
    'aria-label': `Pain NRS and ODI at ${points.length} assessments since enrolment on ${day(p.enrolledAt)}, against the ${stageName} stage reference (NRS ${reference.painNrs}); ${markers.length} procedures and stage changes marked. The table beside it lists the same scores.`,
  });
  chart?.destroy();
  chart = new Chart(canvas, {
    type: 'line',
    data: { datasets: datasets as never },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      layout: { padding: { top: 8 } },
      scales: {
        x: {
          type: 'linear',
          min: -pad,
          max: max + pad,
          title: { display: true, text: step >= 7 ? 'Weeks since enrolment' : 'Days since enrolment' },
          afterBuildTicks: (scale) => {
            scale.ticks = Array.from({ length: max / step + 1 }, (_, i) => ({ value: i * step }));
          },
          ticks: {
            autoSkip: true,
            maxRotation: 0,
            callback: (value) => {
              const v = Number(value);
              const date = short.format(new Date(t0 + v * DAY));
              return [step >= 7 ? `wk ${v / 7}` : `day ${v}`, date];
            },
          },
        },
        y: { min: 0, max: 10, ticks: { stepSize: 1, color: NRS_COLOUR }, title: { display: true, text: 'Pain NRS (0-10)', color: NRS_COLOUR } },
        y1: { position: 'right', min: 0, max: 100, ticks: { stepSize: 10, color: ODI_COLOUR }, grid: { drawOnChartArea: false }, title: { display: true, text: 'ODI (0-100)', color: ODI_COLOUR } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { filter: (item: LegendItem, data: ChartData) => !(data.datasets[item.datasetIndex!] as { threshold?: boolean }).threshold } },
        tooltip: {
          filter: (item: TooltipItem<'line'>) => !(item.dataset as { threshold?: boolean }).threshold,
          callbacks: {
            title: (items: Array<TooltipItem<'line'>>) => {
              const first = items[0];
              const q = first && first.datasetIndex <= 1 ? points.filter((pt) => first.datasetIndex === 0 || pt.odi !== undefined)[first.dataIndex] : undefined;
              return q ? `${q.what}, ${when(q.at)}` : '';
            },
          },
        },
        markers: { markers },
        lineLabels: {},
      } as never,
    },
    plugins: [markersPlugin, lineLabelsPlugin],
  });
  const table = h(
    'table',
    { class: 'data compact', id: 'scores' },
    h('caption', {}, 'Scores'),
    h('thead', {}, h('tr', {}, ['When', 'Stage', 'Pain NRS', 'ODI', 'PGIC', 'MME'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      points.map((q) => h('tr', {}, h('td', {}, day(q.at)), h('td', {}, label(q.stage)), h('td', {}, q.painNrs), h('td', {}, q.odi ?? '–'), h('td', {}, q.pgic ?? '–'), h('td', {}, q.dailyMme ?? '–'))),
    ),
  );
  return h(
    'div',
    { class: 'chart-with-table' },
    h(
      'figure',
      { class: 'chart-figure' },
      h('div', { class: 'chart' }, canvas),
      h(
        'figcaption',
        { class: 'hint' },
        `Thresholds of ${stageName} from ${day(p.stageEnteredAt)}, measured against the stage reference (NRS ${reference.painNrs}${reference.odi !== undefined ? `, ODI ${reference.odi}` : ''}). Marked: procedures (dotted) and stage changes (solid).`,
        // The marks by number too: a narrow chart writes only the number on its line.
        marks.length ? h('ol', { class: 'marks' }, marks.map((m) => h('li', {}, `${m.label}, ${day(m.at)}`))) : null,
      ),
    ),
    h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Scores' }, table),
  );
}
