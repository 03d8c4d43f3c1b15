import type { Config } from '../config/config.ts';
import type { JobLogger } from '../run/logger.ts';
import type { JobStatus } from '../run/status.ts';

/** What a running job gives its task (inject it with `@inject(JOB_CONTEXT)`). */
export interface JobContext {
  /** The job's config (interpolations resolve on read). */
  config: Config;
  /** Absolute path of the job's run directory. */
  outputDir: string;
  /** Job number in a sweep, 0 for a single run. */
  jobNum: number;
  log: JobLogger;
  /** Aborted on SIGINT/SIGTERM/SIGHUP: long tasks should check it between steps. */
  signal: AbortSignal;
  /**
   * Records a fact about the run in `.vidra/vidra.yaml` under `recorded.<key>` (written at once, atomically):
   * e.g. the execution provider the engine actually used.
   */
  record(key: string, value: unknown): void;
}

/** A task (the `task` config group) is what a job runs. Its result's values are shown in the sweep summary. */
export interface Task {
  run(): Promise<Record<string, unknown> | void>;
}

/** One job of a sweep: its number and the overrides that make it. */
export interface JobSpec {
  num: number;
  overrides: string[];
}

export interface JobReturn {
  num: number;
  overrides: string[];
  /** `pending`: submitted to a scheduler and not started yet (the slurm launcher, detached). */
  status: JobStatus | 'not_started' | 'pending';
  outputDir: string | null;
  error?: string;
  result?: Record<string, unknown>;
}

/** Runs jobs of a multirun: given by the launcher to sweepers, and by the multirun driver to launchers. */
export interface LaunchContext {
  sweepDir: string;
  /** Runs one job in this process (the `local` launcher) — other launchers run it elsewhere. */
  runJobHere(job: JobSpec): Promise<JobReturn>;
  /** A serialisable description of how to compose and run a job, for launchers that use other processes. */
  environment: unknown;
  /** Aborted on SIGINT/SIGTERM/SIGHUP. */
  signal: AbortSignal;
  /**
   * Launchers that run jobs elsewhere report each start, so an interruption can tell running from not
   * started — and, once the job has made it, its run directory.
   */
  jobStarted(num: number, outputDir?: string): void;
  /** A job has ended (the sweep's progress counts it); launchers that know each end as it comes say so. */
  jobEnded?(ret: JobReturn): void;
}

export interface Launcher {
  launch(jobs: JobSpec[], ctx: LaunchContext): Promise<JobReturn[]>;
}

export interface SweepContext {
  /** Composes one job's config, throwing the composition error: sweepers use it to fail before launching. */
  check(overrides: string[]): void;
  /** Launches a batch of jobs (numbers continue across batches). */
  launch(jobs: string[][]): Promise<JobReturn[]>;
  /** One job as the jobs its task expands it into (its plugin's `expand` hook), else itself. */
  expand(overrides: string[]): string[][];
  /** Options of a config group, for `glob()`. */
  groupOptions(group: string): string[];
}

export interface Sweeper {
  sweep(overrides: string[], ctx: SweepContext): Promise<JobReturn[]>;
}
