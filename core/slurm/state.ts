import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { JobReturn } from '../plugins/interfaces.ts';
import { StatusFile, type StatusRecord } from '../run/status.ts';
import type { SlurmFolder, TaskRecord } from './folder.ts';
import { FINAL_STATES, PENDING_STATES, showArrays, type SlurmTask } from './scontrol.ts';

/** A sweep job as Slurm and its files say: `pending` and `running` are not final. */
export interface JobState extends JobReturn {
  /** Why a pending task waits (Slurm's reason: Priority, Resources, JobArrayTaskLimit, BeginTime). */
  reason?: string;
}

const isFinal = (s: JobReturn['status']) => s === 'completed' || s === 'failed' || s === 'interrupted' || s === 'not_started';

export const finalState = (j: JobState): boolean => isFinal(j.status);

/** Slurm's account of a task that ended without saying so itself (killed: time limit, OOM, node failure, scancel). */
export function slurmEnding(
  t: Pick<SlurmTask, 'state' | 'reason' | 'exitCode' | 'timeLimit' | 'minMemoryNode' | 'minMemoryCpu'>,
  log: string,
): { status: 'failed' | 'interrupted'; error: string } {
  const where = `; log: ${log}`;
  switch (t.state) {
    case 'TIMEOUT':
      return { status: 'failed', error: `TIMEOUT: the time limit (${t.timeLimit}) was reached${where}` };
    case 'CANCELLED':
      return { status: 'interrupted', error: `CANCELLED (scancel)${where}` };
    case 'OUT_OF_MEMORY': {
      // With cgroups (task/cgroup) the kernel's OOM killer ends the task and Slurm says so; slurmstepd's
      // line in the log counts the kills.
      const said = stepdErrors(log);
      return { status: 'failed', error: `OUT_OF_MEMORY: the task went over its memory limit${memoryLimit(t)}${said ? `; slurmstepd: ${said}` : ''}${where}` };
    }
    default: {
      // Without cgroups Slurm kills a task over its memory limit (OverMemoryKill) as FAILED: its log says why.
      const said = stepdErrors(log);
      return { status: 'failed', error: `${t.state}${t.reason && t.reason !== 'None' ? ` (${t.reason})` : ''}, exit code ${t.exitCode}${said ? `: ${said}` : ''}${where}` };
    }
  }
}

/** ` of 256M a node; raise vidra.launcher.mem_gb`: the limit the job had and the key that sets it (`--mem`, which also replaces a per-CPU limit). */
function memoryLimit(t: Pick<SlurmTask, 'minMemoryNode' | 'minMemoryCpu'>): string {
  if (t.minMemoryNode) return ` of ${t.minMemoryNode} a node; raise vidra.launcher.mem_gb`;
  if (t.minMemoryCpu) return ` of ${t.minMemoryCpu} a CPU; raise vidra.launcher.mem_gb (or mem_per_cpu)`;
  return '; raise vidra.launcher.mem_gb';
}

/** slurmstepd's own error lines at the end of a task's log (`StepId=7.batch exceeded memory limit ...`), but its `*** JOB ... ***` banner. */
function stepdErrors(log: string): string {
  let text: string;
  try {
    const size = statSync(log).size;
    const fd = openSync(log, 'r');
    const buf = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    closeSync(fd);
    text = buf.toString('utf8');
  } catch {
    return '';
  }
  const lines = [...text.matchAll(/^slurmstepd[^:]*: error: (.+)$/gm)].map((m) => m[1]!.trim()).filter((l) => !l.startsWith('***'));
  return [...new Set(lines)].join('; ');
}

/**
 * Records Slurm's ending of a task in its run directory: a cancelled job `interrupted` (scancel's SIGTERM,
 * as Ctrl-C leaves a local one); any other `failed` with Slurm's reason, over the `interrupted` its process
 * wrote on Slurm's SIGTERM (a time limit is not a stop to resume from).
 */
export function markEnding(dir: string, ending: { status: 'failed' | 'interrupted'; error: string }): void {
  if (ending.status === 'interrupted') StatusFile.markDead(dir, { signal: 'SIGTERM', interrupted: true, message: ending.error });
  else StatusFile.markKilled(dir, { type: 'SlurmKilled', message: ending.error });
}

