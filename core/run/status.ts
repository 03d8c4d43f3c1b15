import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

export type JobStatus = 'running' | 'completed' | 'failed' | 'interrupted';

export interface StatusRecord {
  status: JobStatus;
  pid: number;
  started_at: string;
  ended_at?: string;
  duration_s?: number;
  /** For `failed`: what went wrong. */
  error?: { type: string; message: string; stack?: string };
  /** For `interrupted`, and for `failed` when a signal killed the job's process: the signal. */
  signal?: string;
  /** Headline values a task returned. */
  result?: Record<string, unknown>;
  /** Earlier runs of the job in this directory (a Slurm task requeued or resubmitted), oldest first. */
  history?: StatusRecord[];
}

/** Space held back while a job runs, so that its final status.json can be written on a full disk. */
const RESERVE_BYTES = 64 * 1024;
const RESERVE_FILE = '.status.reserve';

/**
 * `status.json` of a job directory: running → completed | failed | interrupted, always written atomically.
 * While the job runs, `.status.reserve` holds disk space; a final write that fails (a full disk) frees
 * it and tries again, so the job is still marked.
 */
export class StatusFile {
  private record: StatusRecord;
  readonly path: string;
  private readonly reserve: string;

  /** Marks `dir` running (a new job); with `record`, takes over the status.json another process started. */
  constructor(dir: string, record?: StatusRecord) {
    this.path = join(dir, 'status.json');
    this.reserve = join(dir, RESERVE_FILE);
    if (record) {
      this.record = record;
      return;
    }
    this.record = { status: 'running', pid: process.pid, started_at: new Date().toISOString() };
    writeFileSync(this.reserve, Buffer.alloc(RESERVE_BYTES));
    this.write();
  }

  /** Marks `dir` running again (a job requeued or resubmitted into its directory); its earlier records go to `history`. */
  static restart(dir: string): StatusFile {
    let history: StatusRecord[] = [];
    try {
      const { history: earlier = [], ...last } = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as StatusRecord;
      history = [...earlier, last];
    } catch {
      // no earlier status.json (the task died before writing it)
    }
    const status = new StatusFile(dir, { status: 'running', pid: process.pid, started_at: new Date().toISOString(), ...(history.length ? { history } : {}) });
    writeFileSync(status.reserve, Buffer.alloc(RESERVE_BYTES));
    status.write();
    return status;
  }

  /**
   * Marks the job in `dir` that its process left `running` when it died (a launcher's worker killed by
   * SIGKILL or the OOM killer): `interrupted` for an interrupting signal, else `failed` with `message`.
   * Returns the record as it now stands and whether this call marked it (false: the process had marked
   * it itself), or null when there is no status.json.
   */
  static markDead(dir: string, death: { signal: string | null; interrupted: boolean; message: string }): { record: StatusRecord; marked: boolean } | null {
    let status: StatusFile;
    try {
      status = new StatusFile(dir, JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as StatusRecord);
    } catch {
      return null;
    }
    if (status.finished) return { record: status.record, marked: false };
    if (death.interrupted && death.signal) status.interrupt(death.signal);
    else status.finish({ status: 'failed', error: { type: 'WorkerExited', message: death.message }, ...(death.signal ? { signal: death.signal } : {}) });
    return { record: status.record, marked: true };
  }

  /**
   * Marks the job in `dir` failed with `error` when a scheduler ended it (Slurm's time limit, node failure,
   * memory kill): over `running` (its process died before writing) and over the `interrupted` its process
   * wrote on the SIGTERM the scheduler sent, which alone would read as a stop to resume. That signal and end
   * time are kept. Returns the record as it now stands, or null when there is no status.json.
   */
  static markKilled(dir: string, error: { type: string; message: string }): StatusRecord | null {
    let status: StatusFile;
    try {
      status = new StatusFile(dir, JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as StatusRecord);
    } catch {
      return null;
    }
    const { record } = status;
    if (record.status === 'running') status.finish({ status: 'failed', error });
    else if (record.status === 'interrupted') {
      status.record = { ...record, status: 'failed', error };
      status.write();
    }
    return status.record;
  }

  get current(): StatusRecord {
    return this.record;
  }

  get finished(): boolean {
    return this.record.status !== 'running';
  }

  /** `ended` (here and in `fail`): when the job ended, if the caller records that time elsewhere too. */
  complete(result?: Record<string, unknown>, ended?: Date): void {
    this.finish({ status: 'completed', ...(result ? { result } : {}) }, ended);
  }

  fail(err: unknown, ended?: Date): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.finish({ status: 'failed', error: { type: e.name, message: e.message, stack: e.stack } }, ended);
  }

  interrupt(signal: string): void {
    this.finish({ status: 'interrupted', signal });
  }

  private finish(patch: Partial<StatusRecord>, ended = new Date()): void {
    if (this.finished) return;
    this.record = {
      ...this.record,
      ...patch,
      ended_at: ended.toISOString(),
      duration_s: (ended.getTime() - Date.parse(this.record.started_at)) / 1000,
    };
    try {
      this.withReserve(() => this.write());
    } catch (err) {
      throw new Error(`could not record status '${this.record.status}' in ${this.path}: ${(err as Error).message}`);
    }
    rmSync(this.reserve, { force: true });
  }

  /**
   * Runs a final write (status.json, the job's last metadata); if it fails (a full disk, most likely)
   * while space is still held, frees that space and tries once more.
   */
  withReserve(write: () => void): void {
    try {
      write();
    } catch (err) {
      if (!existsSync(this.reserve)) throw err;
      rmSync(this.reserve, { force: true });
      write();
    }
  }

  private write(): void {
    writeFileAtomic(this.path, `${JSON.stringify(this.record, null, 2)}\n`);
  }
}
