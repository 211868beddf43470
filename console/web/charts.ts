/**
 * Chart.js, with only the parts the console draws, and a plugin that marks moments (stage
 * changes) with a labelled vertical line.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type Plugin,
} from 'chart.js';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, LinearScale, CategoryScale, Legend, Tooltip);
Chart.defaults.font.size = 13;
Chart.defaults.color = '#1f2933';
Chart.defaults.animation = false;

export interface Marker {
  x: number;
  label: string;
  /** Written instead of the label where the chart is narrow (a phone): its number in the list under the chart. */
  short?: string;
  kind?: 'stage' | 'procedure';
}

/**
 * Vertical lines with a label at the top, at the given x values (plugin options: markers): stage
 * changes solid, procedures dotted; labels step down a row when they would overlap the one before.
 */
export const markersPlugin: Plugin<'line'> = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, options: { markers?: Marker[] }) {
    const { ctx, chartArea, scales } = chart;
    const rowEnds: number[] = [];
    const narrow = chartArea.right - chartArea.left < 560;
    for (const m of options.markers ?? []) {
      const text = narrow && m.short ? m.short : m.label;
      const x = scales.x!.getPixelForValue(m.x);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.save();
      ctx.strokeStyle = m.kind === 'procedure' ? '#6a3d9a' : '#1f2933';
      ctx.setLineDash(m.kind === 'procedure' ? [2, 3] : []);
      ctx.lineWidth = m.kind === 'procedure' ? 1.5 : 1;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.font = '12px system-ui, sans-serif';
      const width = ctx.measureText(text).width;
      const left = Math.max(chartArea.left + 2, Math.min(x + 4, chartArea.right - width - 2));
      let row = rowEnds.findIndex((end) => end < left);
      if (row === -1) row = rowEnds.length;
      rowEnds[row] = left + width + 6;
      const y = chartArea.top + 12 + row * 15;
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(left - 2, y - 11, width + 4, 14);
      ctx.fillStyle = m.kind === 'procedure' ? '#4a2c70' : '#1f2933';
      ctx.fillText(text, left, y);
      ctx.restore();
    }
  },
};

/** The label of each threshold line (datasets marked `threshold`), written on the line at its right end in its colour. */
export const lineLabelsPlugin: Plugin<'line'> = {
  id: 'lineLabels',
  afterDatasetsDraw(chart) {
    const { ctx, chartArea } = chart;
    const used: number[] = [];
    chart.data.datasets.forEach((dataset, i) => {
      if (!(dataset as { threshold?: boolean }).threshold) return;
      const meta = chart.getDatasetMeta(i);
      const last = meta.data[meta.data.length - 1];
      if (!last) return;
      ctx.save();
      ctx.font = '12px system-ui, sans-serif';
      const text = String(dataset.label);
      const width = ctx.measureText(text).width;
      const x = chartArea.right - width - 4;
      // Above the line; moved clear of a label already written at nearly the same height.
      let y = last.y - 4;
      while (used.some((u) => Math.abs(u - y) < 14)) y -= 14;
      used.push(y);
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(x - 2, y - 11, width + 4, 14);
      ctx.fillStyle = String(dataset.borderColor);
      ctx.fillText(text, x, y);
      ctx.restore();
    });
  },
};

export { Chart };
