import { inject, injectable } from '../../core/plugins/di.ts';
import { parseOverrideInternal } from '../../core/overrides/parse.ts';
import { expandSweep } from '../../core/overrides/sweep.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import type { JobReturn, Sweeper, SweepContext } from '../../core/plugins/interfaces.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

interface BasicSweeperOptions {
  params: Record<string, string>;
  max_batch_size: number;
}

/**
 * Hydra's basic sweeper: the cartesian product of every sweep (last one varying fastest). Every job's
 * config is composed before the first one is launched, so a typo in job 57 fails the sweep at once.
 * `params` holds sweeps kept in config; the same key on the command line wins.
 */
@injectable()
export class BasicSweeper implements Sweeper {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: BasicSweeperOptions) {}

  async sweep(overrides: string[], ctx: SweepContext): Promise<JobReturn[]> {
    const cliKeys = new Set(overrides.map((o) => parseOverrideInternal(o).key));
    const fromParams = Object.entries(this.options.params)
      .filter(([key]) => !cliKeys.has(key.replace(/^[+~]+/, '')))
      .map(([key, value]) => `${key}=${value}`);
    const jobs = expandSweep([...fromParams, ...overrides], { listGroupOptions: (g) => ctx.groupOptions(g) }).flatMap((job) => ctx.expand(job));
    for (const job of jobs) ctx.check(job);
    const size = this.options.max_batch_size > 0 ? this.options.max_batch_size : jobs.length;
    const results: JobReturn[] = [];
    for (let i = 0; i < jobs.length; i += size) results.push(...(await ctx.launch(jobs.slice(i, i + size))));
    return results;
  }
}

export const plugin = definePlugin({
  kind: 'sweeper',
  name: 'basic',
  description: 'cartesian product of the command-line sweeps, every job composed before launching',
  schema: {
    type: 'object',
    properties: {
      params: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        default: {},
        description: 'sweeps kept in config, e.g. {optim.lr: "1e-4,1.5e-4"}',
      },
      max_batch_size: { type: 'integer', minimum: 0, default: 0, description: 'launch in batches of this many jobs (0: all at once)' },
    },
    additionalProperties: false,
  },
  create: BasicSweeper,
});
