import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { inject, injectable } from '../../core/plugins/di.ts';
import { packageRoot } from '../../core/paths.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import type { JobReturn, JobSpec, LaunchContext, Launcher } from '../../core/plugins/interfaces.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { JobLogger } from '../../core/run/logger.ts';
import { isInterruptSignal, onInterrupt } from '../../core/run/signals.ts';
import { StatusFile } from '../../core/run/status.ts';
import type { WorkerReply, WorkerRequest } from '../../core/launch/worker.ts';

interface LocalParallelOptions {
  n_jobs: number;
}

/**
 * Runs the jobs of a sweep in `n_jobs` worker processes on this machine (Hydra needs the joblib plugin
 * for this). Each worker composes and runs its jobs exactly as `vidra run` would; a crashed worker
 * fails only the job it was running.
 */
@injectable()
export class LocalParallelLauncher implements Launcher {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: LocalParallelOptions) {}

  async launch(jobs: JobSpec[], ctx: LaunchContext): Promise<JobReturn[]> {
    const queue = [...jobs];
    const results: JobReturn[] = [];
    const n = Math.min(this.options.n_jobs > 0 ? this.options.n_jobs : availableParallelism(), jobs.length);
    const workers: ChildProcess[] = [];
    const onAbort = () => {
      for (const w of workers) if (w.exitCode === null) w.kill((ctx.signal.reason as NodeJS.Signals) ?? 'SIGINT');
    };
    ctx.signal.addEventListener('abort', onAbort);
    const runWorker = () =>
      new Promise<void>((done) => {
        const child = fork(join(packageRoot(), 'bin', 'vidra.mjs'), ['__worker'], { stdio: 'inherit' });
        workers.push(child);
        let current: JobSpec | undefined;
        let currentDir: string | null = null;
        const next = () => {
          currentDir = null;
          current = ctx.signal.aborted ? undefined : queue.shift();
          if (!current) {
            child.disconnect();
            return;
          }
          ctx.jobStarted(current.num);
          const msg: WorkerRequest = { type: 'job', job: current, sweepDir: ctx.sweepDir, environment: ctx.environment };
          child.send(msg);
        };
        child.on('message', (msg: WorkerReply) => {
          if (msg.type === 'ready') return next();
          if (msg.type === 'started') {
            currentDir = msg.outputDir;
            return ctx.jobStarted(msg.num, msg.outputDir);
          }
          results.push(msg.result);
          ctx.jobEnded?.(msg.result);
          next();
        });
        child.on('exit', (code, signal) => {
          // A message the worker sent just before dying (its job's `started`) is read before the
          // channel closes: wait for that when the channel is still open.
          if (child.connected) child.once('disconnect', () => settle(code, signal));
          else settle(code, signal);
        });
        const settle = (code: number | null, signal: NodeJS.Signals | null) => {
          if (current && !results.some((r) => r.num === current!.num)) {
            let interrupted = ctx.signal.aborted || isInterruptSignal(signal);
            let error = interrupted ? `interrupted (${signal ?? `exit code ${code}`})` : `worker process exited (${signal ?? `code ${code}`}) while running the job`;
            // A worker that dies without marking its job (SIGKILL, the OOM killer, a crash) leaves it
            // `running`: this process saw it die, so it marks the job's directory.
            const dead = currentDir ? StatusFile.markDead(currentDir, { signal, interrupted, message: error }) : null;
            if (dead?.marked) new JobLogger(currentDir!, { console: false }).error(`job ${interrupted ? 'interrupted' : 'failed'}: ${error}`);
            else if (dead?.record.status === 'interrupted') {
              // A signal sent to the worker alone: it marked its job and exited; the table says the same.
              interrupted = true;
              error = `interrupted by ${dead.record.signal}`;
            }
            results.push({ num: current.num, overrides: current.overrides, status: interrupted ? 'interrupted' : 'failed', outputDir: currentDir, error });
            ctx.jobEnded?.(results[results.length - 1]!);
          }
          done();
        };
      });
    const all = Promise.all(Array.from({ length: n }, runWorker));
    // On SIGINT/SIGTERM the workers (killed by onAbort) mark their own jobs interrupted: the process
    // waits for them to exit, so that no run directory is left `running` after vidra has exited.
    const dispose = onInterrupt(() => all);
    try {
      await all;
    } finally {
      dispose();
      ctx.signal.removeEventListener('abort', onAbort);
    }
    return results.sort((a, b) => a.num - b.num);
  }
}

export const plugin = definePlugin({
  kind: 'launcher',
  name: 'local_parallel',
  description: 'run the jobs of a sweep in n_jobs worker processes on this machine',
  schema: {
    type: 'object',
    properties: {
      n_jobs: { type: 'integer', minimum: -1, default: 2, description: 'number of worker processes (-1: one per CPU core)' },
    },
    additionalProperties: false,
  },
  create: LocalParallelLauncher,
});
