// Run directories under faults: an output directory that cannot be created, bad directory settings,
// and writes that fail (a file size limit, a full disk). Real file systems: a regular file in the way
// (ENOTDIR, which stops root too), `ulimit -f` (EFBIG), and — where mount is permitted (root) — a
// read-only tmpfs (EROFS) and a small tmpfs that fills up (ENOSPC).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BIN, makeProject, removeProjects, runDirNamesBetween, type CliResult, type Project } from '../helpers/project.ts';

const T = 30_000;
const HINT = '(Set the environment variable VIDRA_FULL_ERROR=1 for a complete stack trace.)\n';
const mounted: string[] = [];

afterAll(() => {
  for (const dir of mounted.splice(0)) execFileSync('umount', [dir]);
  removeProjects();
});

function tryMount(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    mounted.push(dir);
    return true;
  } catch {
    return false;
  }
}

/** Whether this machine lets the tests mount a tmpfs (root, outside a locked-down container). */
const canMount = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'vidra-mount-'));
  const ok = tryMount(dir, 'size=64k');
  if (ok) execFileSync('umount', [mounted.pop()!]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
})();

/** A tmpfs mounted at `<project>/runs`. */
function mountRuns(p: Project, options: string): void {
  mkdirSync(p.path('runs'), { recursive: true });
  if (!tryMount(p.path('runs'), options)) throw new Error(`mount -o ${options} failed`);
}

/** The CLI run under `ulimit -f <kib>` (a file size limit: writes past it fail with EFBIG). */
function runLimited(p: Project, kib: number, args: string[]): Promise<CliResult> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.VIDRA_FULL_ERROR;
  const child = spawn('bash', ['-c', `ulimit -f ${kib} && exec "$0" "$@"`, process.execPath, BIN, ...args], { cwd: p.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stdout, stderr })));
}

