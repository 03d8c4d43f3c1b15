import { setTimeout as sleep } from 'node:timers/promises';
import { clock } from '../run/progress.ts';
import type { SlurmFolder } from './folder.ts';
import { collectStates, finalState, type JobState } from './state.ts';


/** `3 pending, 2 running, 5 completed, 1 failed; elapsed 1:02, ETA 0:40` (ETA from the mean pace so far). */
export function progressLine(states: readonly JobState[], elapsedS: number | null): string {
  const count = (...s: string[]) => states.filter((j) => s.includes(j.status)).length;
  const done = count('completed', 'failed', 'interrupted', 'not_started');
  const waiting = states.filter((j) => j.status === 'pending');
  const reasons = [...new Set(waiting.map((j) => j.reason).filter((r) => r && r !== 'None'))];
  const parts = [
    `${waiting.length} pending${reasons.length ? ` (${reasons.join(', ')})` : ''}`,
    `${count('running')} running`,
    `${count('completed')} completed`,
    `${count('failed', 'interrupted', 'not_started')} failed`,
  ].join(', ');
  if (elapsedS === null) return parts;
  const eta = done === states.length ? '0:00' : done > 0 ? clock((elapsedS / done) * (states.length - done)) : '?';
  return `${parts}; elapsed ${clock(elapsedS)}, ETA ${eta}`;
}

export interface WatchOptions {
  pollS: number;
  signal: AbortSignal;
  /** The progress lines go here (stderr). */
  print(line: string): void;
  /** A job's task has started (its run directory, once it has one). */
  onRunning?(num: number, outputDir: string | null): void;
  /** Only these jobs are waited for (a resubmission); default all. */
  nums?: ReadonlySet<number>;
}

/** Waits until every job's task has ended, printing progress when it changes; resolves early when aborted. */
export async function waitForJobs(folder: SlurmFolder, prefix: string, options: WatchOptions): Promise<JobState[]> {
  const started = Date.now();
  let last = '';
  let lastPrint = 0;
  for (;;) {
    const all = await collectStates(folder);
    const states = options.nums ? all.filter((j) => options.nums!.has(j.num)) : all;
    for (const j of states) if (j.status === 'running') options.onRunning?.(j.num, j.outputDir);
    const line = progressLine(states, (Date.now() - started) / 1000);
    const counts = line.split(';')[0];
    // A line when the counts change, and every 30 s anyway.
    if (counts !== last || Date.now() - lastPrint > 30_000) {
      options.print(`${prefix}${line}`);
      last = counts!;
      lastPrint = Date.now();
    }
    if (states.every(finalState) || options.signal.aborted) return all;
    try {
      await sleep(options.pollS * 1000, undefined, { signal: options.signal });
    } catch {
      return all;
    }
  }
}
