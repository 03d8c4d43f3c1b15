// vidra/launcher=slurm against a real single-node Slurm started for this file (test/slurm/cluster.mjs):
// sweeps as job arrays, failed jobs with their reasons, array_parallelism, time limits and requeue,
// --detach / vidra status / vidra resubmit, Ctrl-C. Skipped, with the reason in its name, where Slurm
// cannot start (not root, no apt).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { featureContents as features, probeOverrides, writeProbeModel } from '../extract/probe.ts';
import { makeProject, REPO, removeProjects, type CliResult, type Project } from '../helpers/project.ts';
import { indexVideo } from '../video/fixtures.ts';
import { startCluster, type Cluster } from './cluster.mjs';
interface Summary {
  sweep_dir: string;
  jobs: Array<{ num: number; overrides: string[]; status: string; outputDir: string | null; error?: string; result?: Record<string, number> }>;
}

const here = dirname(fileURLToPath(import.meta.url));
let cluster: Cluster | null = null;
let unavailable = '';
try {
  cluster = await startCluster();
} catch (err) {
  unavailable = (err as Error).message;
  process.stderr.write(`Slurm tests skipped: ${unavailable}\n`);
}

afterAll(() => {
  cluster?.stop();
  removeProjects();
});

function slurmProject(): Project {
  return makeProject({
    'vidra.config.json': JSON.stringify({ configDir: 'conf', plugins: ['./test-plugins.mjs', './slurm-plugins.mjs'] }),
    'slurm-plugins.mjs': readFileSync(join(here, 'slurm-plugins.mjs'), 'utf8'),
    'conf/task/steps.yaml': '_target_: steps\nsteps: 3\nstep_s: 0\nneeds_file: null\nalloc_mb: 0\nresume: null\n',
  });
}

// Killed before the test's own timeout (120 s unless it says), so that a sweep that hangs fails with its output.
const run = (p: Project, args: string[], killAfterMs = 100_000) => p.run(args, { env: cluster!.env, killAfterMs });

/** The exit code a test expects, or a failure that shows the sweep's stderr and what Slurm was doing. */
function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) expect.fail(`vidra exited ${r.code ?? r.signal}, not ${code}; its stderr:\n${r.stderr}\n\n${cluster!.report()}`);
}
const SLURM = ['vidra/launcher=slurm', 'vidra.launcher.poll_interval_s=0.3', 'task=steps'];

