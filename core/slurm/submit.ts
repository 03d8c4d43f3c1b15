import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEnvironment } from '../launch/environment.ts';
import { packageRoot } from '../paths.ts';
import type { JobSpec } from '../plugins/interfaces.ts';
import type { SlurmFolder } from './folder.ts';
import type { SlurmOptions } from './options.ts';
import { explainRefusal } from './refusal.ts';
import { sbatch } from './scontrol.ts';
import { batchScript, carriedEnvironment } from './script.ts';

/**
 * Submits `nums` (jobs already recorded in the folder) as one `sbatch --array`; returns the array job id.
 * The script and the task → job table are written first: a task may start before sbatch returns.
 */
export function submitArray(folder: SlurmFolder, nums: readonly number[], options: SlurmOptions, env: RunEnvironment): string {
  const index = folder.arrays().length;
  const logDir = folder.logDir(options, env.cwd);
  mkdirSync(logDir, { recursive: true });
  const script = join(folder.dir, `array-${index}.sh`);
  writeFileSync(
    script,
    batchScript({
      options,
      tasks: nums.length,
      logDir,
      cwd: env.cwd,
      command: [process.execPath, join(packageRoot(), 'bin', 'vidra.mjs'), '__slurm_task', folder.sweepDir, String(index)],
      env: carriedEnvironment(process.env),
    }),
  );
  folder.addArray({ array_job_id: null, nums: [...nums], submitted_at: new Date().toISOString(), script });
  let id: string;
  try {
    id = explainRefusal(options, () => sbatch(script));
  } catch (err) {
    // Recorded, so that `vidra status` says why these jobs never started.
    folder.setArrayError(index, (err as Error).message);
    throw err;
  }
  folder.setArrayId(index, id);
  return id;
}

/**
 * `sbatch --test-only` on a one-task array of these settings, before the sweep directory exists: a partition,
 * account or extra `#SBATCH` line the cluster refuses is a config error that leaves nothing behind.
 */
export function checkSubmission(options: SlurmOptions): void {
  const dir = mkdtempSync(join(tmpdir(), 'vidra-sbatch-'));
  try {
    const script = join(dir, 'check.sh');
    writeFileSync(script, batchScript({ options, tasks: 1, logDir: dir, cwd: dir, command: ['true'], env: {} }));
    explainRefusal(options, () => sbatch(script, '--test-only'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records a sweep batch and submits it (the launcher's first submission of these jobs). */
export function submitJobs(folder: SlurmFolder, jobs: readonly JobSpec[], options: SlurmOptions, env: RunEnvironment): string {
  folder.addJobs(env, options, jobs);
  return submitArray(folder, jobs.map((j) => j.num), options, env);
}
