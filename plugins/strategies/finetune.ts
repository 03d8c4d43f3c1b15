import { injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import type { Strategy, StrategyPlugin } from './events.ts';

/**
 * Naive sequential fine-tuning (Avalanche `Naive`): train on each experience in turn with no plugin at all — the
 * lower bound of continual learning, and for user adaptation the plain online learner of EgoAdapt.
 */
@injectable()
export class Finetune implements Strategy {
  readonly plugins: readonly StrategyPlugin[] = [];
}

export const plugin = definePlugin({
  kind: 'strategy',
  name: 'finetune',
  description: 'naive sequential fine-tuning: no memory, no regulariser',
  schema: { type: 'object', properties: {}, additionalProperties: false },
  create: Finetune,
});
