import type { ScheduleModule } from '../../core/engine/modules.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkOptimizerStep } from './optimizer-step.ts';
import { RUN_LENGTH_PROPERTIES, totalSteps, warmupSteps } from './run-length.ts';

export interface LinearWarmupOptions {
  warmup_steps: number;
  total_steps: number;
}

/**
 * transformers' `get_linear_schedule_with_warmup(optimizer, W, T)` (`src/transformers/optimization.py`,
 * `_get_linear_schedule_with_warmup_lr_lambda`), a LambdaLR with
 *
 *     m(s) = s / max(1, W)                        for s < W
 *     m(s) = max(0, (T − s) / max(1, T − W))      otherwise
 *
 * The k-th optimizer step uses m(k − 1) (LambdaLR's last_epoch), so with W > 0 the first update has lr 0;
 * from step T + 1 on the factor is 0.
 */
@injectable()
export class LinearWarmupSchedule implements ScheduleModule {
  readonly options: LinearWarmupOptions;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<Omit<LinearWarmupOptions, 'total_steps'>> & { total_steps?: number | null }) {
    const total_steps = totalSteps('linear_warmup', options.total_steps);
    this.options = { total_steps, warmup_steps: warmupSteps('linear_warmup', options.warmup_steps ?? 0, total_steps) };
  }

  /** transformers' lambda of the scheduler step s = last_epoch. */
  multiplier(s: number): number {
    const { warmup_steps: W, total_steps: T } = this.options;
    if (s < W) return s / Math.max(1, W);
    return Math.max(0, (T - s) / Math.max(1, T - W));
  }

  describe(): string {
    return `${this.options.total_steps} steps, ${this.options.warmup_steps} of warmup`;
  }

  factor(step: number): number {
    checkOptimizerStep('linear_warmup', step);
    return this.multiplier(step - 1);
  }
}

export const plugin = definePlugin({
  kind: 'scheduler',
  name: 'linear_warmup',
  description: 'linear warmup then linear decay to 0 (transformers get_linear_schedule_with_warmup; first step has lr 0 when warmup_steps > 0)',
  schema: {
    type: 'object',
    properties: {
      ...RUN_LENGTH_PROPERTIES,
    },
    additionalProperties: false,
  },
  create: LinearWarmupSchedule,
});
