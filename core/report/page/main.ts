/// <reference lib="dom" />
// The report page's script: reads the model embedded in the page and draws the table and the charts.
import { jobLabel } from '../labels.ts';
import type { ReportData, ReportJob } from '../model.ts';
import { reportTable } from '../table.ts';
import { barChart, charts, lineChart, type Line } from './charts.ts';
import { tableView } from './table-view.ts';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const data = JSON.parse(document.getElementById('vidra-report-data')!.textContent!) as ReportData;
const many = data.sources.length > 1;
const jobs = data.sources.flatMap((s) => s.jobs);
const label = (j: ReportJob) => jobLabel(j, data.params, many);

function section(title: string, id: string): HTMLElement {
  const s = document.createElement('section');
  s.id = id;
  const h = document.createElement('h2');
  h.textContent = title;
  s.append(h);
  document.body.append(s);
  return s;
}

function grid(parent: HTMLElement): HTMLElement {
  const g = document.createElement('div');
  g.className = 'grid';
  parent.append(g);
  return g;
}

const dropCharts = (box: HTMLElement) => {
  for (let i = charts.length - 1; i >= 0; i--) {
    if (!box.contains(charts[i]!.plot.root)) continue;
    charts[i]!.plot.destroy();
    charts.splice(i, 1);
  }
  box.replaceChildren();
};

tableView(section('Jobs', 'jobs-section'), reportTable(data));

// Learning curves: one chart per metric, one series per job (and per user where the task logs users).
// The training loop's own curves (loss, lr: no split or phase) first.
const metrics = [...new Set(jobs.flatMap((j) => j.curves.map((c) => c.metric)))].sort((a, b) => Number(a.includes('/')) - Number(b.includes('/')));
if (metrics.length) {
  const s = section('Learning curves', 'curves');
  const toggle = document.createElement('label');
  toggle.innerHTML = '<input type="checkbox" id="log-scale"> log scale';
  s.append(toggle);
  const box = grid(s);
  const draw = (log: boolean) => {
    dropCharts(box);
    for (const metric of metrics) {
      const lines: Line[] = [];
      let x = 'step';
      for (const j of jobs) {
        for (const c of j.curves.filter((c) => c.metric === metric)) {
          lines.push({ label: c.part ? `${label(j)} · ${c.part}` : label(j), points: c.points });
          x = c.x;
        }
      }
      lineChart(box, metric, x, lines, log);
    }
  };
  draw(false);
  toggle.querySelector('input')!.addEventListener('change', (e) => draw((e.target as HTMLInputElement).checked));
}

const COUNTS = new Set(['step', 'steps', 'epoch', 'epochs', 'users']);

// The final metric against each swept key: its values on x, a bar per combination of the other keys.
if (data.params.length && data.metrics.length) {
  const s = section('Final metric by parameter', 'by-param');
  const select = document.createElement('select');
  select.id = 'metric';
  select.append(...data.metrics.map((m) => new Option(m, m)));
  s.append(select);
  const box = grid(s);
  const draw = (metric: string) => {
    dropCharts(box);
    for (const p of data.params) {
      // The jobs that have both; a key with one value among them says nothing about the metric.
      const having = jobs.filter((j) => p in j.overrides && metric in j.final);
      const values = [...new Set(having.map((j) => j.overrides[p]!))];
      if (values.length < 2) continue;
      const others = data.params.filter((q) => q !== p);
      const groups = new Map<string, Array<number | null>>();
      for (const j of having) {
        const rest = others.filter((q) => q in j.overrides).map((q) => `${q}=${j.overrides[q]}`).join(' ');
        const g = many ? `${j.source}${rest ? `: ${rest}` : ''}` : rest || metric;
        if (!groups.has(g)) groups.set(g, values.map(() => null));
        groups.get(g)![values.indexOf(j.overrides[p]!)] = j.final[metric] ?? null;
      }
      barChart(box, `${metric} by ${p}`, values, [...groups].map(([g, v]) => ({ label: g, values: v })));
    }
  };
  // Counts (steps, users) are no result to compare first.
  const headline = data.metrics.find((m) => !COUNTS.has(m)) ?? data.metrics[0]!;
  select.value = headline;
  draw(headline);
  select.addEventListener('change', () => draw(select.value));
}

// Long-tail runs: head, middle and tail mAP side by side per job.
const SEGMENTS = ['map_head', 'map_middle', 'map_tail'];
const longTail = jobs.filter((j) => SEGMENTS.some((k) => k in j.final));
if (longTail.length) {
  const s = section('Head / middle / tail mAP', 'long-tail');
  barChart(
    grid(s),
    'segment mAP',
    longTail.map(label),
    SEGMENTS.map((k) => ({ label: k.slice(4), values: longTail.map((j) => j.final[k] ?? null) })),
  );
}

// Continual runs: each accuracy matrix as a heat map (a table whose cells are shaded by their accuracy).
const matrices = jobs.flatMap((j) => j.matrices.map((m) => ({ job: j, m })));
if (matrices.length) {
  const box = grid(section('Accuracy matrix', 'accuracy-matrix'));
  for (const { job, m } of matrices) {
    const table = document.createElement('table');
    table.className = 'heatmap';
    table.createCaption().textContent = `${label(job)} · ${m.name}`;
    const head = table.createTHead().insertRow();
    for (const text of ['trained \\ evaluated on', ...m.columns]) head.append(Object.assign(document.createElement('th'), { textContent: text }));
    const body = table.createTBody();
    m.values.forEach((values, i) => {
      const tr = body.insertRow();
      tr.append(Object.assign(document.createElement('th'), { textContent: m.rows[i]! }));
      for (const v of values) {
        const td = tr.insertCell();
        td.textContent = v === null ? '' : v.toFixed(3);
        if (v !== null) {
          // 0 white to 1 deep blue; the text turns white where the cell is dark.
          td.style.background = `hsl(215, 70%, ${Math.round(100 - 60 * Math.min(1, Math.max(0, v)))}%)`;
          if (v > 0.6) td.style.color = '#fff';
        }
      }
    });
    box.append(table);
  }
}
