import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../config/errors.ts';
import { prepareJob, runJob } from '../launch/job.ts';
import type { JobReturn, JobSpec } from '../plugins/interfaces.ts';
import { createRegistry } from '../plugins/loader.ts';
import type { PluginDefinition } from '../plugins/registry.ts';
import { JobLogger } from '../run/logger.ts';
import { onPreemptionSignal, saveForPreemption } from '../run/preemption.ts';
import { onInterrupt } from '../run/signals.ts';
import { SlurmFolder, type TaskRecord } from './folder.ts';
import { FINAL_STATES, PENDING_STATES, requeue, showJobSync } from './scontrol.ts';
import { markEnding, slurmEnding } from './state.ts';
import { LAST_CHECKPOINT, weightsFile } from '../engine/safetensors.ts';

/**
 * `vidra __slurm_task <sweep dir> <array index>`: what each array task runs. It reads its job from the
 * sweep's `.slurm/` folder and runs it with the normal job runner — a requeued or resubmitted task in the
 * directory it had — and writes its exit-status file at start, on Slurm's signals, and at the end.
 */
export async function runSlurmTask(argv: readonly string[], builtins: readonly PluginDefinition[]): Promise<number> {
  const [sweepDir, index] = argv;
  const env = process.env;
  if (!sweepDir || index === undefined || env.SLURM_ARRAY_TASK_ID === undefined || !env.SLURM_JOB_ID) {
    throw new UsageError('__slurm_task is internal to the slurm launcher: it runs inside a Slurm array task');
  }
  const folder = SlurmFolder.open(sweepDir);
  const { environment, options, jobs } = folder.jobsFile();
  const taskId = Number(env.SLURM_ARRAY_TASK_ID);
  const array = folder.arrays()[Number(index)]!;
  const num = array.nums[taskId]!;
  const job = jobs.find((j) => j.num === num)!;
  const arrayId = env.SLURM_ARRAY_JOB_ID ?? env.SLURM_JOB_ID;
  const previous = folder.task(num);
  const restarts = Number(env.SLURM_RESTART_COUNT ?? 0);
  const slurm = { job_id: env.SLURM_JOB_ID, array_job_id: arrayId, array_task_id: taskId, node: env.SLURMD_NODENAME ?? null, partition: env.SLURM_JOB_PARTITION ?? null };
  let record: TaskRecord = {
    num,
    phase: 'running',
    ...slurm,
    restarts,
    output_dir: previous?.output_dir ?? null,
    started_at: new Date().toISOString(),
    log: folder.logPaths(options, environment.cwd, arrayId, taskId),
  };
  const save = (patch: Partial<TaskRecord>) => folder.writeTask((record = { ...record, ...patch }));
  save({});

  let requeued = false;
  // USR1, signal_delay_s before the time limit: requeue while max_num_timeout allows, then Slurm's SIGTERM
  // stops the job (marked interrupted, resumable); else let the limit end it. A task Slurm preempts and
  // requeues itself (PreemptMode=REQUEUE) comes back the same way: into its directory, resuming. The job
  // saves first (the train task's checkpoint at its current step), since the requeue stops it.
  onPreemptionSignal(async () => {
    const log = record.output_dir ? new JobLogger(record.output_dir, { console: true }) : null;
    if (restarts >= options.max_num_timeout) {
      log?.warn(`Slurm signalled the end of the time limit; no requeue left (max_num_timeout=${options.max_num_timeout})`);
      return;
    }
    await saveForPreemption();
    try {
      save({ phase: 'requeued' });
      requeued = true;
      log?.warn(`Slurm signalled the end of the time limit: requeued (${restarts + 1} of max_num_timeout=${options.max_num_timeout})`);
      requeue(slurm.job_id!);
    } catch (err) {
      requeued = false;
      save({ phase: 'running' });
      log?.error(`scontrol requeue failed: ${(err as Error).message}`);
    }
  });
  // Registered before the job's own handler, so it runs after it (newest first): the job is marked first.
  const dispose = onInterrupt((signal) => {
    if (requeued) return;
    // Slurm may already say why (TIMEOUT, CANCELLED); if not yet, whoever watches the sweep adds it later.
    const t = showJobSync(slurm.job_id!);
    // Slurm requeues it itself (a node failure under JobRequeue, preemption): it comes back into its directory.
    if (t !== null && (PENDING_STATES.has(t.state) || t.restarts > restarts)) {
      if (record.output_dir) new JobLogger(record.output_dir, { console: false }).warn(`Slurm requeued the task (${t.state}, ${t.reason}): it runs again in this directory`);
      save({ phase: 'requeued' });
      requeued = true;
      return;
    }
    const known = t !== null && FINAL_STATES.has(t.state);
    const by = known ? slurmEnding(t, record.log.err) : { status: 'interrupted' as const, error: `interrupted by ${signal}` };
    // The job has just marked itself interrupted: a time limit or node failure makes that `failed`, with Slurm's reason.
    if (known && record.output_dir) markEnding(record.output_dir, by);
    save({ phase: 'ended', status: by.status, error: by.error, ended_at: new Date().toISOString(), ...(known ? { slurm_state: t.state } : {}) });
  });
  let ret: JobReturn;
  try {
    const registry = await createRegistry(builtins, environment.plugins, environment.pluginRoot);
    const resume = record.output_dir ? resumeOverride(job, record.output_dir, { env: environment, registry, mode: 'MULTIRUN', sweepDir: folder.sweepDir }) : null;
    ret = await runJob(resume ? { ...job, overrides: [...job.overrides, resume] } : job, {
      env: environment,
      registry,
      mode: 'MULTIRUN',
      sweepDir: folder.sweepDir,
      prefix: `[job ${num}]`,
      ...(record.output_dir ? { runDir: record.output_dir } : {}),
      meta: { slurm: { ...slurm, restarts } },
      onStart: (outputDir) => save({ output_dir: outputDir }),
    });
  } catch (err) {
    ret = { num, overrides: job.overrides, status: 'failed', outputDir: record.output_dir, error: (err as Error).message };
  } finally {
    dispose();
  }
  if (!requeued) save({ phase: 'ended', status: ret.status === 'completed' ? 'completed' : ret.status === 'interrupted' ? 'interrupted' : 'failed', ...(ret.error ? { error: ret.error } : {}), ended_at: new Date().toISOString() });
  return ret.status === 'completed' ? 0 : 1;
}

/**
 * A job that runs again in its directory (requeued, resubmitted) continues from its checkpoint: a task with
 * a `resume` setting left null (the train task's) gets `task.resume=<its run dir>` once that directory holds
 * `checkpoints/last.safetensors` (the train task's last checkpoint). Tasks without one resume from what their directory holds, or start over.
 */
function resumeOverride(job: JobSpec, dir: string, options: Parameters<typeof prepareJob>[1]): string | null {
  if (!existsSync(join(dir, 'checkpoints', weightsFile(LAST_CHECKPOINT)))) return null;
  const setting = prepareJob(job, options).task.entries.get('resume');
  if (setting?.kind !== 'value' || setting.value !== null) return null;
  return `task.resume='${dir.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