describe.skipIf(cluster === null).concurrent(`vidra/launcher=slurm on a real Slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test('a 6-job sweep is one array: 4 jobs complete, the 2 that diverge fail with their reason, exit 1, summary.json', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const r = await run(p, ['run', '-m', ...SLURM, 'vidra.sweep.dir=runs/s', 'optim.lr=0.1,1e30,0.2', 'seed=1,2']);
    expectExit(r, 1);
    const summary = p.json<Summary>('runs/s/summary.json');
    expect(summary.jobs.map((j) => [j.num, j.status, j.overrides.slice(-2).join(' ')])).toEqual([
      [0, 'completed', 'optim.lr=0.1 seed=1'],
      [1, 'completed', 'optim.lr=0.1 seed=2'],
      [2, 'failed', 'optim.lr=1e30 seed=1'],
      [3, 'failed', 'optim.lr=1e30 seed=2'],
      [4, 'completed', 'optim.lr=0.2 seed=1'],
      [5, 'completed', 'optim.lr=0.2 seed=2'],
    ]);
    expect(summary.jobs[2]!.error).toBe('loss diverged at step 1 (optim.lr=1e+30)');
    expect(summary.jobs[0]!.result).toEqual({ loss: 1 * 0.9 ** 3 + 0.01 * (1 + 0.9 + 0.81), steps: 3 });
    expect(p.runDirs()).toEqual([0, 1, 2, 3, 4, 5].map((n) => `runs/s/${n}`));
    for (const n of [0, 1, 4, 5]) expect(p.status(`runs/s/${n}`).status).toBe('completed');
    expect(p.status('runs/s/3').status).toBe('failed');
    expect(p.status('runs/s/3').error!.message).toBe('loss diverged at step 1 (optim.lr=1e+30)');
    // One array of six tasks; each run records where Slurm ran it.
    const arrays = p.json<Array<{ array_job_id: string; nums: number[] }>>('runs/s/.slurm/arrays.json');
    expect(arrays.map((a) => a.nums)).toEqual([[0, 1, 2, 3, 4, 5]]);
    expect(p.read('runs/s/.slurm/array-0.sh')).toContain('#SBATCH --array=0-5%256\n');
    const meta = parseYaml(p.read('runs/s/4/.vidra/vidra.yaml')) as { slurm: Record<string, unknown> };
    expect(meta.slurm).toMatchObject({ array_job_id: arrays[0]!.array_job_id, array_task_id: 4, node: cluster!.node, partition: 'debug', restarts: 0 });
    expect(meta.slurm.job_id).toMatch(/^\d+$/);
    // The exit-status files, and the same table as the local launchers.
    const task3 = p.json<Record<string, unknown>>('runs/s/.slurm/tasks/3.json');
    expect(task3).toMatchObject({ num: 3, phase: 'ended', status: 'failed', error: 'loss diverged at step 1 (optim.lr=1e+30)', output_dir: p.path('runs/s/3') });
    expect(r.stdout).toContain('2    failed     task=steps optim.lr=1e30 seed=1  runs/s/2  loss diverged at step 1 (optim.lr=1e+30)\n');
    expect(r.stdout).toContain('4 of 6 jobs completed; sweep directory: runs/s\n');
    expect(r.stderr).toMatch(/\[slurm \d+\] 0 pending, 0 running, 4 completed, 2 failed; elapsed \d+:\d\d, ETA 0:00\n/);
    expect(p.read('runs/s/2/job.log')).toContain('[ERROR] job failed: loss diverged at step 1 (optim.lr=1e+30)');
  });

  test('array_parallelism=1 runs the tasks one at a time', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const r = await run(p, ['run', '-m', ...SLURM, 'vidra.launcher.array_parallelism=1', "vidra.launcher.comment='a comment with blanks'", 'vidra.sweep.dir=runs/s', 'task.step_s=0.5', 'seed=1,2,3']);
    expectExit(r, 0);
    expect(p.read('runs/s/.slurm/array-0.sh')).toContain('#SBATCH --array=0-2%1\n');
    expect(p.read('runs/s/.slurm/array-0.sh')).toContain('#SBATCH --comment="a comment with blanks"\n');
    const spans = [0, 1, 2].map((n) => p.status(`runs/s/${n}`)).map((s) => [Date.parse(s.started_at), Date.parse(s.ended_at!)] as const);
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(r.stderr).toContain('(JobArrayTaskLimit)');
  });

  test('max_batch_size: one array per batch, each waited for before the next is submitted', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const r = await run(p, ['run', '-m', ...SLURM, 'vidra.sweeper.max_batch_size=2', 'vidra.sweep.dir=runs/b', 'seed=1,2,3']);
    expectExit(r, 0);
    const arrays = p.json<Array<{ array_job_id: string; nums: number[] }>>('runs/b/.slurm/arrays.json');
    expect(arrays.map((a) => a.nums)).toEqual([[0, 1], [2]]);
    expect(p.read('runs/b/.slurm/array-1.sh')).toContain('#SBATCH --array=0-0%256\n');
    expect(Date.parse(p.status('runs/b/2').started_at)).toBeGreaterThanOrEqual(Math.max(...[0, 1].map((n) => Date.parse(p.status(`runs/b/${n}`).ended_at!))));
    expect(p.json<Summary>('runs/b/summary.json').jobs.map((j) => j.status)).toEqual(['completed', 'completed', 'completed']);
  });

  test('a task killed by its time limit is reported TIMEOUT with its log, in status.json too; with max_num_timeout it requeues and resumes', { timeout: 280_000 }, async () => {
    const p = slurmProject();
    const limit = ['vidra.launcher.timeout_min=1', 'task.steps=400', 'task.step_s=0.5'];
    const requeue = ['vidra.launcher.signal_delay_s=30', 'vidra.launcher.max_num_timeout=1'];
    const [killed, resumed, twice] = await Promise.all([
      run(p, ['run', '-m', ...SLURM, ...limit, 'vidra.launcher.signal_delay_s=0', 'vidra.sweep.dir=runs/t', 'seed=1'], 270_000),
      run(p, ['run', '-m', ...SLURM, 'vidra.launcher.timeout_min=1', 'task.steps=90', 'task.step_s=0.5', ...requeue, 'vidra.sweep.dir=runs/r', 'seed=1'], 270_000),
      // Needs more than its two time limits: requeued once, then killed by the second.
      run(p, ['run', '-m', ...SLURM, ...limit, ...requeue, 'vidra.sweep.dir=runs/f', 'seed=1'], 270_000),
    ]);
    const timeout = (dir: string) => {
      const [arrayId] = p.json<Array<{ array_job_id: string }>>(`${dir}/.slurm/arrays.json`).map((a) => a.array_job_id);
      return `TIMEOUT: the time limit (00:01:00) was reached; log: ${p.path(`${dir}/.slurm/${arrayId}_0.err`)}`;
    };
    expectExit(killed, 1);
    const job = p.json<Summary>('runs/t/summary.json').jobs[0]!;
    expect(job.status, p.read('runs/t/.slurm/tasks/0.json')).toBe('failed');
    expect(job.error).toBe(timeout('runs/t'));
    expect(killed.stdout).toContain(timeout('runs/t'));
    // status.json says the same as the table: failed, not the `interrupted` of Slurm's SIGTERM alone.
    expect(p.status('runs/t/0')).toMatchObject({ status: 'failed', signal: 'SIGTERM', error: { type: 'SlurmKilled', message: timeout('runs/t') } });
    const st = await run(p, ['status', 'runs/t']);
    expect([st.code, st.stdout]).toEqual([1, expect.stringContaining(`0    failed  task=steps task.steps=400 task.step_s=0.5 seed=1  runs/t/0  ${timeout('runs/t')}\n`)]);

    expectExit(twice, 1);
    expect(p.json<Summary>('runs/f/summary.json').jobs.map((j) => [j.status, j.error])).toEqual([['failed', timeout('runs/f')]]);
    const final = p.status('runs/f/0');
    expect(final).toMatchObject({ status: 'failed', error: { type: 'SlurmKilled', message: timeout('runs/f') } });
    expect(final.history!.map((h) => [h.status, h.signal])).toEqual([['interrupted', 'SIGTERM']]);
    expect(p.read('runs/f/0/job.log')).toContain('Slurm signalled the end of the time limit; no requeue left (max_num_timeout=1)');

    expectExit(resumed, 0);
    const status = p.status('runs/r/0');
    expect(status.status).toBe('completed');
    expect(status.result).toMatchObject({ steps: 90 });
    expect(status.history!.map((h) => [h.status, h.signal])).toEqual([['interrupted', 'SIGTERM']]);
    const jobLog = p.read('runs/r/0/job.log');
    expect(jobLog).toContain('Slurm signalled the end of the time limit: requeued (1 of max_num_timeout=1)');
    // The requeued task runs in its own directory again, told to resume from it (as the train task is).
    expect(jobLog).toMatch(new RegExp(`resumed from ${p.path('runs/r/0')} at step [1-9]\\d*\\n`));
    expect(parseYaml(p.read('runs/r/0/.vidra/overrides.yaml'))).toContain(`task.resume='${p.path('runs/r/0')}'`);
    expect((parseYaml(p.read('runs/r/0/.vidra/vidra.yaml')) as { slurm: { restarts: number } }).slurm.restarts).toBe(1);
  });

  test('--detach returns at once; vidra status shows the table later; vidra resubmit --failed reruns the failed job in its directory', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const r = await run(p, ['run', '-m', '--detach', ...SLURM, 'vidra.sweep.dir=runs/d', 'task.needs_file=fixed', 'seed=1,2']);
    expect(r.stderr).toMatch(/^\[slurm \d+\] submitted 2 jobs as array job \d+; logs in .*runs\/d\/\.slurm\n$/);
    expectExit(r, 0);
    expect(r.stdout).toBe('submitted 2 jobs; sweep directory: runs/d\nfollow them with: vidra status runs/d\n');
    let st = await run(p, ['status', 'runs/d']);
    for (let i = 0; i < 100 && /[1-9]\d* (pending|running)/.test(st.stdout.split('\n')[0]!); i++) {
      await new Promise((res) => setTimeout(res, 300));
      st = await run(p, ['status', 'runs/d']);
    }
    expectExit(st, 1);
    expect(st.stdout).toMatch(/^array job \d+: 0 pending, 0 running, 0 completed, 2 failed; elapsed/);
    expect(st.stdout).toContain('0    failed  task=steps task.needs_file=fixed seed=1  runs/d/0  fixed is missing\n');
    expect(p.json<Summary>('runs/d/summary.json').jobs.map((j) => j.status)).toEqual(['failed', 'failed']);

    p.write('fixed', '');
    const again = await run(p, ['resubmit', 'runs/d', '--failed']);
    expectExit(again, 0);
    expect(again.stdout).toContain('2 of 2 jobs completed; sweep directory: runs/d\n');
    expect(p.runDirs()).toEqual(['runs/d/0', 'runs/d/1']);
    const status = p.status('runs/d/1');
    expect(status.status).toBe('completed');
    expect(status.history!.map((h) => [h.status, h.error?.message])).toEqual([['failed', 'fixed is missing']]);
    expect(p.json<unknown[]>('runs/d/.slurm/arrays.json')).toHaveLength(2);

    const none = await run(p, ['resubmit', 'runs/d', '--failed']);
    expect([none.code, none.stdout]).toEqual([0, 'nothing to resubmit in runs/d: 0 pending, 0 running, 2 completed, 0 failed\n']);
  });

  test('a task cancelled from outside (scancel) is reported CANCELLED with its log; the others complete', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const { done } = p.start(['run', '-m', ...SLURM, 'vidra.sweep.dir=runs/x', 'task.step_s=0.1', 'task.steps=3,900'], { env: cluster!.env, killAfterMs: 100_000 });
    await p.waitForFiles('started', 2, 60_000);
    const [arrayId] = p.json<Array<{ array_job_id: string }>>('runs/x/.slurm/arrays.json').map((a) => a.array_job_id);
    expect(spawnSync('scancel', [`${arrayId}_1`], { env: { ...process.env, ...cluster!.env } }).status).toBe(0);
    const r = await done;
    expectExit(r, 1);
    const jobs = p.json<Summary>('runs/x/summary.json').jobs;
    expect(jobs.map((j) => j.status)).toEqual(['completed', 'interrupted']);
    expect(jobs[1]!.error).toBe(`CANCELLED (scancel); log: ${p.path(`runs/x/.slurm/${arrayId}_1.err`)}`);
    expect(p.status('runs/x/1')).toMatchObject({ status: 'interrupted', signal: 'SIGTERM' });
  });

  test('settings sbatch refuses (a partition, an extra #SBATCH line) are one error naming the key, exit 2, before any sweep directory', { timeout: 60_000 }, async () => {
    const p = slurmProject();
    const HINT = '(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n';
    const [partition, extra] = await Promise.all([
      run(p, ['run', '-m', ...SLURM, 'vidra.launcher.partition=nope', 'seed=1,2']),
      run(p, ['run', '-m', ...SLURM, '+vidra.launcher.additional_parameters.foo_bar=1', 'seed=1,2']),
    ]);
    expect(partition).toMatchObject({
      code: 2,
      stderr: `Error: sbatch refused the job array: invalid partition specified: nope; allocation failure: Invalid partition name specified; check vidra.launcher.partition=nope\n${HINT}`,
    });
    expect(extra).toMatchObject({
      code: 2,
      stderr: `Error: sbatch refused the job array: unrecognized option '--foo-bar=1'; check vidra.launcher.additional_parameters.foo_bar=1\n${HINT}`,
    });
    expect(p.exists('runs')).toBe(false);
  });

  test('a batch sbatch refuses mid-sweep leaves the sweep marked failed with the reason; vidra resubmit says the same until it can submit', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const slurmEnv = { ...process.env, ...cluster!.env };
    const scontrol = (...args: string[]) => spawnSync('scontrol', args, { env: slurmEnv, encoding: 'utf8' });
    const partition = `refuse${process.pid}`;
    expect(scontrol('create', `partitionname=${partition}`, 'nodes=ALL', 'state=UP').status).toBe(0);
    try {
      const sweep = ['run', '-m', ...SLURM, `vidra.launcher.partition=${partition}`, 'vidra.sweeper.max_batch_size=1', 'vidra.sweep.dir=runs/p', 'task.steps=20', 'task.step_s=0.3', 'seed=1,2'];
      const { done } = p.start(sweep, { env: cluster!.env, killAfterMs: 100_000 });
      await p.waitForFiles('started', 1, 60_000);
      // The second batch is submitted once the first has ended: by then the partition takes no new jobs.
      expect(scontrol('update', `partitionname=${partition}`, 'state=drain').status).toBe(0);
      const r = await done;
      const reason = `sbatch refused the job array: Batch job submission failed: Required partition not available (inactive or drain); check vidra.launcher.partition=${partition}`;
      expectExit(r, 2);
      expect(r.stderr).toContain(`\nError: ${reason} (sweep directory runs/p marked failed in summary.json)\n`);
      const summary = p.json<Summary & { status: string; error: string }>('runs/p/summary.json');
      expect([summary.status, summary.error]).toEqual(['failed', reason]);
      expect(summary.jobs.map((j) => [j.num, j.status, j.error ?? null])).toEqual([
        [0, 'completed', null],
        [1, 'not_started', reason],
      ]);
      expect(p.runDirs()).toEqual(['runs/p/0']);
      expect(p.json<Array<{ array_job_id: string | null; error?: string }>>('runs/p/.slurm/arrays.json').map((a) => [a.array_job_id === null, a.error ?? null])).toEqual([
        [false, null],
        [true, reason],
      ]);
      const st = await run(p, ['status', 'runs/p']);
      expectExit(st, 1);
      expect(st.stdout).toMatch(/^array job \d+: 0 pending, 0 running, 1 completed, 1 failed;/);
      expect(st.stdout).toContain(`1    not_started  task=steps task.steps=20 task.step_s=0.3 seed=2  -         not submitted: ${reason}\n`);
      expect(p.json<{ status: string; error: string }>('runs/p/summary.json')).toMatchObject({ status: 'failed', error: reason });

      // resubmit: the same refusal, exit 2, and the job stays as it was; once the partition is up, it runs.
      const refused = await run(p, ['resubmit', 'runs/p']);
      expect([refused.code, refused.stderr.split('\n')[0]]).toEqual([2, `Error: ${reason}`]);
      expect((await run(p, ['status', 'runs/p'])).stdout).toContain(`1    not_started  task=steps task.steps=20 task.step_s=0.3 seed=2  -         not submitted: ${reason}\n`);
      expect(scontrol('update', `partitionname=${partition}`, 'state=up').status).toBe(0);
      const again = await run(p, ['resubmit', 'runs/p']);
      expectExit(again, 0);
      expect(again.stdout).toContain('2 of 2 jobs completed; sweep directory: runs/p\n');
      expect(p.status('runs/p/1').status).toBe('completed');
      expect(p.json<Record<string, unknown>>('runs/p/summary.json')).not.toHaveProperty('status');
    } finally {
      scontrol('delete', `partitionname=${partition}`);
    }
  });

  test('Ctrl-C while waiting cancels the array and marks the sweep interrupted', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const { child, done } = p.start(['run', '-m', ...SLURM, 'vidra.sweep.dir=runs/c', 'task.steps=600', 'task.step_s=0.1', 'seed=1,2'], { env: cluster!.env, killAfterMs: 100_000 });
    await p.waitForFiles('started', 2, 60_000);
    child.kill('SIGINT');
    const r = await done;
    expectExit(r, 130);
    expect(p.status('runs/c/0').status).toBe('interrupted');
    expect(p.status('runs/c/1').status).toBe('interrupted');
    expect(p.json<Summary>('runs/c/summary.json').jobs.map((j) => j.status)).toEqual(['interrupted', 'interrupted']);
    const st = await run(p, ['status', 'runs/c']);
    expect(st.stdout).toMatch(/^array job \d+: 0 pending, 0 running, 0 completed, 2 failed;/);
  });
});

// A describe of its own, after the concurrent one, so that the OOM kill happens with no other job on the node.
// Once in CI this sweep did not end within 120 s while other tests' jobs ran. The cause is not known; if it
// happens again, expectExit shows Slurm's view of the node and the queue.
describe.skipIf(cluster === null)(`a memory limit on a real Slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test('a task over its memory limit is killed by Slurm and reported with its limit (cgroups: OUT_OF_MEMORY) or slurmstepd\'s reason (OverMemoryKill)', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    const r = await run(p, ['run', '-m', ...SLURM, 'vidra.launcher.mem_gb=0.25', 'vidra.sweep.dir=runs/m', 'task.alloc_mb=640', 'task.steps=40', 'task.step_s=0.25', 'seed=1']);
    expectExit(r, 1);
    const [arrayId] = p.json<Array<{ array_job_id: string }>>('runs/m/.slurm/arrays.json').map((a) => a.array_job_id);
    const job = p.json<Summary>('runs/m/summary.json').jobs[0]!;
    const log = p.path(`runs/m/.slurm/${arrayId}_0.err`);
    // With cgroups the kernel's OOM killer ends the task and Slurm says OUT_OF_MEMORY; without, slurmstepd
    // samples the memory and kills the step, which Slurm reports FAILED.
    const reason =
      cluster!.memory === 'cgroup'
        ? new RegExp(
            `^OUT_OF_MEMORY: the task went over its memory limit of 256M a node; raise vidra\\.launcher\\.mem_gb; slurmstepd: Detected \\d+ oom-kill event\\(s\\) in StepId=${arrayId}\\.batch\\. Some of your processes may have been killed by the cgroup out-of-memory handler\\.; log: ${log}$`,
          )
        : new RegExp(
            `^FAILED \\(JobLaunchFailure\\), exit code 0:9: StepId=${arrayId}\\.batch exceeded memory limit \\(\\d+ > 268435456\\), being killed; Exceeded job memory limit; log: ${log}$`,
          );
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(reason);
    expect(p.json<Record<string, unknown>>('runs/m/.slurm/tasks/0.json')).toMatchObject({ slurm_state: cluster!.memory === 'cgroup' ? 'OUT_OF_MEMORY' : 'FAILED' });
    expect(p.status('runs/m/0')).toMatchObject({ status: 'failed', error: { type: 'SlurmKilled', message: job.error } });
    expect(r.stdout).toContain(`0    failed  task=steps task.alloc_mb=640 task.steps=40 task.step_s=0.25 seed=1  runs/m/0  ${job.error}\n`);
  });
});

