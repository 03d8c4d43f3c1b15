// SIGINT / SIGTERM / SIGHUP: the running job is marked `interrupted` (with the signal) before vidra exits
// with 130 / 143 / 129, for a single run, a sweep on the local launcher and a sweep on local_parallel.
// A local_parallel worker killed outright (SIGKILL) cannot mark its job: vidra marks it failed.
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeProject, removeProjects } from '../helpers/project.ts';

afterAll(removeProjects);

const T = 30_000;

interface Summary {
  sweep_dir: string;
  jobs: Array<{ num: number; overrides: string[]; status: string; outputDir: string | null; error?: string }>;
}

describe.concurrent('a signal marks the running job interrupted before vidra exits', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    // A closed terminal: stops the run as Ctrl-C does (before, vidra died of it and left the job `running`).
    ['SIGHUP', 129],
  ] as const) {
    test(`single run, ${signal}: exit ${code}, status.json {status: 'interrupted', signal: '${signal}'}`, { timeout: T }, async () => {
      const p = makeProject();
      const run = p.start(['run', 'task=sleep', 'vidra.run.dir=runs/sleepy']);
      const [started] = await p.waitForFiles('started');
      expect(started).toBe('runs/sleepy/started');
      expect(p.read(started!)).toBe(String(run.child.pid));
      expect(p.status('runs/sleepy').status).toBe('running');
      run.child.kill(signal);
      const r = await run.done;
      expect(r).toMatchObject({ code, signal: null });
      expect(r.stdout).toBe(`run directory: ${p.path('runs/sleepy')}\n`);
      expect(r.stderr).toBe(`interrupted by ${signal}\n`);
      const status = p.status('runs/sleepy');
      expect(status).toMatchObject({ status: 'interrupted', signal, pid: run.child.pid });
      expect(status.error).toBeUndefined();
      expect(status.ended_at).toMatch(/^\d{4}-.*Z$/);
      expect(p.read('runs/sleepy/job.log')).toMatch(new RegExp(`\\]\\[WARN\\] interrupted by ${signal}\\n$`));
      expect(parseYaml(p.read('runs/sleepy/.vidra/vidra.yaml')).ended_at).toMatch(/^\d{4}-.*Z$/);
    });
  }

  test('multirun on the local launcher, SIGINT: the running job interrupted, later jobs not_started, summary.json written', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'task=sleep', 'seed=1,2,3', 'vidra.sweep.dir=runs/sweep']);
    const started = await p.waitForFiles('started');
    expect(started).toEqual(['runs/sweep/0/started']);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r).toMatchObject({ code: 130, signal: null });
    expect(r.stderr).toBe('[job 0] interrupted by SIGINT\n');
    expect(p.status('runs/sweep/0')).toMatchObject({ status: 'interrupted', signal: 'SIGINT' });
    expect(p.runDirs()).toEqual(['runs/sweep/0']);
    expect(p.json<Summary>('runs/sweep/summary.json')).toEqual({
      sweep_dir: p.path('runs/sweep'),
      jobs: [
        { num: 0, overrides: ['task=sleep', 'seed=1', 'vidra.sweep.dir=runs/sweep'], status: 'interrupted', outputDir: p.path('runs/sweep/0'), error: 'interrupted by SIGINT' },
        { num: 1, overrides: ['task=sleep', 'seed=2', 'vidra.sweep.dir=runs/sweep'], status: 'not_started', outputDir: null },
        { num: 2, overrides: ['task=sleep', 'seed=3', 'vidra.sweep.dir=runs/sweep'], status: 'not_started', outputDir: null },
      ],
    });
  });

  test('multirun on the local launcher, SIGTERM after the first job completed', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'task=succeed,sleep', 'vidra.sweep.dir=runs/sweep']);
    await p.waitForFiles('started');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(143);
    const summary = p.json<Summary>('runs/sweep/summary.json');
    expect(summary.jobs.map((j) => [j.num, j.status, j.outputDir])).toEqual([
      [0, 'completed', p.path('runs/sweep/0')],
      [1, 'interrupted', p.path('runs/sweep/1')],
    ]);
    expect(p.status('runs/sweep/0').status).toBe('completed');
    expect(p.status('runs/sweep/1')).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
  });

  test('local_parallel, SIGINT to vidra: both workers run a job at once (2 pids), both jobs interrupted, the third not_started', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'vidra/launcher=local_parallel', 'vidra.launcher.n_jobs=2', 'task=sleep', 'seed=1,2,3', 'vidra.sweep.dir=runs/sweep']);
    const started = await p.waitForFiles('started', 2);
    expect(started).toEqual(['runs/sweep/0/started', 'runs/sweep/1/started']);
    const workerPids = started.map((f) => Number(p.read(f)));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r).toMatchObject({ code: 130, signal: null });
    // Once vidra has exited, the workers have marked their jobs: nothing is left `running`.
    const s0 = p.status('runs/sweep/0');
    const s1 = p.status('runs/sweep/1');
    expect(s0).toMatchObject({ status: 'interrupted', signal: 'SIGINT', pid: workerPids[0] });
    expect(s1).toMatchObject({ status: 'interrupted', signal: 'SIGINT', pid: workerPids[1] });
    expect(s0.pid).not.toBe(s1.pid);
    expect([s0.pid, s1.pid]).not.toContain(run.child.pid);
    expect(p.runDirs()).toEqual(['runs/sweep/0', 'runs/sweep/1']);
    const summary = p.json<Summary>('runs/sweep/summary.json');
    expect(summary.jobs.map((j) => [j.num, j.status, j.outputDir, j.error ?? null])).toEqual([
      [0, 'interrupted', p.path('runs/sweep/0'), 'interrupted by SIGINT'],
      [1, 'interrupted', p.path('runs/sweep/1'), 'interrupted by SIGINT'],
      [2, 'not_started', null, null],
    ]);
    expect(r.stderr.split('\n').sort()).toEqual(['', '[job 0] interrupted by SIGINT', '[job 1] interrupted by SIGINT']);
  });

  test('local_parallel, SIGTERM', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'vidra/launcher=local_parallel', 'task=sleep', 'seed=1,2', 'vidra.sweep.dir=runs/sweep']);
    await p.waitForFiles('started', 2);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(143);
    for (const d of ['runs/sweep/0', 'runs/sweep/1']) expect(p.status(d)).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
    expect(p.json<Summary>('runs/sweep/summary.json').jobs.map((j) => j.status)).toEqual(['interrupted', 'interrupted']);
  });

  test('local_parallel, SIGHUP: exit 129, both workers mark their jobs interrupted by SIGHUP', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'vidra/launcher=local_parallel', 'task=sleep', 'seed=1,2', 'vidra.sweep.dir=runs/sweep']);
    const started = await p.waitForFiles('started', 2);
    const workerPids = started.map((f) => Number(p.read(f)));
    run.child.kill('SIGHUP');
    const r = await run.done;
    expect(r).toMatchObject({ code: 129, signal: null });
    expect(p.status('runs/sweep/0')).toMatchObject({ status: 'interrupted', signal: 'SIGHUP', pid: workerPids[0] });
    expect(p.status('runs/sweep/1')).toMatchObject({ status: 'interrupted', signal: 'SIGHUP', pid: workerPids[1] });
    expect(p.json<Summary>('runs/sweep/summary.json').jobs.map((j) => [j.status, j.error])).toEqual([
      ['interrupted', 'interrupted by SIGHUP'],
      ['interrupted', 'interrupted by SIGHUP'],
    ]);
  });
});