function readStatus(dir: string | null): StatusRecord | null {
  if (!dir || !existsSync(join(dir, 'status.json'))) return null;
  try {
    return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as StatusRecord;
  } catch {
    return null;
  }
}

/**
 * Every job of the sweep, from `scontrol` while Slurm knows its task and from the task's exit-status file
 * after. A task Slurm ended (TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, CANCELLED) before it could say so is
 * recorded here: its exit-status file and its run directory's status.json get Slurm's reason.
 */
export async function collectStates(folder: SlurmFolder): Promise<JobState[]> {
  const { jobs, options, environment } = folder.jobsFile();
  const arrays = folder.arrays();
  const slurm = await showArrays(arrays.map((a) => a.array_job_id).filter((id): id is string => id !== null));
  const byTask = new Map(slurm.map((t) => [`${t.arrayJobId}_${t.arrayTaskId}`, t]));
  return jobs.map((job) => {
    const base = { num: job.num, overrides: job.overrides };
    let arrayId: string | null = null;
    let taskId = -1;
    let refused: string | undefined;
    for (const a of arrays) {
      const i = a.nums.indexOf(job.num);
      // An array sbatch refused ran nothing: the job is where an earlier submission left it.
      if (i >= 0 && a.error) refused = a.error;
      else if (i >= 0) [arrayId, taskId, refused] = [a.array_job_id, i, undefined];
    }
    if (arrayId === null) return { ...base, status: 'not_started', outputDir: null, error: refused ? `not submitted: ${refused}` : 'not submitted' };
    let rec: TaskRecord | null = folder.task(job.num);
    // A record of an earlier submission (before `vidra resubmit`) only says where the job's directory is.
    const outputDir = rec?.output_dir ?? null;
    if (rec && rec.array_job_id !== arrayId) rec = null;
    const t = byTask.get(`${arrayId}_${taskId}`);
    const log = folder.logPaths(options, environment.cwd, arrayId, taskId).err;
    // Slurm requeued the task after it ended (a node failure with JobRequeue, preemption): it runs again.
    const requeued = rec?.phase === 'ended' && t !== undefined && !FINAL_STATES.has(t.state) && t.restarts > rec.restarts;
    if (rec?.phase === 'ended' && !requeued) {
      // SIGTERM came before slurmctld said why (time limit, scancel): wait for Slurm's final state, which says it.
      const unexplained = rec.status === 'interrupted' && !rec.slurm_state && t !== undefined;
      if (unexplained && !FINAL_STATES.has(t.state)) return { ...base, status: 'running', outputDir, reason: t.state };
      if (unexplained && t.state !== 'COMPLETED' && t.state !== 'FAILED') {
        const ending = slurmEnding(t, log);
        if (outputDir) markEnding(outputDir, ending);
        rec = { ...rec, ...ending, slurm_state: t.state };
        folder.writeTask(rec);
      }
      return ended(base, rec, outputDir);
    }
    if (t && !FINAL_STATES.has(t.state)) {
      if (PENDING_STATES.has(t.state)) return { ...base, status: 'pending', outputDir, reason: t.reason };
      return { ...base, status: rec?.phase === 'running' ? 'running' : 'pending', outputDir, reason: t.reason };
    }
    // Ended without its exit-status file: killed by Slurm, or never started (cancelled while pending).
    const ending = t
      ? slurmEnding(t, log)
      : { status: 'failed' as const, error: `the task left Slurm's queue without writing its exit status; log: ${log}` };
    if (rec) {
      if (rec.output_dir) markEnding(rec.output_dir, ending);
      rec = { ...rec, phase: 'ended', status: ending.status, error: ending.error, slurm_state: t?.state ?? 'UNKNOWN', ended_at: new Date().toISOString() };
      folder.writeTask(rec);
      return ended(base, rec, outputDir);
    }
    if (t?.state === 'CANCELLED') return { ...base, status: 'not_started', outputDir, error: `CANCELLED before it started; log: ${log}` };
    return { ...base, status: ending.status, outputDir, error: ending.error };
  });
}

function ended(base: Pick<JobReturn, 'num' | 'overrides'>, rec: TaskRecord, outputDir: string | null): JobState {
  const status = readStatus(outputDir);
  const out: JobState = { ...base, status: rec.status ?? 'failed', outputDir };
  if (rec.error) out.error = rec.error;
  if (rec.status === 'completed' && status?.result) out.result = status.result;
  return out;
}
