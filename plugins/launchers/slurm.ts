import { UsageError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import type { JobReturn, JobSpec, LaunchContext, Launcher } from '../../core/plugins/interfaces.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import type { RunEnvironment } from '../../core/launch/environment.ts';
import { SlurmFolder } from '../../core/slurm/folder.ts';
import { SLURM_SCHEMA, type SlurmOptions } from '../../core/slurm/options.ts';
import { cancelAndSettle } from '../../core/slurm/cancel.ts';
import { consoleLevel } from '../../core/run/progress.ts';
import { onInterrupt } from '../../core/run/signals.ts';
import { checkSubmission, submitJobs } from '../../core/slurm/submit.ts';
import { waitForJobs } from '../../core/slurm/watch.ts';

/**
 * Runs a sweep as Slurm job arrays (Hydra's submitit launcher, without Python): each batch is one
 * `sbatch --array`, whose tasks run their jobs with the normal job runner; the launcher waits, showing
 * progress, unless `wait` is false (`--detach`). Any task's jobs run this way: the launcher knows no task.
 */
@injectable()
export class SlurmLauncher implements Launcher {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: SlurmOptions) {
    // A signal due before the task starts would requeue it at once, max_num_timeout times over.
    if (options.max_num_timeout > 0 && options.signal_delay_s >= options.timeout_min * 60) {
      throw new UsageError(
        `vidra.launcher.signal_delay_s=${options.signal_delay_s} is not shorter than the time limit (timeout_min=${options.timeout_min}: ${options.timeout_min * 60} s): ` +
          `with max_num_timeout=${options.max_num_timeout} each task would requeue itself at once; give a delay below ${options.timeout_min * 60} s, or max_num_timeout=0`,
      );
    }
    checkSubmission(options);
  }

  async launch(jobs: JobSpec[], ctx: LaunchContext): Promise<JobReturn[]> {
    const folder = new SlurmFolder(ctx.sweepDir);
    const arrayId = submitJobs(folder, jobs, this.options, ctx.environment as RunEnvironment);
    const prefix = `[slurm ${arrayId}] `;
    process.stderr.write(`${prefix}submitted ${jobs.length} job${jobs.length === 1 ? '' : 's'} as array job ${arrayId}; logs in ${folder.logDir(this.options, (ctx.environment as RunEnvironment).cwd)}\n`);
    const nums = new Set(jobs.map((j) => j.num));
    if (!this.options.wait) return jobs.map((j) => ({ num: j.num, overrides: j.overrides, status: 'pending', outputDir: null }));
    // Ctrl-C (or SIGTERM/SIGHUP) while waiting: cancel the array; the tasks mark their jobs interrupted.
    const dispose = onInterrupt(() => {
      // Runs before the sweep records the interruption (newest handler first): tell it of every task that has
      // started since the last poll, so that the summary marks it interrupted rather than not started.
      for (const num of nums) {
        const rec = folder.task(num);
        if (rec?.array_job_id === arrayId && rec.output_dir) ctx.jobStarted(num, rec.output_dir);
      }
      return cancelAndSettle(folder, [arrayId], nums);
    });
    try {
      const states = await waitForJobs(folder, prefix, {
        pollS: this.options.poll_interval_s,
        signal: ctx.signal,
        nums,
        print: (line) => consoleLevel() !== 'quiet' && process.stderr.write(`${line}\n`),
        onRunning: (num, outputDir) => ctx.jobStarted(num, outputDir ?? undefined),
      });
      return states.filter((s) => nums.has(s.num)).map(({ reason: _reason, ...ret }) => ret);
    } finally {
      dispose();
    }
  }
}

export const plugin = definePlugin({
  kind: 'launcher',
  name: 'slurm',
  description: 'run the jobs of a sweep as a Slurm job array (sbatch), waiting and showing progress unless wait=false',
  schema: SLURM_SCHEMA,
  create: SlurmLauncher,
});
