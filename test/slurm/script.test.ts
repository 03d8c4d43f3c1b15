// The batch script the slurm launcher submits, and the parsing of `scontrol -o show job` — without a cluster.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseShowJob, expandTaskIds } from '../../core/slurm/scontrol.ts';
import { slurmEnding } from '../../core/slurm/state.ts';
import type { SlurmOptions } from '../../core/slurm/options.ts';
import { batchScript, carriedEnvironment, shellQuote } from '../../core/slurm/script.ts';
import { progressLine } from '../../core/slurm/watch.ts';
import { refusalHint } from '../../core/slurm/refusal.ts';

const defaults: SlurmOptions = {
  timeout_min: 60,
  cpus_per_task: null,
  gpus_per_node: null,
  tasks_per_node: 1,
  mem_gb: null,
  nodes: 1,
  name: 'vidra',
  partition: null,
  qos: null,
  comment: null,
  constraint: null,
  exclude: null,
  gres: null,
  cpus_per_gpu: null,
  gpus_per_task: null,
  mem_per_gpu: null,
  mem_per_cpu: null,
  account: null,
  signal_delay_s: 120,
  max_num_timeout: 0,
  additional_parameters: {},
  array_parallelism: 256,
  setup: [],
  log_dir: null,
  wait: true,
  poll_interval_s: 2,
};

describe('batchScript', () => {
  test('every submitit-named key becomes its #SBATCH line; null keys say nothing; exec runs the task', () => {
    const script = batchScript({
      options: {
        ...defaults,
        timeout_min: 90,
        cpus_per_task: 8,
        gpus_per_node: 2,
        mem_gb: 32,
        partition: 'gpu',
        qos: 'high',
        comment: 'lr sweep',
        constraint: 'a100',
        exclude: 'node[1-2]',
        gres: 'gpu:2',
        cpus_per_gpu: 4,
        gpus_per_task: 1,
        mem_per_gpu: '16G',
        mem_per_cpu: '2G',
        account: 'vision',
        max_num_timeout: 3,
        array_parallelism: 4,
        additional_parameters: { 'mail-type': 'END', exclusive: true },
        setup: ['module load cuda', 'echo "ready"'],
      },
      tasks: 6,
      logDir: '/s/.slurm',
      cwd: "/home/me/my project",
      command: ['/usr/bin/node', '/v/bin/vidra.mjs', '__slurm_task', '/s', '0'],
      env: { PATH: '/usr/bin:/bin', VIDRA_X: "it's" },
    });
    expect(script).toBe(
      [
        '#!/bin/bash',
        '#SBATCH --job-name=vidra',
        '#SBATCH --array=0-5%4',
        '#SBATCH --output=/s/.slurm/%A_%a.out',
        '#SBATCH --error=/s/.slurm/%A_%a.err',
        '#SBATCH --open-mode=append',
        '#SBATCH --time=90',
        '#SBATCH --nodes=1',
        '#SBATCH --ntasks-per-node=1',
        '#SBATCH --cpus-per-task=8',
        '#SBATCH --gpus-per-node=2',
        '#SBATCH --mem=32768M',
        '#SBATCH --partition=gpu',
        '#SBATCH --qos=high',
        '#SBATCH --comment="lr sweep"',
        '#SBATCH --constraint=a100',
        '#SBATCH --exclude=node[1-2]',
        '#SBATCH --gres=gpu:2',
        '#SBATCH --cpus-per-gpu=4',
        '#SBATCH --gpus-per-task=1',
        '#SBATCH --mem-per-gpu=16G',
        '#SBATCH --mem-per-cpu=2G',
        '#SBATCH --account=vision',
        '#SBATCH --signal=B:USR1@120',
        '#SBATCH --requeue',
        '#SBATCH --mail-type=END',
        '#SBATCH --exclusive',
        '',
        'export PATH=/usr/bin:/bin',
        "export VIDRA_X='it'\\''s'",
        "cd '/home/me/my project'",
        'module load cuda',
        'echo "ready"',
        'exec /usr/bin/node /v/bin/vidra.mjs __slurm_task /s 0',
        '',
      ].join('\n'),
    );
  });

  test('signal_delay_s=0 sends no signal; max_num_timeout=0 asks no requeue', () => {
    const script = batchScript({ options: { ...defaults, signal_delay_s: 0 }, tasks: 1, logDir: 'logs', cwd: '/p', command: ['node'], env: {} });
    expect(script).not.toContain('--signal');
    expect(script).not.toContain('--requeue');
    expect(script).toContain('#SBATCH --output=/p/logs/%A_%a.out\n');
  });

  test('the task gets PATH, NODE_OPTIONS and VIDRA_* of the submitting shell', () => {
    expect(carriedEnvironment({ PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=8000', VIDRA_FULL_ERROR: '1', HOME: '/root', SLURM_JOB_ID: '3' })).toEqual({
      PATH: '/bin',
      NODE_OPTIONS: '--max-old-space-size=8000',
      VIDRA_FULL_ERROR: '1',
    });
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote('seed=1,2')).toBe('seed=1,2');
  });
});

