import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { VidraError } from '../config/errors.ts';

const run = promisify(execFile);

/** One array task as `scontrol -o show job` reports it (a pending range of tasks is expanded). */
export interface SlurmTask {
  jobId: string;
  arrayJobId: string;
  arrayTaskId: number;
  /** PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL, … */
  state: string;
  /** Why it waits, or why it ended (`TimeLimit`, `NonZeroExitCode`, `JobArrayTaskLimit`, …). */
  reason: string;
  /** `exit:signal`. */
  exitCode: string;
  restarts: number;
  node: string | null;
  partition: string | null;
  timeLimit: string;
  /** The memory Slurm gives the job, as it writes it (`256M`, `4G`): per node (`--mem`), or per CPU (`--mem-per-cpu`, `DefMemPerCPU`); null when unlimited. */
  minMemoryNode: string | null;
  minMemoryCpu: string | null;
  stdout: string | null;
  stderr: string | null;
}

/** The `Key=Value` fields of one `scontrol -o` line (values without spaces, except the last fields'). */
function fields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z/:]+)=(\S*)/g)) if (!out.has(m[1]!)) out.set(m[1]!, m[2]!);
  return out;
}

/** `0-5%2`, `3,7-9`: the task ids of a pending array record. */
export function expandTaskIds(spec: string): number[] {
  const ids: number[] = [];
  for (const part of spec.split('%')[0]!.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let i = a!; i <= (b ?? a!); i++) ids.push(i);
  }
  return ids;
}

/** `0` (or nothing) is no limit. */
const memory = (v: string | null): string | null => (v === null || /^0[KMGT]?$/.test(v) ? null : v);

export function parseShowJob(text: string): SlurmTask[] {
  const tasks: SlurmTask[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('JobId=')) continue;
    const f = fields(line);
    const get = (k: string) => {
      const v = f.get(k);
      return v === undefined || v === '(null)' || v === '' ? null : v;
    };
    const base = {
      jobId: get('JobId')!,
      arrayJobId: get('ArrayJobId') ?? get('JobId')!,
      state: get('JobState') ?? 'UNKNOWN',
      reason: get('Reason') ?? 'None',
      exitCode: get('ExitCode') ?? '0:0',
      restarts: Number(get('Restarts') ?? 0),
      node: get('BatchHost') ?? get('NodeList'),
      partition: get('Partition'),
      timeLimit: get('TimeLimit') ?? 'UNLIMITED',
      minMemoryNode: memory(get('MinMemoryNode')),
      minMemoryCpu: memory(get('MinMemoryCPU')),
      stdout: get('StdOut'),
      stderr: get('StdErr'),
    };
    for (const id of expandTaskIds(get('ArrayTaskId') ?? '0')) tasks.push({ ...base, arrayTaskId: id });
  }
  return tasks;
}

/**
 * The tasks of the given array jobs that slurmctld still knows (it forgets finished ones after
 * MinJobAge): no accounting database is needed. An array id it no longer knows yields no tasks.
 */
export async function showArrays(arrayJobIds: readonly string[]): Promise<SlurmTask[]> {
  const out: SlurmTask[] = [];
  for (const id of arrayJobIds) {
    try {
      const { stdout } = await run('scontrol', ['-o', 'show', 'job', id], { maxBuffer: 64 * 1024 * 1024 });
      out.push(...parseShowJob(stdout).filter((t) => t.arrayJobId === id));
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new VidraError('scontrol is not on PATH: the slurm launcher needs the Slurm client commands (sbatch, scontrol, scancel)');
      if (/Invalid job id/i.test(e.stderr ?? '')) continue;
      throw new VidraError(`scontrol show job ${id} failed: ${(e.stderr ?? e.message).trim()}`);
    }
  }
  return out;
}

/** `scontrol -o show job $SLURM_JOB_ID` from inside a task, synchronously (for a signal handler); null when it fails. */
export function showJobSync(jobId: string): SlurmTask | null {
  try {
    return parseShowJob(execFileSync('scontrol', ['-o', 'show', 'job', jobId], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString())[0] ?? null;
  } catch {
    return null;
  }
}

/** sbatch said no; `reason` is its own words, without its `sbatch: error: ` prefixes and `--help` pointer. */
export class SbatchRefused extends VidraError {
  constructor(readonly reason: string) {
    super(`sbatch refused the job array: ${reason}`);
  }
}

/** `sbatch --parsable script`: the new job's id (`--test-only`: checks the script and submits nothing). */
export function sbatch(script: string, mode: '--parsable' | '--test-only' = '--parsable'): string {
  try {
    return execFileSync('sbatch', [mode, script], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim().split(';')[0]!;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new VidraError('sbatch is not on PATH: the slurm launcher needs the Slurm client commands (sbatch, scontrol, scancel)');
    const said = (e.stderr?.toString() || e.message).split('\n').map((l) => l.replace(/^sbatch: (error: )?/, '').trim());
    throw new SbatchRefused(said.filter((l) => l && !l.startsWith('Try "sbatch --help"')).join('; '));
  }
}

export function scancel(ids: readonly string[]): void {
  if (ids.length > 0) execFileSync('scancel', [...ids], { stdio: 'ignore' });
}

export function requeue(jobId: string): void {
  execFileSync('scontrol', ['requeue', jobId], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Slurm states after which a task runs no more (unless requeued). */
export const FINAL_STATES = new Set(['COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT']);
export const PENDING_STATES = new Set(['PENDING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD', 'SUSPENDED', 'CONFIGURING', 'RESIZING']);
