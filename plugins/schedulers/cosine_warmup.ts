import type { ScheduleModule } from '../../core/engine/modules.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkOptimizerStep } from './optimizer-step.ts';
import { RUN_LENGTH_PROPERTIES, totalSteps, warmupSteps } from './run-length.ts';

export interface CosineWarmupOptions {
  warmup_steps: number;
  total_steps: number;
  num_cycles: number;
}

/**
 * transformers' `get_cosine_schedule_with_warmup(optimizer, W, T, num_cycles=0.5)`
 * (`src/transformers/optimization.py`, `_get_cosine_schedule_with_warmup_lr_lambda`), a LambdaLR with
 *
 *     m(s) = s / max(1, W)                                    for s < W
 *     m(s) = max(0, ½·(1 + cos(π · num_cycles · 2 · p)))     otherwise, p = (s − W) / max(1, T − W)
 *
 * LambdaLR evaluates m at last_epoch, which is k − 1 when the k-th optimizer step runs (the scheduler steps
 * after the optimizer), so factor(k) = m(k − 1): with W > 0 the first update has lr 0. Past T nothing is
 * clamped but the max(0, ·): with num_cycles 0.5 the curve rises again, as in transformers.
 */
@injectable()
export class CosineWarmupSchedule implements ScheduleModule {
  readonly options: CosineWarmupOptions;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<Omit<CosineWarmupOptions, 'total_steps'>> & { total_steps?: number | null }) {
    const total_steps = totalSteps('cosine_warmup', options.total_steps);
    const num_cycles = options.num_cycles ?? 0.5;
    this.options = { num_cycles, total_steps, warmup_steps: warmupSteps('cosine_warmup', options.warmup_steps ?? 0, total_steps) };
    if (!Number.isFinite(num_cycles)) throw new RangeError(`cosine_warmup: num_cycles must be a number, got ${num_cycles}`);
  }

  /** transformers' lambda of the scheduler step s = last_epoch. */
  multiplier(s: number): number {
    const { warmup_steps: W, total_steps: T, num_cycles } = this.options;
    if (s < W) return s / Math.max(1, W);
    const progress = (s - W) / Math.max(1, T - W);
    // Same operation order as the Python expression math.pi * float(num_cycles) * 2.0 * progress.
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * num_cycles * 2 * progress)));
  }

  describe(): string {
    return `${this.options.total_steps} steps, ${this.options.warmup_steps} of warmup, num_cycles ${this.options.num_cycles}`;
  }

  factor(step: number): number {
    checkOptimizerStep('cosine_warmup', step);
    return this.multiplier(step - 1);
  }
}

export const plugin = definePlugin({
  kind: 'scheduler',
  name: 'cosine_warmup',
  description: 'linear warmup then cosine decay (transformers get_cosine_schedule_with_warmup; first step has lr 0 when warmup_steps > 0)',
  schema: {
    type: 'object',
    properties: {
      ...RUN_LENGTH_PROPERTIES,
      num_cycles: { type: 'number', default: 0.5, description: 'cosine waves over T − W steps (0.5: from 1 down to 0)' },
    },
    additionalProperties: false,
  },
  create: CosineWarmupSchedule,
});
