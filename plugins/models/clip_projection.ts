import { inject, injectable } from '../../core/plugins/di.ts';
import type { Activation } from '../../core/engine/layers.ts';
import type { Graph, Value } from '../../core/engine/graph.ts';
import type { ForwardContext, ModelModule } from '../../core/engine/modules.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Mlp } from './mlp.ts';

interface ClipProjectionOptions {
  video_dim: number;
  text_dim: number;
  hidden_dim: number;
  embed_dim: number;
  depth: number;
  activation: Activation;
  dropout: number;
  layer_norm: boolean;
  normalize: boolean;
  logit_scale_init: number;
}

const LN_100 = Math.log(100);

/**
 * CLIP-style projection heads on precomputed features (open_clip; Ego4D CLEP `model.py`): a video MLP and
 * a text MLP to a shared embedding, L2-normalised (`normalize`, false in CLEP), and a learnable log logit
 * scale (`logit_scale`, init ln(1/0.07)) clamped to [0, ln 100] after every optimizer step, as open_clip
 * does under no_grad. Parameters: `video.layers.<i>.*`, `text.layers.<i>.*`, `logit_scale`.
 */
@injectable()
export class ClipProjection implements ModelModule {
  private readonly video: Mlp;
  private readonly text: Mlp;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: ClipProjectionOptions) {
    const common = { depth: options.depth, width: options.hidden_dim, activation: options.activation, dropout: options.dropout, layer_norm: options.layer_norm };
    this.video = new Mlp({ ...common, in_dim: options.video_dim, out_dim: options.embed_dim }, 'video.');
    this.text = new Mlp({ ...common, in_dim: options.text_dim, out_dim: options.embed_dim }, 'text.');
  }

  inputs() {
    return [
      { name: 'video', shape: [this.options.video_dim] },
      { name: 'text', shape: [this.options.text_dim] },
    ];
  }

  parameters(random: () => number) {
    return [
      ...this.video.parameters(random),
      ...this.text.parameters(random),
      { name: 'logit_scale', shape: [], init: Float32Array.of(this.options.logit_scale_init), decay: false },
    ];
  }

  forward(ctx: ForwardContext, params: Record<string, Value>, inputs: Record<string, Value>) {
    let v = this.video.forward(ctx, params, inputs.video!);
    let t = this.text.forward(ctx, params, inputs.text!);
    if (this.options.normalize) {
      v = ctx.g.l2Normalize(v, -1);
      t = ctx.g.l2Normalize(t, -1);
    }
    return { logits: v, other: t, logitScale: params.logit_scale! };
  }

  afterUpdate(g: Graph, name: string, value: Value): Value {
    return name === 'logit_scale' ? g.clip(value, 0, LN_100) : value;
  }
}

export const plugin = definePlugin({
  kind: 'model',
  name: 'clip_projection',
  description: 'CLIP-style video and text projection heads with a learnable logit scale',
  schema: {
    type: 'object',
    properties: {
      video_dim: { type: 'integer', minimum: 1, description: 'video feature dimension (1536 for omnivore_video_swinl)' },
      text_dim: { type: 'integer', minimum: 1, description: 'text embedding dimension (768 for all-mpnet-base-v2)' },
      hidden_dim: { type: 'integer', minimum: 1, default: 1536 },
      embed_dim: { type: 'integer', minimum: 1, default: 1536 },
      depth: { type: 'integer', minimum: 1, default: 2, description: 'linear layers per tower' },
      activation: { enum: ['relu', 'gelu', 'tanh'], default: 'relu' },
      dropout: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 },
      layer_norm: { type: 'boolean', default: false },
      normalize: { type: 'boolean', default: true, description: 'L2-normalise both embeddings (CLIP); false in Ego4D CLEP' },
      logit_scale_init: { type: 'number', default: Math.log(1 / 0.07), description: 'initial log logit scale, ln(1/0.07)' },
    },
    required: ['video_dim', 'text_dim'],
    additionalProperties: false,
  },
  create: ClipProjection,
});
