// `vidra run -m`: the basic sweeper's job order, the sweep directory, the summary, failing jobs, the
// local_parallel launcher and job directories named by their overrides.
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeProject, metricsWithoutTime, removeProjects, runDirNamesBetween, type Project } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;

interface Summary {
  sweep_dir: string;
  jobs: Array<{ num: number; overrides: string[]; status: string; outputDir: string | null; error?: string; result?: { loss: number } }>;
}

/** The one sweep directory under runs/multirun. */
function sweepDir(p: Project): string {
  const dirs = p.files('runs/multirun').filter((f) => f.endsWith('/multirun.yaml'));
  expect(dirs).toHaveLength(1);
  return `runs/multirun/${dirs[0]!.slice(0, -'/multirun.yaml'.length)}`;
}

function table(rows: string[][]): string {
  const head = ['job', 'status', 'overrides', 'dir', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const loss6 = (n: number) => `loss=${Number(n.toPrecision(6))}`;

describe.concurrent('vidra run -m runs one job per combination, each in its own directory', () => {
  test('4 jobs in runs/multirun/<date>/<time>/<num>, last override varying fastest; multirun.yaml, summary.json and the table', { timeout: T }, async () => {
    const p = makeProject();
    const before = new Date();
    const r = await p.run(['run', '-m', 'optim.lr=0.1,0.2', 'seed=1,2']);
    const after = new Date();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const sweep = sweepDir(p);
    expect(runDirNamesBetween(before, after).map((n) => `runs/multirun/${n}`)).toContain(sweep);
    expect(p.runDirs()).toEqual([0, 1, 2, 3].map((n) => `${sweep}/${n}`));
    expect(p.files(sweep).filter((f) => !f.includes('/'))).toEqual(['multirun.yaml', 'report.html', 'summary.json']);

    const order = [
      ['optim.lr=0.1', 'seed=1'],
      ['optim.lr=0.1', 'seed=2'],
      ['optim.lr=0.2', 'seed=1'],
      ['optim.lr=0.2', 'seed=2'],
    ];
    const summary = p.json<Summary>(`${sweep}/summary.json`);
    expect(summary.sweep_dir).toBe(p.path(sweep));
    expect(summary.jobs.map(({ result, ...j }) => j)).toEqual(
      order.map((overrides, num) => ({ num, overrides, status: 'completed', outputDir: p.path(`${sweep}/${num}`) })),
    );
    const losses: number[] = [];
    for (const [num, overrides] of order.entries()) {
      const dir = `${sweep}/${num}`;
      const [lr, seed] = overrides.map((o) => Number(o.split('=')[1]));
      expect(p.files(dir)).toEqual(['.vidra/config.yaml', '.vidra/overrides.yaml', '.vidra/resolved.yaml', '.vidra/vidra.yaml', 'job.log', 'metrics.jsonl', 'status.json']);
      expect(p.read(`${dir}/.vidra/overrides.yaml`)).toBe(overrides.map((o) => `- ${o}\n`).join(''));
      expect(p.read(`${dir}/.vidra/config.yaml`)).toBe(
        `task:\n  _target_: succeed\n  steps: 5\noptim:\n  lr: ${lr}\n  weight_decay: 0.01\nseed: ${seed}\nname: run_\${seed}\n`,
      );
      const status = p.status(dir);
      expect(status.status).toBe('completed');
      losses.push(status.result!.loss as number);
      expect(summary.jobs[num]!.result).toEqual({ loss: losses[num] });
      const meta = parseYaml(p.read(`${dir}/.vidra/vidra.yaml`));
      expect(meta.vidra.mode).toBe('MULTIRUN');
      expect(meta.vidra.job).toMatchObject({ num, override_dirname: overrides.join(',') });
      expect(meta.vidra.runtime.output_dir).toBe(p.path(dir));
    }

    const multirunYaml = p.read(`${sweep}/multirun.yaml`);
    expect(multirunYaml.startsWith('task:\n  _target_: succeed\n  steps: 5\noptim:\n  lr: 0.001\n  weight_decay: 0.01\nseed: 0\nname: run_${seed}\nvidra:\n')).toBe(true);
    const multirun = parseYaml(multirunYaml);
    expect(multirun.vidra.mode).toBe('MULTIRUN');
    expect(multirun.vidra.overrides).toEqual({ task: ['optim.lr=0.1,0.2', 'seed=1,2'], vidra: [] });

    const logs = order.flatMap((_, n) => [`[job ${n}] run directory: ${p.path(`${sweep}/${n}`)}`, `[job ${n}] final loss ${losses[n]}`]);
    const rows = order.map((o, n) => [String(n), 'completed', o.join(' '), `${sweep}/${n}`, loss6(losses[n]!)]);
    expect(r.stdout).toBe(`${logs.join('\n')}\n${table(rows)}\n4 of 4 jobs completed; sweep directory: ${sweep}\nreport: ${sweep}/report.html\n`);
  });

  test('a failing job does not stop the others; exit code 1', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-m', 'task=fail,succeed', 'seed=1,2']);
    expect(r.code).toBe(1);
    const sweep = sweepDir(p);
    const summary = p.json<Summary>(`${sweep}/summary.json`);
    expect(summary.jobs.map((j) => [j.num, j.overrides.join(' '), j.status, j.error ?? null])).toEqual([
      [0, 'task=fail seed=1', 'failed', 'boom (seed 1)'],
      [1, 'task=fail seed=2', 'failed', 'boom (seed 2)'],
      [2, 'task=succeed seed=1', 'completed', null],
      [3, 'task=succeed seed=2', 'completed', null],
    ]);
    expect(p.runDirs().map((d) => [d, p.status(d).status])).toEqual([
      [`${sweep}/0`, 'failed'],
      [`${sweep}/1`, 'failed'],
      [`${sweep}/2`, 'completed'],
      [`${sweep}/3`, 'completed'],
    ]);
    expect(p.status(`${sweep}/1`).error).toMatchObject({ type: 'Error', message: 'boom (seed 2)' });
    expect(r.stderr).toBe('[job 0] job failed: boom (seed 1)\n[job 1] job failed: boom (seed 2)\n');
    const l = summary.jobs.map((j) => j.result?.loss ?? 0);
    const rows = [
      ['0', 'failed', 'task=fail seed=1', `${sweep}/0`, 'boom (seed 1)'],
      ['1', 'failed', 'task=fail seed=2', `${sweep}/1`, 'boom (seed 2)'],
      ['2', 'completed', 'task=succeed seed=1', `${sweep}/2`, loss6(l[2]!)],
      ['3', 'completed', 'task=succeed seed=2', `${sweep}/3`, loss6(l[3]!)],
    ];
    expect(r.stdout.endsWith(`${table(rows)}\n2 of 4 jobs completed; sweep directory: ${sweep}\nreport: ${sweep}/report.html\n`)).toBe(true);
  });

  test('vidra.sweep.subdir=${vidra:job.override_dirname} names job dirs by their overrides', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-m', 'vidra.sweep.subdir=${vidra:job.override_dirname}', 'optim.lr=0.1,0.2', 'seed=1,2']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const sweep = sweepDir(p);
    // The vidra.* override is not part of the name (Hydra leaves hydra.* out of override_dirname too).
    expect(p.runDirs()).toEqual(['optim.lr=0.1,seed=1', 'optim.lr=0.1,seed=2', 'optim.lr=0.2,seed=1', 'optim.lr=0.2,seed=2'].map((d) => `${sweep}/${d}`));
    expect(p.read(`${sweep}/optim.lr=0.2,seed=1/.vidra/overrides.yaml`)).toBe('- vidra.sweep.subdir=${vidra:job.override_dirname}\n- optim.lr=0.2\n- seed=1\n');
  });

  test('sweep values are echoed as typed in override_dirname, the job dirs, overrides.yaml and the table (1e30, not 1e+30)', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-m', 'vidra.sweep.subdir=${vidra:job.override_dirname}', 'optim.lr=1e30,-1e10', '+x=1e10']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const sweep = sweepDir(p);
    const order = ['+x=1e10,optim.lr=1e30', '+x=1e10,optim.lr=-1e10'];
    expect(p.runDirs()).toEqual(order.map((d) => `${sweep}/${d}`).sort());
    for (const [num, dir] of order.entries()) {
      expect(parseYaml(p.read(`${sweep}/${dir}/.vidra/vidra.yaml`)).vidra.job).toMatchObject({ num, override_dirname: dir });
    }
    expect(p.read(`${sweep}/${order[0]}/.vidra/overrides.yaml`)).toBe('- vidra.sweep.subdir=${vidra:job.override_dirname}\n- optim.lr=1e30\n- +x=1e10\n');
    expect(r.stdout).toMatch(/\n0 +completed +optim\.lr=1e30 \+x=1e10 +runs\/multirun\/\S+\/\+x=1e10,optim\.lr=1e30 /);
    expect(r.stdout).toMatch(/\n1 +completed +optim\.lr=-1e10 \+x=1e10 +runs\/multirun\/\S+\/\+x=1e10,optim\.lr=-1e10 /);
  });

  test('override_dirname: kv_sep, item_sep and exclude_keys', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run([
      'run',
      '-m',
      'vidra.sweep.subdir=${vidra:job.override_dirname}',
      'vidra.job.config.override_dirname.kv_sep=-',
      'vidra.job.config.override_dirname.item_sep=__',
      'vidra.job.config.override_dirname.exclude_keys=[task.steps]',
      'task.steps=2',
      'seed=2,1',
      'optim=sgd,adamw',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const sweep = sweepDir(p);
    expect(p.runDirs()).toEqual(['optim-adamw__seed-1', 'optim-adamw__seed-2', 'optim-sgd__seed-1', 'optim-sgd__seed-2'].map((d) => `${sweep}/${d}`));
    const summary = p.json<Summary>(`${sweep}/summary.json`);
    expect(summary.jobs.map((j) => [j.num, j.outputDir])).toEqual([
      [0, p.path(`${sweep}/optim-sgd__seed-2`)],
      [1, p.path(`${sweep}/optim-adamw__seed-2`)],
      [2, p.path(`${sweep}/optim-sgd__seed-1`)],
      [3, p.path(`${sweep}/optim-adamw__seed-1`)],
    ]);
    expect(p.read(`${sweep}/optim-sgd__seed-1/metrics.jsonl`).trimEnd().split('\n')).toHaveLength(2);
  });

  test('vidra.sweep.dir is configurable and may read the job config', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-m', 'vidra.sweep.dir=sweeps/${name}', 'vidra.sweep.subdir=lr_${optim.lr}', 'seed=3', 'optim.lr=0.1,0.2']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(p.exists('runs')).toBe(false);
    expect(p.runDirs('sweeps')).toEqual(['sweeps/run_3/lr_0.1', 'sweeps/run_3/lr_0.2']);
    expect(p.files('sweeps/run_3').filter((f) => !f.includes('/'))).toEqual(['multirun.yaml', 'report.html', 'summary.json']);
    expect(r.stdout.trimEnd().split('\n').slice(-2)).toEqual(['2 of 2 jobs completed; sweep directory: sweeps/run_3', 'report: sweeps/run_3/report.html']);
    // The table's overrides column leaves out the vidra.* overrides, the same for every job.
    const rows = r.stdout.split('\n').filter((l) => /^\d+\s+completed/.test(l));
    expect(rows.map((l) => l.split(/\s{2,}/)[2])).toEqual(['seed=3 optim.lr=0.1', 'seed=3 optim.lr=0.2']);
  });
});

