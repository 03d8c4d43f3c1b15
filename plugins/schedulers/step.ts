import type { ScheduleModule } from '../../core/engine/modules.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkOptimizerStep } from './optimizer-step.ts';

export interface StepScheduleOptions {
  step_size: number;
  gamma: number;
}

/**
 * torch.optim.lr_scheduler.StepLR stepped once per optimizer step (`torch/optim/lr_scheduler.py`, its
 * closed form `base_lr · γ^⌊last_epoch / step_size⌋`). The scheduler steps after the optimizer, so the
 * k-th optimizer step runs with last_epoch = k − 1:
 *
 *     factor(k) = γ^⌊(k − 1) / step_size⌋
 *
 * torch's chainable form multiplies the previous lr by γ at each boundary; the product can differ from
 * base·γ^n in the last bit, which is the only difference.
 */
@injectable()
export class StepSchedule implements ScheduleModule {
  readonly options: StepScheduleOptions;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<StepScheduleOptions> & { step_size: number }) {
    this.options = { gamma: 0.1, ...options };
    const { step_size, gamma } = this.options;
    if (!Number.isInteger(step_size) || step_size < 1) throw new RangeError(`step schedule: step_size must be an integer >= 1, got ${step_size}`);
    if (!(gamma >= 0)) throw new RangeError(`step schedule: gamma must be >= 0, got ${gamma}`);
  }

  factor(step: number): number {
    checkOptimizerStep('step schedule', step);
    return this.options.gamma ** Math.floor((step - 1) / this.options.step_size);
  }
}

export const plugin = definePlugin({
  kind: 'scheduler',
  name: 'step',
  description: 'StepLR per optimizer step: lr · gamma^floor((k − 1) / step_size)',
  schema: {
    type: 'object',
    properties: {
      step_size: { type: 'integer', minimum: 1, description: 'optimizer steps between decays (required)' },
      gamma: { type: 'number', minimum: 0, default: 0.1, description: 'multiplicative decay at every step_size steps' },
    },
    required: ['step_size'],
    additionalProperties: false,
  },
  create: StepSchedule,
});
