/// <reference lib="dom" />
// The page's charts, drawn by uPlot (bundled into the page at build time): learning curves with one series
// per job, and grouped bars (categories on x, one bar per series in each).
import uPlot from 'uplot';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
export const color = (i: number) => PALETTE[i % PALETTE.length]!;

export interface Line {
  label: string;
  points: Array<[number, number]>;
}

/** Every chart on the page, by title: the browser test reads their series and points from here. */
export const charts: Array<{ title: string; plot: uPlot }> = [];
(globalThis as { vidraCharts?: typeof charts }).vidraCharts = charts;

const SIZE = { width: 560, height: 260 };
/** Tick labels at three significant digits: a learning rate of 4.5e-5 does not read as 0. */
const yAxis: uPlot.Axis = { values: (_u, splits) => splits.map((v) => (v == null ? '' : String(Number(v.toPrecision(3))))) };

function mount(parent: HTMLElement, title: string, make: (el: HTMLElement) => uPlot): void {
  const box = document.createElement('figure');
  box.className = 'chart';
  parent.append(box);
  charts.push({ title, plot: make(box) });
  // In page order, also after a section is redrawn (the log scale, another metric).
  charts.sort((a, b) => (a.plot.root.compareDocumentPosition(b.plot.root) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
}

/** Lines over a shared x (joined: a job without a point at some x has a gap there, bridged). */
export function lineChart(parent: HTMLElement, title: string, xLabel: string, lines: readonly Line[], log: boolean): void {
  const tables = lines.map((l): uPlot.AlignedData => {
    const pts = [...l.points].sort((a, b) => a[0] - b[0]);
    // A log scale cannot place zero or a negative value: those points drop out of it.
    return [pts.map((p) => p[0]), pts.map((p) => (log && p[1] <= 0 ? null : p[1]))];
  });
  const data = tables.length === 1 ? tables[0]! : uPlot.join(tables);
  mount(parent, title, (el) =>
    new uPlot(
      {
        ...SIZE,
        title,
        scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
        axes: [{ label: xLabel }, yAxis],
        series: [{ label: xLabel }, ...lines.map((l, i) => ({ label: l.label, stroke: color(i), spanGaps: true, points: { show: l.points.length < 60 } }))],
      },
      data,
      el,
    ),
  );
}

/** Grouped bars: each category a slot on x, each series one bar in it (null: no bar). */
export function barChart(parent: HTMLElement, title: string, categories: readonly string[], series: ReadonlyArray<{ label: string; values: Array<number | null> }>): void {
  const n = series.length;
  const width = 0.8 / n;
  // One shared x array of every bar's centre; a series has values only at its own bars.
  const xs: number[] = [];
  const ys = series.map((): Array<number | null> => []);
  categories.forEach((_, c) =>
    series.forEach((s, k) => {
      xs.push(c + (k - (n - 1) / 2) * width);
      ys.forEach((y, j) => y.push(j === k ? s.values[c] ?? null : null));
    }),
  );
  const bars = uPlot.paths.bars!({ size: [0.9, Infinity, 1] });
  mount(parent, title, (el) =>
    new uPlot(
      {
        ...SIZE,
        title,
        // Bars stand on zero.
        scales: { x: { time: false, range: () => [-0.5, categories.length - 0.5] }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.1] } },
        legend: { live: false },
        axes: [
          { splits: () => categories.map((_, i) => i), values: (_u, splits) => splits.map((i) => categories[i] ?? '') },
          yAxis,
        ],
        cursor: { points: { show: false } },
        series: [{ label: 'x' }, ...series.map((s, i) => ({ label: s.label, fill: color(i), stroke: color(i), paths: bars, points: { show: false } }))],
      },
      [xs, ...ys] as uPlot.AlignedData,
      el,
    ),
  );
}
