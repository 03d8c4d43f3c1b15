// The private Slurm of the Slurm suite (test/slurm/cluster.mjs): it confines memory with cgroups where the
// cgroup v1 memory and freezer hierarchies are writable, as real clusters do (a task over its limit ends
// OUT_OF_MEMORY), and otherwise, or with VIDRA_TEST_SLURM_CGROUPS=off, with OverMemoryKill (it ends FAILED).
// Skipped, with the reason in its name, where Slurm cannot start (not root, no apt).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { memoryMode, startCluster, type Cluster, type MemoryMode } from './cluster.mjs';

const work = mkdtempSync(join(tmpdir(), 'vidra-cluster-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What /proc/mounts says: a cgroup v1 hierarchy of that controller, mounted read-write at /sys/fs/cgroup/<name>, and root to write it. */
function v1Writable(name: string): boolean {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '));
  return process.getuid?.() === 0 && mounts.some(([, at, type, opts]) => at === `/sys/fs/cgroup/${name}` && type === 'cgroup' && opts!.split(',').includes('rw') && opts!.split(',').includes(name));
}
const expected: MemoryMode = v1Writable('memory') && v1Writable('freezer') ? 'cgroup' : 'overmemorykill';

/** Runs `fn` with VIDRA_TEST_SLURM_CGROUPS set as given (this file's worker only), restoring it after. */
async function withCgroupsEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.VIDRA_TEST_SLURM_CGROUPS;
  if (value === undefined) delete process.env.VIDRA_TEST_SLURM_CGROUPS;
  else process.env.VIDRA_TEST_SLURM_CGROUPS = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.VIDRA_TEST_SLURM_CGROUPS;
    else process.env.VIDRA_TEST_SLURM_CGROUPS = before;
  }
}

let unavailable = '';
try {
  (await startCluster()).stop();
} catch (err) {
  unavailable = (err as Error).message;
  process.stderr.write(`Slurm cluster tests skipped: ${unavailable}\n`);
}

/** Submits a batch script and waits for its final state; returns `scontrol -o show job` and the job's output. */
async function batch(c: Cluster, name: string, lines: string[]): Promise<{ show: string; out: string }> {
  const env = { ...process.env, ...c.env };
  const script = join(work, `${name}.sh`);
  const out = join(work, `${name}.out`);
  writeFileSync(script, ['#!/bin/bash', `#SBATCH --output=${out}`, ...lines, ''].join('\n'));
  const submitted = spawnSync('sbatch', ['--parsable', script], { env, encoding: 'utf8' });
  expect(submitted.status, submitted.stderr).toBe(0);
  const id = submitted.stdout.trim();
  for (let i = 0; i < 240; i++) {
    const show = spawnSync('scontrol', ['-o', 'show', 'job', id], { env, encoding: 'utf8' }).stdout;
    if (/JobState=(COMPLETED|FAILED|OUT_OF_MEMORY|CANCELLED|TIMEOUT|NODE_FAIL)\b/.test(show)) return { show, out: existsSync(out) ? readFileSync(out, 'utf8') : '' };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`job ${id} did not end within 60 s`);
}

const cgroupDirs = (node: string) => ['memory', 'freezer', 'cpuset', 'cpuacct', 'devices'].map((h) => `/sys/fs/cgroup/${h}/slurm_${node}`);
// Holds ~200 MB for two seconds: over a 64 MB limit long enough for OverMemoryKill's one-second sampling too.
const HOG = ['#SBATCH --mem=64M', "x=$(head -c 200000000 /dev/zero | tr '\\0' a); sleep 2; echo held ${#x}"];

describe('memoryMode: how the test cluster would enforce memory here', () => {
  test(`cgroup where the cgroup v1 memory and freezer hierarchies are writable (here: ${expected}); overmemorykill with VIDRA_TEST_SLURM_CGROUPS=off`, () => {
    expect(memoryMode({})).toBe(expected);
    expect(memoryMode({ VIDRA_TEST_SLURM_CGROUPS: 'on' })).toBe(expected);
    expect(memoryMode({ VIDRA_TEST_SLURM_CGROUPS: 'off' })).toBe('overmemorykill');
  });
});

describe.skipIf(unavailable !== '')(`startCluster in each memory mode${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  test.skipIf(expected !== 'cgroup')('with cgroups: jobs run in slurm_<node> cgroups, a job over its memory ends OUT_OF_MEMORY, and stop removes the cgroups so a second start works', { timeout: 150_000 }, async () => {
    for (const round of [1, 2]) {
      const c = await withCgroupsEnv(undefined, () => startCluster());
      try {
        expect(c.memory).toBe('cgroup');
        expect(c.node).toMatch(/^vidra\d+n\d+$/);
        const conf = readFileSync(join(c.dir, 'slurm.conf'), 'utf8');
        expect(conf).toContain('ProctrackType=proctrack/cgroup\nTaskPlugin=task/cgroup\n');
        expect(conf).not.toContain('OverMemoryKill');
        expect(readFileSync(join(c.dir, 'cgroup.conf'), 'utf8')).toContain('CgroupPlugin=cgroup/v1\n');
        const ok = await batch(c, `cgroup-${round}`, ['#SBATCH --mem=100M', 'cat /proc/self/cgroup']);
        expect(ok.show).toContain('JobState=COMPLETED');
        expect(ok.out).toMatch(new RegExp(`^\\d+:memory:/slurm_${c.node}/uid_0/job_\\d+/step_batch`, 'm'));
        expect(ok.out).toMatch(new RegExp(`^\\d+:freezer:/slurm_${c.node}/uid_0/job_\\d+/step_batch`, 'm'));
        const hog = await batch(c, `cgroup-hog-${round}`, HOG);
        expect(hog.show).toContain('JobState=OUT_OF_MEMORY Reason=OutOfMemory');
        expect(hog.show).toContain('MinMemoryNode=64M');
        expect(hog.out).toMatch(/slurmstepd-vidra\d+n\d+: error: Detected \d+ oom-kill event\(s\) in StepId=\d+\.batch/);
      } finally {
        c.stop();
      }
      expect(cgroupDirs(c.node).filter((d) => existsSync(d))).toEqual([]);
      expect(existsSync(c.dir)).toBe(false);
    }
  });

  test('with VIDRA_TEST_SLURM_CGROUPS=off: linuxproc and OverMemoryKill; a job over its memory ends FAILED, killed by slurmstepd', { timeout: 120_000 }, async () => {
    const c = await withCgroupsEnv('off', () => startCluster());
    try {
      expect(c.memory).toBe('overmemorykill');
      const conf = readFileSync(join(c.dir, 'slurm.conf'), 'utf8');
      expect(conf).toContain('ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n');
      expect(conf).toContain('JobAcctGatherParams=OverMemoryKill\n');
      expect(existsSync(join(c.dir, 'cgroup.conf'))).toBe(false);
      const ok = await batch(c, 'off', ['#SBATCH --mem=100M', 'cat /proc/self/cgroup']);
      expect(ok.show).toContain('JobState=COMPLETED');
      expect(ok.out).not.toContain(`slurm_${c.node}`);
      const hog = await batch(c, 'off-hog', HOG);
      expect(hog.show).toContain('JobState=FAILED');
      expect(hog.out).toMatch(/slurmstepd-vidra\d+n\d+: error: StepId=\d+\.batch exceeded memory limit \(\d+ > 67108864\), being killed/);
    } finally {
      c.stop();
    }
    expect(cgroupDirs(c.node).filter((d) => existsSync(d))).toEqual([]);
  });
});
