// `vidra report` and the sweep's own report (vidra.report), on real sweeps and runs of the fixture project's
// tasks: the Markdown and CSV tables cell for cell, where each format goes, and every usage error.
import { afterAll, describe, expect, test } from 'vitest';
import { makeProject, removeProjects, type Project } from '../helpers/project.ts';
import { curvesOf, loadReport, matricesOf, readMetricsRows } from '../../core/report/model.ts';
import { toCsv, toMarkdown } from '../../core/report/text-formats.ts';

afterAll(removeProjects);

const T = 60_000;
const short = (v: number) => String(Number(v.toPrecision(6)));

/** One sweep with two failing and two completing jobs, run by the real CLI. */
async function failingSweep(): Promise<{ p: Project; losses: number[] }> {
  const p = makeProject();
  const r = await p.run(['run', '-m', 'task=fail,succeed', 'seed=1,2', 'vidra.sweep.dir=runs/sweep']);
  expect(r.code).toBe(1);
  expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual(['2 of 4 jobs completed; sweep directory: runs/sweep', 'report: runs/sweep/report.html']);
  return { p, losses: [2, 3].map((n) => p.status(`runs/sweep/${n}`).result!.loss as number) };
}

describe.concurrent('vidra report', () => {
  test('a sweep writes report.html at its end; --format md and csv give the same table, one row per job, the failures with their error', { timeout: T }, async () => {
    const { p, losses } = await failingSweep();
    const html = p.read('runs/sweep/report.html');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Self-contained: nothing loads from elsewhere.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/);

    const md = await p.run(['report', 'runs/sweep', '--format', 'md', '--out', '-']);
    expect(md).toMatchObject({ code: 0, stderr: '' });
    expect(md.stdout).toBe(
      [
        '| job | status | task | seed | loss | error |',
        '| ---: | --- | --- | --- | ---: | --- |',
        '| 0 | failed | fail | 1 |  | boom (seed 1) |',
        '| 1 | failed | fail | 2 |  | boom (seed 2) |',
        `| 2 | completed | succeed | 1 | ${short(losses[0]!)} |  |`,
        `| 3 | completed | succeed | 2 | ${short(losses[1]!)} |  |`,
        '',
      ].join('\n'),
    );

    const csv = await p.run(['report', 'runs/sweep', '--format=csv']);
    expect(csv).toMatchObject({ code: 0, stdout: 'report: runs/sweep/report.csv\n', stderr: '' });
    expect(p.read('runs/sweep/report.csv')).toBe(
      ['job,status,task,seed,loss,error', '0,failed,fail,1,,boom (seed 1)', '1,failed,fail,2,,boom (seed 2)', `2,completed,succeed,1,${losses[0]},`, `3,completed,succeed,2,${losses[1]},`, ''].join(
        '\r\n',
      ),
    );
  });

  test('several directories compare in one report (a source column), written to the working directory; a run directory is a source of one job', { timeout: T }, async () => {
    const { p, losses } = await failingSweep();
    expect((await p.run(['run', 'seed=7', 'optim.lr=0.5', 'vidra.run.dir=runs/single'])).code).toBe(0);
    const single = p.status('runs/single').result!.loss as number;
    const r = await p.run(['report', 'runs/sweep', 'runs/single', '--format', 'md']);
    expect(r).toMatchObject({ code: 0, stdout: 'report: report.md\n', stderr: '' });
    expect(p.read('report.md').split('\n').slice(0, 3)).toEqual([
      '| source | job | status | task | seed | optim.lr | loss | error |',
      '| --- | ---: | --- | --- | --- | --- | ---: | --- |',
      '| runs/sweep | 0 | failed | fail | 1 |  |  | boom (seed 1) |',
    ]);
    expect(p.read('report.md').split('\n').slice(5, 7)).toEqual([`| runs/sweep | 3 | completed | succeed | 2 |  | ${short(losses[1]!)} |  |`, `| runs/single | 0 | completed |  | 7 | 0.5 | ${short(single)} |  |`]);
    // --out names the file, relative to the working directory.
    const out = await p.run(['report', 'runs/single', '--out', 'reports/one.html'], {}).then(async (first) => {
      expect(first.code).toBe(2);
      expect(first.stderr).toBe(`Error: cannot write the report to '${p.path('reports/one.html')}': the directory '${p.path('reports')}' does not exist\n(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n`);
      p.write('reports/.keep', '');
      return p.run(['report', 'runs/single', '--out', 'reports/one.html']);
    });
    expect(out).toMatchObject({ code: 0, stdout: 'report: reports/one.html\n', stderr: '' });
    expect(p.read('reports/one.html')).toContain('Vidra report: runs/single');
  });

  test('vidra.report=false writes no report; a value that is not a boolean is a config error before anything runs', { timeout: T }, async () => {
    const p = makeProject();
    const off = await p.run(['run', '-m', 'seed=1,2', 'vidra.sweep.dir=runs/off', 'vidra.report=false']);
    expect(off.code).toBe(0);
    expect(off.stdout.trimEnd().split('\n').at(-1)).toBe('2 of 2 jobs completed; sweep directory: runs/off');
    expect(p.exists('runs/off/report.html')).toBe(false);
    const bad = await p.run(['run', '-m', 'seed=1,2', 'vidra.sweep.dir=runs/bad', 'vidra.report=yes']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr.split('\n')[0]).toBe("Error: override 'vidra.report=yes' (argument 2): vidra.report must be true or false, not str 'yes'");
    expect(p.exists('runs/bad')).toBe(false);
  });

  test('usage errors: exit 2, one message, nothing written', { timeout: T }, async () => {
    const p = makeProject();
    expect((await p.run(['run', 'vidra.run.dir=runs/one'])).code).toBe(0);
    p.write('notes/readme.txt', 'x');
    const usage = 'usage: vidra report <run or sweep dir>... [--out FILE] [--open] [--format html|md|csv]';
    const cases: Array<[string[], string]> = [
      [['report'], `name at least one run or sweep directory. ${usage}`],
      [['report', 'runs/nope'], "vidra report: 'runs/nope' is not a directory"],
      [['report', 'notes'], "vidra report: 'notes' is neither a sweep directory (it has no summary.json or multirun.yaml) nor a run directory (no status.json)"],
      [['report', 'runs/one', '--format', 'pdf'], "--format takes html, md or csv, not 'pdf'"],
      [['report', 'runs/one', '--colour'], `unknown flag '--colour' (argument 2). ${usage}`],
      [['report', 'runs/one', '--out'], `--out needs a value (argument 2). ${usage}`],
      [['report', 'runs/one', '--out', '-', '--open'], '--open opens a file: it does not go with --out -'],
    ];
    for (const [args, message] of cases) {
      const r = await p.run(args);
      expect({ args, code: r.code, stdout: r.stdout, first: r.stderr.split('\n')[0] }).toEqual({ args, code: 2, stdout: '', first: `Error: ${message}` });
    }
    expect(p.files('runs/one').filter((f) => f.startsWith('report'))).toEqual([]);
    expect(p.exists('report.html')).toBe(false);
    const help = await p.run(['report', '--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout.split('\n')[0]).toBe(usage);
  });

  test('the model: swept keys from multirun.yaml, curves from metrics.jsonl (a cut-off last line is skipped, a bad line inside is an error)', { timeout: T }, async () => {
    const { p } = await failingSweep();
    const data = loadReport(['runs/sweep'], p.dir);
    expect(data.params).toEqual(['task', 'seed']);
    expect(data.metrics).toEqual(['loss']);
    const [job2] = data.sources[0]!.jobs.filter((j) => j.num === 2);
    const rows = p.read('runs/sweep/2/metrics.jsonl').trimEnd().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    expect(job2!.curves).toEqual([{ metric: 'loss', part: '', x: 'step', points: rows.map((r) => [r.step, r.loss]) }]);
    expect(job2!.overrides).toEqual({ task: 'succeed', seed: '1' });
    // A run that keeps its metadata elsewhere (vidra.output_subdir) is read from there: its overrides.
    const meta = await p.run(['run', 'task=succeed', 'seed=3', 'vidra.output_subdir=meta', 'vidra.run.dir=runs/meta']);
    expect(meta.code, meta.stderr).toBe(0);
    expect(loadReport(['runs/meta'], p.dir).sources[0]!.jobs.map((j) => j.overrides)).toEqual([{ task: 'succeed', seed: '3' }]);

    p.write('cut/metrics.jsonl', '{"step":1,"split":"val","map":0.5}\n{"phase":"eval","after_user":null,"acc":0.25}\n{"phase":"stream","step":3,"user":"16","loss":2}\n{"step":4,"lo');
    expect(curvesOf(readMetricsRows(p.path('cut/metrics.jsonl')))).toEqual([
      { metric: 'val/map', part: '', x: 'step', points: [[1, 0.5]] },
      { metric: 'eval/acc', part: '', x: 'evaluation', points: [[0, 0.25]] },
      { metric: 'stream/loss', part: 'user 16', x: 'step', points: [[3, 2]] },
    ]);
    p.write('bad/metrics.jsonl', '{"step":1,"loss":1}\n{oops\n{"step":2,"loss":0.5}\n');
    expect(() => readMetricsRows(p.path('bad/metrics.jsonl'))).toThrow(`${p.path('bad/metrics.jsonl')}:2: not a JSON line`);
  });
});

test('Markdown escapes a | in a cell and keeps one line; CSV quotes commas, quotes and line breaks', () => {
  const job = { source: 's', num: 0, dir: null, status: 'failed', error: 'bad "x", see\nlog | here', overrides: { 'data.name': 'a|b' }, final: { acc: 0.1234567 }, curves: [], matrices: [] };
  const data = { sources: [{ dir: 's', kind: 'sweep' as const, params: ['data.name'], jobs: [job] }], params: ['data.name'], metrics: ['acc'] };
  expect(toMarkdown(data)).toBe('| job | status | data.name | acc | error |\n| ---: | --- | --- | ---: | --- |\n| 0 | failed | a\\|b | 0.123457 | bad "x", see |\n');
  expect(toCsv(data)).toBe('job,status,data.name,acc,error\r\n0,failed,a|b,0.1234567,"bad ""x"", see\nlog | here"\r\n');
});

test("the continual task's accuracy matrix: a row per evaluation (before training, after each user), a column per stream in training order", () => {
  const rows = [
    { phase: 'eval', after_user: null, 'continual/verb/accuracy': [0.1, 0.2, 0.3] },
    { phase: 'stream', step: 1, user: '16', loss: 1 },
    { phase: 'eval', after_user: '16', 'continual/verb/accuracy': [0.7, 0.25, null] },
    { phase: 'eval', after_user: '15', 'continual/verb/accuracy': [0.6, 0.8, 0.35] },
  ];
  expect(matricesOf(rows)).toEqual([
    {
      name: 'continual/verb/accuracy',
      rows: ['before training', 'after user 16', 'after user 15'],
      columns: ['user 16', 'user 15', 'stream 2'],
      values: [
        [0.1, 0.2, 0.3],
        [0.7, 0.25, null],
        [0.6, 0.8, 0.35],
      ],
    },
  ]);
  expect(matricesOf([{ step: 1, loss: 2 }])).toEqual([]);
});
