import type { ScheduleModule } from '../../core/engine/modules.ts';
import { injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { checkOptimizerStep } from './optimizer-step.ts';

/**
 * A constant learning rate: every optimizer step k ≥ 1 uses the base lr (factor 1), as
 * transformers' `get_constant_schedule` (a LambdaLR with λ(s) = 1).
 */
@injectable()
export class ConstantSchedule implements ScheduleModule {
  factor(step: number): number {
    checkOptimizerStep('constant schedule', step);
    return 1;
  }
}

export const plugin = definePlugin({
  kind: 'scheduler',
  name: 'constant',
  description: 'constant learning rate (factor 1 at every step)',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  create: ConstantSchedule,
});