describe.concurrent('an output directory that cannot be created: one message naming it and the reason, exit 2, nothing run', () => {
  test('vidra.run.dir under a regular file (ENOTDIR)', { timeout: T }, async () => {
    const p = makeProject({ notes: 'a file\n' });
    const r = await p.run(['run', 'vidra.run.dir=notes/run']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(`Error: cannot create the run directory '${p.path('notes/run')}' (vidra.run.dir): '${p.path('notes')}' is a file, not a directory\n${HINT}`);
    expect(p.exists('runs')).toBe(false);
  });

  test('vidra.run.dir two levels under a regular file', { timeout: T }, async () => {
    const p = makeProject({ notes: 'a file\n' });
    const r = await p.run(['run', 'vidra.run.dir=notes/a/b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`Error: cannot create the run directory '${p.path('notes/a/b')}' (vidra.run.dir): '${p.path('notes')}' is a file, not a directory\n${HINT}`);
  });

  test('vidra.sweep.dir under a regular file: no job starts', { timeout: T }, async () => {
    const p = makeProject({ notes: 'a file\n' });
    const r = await p.run(['run', '-m', 'seed=1,2', 'vidra.sweep.dir=notes/sweep']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(`Error: cannot create the sweep directory '${p.path('notes/sweep')}' (vidra.sweep.dir): '${p.path('notes')}' is a file, not a directory\n${HINT}`);
    expect(p.exists('runs')).toBe(false);
  });

  test.skipIf(!canMount)('runs/ on a read-only file system (EROFS): the default run dir and a sweep dir', { timeout: T }, async () => {
    const p = makeProject();
    mountRuns(p, 'ro,size=64k');
    const before = new Date();
    const [single, sweep] = await Promise.all([p.run(['run']), p.run(['run', '-m', 'seed=1,2', 'vidra.sweep.dir=runs/sweep'])]);
    const after = new Date();
    expect(single).toMatchObject({ code: 2, stdout: '' });
    const m = /^Error: cannot create the run directory '(.*)' \(vidra\.run\.dir\): read-only file system\n/.exec(single.stderr);
    expect(m, single.stderr).not.toBeNull();
    expect(runDirNamesBetween(before, after).map((n) => p.path('runs', n))).toContain(m![1]);
    expect(single.stderr.slice(m![0].length)).toBe(HINT);
    expect(sweep).toMatchObject({ code: 2, stdout: '' });
    expect(sweep.stderr).toBe(`Error: cannot create the sweep directory '${p.path('runs/sweep')}' (vidra.sweep.dir): read-only file system\n${HINT}`);
  });
});

describe.concurrent('directory settings that would put files outside the run directory are rejected where they were set', () => {
  test("vidra.run.dir= (empty): exit 2, and no '<cwd>_1' beside the project", { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'seed=1', 'vidra.run.dir=']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(`Error: override 'vidra.run.dir=' (argument 2): vidra.run.dir is empty: it must name a directory (e.g. vidra.run.dir=runs/my_run)\n${HINT}`);
    expect(existsSync(`${p.dir}_1`)).toBe(false);
    expect(p.exists('runs')).toBe(false);
  });

  test('empty vidra.sweep.dir and vidra.sweep.subdir in a sweep', { timeout: T }, async () => {
    const p = makeProject();
    const [dir, subdir] = await Promise.all([
      p.run(['run', '-m', 'seed=1,2', 'task.steps=2', "vidra.sweep.dir=''"]),
      p.run(['run', '-m', 'seed=1,2', 'vidra.sweep.dir=runs/sweep', 'vidra.sweep.subdir=']),
    ]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe(`Error: override 'vidra.sweep.dir=''' (argument 3): vidra.sweep.dir is empty: it must name a directory (e.g. vidra.sweep.dir=runs/my_sweep)\n${HINT}`);
    expect(subdir.code).toBe(2);
    expect(subdir.stderr).toBe(
      `Error: override 'vidra.sweep.subdir=' (argument 3): vidra.sweep.subdir is empty: it must name a directory (e.g. vidra.sweep.subdir='\${vidra:job.num}')\n${HINT}`,
    );
    expect(existsSync(`${p.dir}_1`)).toBe(false);
    expect(p.exists('runs')).toBe(false);
  });

  test('vidra.output_subdir=../../x: exit 2 before anything is written', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'vidra.run.dir=runs/r', 'vidra.output_subdir=../../x']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(
      `Error: override 'vidra.output_subdir=../../x' (argument 2): vidra.output_subdir '../../x' leaves the run directory: it must be a relative path inside the run directory (e.g. .vidra), or null to save no metadata\n${HINT}`,
    );
    expect(p.exists('runs')).toBe(false);
    expect(p.exists('x')).toBe(false);
  });

  test('an absolute vidra.output_subdir, and one set in a config file (file:line:col)', { timeout: T }, async () => {
    const p = makeProject({ 'conf/escape.yaml': 'defaults:\n  - task: succeed\n  - optim: adamw\n  - _self_\nseed: 0\nvidra:\n  output_subdir: meta/../../up\n' });
    const [abs, file] = await Promise.all([p.run(['run', `vidra.output_subdir=${p.path('meta')}`]), p.run(['run', '--config-name', 'escape'])]);
    expect(abs.code).toBe(2);
    expect(abs.stderr).toBe(
      `Error: override 'vidra.output_subdir=${p.path('meta')}' (argument 1): vidra.output_subdir '${p.path('meta')}' leaves the run directory: it must be a relative path inside the run directory (e.g. .vidra), or null to save no metadata\n${HINT}`,
    );
    expect(file.code).toBe(2);
    expect(file.stderr).toBe(
      `Error: ${p.path('conf/escape.yaml')}:7:18: vidra.output_subdir 'meta/../../up' leaves the run directory: it must be a relative path inside the run directory (e.g. .vidra), or null to save no metadata\n${HINT}`,
    );
    expect(p.exists('runs')).toBe(false);
  });

  test('vidra.output_subdir=null saves no metadata (as Hydra): no .vidra, no folder named null', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'vidra.run.dir=runs/r', 'vidra.output_subdir=null']);
    expect(r.code).toBe(0);
    expect(p.files('runs/r')).toEqual(['job.log', 'metrics.jsonl', 'status.json']);
    expect(p.status('runs/r').status).toBe('completed');
  });

  test('a nested vidra.output_subdir inside the run dir is fine', { timeout: T }, async () => {
    const p = makeProject();
    const r = await p.run(['run', 'vidra.run.dir=runs/r', 'vidra.output_subdir=meta/run']);
    expect(r.code).toBe(0);
    expect(p.files('runs/r')).toEqual(['job.log', 'meta/run/config.yaml', 'meta/run/overrides.yaml', 'meta/run/resolved.yaml', 'meta/run/vidra.yaml', 'metrics.jsonl', 'status.json']);
  });
});