describe('vidra/launcher=local_parallel runs the jobs in worker processes', () => {
  test('n_jobs=2: jobs run in worker processes, with the same results as the local launcher', { timeout: T }, async () => {
    const local = makeProject();
    const parallel = makeProject();
    const sweep = ['optim.lr=0.1,0.2', 'seed=1,2'];
    const [a, b] = await Promise.all([
      local.run(['run', '-m', ...sweep]),
      (async () => {
        const s = parallel.start(['run', '-m', 'vidra/launcher=local_parallel', 'vidra.launcher.n_jobs=2', ...sweep]);
        return { pid: s.child.pid!, ...(await s.done) };
      })(),
    ]);
    expect(a).toMatchObject({ code: 0, stderr: '' });
    expect(b).toMatchObject({ code: 0, stderr: '' });
    const sa = sweepDir(local);
    const sb = sweepDir(parallel);
    const ja = local.json<Summary>(`${sa}/summary.json`).jobs;
    const jb = parallel.json<Summary>(`${sb}/summary.json`).jobs;
    expect(jb.map((j) => [j.num, j.status, j.result])).toEqual(ja.map((j) => [j.num, j.status, j.result]));
    expect(jb.map((j) => j.overrides)).toEqual(ja.map((j) => ['vidra/launcher=local_parallel', 'vidra.launcher.n_jobs=2', ...j.overrides]));
    expect(jb.map((j) => j.outputDir)).toEqual([0, 1, 2, 3].map((n) => parallel.path(`${sb}/${n}`)));
    const pids = new Set<number>();
    for (const n of [0, 1, 2, 3]) {
      expect(metricsWithoutTime(parallel.read(`${sb}/${n}/metrics.jsonl`))).toBe(metricsWithoutTime(local.read(`${sa}/${n}/metrics.jsonl`)));
      expect(parallel.read(`${sb}/${n}/.vidra/config.yaml`)).toBe(local.read(`${sa}/${n}/.vidra/config.yaml`));
      const status = parallel.status(`${sb}/${n}`);
      expect(status.status).toBe('completed');
      expect(status.pid).not.toBe(b.pid); // not the vidra process itself
      pids.add(status.pid);
    }
    // How the 4 short jobs spread over the 2 workers depends on scheduling; signals.test.ts checks
    // that 2 long jobs run at the same time in 2 different workers.
    expect(pids.size).toBeGreaterThanOrEqual(1);
    expect(pids.size).toBeLessThanOrEqual(2);
    expect(parseYaml(parallel.read(`${sb}/multirun.yaml`)).vidra.launcher).toEqual({ _target_: 'local_parallel', n_jobs: 2 });
  });

  test('a failing job in a worker fails only that job', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-m', 'vidra/launcher=local_parallel', 'task=succeed,fail,succeed', 'seed=1']);
    expect(r.code).toBe(1);
    const sweep = sweepDir(p);
    expect(p.json<Summary>(`${sweep}/summary.json`).jobs.map((j) => [j.num, j.status, j.error ?? null])).toEqual([
      [0, 'completed', null],
      [1, 'failed', 'boom (seed 1)'],
      [2, 'completed', null],
    ]);
    expect(p.runDirs().map((d) => p.status(d).status)).toEqual(['completed', 'failed', 'completed']);
    expect(r.stderr).toBe('[job 1] job failed: boom (seed 1)\n');
  });
});
