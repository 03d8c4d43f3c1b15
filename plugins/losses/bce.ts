import { bceWithLogits, checkedTargets, checkPerClass, classCount, perClass, reduce, type Reduction } from '../../core/engine/loss-ops.ts';
import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

interface BceOptions {
  reduction: Reduction;
  weight: number[] | null;
  pos_weight: number[] | null;
}

/**
 * Binary cross-entropy with logits, as `torch.nn.functional.binary_cross_entropy_with_logits` (ml-spec §1.1):
 *
 *   ℓ_ic = w_c · [ pw_c · y_ic · sp(−x_ic) + (1 − y_ic) · sp(x_ic) ],   sp(z) = max(z, 0) + log(1 + e^−|z|)
 *   mean = Σℓ / (N·C)  — the element count, also with weights (torch does not divide by Σw); sum = Σℓ; none = ℓ
 *   ∂ℓ_ic/∂x_ic = w_c · [ σ(x_ic)(pw_c·y_ic + 1 − y_ic) − pw_c·y_ic ]
 *
 * `weight` is torch's `weight` broadcast over rows (one value per class); `pos_weight` is per class as in torch.
 * Targets may be soft (any value in [0, 1]). Finite for any |x|.
 */
@injectable()
export class BceLoss implements LossModule {
  readonly targetKind: TargetKind = 'multi_hot';
  readonly needsClassCounts = false;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: BceOptions) {}

  build(ctx: LossContext, inputs: LossInputs): Value {
    const { g, dtype } = ctx;
    const { weight, pos_weight: posWeight, reduction } = this.options;
    const x = inputs.logits;
    const classes = classCount('bce', x);
    const y = checkedTargets('bce', x, inputs.targets, 'multi_hot');
    if (posWeight) checkPerClass('bce', 'pos_weight', posWeight, classes);
    if (weight) checkPerClass('bce', 'weight', weight, classes);
    let loss = bceWithLogits(g, x, y, posWeight ? perClass(g, posWeight, dtype) : null);
    if (weight) loss = g.mul(perClass(g, weight, dtype), loss);
    return reduce(g, loss, reduction);
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'bce',
  description: 'binary cross-entropy with logits (torch semantics: mean divides by N*C), optional per-class weight and pos_weight',
  schema: {
    type: 'object',
    properties: {
      reduction: {
        type: 'string',
        enum: ['mean', 'sum', 'none'],
        default: 'mean',
        description: 'mean: sum / (N*C), the element count even with weights (torch); sum; none: the [N, C] element losses',
      },
      weight: {
        type: ['array', 'null'],
        items: { type: 'number', minimum: 0 },
        default: null,
        description: "per-class weight w_c multiplying every element of class c (torch's weight broadcast over rows); null: 1",
      },
      pos_weight: {
        type: ['array', 'null'],
        items: { type: 'number', minimum: 0 },
        default: null,
        description: 'per-class weight pw_c of the positive term (torch pos_weight); null: 1',
      },
    },
    additionalProperties: false,
  },
  create: BceLoss,
});