describe('scontrol -o show job', () => {
  test('a pending range is expanded into its tasks; ended tasks keep state, reason and exit code', () => {
    const text = [
      'JobId=12 ArrayJobId=10 ArrayTaskId=2 JobName=vidra JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 ExitCode=0:15 TimeLimit=00:01:00 Partition=debug NodeList=vidra0 BatchHost=vidra0 StdErr=/s/.slurm/10_2.err StdOut=/s/.slurm/10_2.out',
      'JobId=10 ArrayJobId=10 ArrayTaskId=3-5,7%2 JobName=vidra JobState=PENDING Reason=JobArrayTaskLimit Restarts=0 ExitCode=0:0 TimeLimit=01:00:00 Partition=debug NodeList=(null) StdErr=/s/.slurm/10_4294967294.err',
      '',
    ].join('\n');
    const tasks = parseShowJob(text);
    expect(tasks.map((t) => [t.arrayTaskId, t.state, t.reason])).toEqual([
      [2, 'TIMEOUT', 'TimeLimit'],
      [3, 'PENDING', 'JobArrayTaskLimit'],
      [4, 'PENDING', 'JobArrayTaskLimit'],
      [5, 'PENDING', 'JobArrayTaskLimit'],
      [7, 'PENDING', 'JobArrayTaskLimit'],
    ]);
    expect(tasks[0]).toMatchObject({ jobId: '12', arrayJobId: '10', exitCode: '0:15', timeLimit: '00:01:00', node: 'vidra0', partition: 'debug' });
    expect(tasks[1]!.node).toBe(null);
    expect(expandTaskIds('0-2%1')).toEqual([0, 1, 2]);
  });

  test('the memory limit: per node (--mem) or per CPU (--mem-per-cpu, DefMemPerCPU); 0 is none', () => {
    const [node, cpu, none] = parseShowJob(
      [
        'JobId=7 ArrayJobId=7 ArrayTaskId=0 JobState=OUT_OF_MEMORY Reason=OutOfMemory ExitCode=0:125 MinCPUsNode=1 MinMemoryNode=256M MinTmpDiskNode=0',
        'JobId=8 ArrayJobId=8 ArrayTaskId=0 JobState=RUNNING Reason=None ExitCode=0:0 MinCPUsNode=1 MinMemoryCPU=1000M MinTmpDiskNode=0',
        'JobId=9 ArrayJobId=9 ArrayTaskId=0 JobState=RUNNING Reason=None ExitCode=0:0 MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0',
      ].join('\n'),
    );
    expect([node!.minMemoryNode, node!.minMemoryCpu]).toEqual(['256M', null]);
    expect([cpu!.minMemoryNode, cpu!.minMemoryCpu]).toEqual([null, '1000M']);
    expect([none!.minMemoryNode, none!.minMemoryCpu]).toEqual([null, null]);
  });
});

describe('slurmEnding: Slurm\'s reason for a task it ended', () => {
  test('OUT_OF_MEMORY names the limit and the key to raise, and quotes slurmstepd from the log', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidra-ending-'));
    try {
      const log = join(dir, '7_0.err');
      writeFileSync(
        log,
        '[INFO] job started\nslurmstepd-vidra0: error: Detected 1 oom-kill event(s) in StepId=7.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.\n',
      );
      const oom = { state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', exitCode: '0:125', timeLimit: '01:00:00', minMemoryNode: '256M', minMemoryCpu: null };
      expect(slurmEnding(oom, log)).toEqual({
        status: 'failed',
        error: `OUT_OF_MEMORY: the task went over its memory limit of 256M a node; raise vidra.launcher.mem_gb; slurmstepd: Detected 1 oom-kill event(s) in StepId=7.batch. Some of your processes may have been killed by the cgroup out-of-memory handler.; log: ${log}`,
      });
      expect(slurmEnding({ ...oom, minMemoryNode: null, minMemoryCpu: '1000M' }, join(dir, 'none.err')).error).toBe(
        `OUT_OF_MEMORY: the task went over its memory limit of 1000M a CPU; raise vidra.launcher.mem_gb (or mem_per_cpu); log: ${join(dir, 'none.err')}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('progress', () => {
  test('counts, the reasons pending tasks wait for, elapsed time and the ETA from the pace so far', () => {
    const job = (status: string, reason?: string) => ({ num: 0, overrides: [], outputDir: null, status, ...(reason ? { reason } : {}) }) as never;
    expect(progressLine([job('pending', 'JobArrayTaskLimit'), job('running'), job('completed'), job('failed')], 65)).toBe(
      '1 pending (JobArrayTaskLimit), 1 running, 1 completed, 1 failed; elapsed 1:05, ETA 1:05',
    );
    expect(progressLine([job('pending', 'None')], 3)).toBe('1 pending, 0 running, 0 completed, 0 failed; elapsed 0:03, ETA ?');
  });
});

describe('refusalHint: the settings an sbatch refusal points at', () => {
  test('a flag it names, a topic it names (set or left to the cluster), or nothing', () => {
    expect(refusalHint("unrecognized option '--mail-typo=END'", { ...defaults, additional_parameters: { mail_typo: 'END' } })).toBe('; check vidra.launcher.additional_parameters.mail_typo=END');
    expect(refusalHint('Invalid --time specification', defaults)).toBe('; check vidra.launcher.timeout_min=60');
    expect(refusalHint('Batch job submission failed: Invalid account or account/partition combination specified', { ...defaults, partition: 'gpu' })).toBe(
      "; check vidra.launcher.account (not set: the cluster's default applies)",
    );
    expect(refusalHint('Batch job submission failed: Memory required by task is not available', { ...defaults, mem_gb: 900, mem_per_cpu: '8G' })).toBe(
      '; check vidra.launcher.mem_gb=900 or vidra.launcher.mem_per_cpu=8G',
    );
    expect(refusalHint('Batch job submission failed: Requested node configuration is not available', { ...defaults, cpus_per_task: 512 })).toBe(
      '; check vidra.launcher.nodes=1 or vidra.launcher.tasks_per_node=1 or vidra.launcher.cpus_per_task=512',
    );
    expect(refusalHint('Batch job submission failed: Slurm temporarily unable to accept job, sleeping and retrying', defaults)).toBe('');
  });
});
