import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { JOB_CONTEXT, PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

interface PrintConfigOptions {
  resolve: boolean;
}

/** Prints the job's composed config as YAML (to the console and job.log). */
@injectable()
export class PrintConfigTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: PrintConfigOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
  ) {}

  async run(): Promise<void> {
    this.job.log.info(`composed config${this.options.resolve ? ' (resolved)' : ''}:\n${this.job.config.toYaml({ resolve: this.options.resolve })}`);
  }
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'print_config',
  description: 'print the composed config of the job',
  schema: {
    type: 'object',
    properties: { resolve: { type: 'boolean', default: false, description: 'resolve interpolations before printing' } },
    additionalProperties: false,
  },
  create: PrintConfigTask,
});
