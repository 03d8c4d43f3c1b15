import { VidraError } from '../../core/config/errors.ts';
import type { Value } from '../../core/engine/graph.ts';
import { activate, dropout, linear, linearParameters, type Activation } from '../../core/engine/layers.ts';
import type { ForwardContext, ModelModule, ParameterSpec } from '../../core/engine/modules.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Mlp } from './mlp.ts';

interface HeadSpec {
  name: string;
  classes: number;
}

interface MultiHeadOptions {
  in_dim: number;
  num_inputs: number;
  aggregate: 'concat' | 'mean';
  trunk_depth: number;
  width: number;
  activation: Activation;
  dropout: number;
  layer_norm: boolean;
  heads: HeadSpec[];
  repeat: number;
}

/**
 * Several classification heads on one (optionally MLP) trunk: verb + noun for user streams (EgoAdapt), or Z future
 * verbs and Z future nouns for long-term anticipation (the Ego4D LTA baseline's aggregator + multi-head decoder).
 *
 *   x [num_inputs, in_dim] → aggregate (concat: [num_inputs·in_dim]; mean) → trunk (trunk_depth linear layers,
 *   then activation + dropout) → per head h: Linear(·, repeat·classes_h) (`<name>_head`)
 *
 * The logits are the heads' outputs side by side, each head's `repeat` sections z-major: sections() =
 * [classes_0 × repeat, classes_1 × repeat, …], the column order of the targets (`task.target: [verb, noun]`).
 */
@injectable()
export class MultiHead implements ModelModule {
  private readonly trunk: Mlp | null;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: MultiHeadOptions) {
    const names = options.heads.map((h) => h.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new VidraError(`multi_head: the head '${dup}' is listed twice in heads`);
    this.trunk = options.trunk_depth > 0 ? new Mlp({ ...options, in_dim: this.aggregatedDim(), out_dim: options.width, depth: options.trunk_depth }, 'trunk.') : null;
  }

  private aggregatedDim(): number {
    const o = this.options;
    return o.aggregate === 'concat' ? o.num_inputs * o.in_dim : o.in_dim;
  }

  inputs() {
    const o = this.options;
    return [{ name: 'x', shape: o.num_inputs === 1 ? [o.in_dim] : [o.num_inputs, o.in_dim] }];
  }

  sections(): number[] {
    return this.options.heads.flatMap((h) => new Array<number>(this.options.repeat).fill(h.classes));
  }

  parameters(random: () => number): ParameterSpec[] {
    const o = this.options;
    const headIn = this.trunk ? o.width : this.aggregatedDim();
    return [...(this.trunk?.parameters(random) ?? []), ...o.heads.flatMap((h) => linearParameters(`${h.name}_head`, headIn, o.repeat * h.classes, random))];
  }

  forward(ctx: ForwardContext, params: Record<string, Value>, inputs: Record<string, Value>) {
    const { g } = ctx;
    const o = this.options;
    let h = inputs.x!;
    const n = h.shape[0]!;
    if (o.num_inputs > 1) h = o.aggregate === 'concat' ? g.reshape(h, [n, o.num_inputs * o.in_dim]) : g.reduceMean(h, [1]);
    if (this.trunk) h = dropout(ctx, 'trunk.dropout', activate(g, this.trunk.forward(ctx, params, h), o.activation), o.dropout);
    const outs = o.heads.map((head) => linear(g, h, params, `${head.name}_head`));
    return { logits: outs.length === 1 ? outs[0]! : g.concat(outs, 1) };
  }
}

export const plugin = definePlugin({
  kind: 'model',
  name: 'multi_head',
  description: 'several classification heads (verb, noun; Z future steps each) on a shared optional MLP trunk',
  schema: {
    type: 'object',
    properties: {
      in_dim: { type: 'integer', minimum: 1, description: 'feature dimension' },
      num_inputs: { type: 'integer', minimum: 1, default: 1, description: 'input clips per example (LTA: the N observed clips)' },
      aggregate: { enum: ['concat', 'mean'], default: 'concat', description: 'how num_inputs > 1 clips are combined' },
      trunk_depth: { type: 'integer', minimum: 0, default: 1, description: 'linear layers of the shared trunk (0: heads on the features)' },
      width: { type: 'integer', minimum: 1, default: 256, description: 'trunk width' },
      activation: { enum: ['relu', 'gelu', 'tanh'], default: 'relu' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
      layer_norm: { type: 'boolean', default: false, description: 'LayerNorm after each hidden trunk layer' },
      heads: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: { name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, classes: { type: 'integer', minimum: 1 } },
          required: ['name', 'classes'],
          additionalProperties: false,
        },
        description: 'one head per target, in the order of task.target (e.g. [{name: verb, classes: 117}, {name: noun, classes: 521}])',
      },
      repeat: { type: 'integer', minimum: 1, default: 1, description: 'sections per head (LTA: Z future actions)' },
    },
    required: ['in_dim', 'heads'],
    additionalProperties: false,
  },
  create: MultiHead,
});