describe.concurrent('a local_parallel worker that dies: its job is marked, and the table says what status.json says', () => {
  test('SIGKILL (as the OOM killer sends): status.json failed with the signal, job.log and the table say so, the other job completes', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'vidra/launcher=local_parallel', 'task=sleep', 'task.seconds=30,0.2', 'vidra.sweep.dir=runs/sweep']);
    await p.waitForFiles('started', 2);
    const workerPid = Number(p.read('runs/sweep/0/started'));
    expect(workerPid).not.toBe(run.child.pid);
    process.kill(workerPid, 'SIGKILL');
    const r = await run.done;
    expect(r.code).toBe(1);
    const error = 'worker process exited (SIGKILL) while running the job';
    expect(r.stdout.split('\n').filter((l) => /^\d /.test(l))).toEqual([
      `0    failed     task=sleep task.seconds=30   runs/sweep/0  ${error}`,
      '1    completed  task=sleep task.seconds=0.2  runs/sweep/1  slept=0.2',
      '1 of 2 jobs completed; sweep directory: runs/sweep',
    ]);
    const status = p.status('runs/sweep/0');
    expect(status).toEqual({
      status: 'failed',
      pid: workerPid,
      started_at: status.started_at,
      error: { type: 'WorkerExited', message: error },
      signal: 'SIGKILL',
      ended_at: status.ended_at,
      duration_s: (Date.parse(status.ended_at!) - Date.parse(status.started_at)) / 1000,
    });
    expect(status.ended_at).toMatch(/^\d{4}-.*Z$/);
    expect(p.read('runs/sweep/0/job.log').trimEnd().split('\n').at(-1)).toMatch(new RegExp(`\\]\\[ERROR\\] job failed: ${error.replace(/[()]/g, '\\$&')}$`));
    // Complete apart from what the killed task never wrote: no space reserve, no temporary file left.
    expect(p.files('runs/sweep/0')).toEqual(['.vidra/config.yaml', '.vidra/overrides.yaml', '.vidra/resolved.yaml', '.vidra/vidra.yaml', 'job.log', 'started', 'status.json']);
    expect(p.status('runs/sweep/1')).toMatchObject({ status: 'completed', result: { slept: 0.2 } });
    expect(p.json<Summary>('runs/sweep/summary.json').jobs.map((j) => [j.num, j.status, j.outputDir, j.error ?? null])).toEqual([
      [0, 'failed', p.path('runs/sweep/0'), error],
      [1, 'completed', p.path('runs/sweep/1'), null],
    ]);
  });

  test('SIGTERM to one worker alone: it marks its job interrupted itself; vidra reports it so and runs on', { timeout: T }, async () => {
    const p = makeProject();
    const run = p.start(['run', '-m', 'vidra/launcher=local_parallel', 'task=sleep', 'task.seconds=30,0.2', 'vidra.sweep.dir=runs/sweep']);
    await p.waitForFiles('started', 2);
    process.kill(Number(p.read('runs/sweep/0/started')), 'SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').filter((l) => /^\d /.test(l))).toEqual([
      '0    interrupted  task=sleep task.seconds=30   runs/sweep/0  interrupted by SIGTERM',
      '1    completed    task=sleep task.seconds=0.2  runs/sweep/1  slept=0.2',
      '1 of 2 jobs completed; sweep directory: runs/sweep',
    ]);
    expect(p.status('runs/sweep/0')).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
    expect(p.read('runs/sweep/0/job.log').trimEnd().split('\n').at(-1)).toMatch(/\]\[WARN\] interrupted by SIGTERM$/);
  });
});
