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
}

/** Vertical lines with a label at the top, at the given x values (plugin options: markers). */
export const markersPlugin: Plugin<'line'> = {
  id: 'markers',
  afterDatasetsDraw(chart, _args, options: { markers?: Marker[] }) {
    const { ctx, chartArea, scales } = chart;
    for (const m of options.markers ?? []) {
      const x = scales.x!.getPixelForValue(m.x);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.save();
      ctx.strokeStyle = '#52606d';
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#1f2933';
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillText(m.label, Math.min(x + 4, chartArea.right - ctx.measureText(m.label).width), chartArea.top + 12);
      ctx.restore();
    }
  },
};

export { Chart };
