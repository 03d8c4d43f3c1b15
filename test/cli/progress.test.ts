// Live progress: a bar with ETA on a real pseudo-terminal (util-linux `script`), plain parseable lines
// elsewhere (a pipe, NO_COLOR), --quiet (errors and the final result only) and --verbose (debug lines),
// the job log mirroring the console; and the shared facility's own formatting.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clock, ProgressBar, progressStyle } from '../../core/run/progress.ts';
import { experimentDir } from '../helpers/experiment.ts';
import { BIN, makeProject, removeProjects, REPO } from '../helpers/project.ts';

const T = 60_000;
const exp = experimentDir('progress');
const TRAIN = ['task.epochs=2']; // 2 epochs x 9 steps, log_every 10: lines at steps 10 and 18

/** Runs `node bin/vidra.mjs args` on a pseudo-terminal; the terminal's bytes (stdout and stderr together). */
function onTty(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  delete childEnv.CI;
  if (!('NO_COLOR' in env)) delete childEnv.NO_COLOR;
  return new Promise((done) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => done({ code, out: out.replace(/\r\n/g, '\n') }));
  });
}

const conf = ['run', '-cp', join(REPO, 'conf')];
const STEP_LINE = /^step (10|18)\/18 loss \d\.\d{4} \(\d+\.\d it\/s, ETA \d+:\d\d\)$/;

