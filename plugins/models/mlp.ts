import { inject, injectable } from '../../core/plugins/di.ts';
import { activate, dropout, layerNorm, layerNormParameters, linear, linearParameters, type Activation } from '../../core/engine/layers.ts';
import type { ForwardContext, ModelModule, ParameterSpec } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

export interface MlpOptions {
  in_dim: number;
  out_dim: number;
  depth: number;
  width: number;
  activation: Activation;
  dropout: number;
  layer_norm: boolean;
}

/**
 * An MLP head: `depth` linear layers (`layers.<i>`), each hidden one followed by [LayerNorm], activation
 * and dropout: Linear(in, width) → … → Linear(width, out). depth 1 is a linear head.
 */
export class Mlp {
  constructor(
    private readonly options: MlpOptions,
    private readonly prefix: string,
  ) {}

  private dims(): number[] {
    const { in_dim, out_dim, depth, width } = this.options;
    return [in_dim, ...new Array<number>(depth - 1).fill(width), out_dim];
  }

  parameters(random: () => number): ParameterSpec[] {
    const dims = this.dims();
    const specs: ParameterSpec[] = [];
    for (let i = 0; i < dims.length - 1; i++) {
      specs.push(...linearParameters(`${this.prefix}layers.${i}`, dims[i]!, dims[i + 1]!, random));
      if (this.options.layer_norm && i < dims.length - 2) specs.push(...layerNormParameters(`${this.prefix}norms.${i}`, dims[i + 1]!));
    }
    return specs;
  }

  forward(ctx: ForwardContext, params: Record<string, Value>, x: Value): Value {
    const layers = this.dims().length - 1;
    let h = x;
    for (let i = 0; i < layers; i++) {
      h = linear(ctx.g, h, params, `${this.prefix}layers.${i}`);
      if (i === layers - 1) break;
      if (this.options.layer_norm) h = layerNorm(ctx.g, h, params, `${this.prefix}norms.${i}`);
      h = dropout(ctx, `${this.prefix}dropout.${i}`, activate(ctx.g, h, this.options.activation), this.options.dropout);
    }
    return h;
  }
}

@injectable()
export class MlpHead implements ModelModule {
  private readonly mlp: Mlp;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: MlpOptions) {
    this.mlp = new Mlp(options, '');
  }

  inputs() {
    return [{ name: 'x', shape: [this.options.in_dim] }];
  }

  parameters(random: () => number) {
    return this.mlp.parameters(random);
  }

  forward(ctx: ForwardContext, params: Record<string, Value>, inputs: Record<string, Value>) {
    return { logits: this.mlp.forward(ctx, params, inputs.x!) };
  }
}

export const mlpSchemaProperties = {
  depth: { type: 'integer', minimum: 1, default: 2, description: 'number of linear layers' },
  width: { type: 'integer', minimum: 1, default: 1024, description: 'hidden width' },
  activation: { enum: ['relu', 'gelu', 'tanh'], default: 'relu' },
  dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
  layer_norm: { type: 'boolean', default: false, description: 'LayerNorm after each hidden linear layer' },
};

export const plugin = definePlugin({
  kind: 'model',
  name: 'mlp',
  description: 'MLP classification head on features',
  schema: {
    type: 'object',
    properties: {
      in_dim: { type: 'integer', minimum: 1 },
      out_dim: { type: 'integer', minimum: 1 },
      ...mlpSchemaProperties,
    },
    required: ['in_dim', 'out_dim'],
    additionalProperties: false,
  },
  create: MlpHead,
});
