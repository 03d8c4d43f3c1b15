// The HTML report in a real headless Chromium (Debian's chromium, installed here with apt when missing,
// driven by playwright-core): it loads without console errors, has one row per job, its charts have the
// series and points the run directories hold, sorting, filtering and the log scale work. Screenshots go to
// test/artifacts/ (git-ignored).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureAptBinary } from '../helpers/apt.ts';
import { BIN, makeProject, removeProjects, REPO } from '../helpers/project.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'test', 'artifacts');

let missing: string | null = null;
let browser: Browser | undefined;
beforeAll(async () => {
  missing = ensureAptBinary(CHROMIUM, 'chromium');
  if (missing) console.warn(`browser tests skipped: ${missing}`);
  else browser = await chromium.launch({ executablePath: CHROMIUM });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 600_000);
afterAll(async () => {
  await browser?.close();
  removeProjects();
});

interface ChartInfo {
  title: string;
  series: string[];
  points: number[];
}

/** Opens a report; collects console errors and uncaught exceptions. */
async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  // No network at view time: any request other than the file itself is an error.
  page.on('request', (r) => r.url() !== `file://${file}` && errors.push(`request ${r.url()}`));
  await page.goto(`file://${file}`);
  return { page, errors };
}

/** What each chart holds, read from the uPlot instances themselves. */
const charts = (page: Page) =>
  page.evaluate(() =>
    (globalThis as unknown as { vidraCharts: Array<{ title: string; plot: { series: Array<{ label?: string }>; data: Array<Array<number | null>> } }> }).vidraCharts.map(
      (c) => ({ title: c.title, series: c.plot.series.slice(1).map((s) => s.label!), points: c.plot.data.slice(1).map((d) => d.filter((v) => v != null).length) }),
    ),
  ) as Promise<ChartInfo[]>;

const column = (page: Page, n: number) => page.$$eval(`#jobs tbody tr td:nth-child(${n})`, (tds) => tds.map((td) => td.textContent));

