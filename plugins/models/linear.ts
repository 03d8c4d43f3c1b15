import { inject, injectable } from '../../core/plugins/di.ts';
import { linear, linearParameters } from '../../core/engine/layers.ts';
import type { ForwardContext, ModelModule } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

interface LinearOptions {
  in_dim: number;
  out_dim: number;
  bias: boolean;
}

/** A linear classification head on features: logits = x Wᵀ + b (nn.Linear, parameters `fc.weight`, `fc.bias`). */
@injectable()
export class LinearHead implements ModelModule {
  constructor(@inject(PLUGIN_CONFIG) private readonly options: LinearOptions) {}

  inputs() {
    return [{ name: 'x', shape: [this.options.in_dim] }];
  }

  parameters(random: () => number) {
    return linearParameters('fc', this.options.in_dim, this.options.out_dim, random, this.options.bias);
  }

  forward(ctx: ForwardContext, params: Record<string, Value>, inputs: Record<string, Value>) {
    return { logits: linear(ctx.g, inputs.x!, params, 'fc') };
  }
}

export const plugin = definePlugin({
  kind: 'model',
  name: 'linear',
  description: 'linear classification head on features',
  schema: {
    type: 'object',
    properties: {
      in_dim: { type: 'integer', minimum: 1, description: 'feature dimension (the backbone output)' },
      out_dim: { type: 'integer', minimum: 1, description: 'number of classes' },
      bias: { type: 'boolean', default: true },
    },
    required: ['in_dim', 'out_dim'],
    additionalProperties: false,
  },
  create: LinearHead,
});