beforeAll(async () => {
  // Generates the synthetic data into the scratch directory's cache once.
  const r = await exp.vidra([...TRAIN, 'vidra.run.dir=runs/warm', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
}, T);
afterAll(removeProjects);

describe('vidra run on a terminal', () => {
  it('draws a bar with step, loss, rate and ETA redrawn in place; job.log gets the log_every lines', { timeout: T }, async () => {
    const r = await onTty([...conf, ...TRAIN, 'vidra.run.dir=runs/tty'], exp.dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\r\x1b\[K\[#{24}\] step 18\/18 loss \d\.\d{4} \(\d+\.\d it\/s, ETA 0:00\)/);
    expect(r.out).toMatch(/\r\x1b\[K\[[#.]{24}\] step 1\/18 loss /);
    // Evaluation draws its own bar: 32-sample batches of the validation split.
    expect(r.out).toMatch(/\r\x1b\[K\[#{24}\] eval (\d+)\/\1 \(\d+\.\d samples\/s, ETA 0:00\)/);
    // Log lines start at column 0: the bar is cleared before each one.
    expect(r.out).toMatch(/\r\x1b\[Kepoch 0: data \d+ ms, compute \d+ ms\n/);
    expect(r.out).toContain('job completed; run directory: runs/tty\n');
    const log = exp.read('runs/tty/job.log').split('\n').map((l) => l.replace(/^\[[^\]]+\]\[INFO\] /, ''));
    expect(log.filter((l) => l.startsWith('step '))).toHaveLength(2);
    for (const l of log.filter((l) => l.startsWith('step '))) expect(l).toMatch(STEP_LINE);
  });

  it('NO_COLOR: plain lines, no bar, even on a terminal', { timeout: T }, async () => {
    const r = await onTty([...conf, ...TRAIN, 'vidra.run.dir=runs/nocolor'], exp.dir, { NO_COLOR: '1' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toContain('\x1b[');
    expect(r.out).not.toContain('\r');
    expect(r.out.split('\n').filter((l) => l.startsWith('step '))).toEqual([expect.stringMatching(STEP_LINE), expect.stringMatching(STEP_LINE)]);
  });

  it('a sweep shows its jobs done and failed with an ETA; its jobs report in plain lines meanwhile', { timeout: T }, async () => {
    const p = makeProject();
    const r = await onTty(['run', '-m', 'task=succeed,fail'], p.dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/\r\x1b\[K\[#{12}\.{12}\] jobs 1\/2 done, 0 failed \(\d+\.\d jobs\/s, ETA \d+:\d\d\)/);
    expect(r.out).toMatch(/\r\x1b\[K\[#{24}\] jobs 2\/2 done, 1 failed \(\d+\.\d jobs\/s, ETA 0:00\)\n/);
    expect(r.out).toContain('1 of 2 jobs completed; sweep directory: runs/multirun/');
  });

  it('local_parallel: the bar counts each job as its worker reports it, before the next job starts', { timeout: T }, async () => {
    const p = makeProject();
    const r = await onTty(['run', '-m', 'vidra/launcher=local_parallel', 'vidra.launcher.n_jobs=2', 'seed=1,2,3'], p.dir);
    expect(r.code, r.out).toBe(0);
    const first = r.out.search(/\] jobs 1\/3 done, 0 failed/);
    expect(first).toBeGreaterThan(0);
    // Job 2 waits for a free worker: it starts only after a job has ended (and been counted).
    expect(first).toBeLessThan(r.out.indexOf('[job 2] run directory'));
    expect(r.out).toMatch(/\r\x1b\[K\[#{24}\] jobs 3\/3 done, 0 failed \(\d+\.\d jobs\/s, ETA 0:00\)\n/);
  });
});

describe('--quiet and --verbose', () => {
  it('--quiet prints only the final result line; job.log still has every line', { timeout: T }, async () => {
    const r = await exp.vidra([...TRAIN, 'vidra.run.dir=runs/q', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^job completed; run directory: runs\/q\nstep=18 map=[\d.]+ map_overall=[\d.e-]+ map_head=[\d.e-]+ map_middle=[\d.e-]+ map_tail=[\d.e-]+\n$/);
    const log = exp.read('runs/q/job.log');
    expect(log).toMatch(/\[INFO\] step 10\/18 loss /);
    expect(log).toMatch(/\[INFO\] eval after epoch 1: map=/);
  });

  it('--quiet on a terminal: no bar either; a failure still prints its error', { timeout: T }, async () => {
    const r = await onTty([...conf, ...TRAIN, 'vidra.run.dir=runs/qtty', '--quiet'], exp.dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^job completed; run directory: runs\/qtty\nstep=18 map=\S+ map_overall=\S+ map_head=\S+ map_middle=\S+ map_tail=\S+\n$/);
    const bad = await exp.vidra(['task.epochs=1', 'optim.lr=1e30', 'vidra.run.dir=runs/qbad', '--quiet']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^job failed: the loss is (NaN|Infinity) at step \d+; lower optim.lr/);
    expect(bad.stderr).toMatch(/\njob failed; run directory: runs\/qbad\n$/);
  });

  it('a quiet sweep prints only its count line', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-m', 'optim.lr=0.1,0.2', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // The fixture project sets vidra.report: the report's path belongs to the result.
    expect(r.stdout).toMatch(/^2 of 2 jobs completed; sweep directory: (runs\/multirun\/[\d-]+\/[\d-]+)\nreport: \1\/report\.html\n$/);
  });

  it('--verbose adds the debug lines (they are in job.log either way): here the stack of a plain Error', { timeout: T }, async () => {
    const p = makeProject();
    const v = await p.run(['run', 'task=fail', 'vidra.run.dir=runs/v', '--verbose']);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^Error: boom \(seed \d+\)\n    at /m);
    const n = await p.run(['run', 'task=fail', 'vidra.run.dir=runs/n']);
    expect(n.code).toBe(1);
    expect(n.stdout).not.toContain('Error: boom');
    expect(p.read('runs/n/job.log')).toMatch(/\]\[DEBUG\] Error: boom \(seed \d+\)\n    at /);
  });

  it('both at once is a usage error, before any run directory', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', '-q', '-v']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('Error: --quiet and --verbose contradict each other: give one\n(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n');
    expect(p.exists('runs')).toBe(false);
  });
});

describe('the progress facility', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['NO_COLOR', 'CI', 'VIDRA_PROGRESS', 'VIDRA_CONSOLE']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('clock: m:ss, h:mm:ss, ? when unknown', () => {
    expect([clock(0), clock(65), clock(3725), clock(NaN), clock(Infinity)]).toEqual(['0:00', '1:05', '1:02:05', '?', '?']);
  });

  it('the style: lines off a terminal, under NO_COLOR or CI; off under --quiet', () => {
    process.env.NO_COLOR = '1';
    expect(progressStyle()).toBe('lines');
    process.env.VIDRA_CONSOLE = 'quiet';
    expect(progressStyle()).toBe('off');
  });

  it('plain lines: forced ones and the clock\'s; a short operation prints none; off prints nothing', () => {
    process.env.NO_COLOR = '1';
    const got: string[] = [];
    const sink = { info: (m: string) => got.push(m) };
    const quick = new ProgressBar('eval', 4, sink, { unit: 'samples' });
    for (let i = 1; i <= 4; i++) quick.update(i);
    expect(got).toEqual([]);
    const forced = new ProgressBar('step', 4, sink, { everyS: Infinity });
    forced.update(2, 'loss 1.0000', true);
    forced.update(3, 'loss 0.5000');
    forced.update(4, 'loss 0.2500');
    expect(got).toHaveLength(2);
    expect(got[0]).toMatch(/^step 2\/4 loss 1\.0000 \(\d+\.\d it\/s, ETA \d+:\d\d\)$/);
    expect(got[1]).toMatch(/^step 4\/4 loss 0\.2500 \(\d+\.\d it\/s, ETA 0:00\)$/);
    const every = new ProgressBar('jobs', 3, sink, { unit: 'jobs', everyS: 0 });
    every.update(1, 'done, 0 failed');
    expect(got[2]).toMatch(/^jobs 1\/3 done, 0 failed \(\d+\.\d jobs\/s, ETA \d+:\d\d\)$/);
    process.env.VIDRA_CONSOLE = 'quiet';
    new ProgressBar('x', 1, sink, { everyS: 0 }).update(1, '', true);
    expect(got).toHaveLength(3);
  });
});

