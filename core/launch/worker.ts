import type { JobReturn, JobSpec } from '../plugins/interfaces.ts';
import { createRegistry } from '../plugins/loader.ts';
import type { PluginDefinition, PluginRegistry } from '../plugins/registry.ts';
import type { RunEnvironment } from './environment.ts';
import { runJob } from './job.ts';

export type WorkerRequest = { type: 'job'; job: JobSpec; sweepDir: string; environment: unknown };
export type WorkerReply = { type: 'ready' } | { type: 'started'; num: number; outputDir: string } | { type: 'done'; result: JobReturn };

/** A local_parallel worker process: runs the jobs its parent sends until the parent disconnects. */
export async function runWorker(builtins: readonly PluginDefinition[]): Promise<number> {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write('__worker is internal to the local_parallel launcher\n');
    return 2;
  }
  let registry: PluginRegistry | undefined;
  process.on('message', async (msg: WorkerRequest) => {
    const env = msg.environment as RunEnvironment;
    let result: JobReturn;
    try {
      registry ??= await createRegistry(builtins, env.plugins, env.pluginRoot);
      result = await runJob(msg.job, {
        env,
        registry,
        mode: 'MULTIRUN',
        sweepDir: msg.sweepDir,
        prefix: `[job ${msg.job.num}]`,
        onStart: (outputDir) => send({ type: 'started', num: msg.job.num, outputDir } satisfies WorkerReply),
      });
    } catch (err) {
      result = { num: msg.job.num, overrides: msg.job.overrides, status: 'failed', outputDir: null, error: (err as Error).message };
    }
    send({ type: 'done', result } satisfies WorkerReply);
  });
  send({ type: 'ready' } satisfies WorkerReply);
  await new Promise<void>((resolve) => process.once('disconnect', resolve));
  return 0;
}
