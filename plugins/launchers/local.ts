import { injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import type { JobReturn, JobSpec, LaunchContext, Launcher } from '../../core/plugins/interfaces.ts';

/** Runs the jobs one after another in this process (Hydra's basic launcher). */
@injectable()
export class LocalLauncher implements Launcher {
  async launch(jobs: JobSpec[], ctx: LaunchContext): Promise<JobReturn[]> {
    const out: JobReturn[] = [];
    for (const job of jobs) {
      if (ctx.signal.aborted) break;
      out.push(await ctx.runJobHere(job));
    }
    return out;
  }
}

export const plugin = definePlugin({
  kind: 'launcher',
  name: 'local',
  description: 'run the jobs of a sweep one after another in this process',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  create: LocalLauncher,
});