describe.concurrent('failed writes leave no temporary files, and the job is still marked failed', () => {
  test('a metadata file over the file size limit (EFBIG, ulimit -f 80): status.json failed with the reason, exit 1', { timeout: T }, async () => {
    const p = makeProject();
    // A 90 KB value makes .vidra/config.yaml larger than the limit; the job's other files fit.
    const r = await runLimited(p, 80, ['run', `+blob=${'x'.repeat(90_000)}`, 'vidra.run.dir=runs/big']);
    const reason = `cannot write the run metadata in '${p.path('runs/big/.vidra')}' (vidra.output_subdir): file too large (the file size limit, ulimit -f)`;
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`job failed: ${reason}\njob failed; run directory: runs/big\n`);
    // Before, the temporary file of the failed write was left behind (config.yaml.tmp-<pid>-<n>).
    expect(p.files('runs/big')).toEqual(['job.log', 'status.json']);
    expect(p.status('runs/big')).toMatchObject({ status: 'failed', error: { type: 'VidraError', message: reason } });
    expect(p.read('runs/big/job.log')).toMatch(new RegExp(`^\\[[^\\]]+\\]\\[ERROR\\] job failed: cannot write the run metadata in .* file too large \\(the file size limit, ulimit -f\\)\\n$`));
  });

  test('a run directory that cannot be written at all (ulimit -f 16): exit 2, the directory removed again', { timeout: T }, async () => {
    const p = makeProject();
    const r = await runLimited(p, 16, ['run', 'vidra.run.dir=runs/small']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(`Error: cannot write to the run directory '${p.path('runs/small')}' (vidra.run.dir): file too large (the file size limit, ulimit -f)\n${HINT}`);
    expect(p.files('runs')).toEqual([]);
  });

  test.skipIf(!canMount)('a full disk (a 256 KiB tmpfs): the task fails with ENOSPC, status.json and vidra.yaml still written, nothing temporary left', { timeout: T }, async () => {
    const p = makeProject();
    mountRuns(p, 'size=256k');
    // 100000 steps of metrics.jsonl (~6 MB) cannot fit.
    const r = await p.run(['run', 'task.steps=100000', 'vidra.run.dir=runs/full']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('job failed: ENOSPC: no space left on device, write\njob failed; run directory: runs/full\n');
    expect(p.files('runs/full')).toEqual(['.vidra/config.yaml', '.vidra/overrides.yaml', '.vidra/resolved.yaml', '.vidra/vidra.yaml', 'job.log', 'metrics.jsonl', 'status.json']);
    const status = p.status('runs/full');
    expect(status).toMatchObject({ status: 'failed', error: { type: 'Error', message: 'ENOSPC: no space left on device, write' } });
    expect(parseYaml(p.read('runs/full/.vidra/vidra.yaml')).ended_at).toBe(status.ended_at);
    expect(p.read('runs/full/job.log')).toContain('][ERROR] job failed: ENOSPC: no space left on device, write\n');
  });

  test.skipIf(!canMount)('a full disk in a sweep: job 0 fails with ENOSPC, job 1 cannot start (its directory removed), summary.json says why', { timeout: T }, async () => {
    const p = makeProject();
    mountRuns(p, 'size=256k');
    const r = await p.run(['run', '-m', 'task.steps=100000', 'seed=1,2', 'vidra.sweep.dir=runs/sweep']);
    expect(r.code).toBe(1);
    const noRoom = `cannot write to the run directory '${p.path('runs/sweep/1')}' (vidra.sweep.subdir): no space left on device`;
    expect(r.stdout.split('\n').filter((l) => /^\d /.test(l))).toEqual([
      '0    failed  task.steps=100000 seed=1  runs/sweep/0  ENOSPC: no space left on device, write',
      `1    failed  task.steps=100000 seed=2  -             ${noRoom}`,
      '0 of 2 jobs completed; sweep directory: runs/sweep',
    ]);
    expect(p.runDirs()).toEqual(['runs/sweep/0']);
    expect(p.status('runs/sweep/0')).toMatchObject({ status: 'failed', error: { message: 'ENOSPC: no space left on device, write' } });
    const summary = p.json<{ jobs: Array<{ status: string; outputDir: string | null; error?: string }> }>('runs/sweep/summary.json');
    expect(summary.jobs.map((j) => [j.status, j.outputDir, j.error])).toEqual([
      ['failed', p.path('runs/sweep/0'), 'ENOSPC: no space left on device, write'],
      ['failed', null, noRoom],
    ]);
    expect(p.files('runs/sweep').filter((f) => /\.tmp-|\.status\.reserve/.test(f))).toEqual([]);
  });
});