const jsonl = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the HTML report in Chromium', () => {
  test('a sweep with failed jobs: rows, the loss curves, sorting, filtering, the log scale', { timeout: 60_000 }, async (ctx) => {
    if (missing) ctx.skip(missing);
    const p = makeProject();
    expect((await p.run(['run', '-m', 'task=fail,succeed', 'seed=1,2', 'vidra.sweep.dir=runs/sweep'])).code).toBe(1);
    const losses = [2, 3].map((n) => p.status(`runs/sweep/${n}`).result!.loss as number);
    const { page, errors } = await open(p.path('runs/sweep/report.html'));

    expect(await column(page, 1)).toEqual(['0', '1', '2', '3']);
    expect(await page.$$eval('#jobs tbody tr.not-completed td.error', (tds) => tds.map((td) => td.textContent))).toEqual(['boom (seed 1)', 'boom (seed 2)']);
    expect(await charts(page)).toEqual([
      { title: 'loss', series: ['task=succeed seed=1', 'task=succeed seed=2'], points: [5, 5] },
      { title: 'loss by seed', series: ['task=succeed'], points: [2] },
    ]);

    // Sorting by loss: ascending, then descending; jobs without a loss stay last.
    const byLoss = losses[0]! < losses[1]! ? ['2', '3'] : ['3', '2'];
    await page.click('#jobs th:text-is("loss")');
    expect(await column(page, 1)).toEqual([...byLoss, '0', '1']);
    await page.click('#jobs th:text-is("loss")');
    expect(await column(page, 1)).toEqual([...byLoss.reverse(), '0', '1']);

    // Filtering: a substring in a text column, a comparison in a number column.
    await page.fill('input[aria-label="filter status"]', 'complet');
    expect((await column(page, 1)).sort()).toEqual(['2', '3']);
    await page.fill(`input[aria-label="filter loss"]`, `<${Math.max(...losses)}`);
    expect(await column(page, 1)).toEqual([losses[0]! < losses[1]! ? '2' : '3']);
    await page.fill('input[aria-label="filter status"]', '');
    await page.fill(`input[aria-label="filter loss"]`, '');
    expect(await column(page, 1)).toHaveLength(4);

    await page.check('#log-scale');
    expect(await page.evaluate(() => (globalThis as unknown as { vidraCharts: Array<{ title: string; plot: { scales: { y: { distr: number } } } }> }).vidraCharts.map((c) => [c.title, c.plot.scales.y.distr]))).toEqual([
      ['loss', 3],
      ['loss by seed', 1],
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-sweep.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  test('a training sweep and a continual run compared: eval curves, head/middle/tail mAP, per-user online curves, the accuracy matrix', { timeout: 90_000 }, async (ctx) => {
    if (missing) ctx.skip(missing);
    const p = makeProject();
    // The bundled experiments, run by the real CLI from the repository (its conf/ and generated data).
    const vidra = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: 'utf8' });
    const sweep = vidra(['run', '-m', 'optim.lr=1e-4,1e-3', 'task.epochs=2', `vidra.sweep.dir=${p.path('train')}`]);
    expect(sweep.status, sweep.stderr).toBe(0);
    const continual = vidra(['run', '+experiment=ego4d_continual', 'task.pretrain_epochs=1', `vidra.run.dir=${p.path('continual')}`]);
    expect(continual.status, continual.stderr).toBe(0);
    const r = await p.run(['report', 'train', 'continual', '--out', 'compare.html']);
    expect(r).toMatchObject({ code: 0, stdout: 'report: compare.html\n' });

    const train = [0, 1].map((n) => jsonl(p.path(`train/${n}/metrics.jsonl`)));
    const stream = jsonl(p.path('continual/metrics.jsonl')).filter((row) => row.phase === 'stream');
    const users = [...new Set(stream.map((row) => row.user))];
    const { page, errors } = await open(p.path('compare.html'));
    expect(await page.$$eval('#jobs thead th', (ths) => ths.slice(0, 3).map((th) => th.textContent))).toEqual(['source', 'job', 'status']);
    expect(await column(page, 1)).toEqual(['train', 'train', 'continual']);
    const got = await charts(page);
    const chart = (title: string) => got.find((c) => c.title === title);
    const labels = ['train: optim.lr=1e-4', 'train: optim.lr=1e-3'];
    expect(chart('loss')).toEqual({ title: 'loss', series: labels, points: train.map((rows) => rows.filter((row) => 'loss' in row && !('split' in row)).length) });
    expect(chart('val/map')).toEqual({ title: 'val/map', series: labels, points: train.map((rows) => rows.filter((row) => row.split === 'val').length) });
    expect(chart('segment mAP')).toEqual({ title: 'segment mAP', series: ['head', 'middle', 'tail'], points: [2, 2, 2] });
    expect(chart('stream/loss')).toEqual({
      title: 'stream/loss',
      series: users.map((u) => `continual: +experiment=ego4d_continual task.pretrain_epochs=1 · user ${u}`),
      points: users.map((u) => stream.filter((row) => row.user === u).length),
    });
    // The continual run: each user's online accuracy so far, and the accuracy matrices as heat maps.
    expect(chart('stream/online/acc_verb')).toEqual({ ...chart('stream/loss'), title: 'stream/online/acc_verb' });
    const evals = jsonl(p.path('continual/metrics.jsonl')).filter((row) => row.phase === 'eval');
    const heatmaps = await page.$$eval('table.heatmap', (tables) =>
      (tables as HTMLTableElement[]).map((t) => ({ caption: t.caption!.textContent, rows: [...t.rows].map((tr) => [...tr.cells].map((c) => c.textContent)) })),
    );
    expect(heatmaps).toEqual(
      ['verb', 'noun'].map((target) => ({
        caption: `continual: +experiment=ego4d_continual task.pretrain_epochs=1 · continual/${target}/accuracy`,
        rows: [
          ['trained \\ evaluated on', ...users.map((u) => `user ${u}`)],
          ...evals.map((row) => [row.after_user === null ? 'before training' : `after user ${row.after_user}`, ...(row[`continual/${target}/accuracy`] as number[]).map((a) => a.toFixed(3))]),
        ],
      })),
    );
    expect(chart('optim.lr')).toBeUndefined();
    expect(chart('map by optim.lr')).toEqual({ title: 'map by optim.lr', series: ['train'], points: [2] });
    await page.screenshot({ path: join(ARTIFACTS, 'report-compare.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
