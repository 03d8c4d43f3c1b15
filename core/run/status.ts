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
  /** For `interrupted`: the signal. */
  signal?: string;
  /** Headline values a task returned. */
  result?: Record<string, unknown>;
}

/** `status.json` of a job directory: running → completed | failed | interrupted, always written atomically. */
export class StatusFile {
  private record: StatusRecord;
  readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'status.json');
    this.record = { status: 'running', pid: process.pid, started_at: new Date().toISOString() };
    this.write();
  }

  get current(): StatusRecord {
    return this.record;
  }

  get finished(): boolean {
    return this.record.status !== 'running';
  }

  complete(result?: Record<string, unknown>): void {
    this.finish({ status: 'completed', ...(result ? { result } : {}) });
  }

  fail(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.finish({ status: 'failed', error: { type: e.name, message: e.message, stack: e.stack } });
  }

  interrupt(signal: string): void {
    this.finish({ status: 'interrupted', signal });
  }

  private finish(patch: Partial<StatusRecord>): void {
    if (this.finished) return;
    const ended = new Date();
    this.record = {
      ...this.record,
      ...patch,
      ended_at: ended.toISOString(),
      duration_s: (ended.getTime() - Date.parse(this.record.started_at)) / 1000,
    };
    this.write();
  }

  private write(): void {
    writeFileAtomic(this.path, `${JSON.stringify(this.record, null, 2)}\n`);
  }
}