// Downs the cluster's only node, which kills every job on it: a describe of its own, after the concurrent one.
describe.skipIf(cluster === null)(`a node failure on a real Slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test('a task whose node fails is reported NODE_FAIL; one that Slurm requeues runs again in its directory and completes', { timeout: 150_000 }, async () => {
    const p = slurmProject();
    const slurmEnv = { ...process.env, ...cluster!.env };
    const node = (state: string) => spawnSync('scontrol', ['update', `nodename=${cluster!.node}`, `state=${state}`, ...(state === 'down' ? ['reason=vidra-test'] : [])], { env: slurmEnv, encoding: 'utf8' });
    const steps = ['task.steps=40', 'task.step_s=0.5', 'seed=1'];
    const failed = p.start(['run', '-m', ...SLURM, '+vidra.launcher.additional_parameters.no_requeue=true', 'vidra.sweep.dir=runs/n', ...steps], { env: cluster!.env, killAfterMs: 140_000 });
    const requeued = p.start(['run', '-m', ...SLURM, 'vidra.sweep.dir=runs/q', ...steps], { env: cluster!.env, killAfterMs: 140_000 });
    await p.waitForFiles('started', 2, 60_000);
    expect(node('down').status).toBe(0);
    try {
      const [n, q] = await Promise.all([failed.done, requeued.done]);
      expectExit(n, 1);
      const [arrayId] = p.json<Array<{ array_job_id: string }>>('runs/n/.slurm/arrays.json').map((a) => a.array_job_id);
      const job = p.json<Summary>('runs/n/summary.json').jobs[0]!;
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(new RegExp(`^NODE_FAIL \\(NodeDown\\), exit code \\d+:\\d+; log: ${p.path(`runs/n/.slurm/${arrayId}_0.err`)}$`));
      expect(p.status('runs/n/0')).toMatchObject({ status: 'failed', signal: 'SIGTERM', error: { type: 'SlurmKilled', message: job.error } });
      expect(n.stdout).toContain(`0    failed  task=steps task.steps=40 task.step_s=0.5 seed=1  runs/n/0  ${job.error}\n`);
      expect((await run(p, ['status', 'runs/n'])).stdout).toContain(`runs/n/0  ${job.error}\n`);

      expectExit(q, 0);
      expect(q.stderr).toMatch(/\[slurm \d+\] 1 pending \(BeginTime\), 0 running, 0 completed, 0 failed/);
      const status = p.status('runs/q/0');
      expect(status.status).toBe('completed');
      expect(status.history!.map((h) => [h.status, h.signal])).toEqual([['interrupted', 'SIGTERM']]);
      expect(p.read('runs/q/0/job.log')).toMatch(/\[WARN\] Slurm requeued the task \(\w+, \w+\): it runs again in this directory\n/);
      expect((parseYaml(p.read('runs/q/0/.vidra/vidra.yaml')) as { slurm: { restarts: number } }).slurm.restarts).toBe(1);
    } finally {
      // ReturnToService=2 brings it back once slurmd registers again; resume it if it has not by then.
      for (let i = 0; i < 100; i++) {
        const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env: slurmEnv, encoding: 'utf8' });
        if (/^(idle|mixed|allocated)/m.test(r.stdout)) break;
        if (i === 20) node('resume');
        await new Promise((res) => setTimeout(res, 250));
      }
    }
  });
});

describe('vidra/launcher=slurm settings are checked before anything is submitted', () => {
  test('an unknown key or a negative time is a located error, exit 2, no sweep directory', async () => {
    const p = slurmProject();
    const unknown = await p.run(['run', '-m', 'vidra/launcher=slurm', 'vidra.launcher.timeout=5', 'seed=1,2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Error: override 'vidra.launcher.timeout=5' (argument 2): Could not override 'vidra.launcher.timeout'.");
    expect(unknown.stderr).toContain("Did you mean 'vidra.launcher.timeout_min' or 'vidra.launcher.max_num_timeout'?");
    const added = await p.run(['run', '-m', 'vidra/launcher=slurm', '+vidra.launcher.timeout=5', 'seed=1,2']);
    expect(added.code).toBe(2);
    expect(added.stderr.split('\n').slice(0, 2)).toEqual([
      "Error: invalid config for the launcher plugin 'slurm' at 'vidra.launcher':",
      "  override '+vidra.launcher.timeout=5' (argument 2): 'vidra.launcher.timeout' is not a key of this plugin. Did you mean 'vidra.launcher.timeout_min' or 'vidra.launcher.max_num_timeout'?",
    ]);
    const negative = await p.run(['run', '-m', 'vidra/launcher=slurm', 'vidra.launcher.timeout_min=-5', 'seed=1,2']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain("\n  override 'vidra.launcher.timeout_min=-5' (argument 2): 'vidra.launcher.timeout_min' must be >= 1 (got int -5)\n");
    expect(p.exists('runs')).toBe(false);
  });

  test('a requeue signal due before the time limit could pass is an error, exit 2, before anything is submitted', async () => {
    const p = slurmProject();
    const r = await p.run(['run', '-m', 'vidra/launcher=slurm', 'vidra.launcher.timeout_min=1', 'vidra.launcher.max_num_timeout=2', 'seed=1,2']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'Error: vidra.launcher.signal_delay_s=120 is not shorter than the time limit (timeout_min=1: 60 s): with max_num_timeout=2 each task would requeue itself at once; give a delay below 60 s, or max_num_timeout=0',
    );
    expect(p.exists('runs')).toBe(false);
  });

  test('vidra status / resubmit: a directory the slurm launcher did not make, or bad arguments, exit 2', async () => {
    const p = slurmProject();
    const HINT = '(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n';
    const [notSlurm, none, two, flag] = await Promise.all([
      p.run(['status', 'conf']),
      p.run(['status']),
      p.run(['resubmit', 'a', 'b']),
      p.run(['resubmit', 'conf', '--all']),
    ]);
    expect(notSlurm).toMatchObject({ code: 2, stderr: `Error: 'conf' is not a sweep directory of the slurm launcher (it has no .slurm/jobs.json); give the directory 'vidra run -m vidra/launcher=slurm' printed\n${HINT}` });
    expect(none).toMatchObject({ code: 2, stderr: `Error: no sweep directory given; usage: vidra status <sweep dir>\n${HINT}` });
    expect(two).toMatchObject({ code: 2, stderr: `Error: one sweep directory, not 2; usage: vidra resubmit <sweep dir> [--failed] [--detach]\n${HINT}` });
    expect(flag).toMatchObject({ code: 2, stderr: `Error: unknown flag '--all' (argument 2); usage: vidra resubmit <sweep dir> [--failed] [--detach]\n${HINT}` });
  });

  test('without the Slurm commands: one error naming them, exit 2', async () => {
    const p = slurmProject();
    const r = await p.run(['run', '-m', 'vidra/launcher=slurm', 'seed=1,2'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('Error: sbatch is not on PATH: the slurm launcher needs the Slurm client commands (sbatch, scontrol, scancel)');
  });

  test('--detach goes with --multirun', async () => {
    const r = await slurmProject().run(['run', '--detach', 'vidra/launcher=slurm']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('Error: --detach goes with --multirun (and vidra/launcher=slurm)');
  });
});

describe.skipIf(cluster === null)(`feature extraction on a real Slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test('task=extract_features with schedule.shard=all: one array of the packed shards, merged, equals one local run', { timeout: 120_000 }, async () => {
    const p = slurmProject();
    writeProbeModel(p.path('probe.onnx'), 4, 16);
    mkdirSync(p.path('videos'));
    // Priced by duration (s): c 2.33, b 1.67, a 1.33, d 1.0; at most 2.4 s a shard: first-fit decreasing
    // packs [c], [b], [a, d].
    for (const [name, n] of [['a', 40], ['b', 50], ['c', 70], ['d', 30]] as const) indexVideo(p.path('videos'), name, 'mp4', 30, n);
    const extract = ['-cp', join(REPO, 'conf'), ...probeOverrides(p.path('probe.onnx'), 4), 'task=extract_features', 'io.video_dir=videos', 'window.stride=4'];
    const plan = ['io.out_path=slurm.h5', 'schedule.max_minutes_per_shard=0.04'];
    const [local, r] = await Promise.all([
      run(p, ['run', ...extract, 'io.out_path=local.h5']),
      run(p, ['run', '-m', ...extract, ...plan, 'schedule.shard=all', 'vidra/launcher=slurm', 'vidra.launcher.poll_interval_s=0.3', 'vidra.sweep.dir=runs/x']),
    ]);
    expect(local.code).toBe(0);
    expectExit(r, 0);
    expect(p.json<Summary>('runs/x/summary.json').jobs.map((j) => [j.status, j.overrides.find((o) => o.startsWith('schedule.shard='))])).toEqual([0, 1, 2].map((k) => ['completed', `schedule.shard=${k}`]));
    expect(p.json<Array<{ nums: number[] }>>('runs/x/.slurm/arrays.json').map((a) => a.nums)).toEqual([[0, 1, 2]]);
    const uids = async (f: string) => Object.keys(await features(p.path(f)));
    expect(await Promise.all([0, 1, 2].map((k) => uids(`slurm.shard-${k}-of-3.h5`)))).toEqual([['c'], ['b'], ['a', 'd']]);
    const merged = await run(p, ['run', ...extract, ...plan, 'schedule.merge=true']);
    expect(merged.code).toBe(0);
    expect(await features(p.path('slurm.h5'))).toEqual(await features(p.path('local.h5')));
  });

  test('an extraction preempted mid-way (USR1, as before a time limit) requeues itself and skips the videos it finished; the file equals one local run', { timeout: 150_000 }, async () => {
    const p = slurmProject();
    writeProbeModel(p.path('probe.onnx'), 4, 16);
    mkdirSync(p.path('videos'));
    // Enough videos that the signal lands mid-way: each takes a fraction of a second.
    for (let v = 0; v < 48; v++) indexVideo(p.path('videos'), `v${String(v).padStart(2, '0')}`, 'mkv', 30, 24 + (v % 5));
    const extract = ['-cp', join(REPO, 'conf'), ...probeOverrides(p.path('probe.onnx'), 4), 'task=extract_features', 'io.video_dir=videos', 'window.stride=4'];
    const local = await run(p, ['run', ...extract, 'io.out_path=local.h5']);
    expect(local.code).toBe(0);
    let signalled = false;
    const preempt = async () => {
      // Once the first videos are in the file, Slurm's end-of-time-limit signal (--signal=B:USR1) by hand.
      for (let i = 0; i < 600 && !signalled; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const arrays = p.path('runs/x/.slurm/arrays.json');
        if (!existsSync(arrays) || !existsSync(p.path('slurm.h5'))) continue;
        const [{ array_job_id: id }] = p.json<Array<{ array_job_id: string }>>('runs/x/.slurm/arrays.json');
        signalled = spawnSync('scancel', ['--batch', '--signal=USR1', `${id}_0`], { env: { ...process.env, ...cluster!.env } }).status === 0;
      }
    };
    const [r] = await Promise.all([
      run(p, ['run', '-m', ...extract, 'io.out_path=slurm.h5', 'vidra/launcher=slurm', 'vidra.launcher.poll_interval_s=0.3', 'vidra.launcher.max_num_timeout=1', 'vidra.sweep.dir=runs/x']),
      preempt(),
    ]);
    expect(signalled).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    const status = p.status('runs/x/0');
    expect(status.status).toBe('completed');
    expect(status.history!.map((h) => [h.status, h.signal])).toEqual([['interrupted', 'SIGTERM']]);
    const jobLog = p.read('runs/x/0/job.log');
    expect(jobLog).toContain('Slurm signalled the end of the time limit: requeued (1 of max_num_timeout=1)');
    // The second run found the finished videos in the file and did only the rest.
    const resumed = /extract_features: 48 videos, (\d+) already in \S*slurm\.h5, (\d+) to do/g;
    const counts = [...jobLog.matchAll(resumed)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(counts.length).toBe(2);
    expect(counts[0]).toEqual([0, 48]);
    expect(counts[1]![0]).toBeGreaterThan(0);
    expect(counts[1]![0]).toBeLessThan(48);
    expect(counts[1]![0] + counts[1]![1]).toBe(48);
    expect(await features(p.path('slurm.h5'))).toEqual(await features(p.path('local.h5')));
  });
});
