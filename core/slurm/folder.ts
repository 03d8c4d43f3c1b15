import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VidraError } from '../config/errors.ts';
import type { RunEnvironment } from '../launch/environment.ts';
import type { JobSpec } from '../plugins/interfaces.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import type { SlurmOptions } from './options.ts';

/** One `sbatch --array`: which sweep job each array task runs. */
export interface ArrayRecord {
  /** null until sbatch has answered. */
  array_job_id: string | null;
  /** nums[task id] is the job number that array task runs. */
  nums: number[];
  submitted_at: string;
  script: string;
  /** sbatch refused the array (its reason): none of its tasks ran. */
  error?: string;
}

/** A task's exit-status file, `.slurm/tasks/<num>.json`: written when it starts, requeues and ends. */
export interface TaskRecord {
  num: number;
  phase: 'running' | 'requeued' | 'ended';
  array_job_id: string;
  array_task_id: number;
  job_id: string;
  node: string | null;
  partition: string | null;
  restarts: number;
  output_dir: string | null;
  started_at: string;
  ended_at?: string;
  /** For `ended`: the job's status (as its status.json), and why when it did not complete. */
  status?: 'completed' | 'failed' | 'interrupted';
  error?: string;
  /** Slurm's state when the task ended other than by itself (TIMEOUT, CANCELLED, OUT_OF_MEMORY, …). */
  slurm_state?: string;
  log: { out: string; err: string };
}

interface JobsFile {
  environment: RunEnvironment;
  options: SlurmOptions;
  jobs: JobSpec[];
}

/**
 * The sweep's `.slurm/` folder — what each array task must run, and what it did — so that watching,
 * `vidra status` and `vidra resubmit` need no Slurm accounting database (submitit's design).
 */
export class SlurmFolder {
  readonly dir: string;

  constructor(readonly sweepDir: string) {
    this.dir = join(sweepDir, '.slurm');
  }

  static open(sweepDir: string): SlurmFolder {
    const folder = new SlurmFolder(resolve(sweepDir));
    if (!existsSync(join(folder.dir, 'jobs.json'))) {
      throw new VidraError(`'${sweepDir}' is not a sweep directory of the slurm launcher (it has no .slurm/jobs.json); give the directory 'vidra run -m vidra/launcher=slurm' printed`);
    }
    return folder;
  }

  /** A JSON file of the folder, or null when it is not there (yet). */
  private read<T>(name: string): T | null {
    const path = join(this.dir, name);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
  }

  private write(name: string, value: unknown): void {
    mkdirSync(join(this.dir, name, '..'), { recursive: true });
    writeFileAtomic(join(this.dir, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  jobsFile(): JobsFile {
    const file = this.read<JobsFile>('jobs.json');
    if (!file) throw new VidraError(`${join(this.dir, 'jobs.json')} does not exist`);
    return file;
  }

  /** Adds a batch of the sweep's jobs (the options and environment are the sweep's, the same for every batch). */
  addJobs(environment: RunEnvironment, options: SlurmOptions, jobs: readonly JobSpec[]): void {
    const prev = this.read<JobsFile>('jobs.json');
    const known = new Map((prev?.jobs ?? []).map((j) => [j.num, j]));
    for (const j of jobs) known.set(j.num, j);
    this.write('jobs.json', { environment, options, jobs: [...known.values()].sort((a, b) => a.num - b.num) });
  }

  arrays(): ArrayRecord[] {
    return this.read<ArrayRecord[]>('arrays.json') ?? [];
  }

  /** Records an array before sbatch (its tasks read their job numbers from it); returns its index. */
  addArray(record: ArrayRecord): number {
    const arrays = this.arrays();
    arrays.push(record);
    this.write('arrays.json', arrays);
    return arrays.length - 1;
  }

  setArrayId(index: number, id: string): void {
    this.updateArray(index, { array_job_id: id });
  }

  setArrayError(index: number, error: string): void {
    this.updateArray(index, { error });
  }

  private updateArray(index: number, patch: Partial<ArrayRecord>): void {
    const arrays = this.arrays();
    arrays[index] = { ...arrays[index]!, ...patch };
    this.write('arrays.json', arrays);
  }

  task(num: number): TaskRecord | null {
    return this.read<TaskRecord>(`tasks/${num}.json`);
  }

  writeTask(record: TaskRecord): void {
    this.write(`tasks/${record.num}.json`, record);
  }

  taskNums(): number[] {
    const dir = join(this.dir, 'tasks');
    return existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.json$/.test(f)).map((f) => Number(f.slice(0, -5))) : [];
  }

  logDir(options: SlurmOptions, cwd: string): string {
    return options.log_dir === null ? this.dir : resolve(cwd, options.log_dir);
  }

  /** Where array task `taskId` of `arrayId` writes its stdout and stderr (`%A_%a.out|err`). */
  logPaths(options: SlurmOptions, cwd: string, arrayId: string, taskId: number): { out: string; err: string } {
    const base = join(this.logDir(options, cwd), `${arrayId}_${taskId}`);
    return { out: `${base}.out`, err: `${base}.err` };
  }
}
