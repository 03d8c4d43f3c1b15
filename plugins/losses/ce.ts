import { checkedTargets, checkPerClass, classCount, oneHot, perClass, rowDot, type Reduction } from '../../core/engine/loss-ops.ts';
import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

interface CeOptions {
  label_smoothing: number;
  class_weights: number[] | null;
  reduction: Reduction;
}

/**
 * Softmax cross-entropy with class-index targets, as `torch.nn.functional.cross_entropy(x, t, weight=w,
 * label_smoothing=ε)` (aten `cross_entropy_loss_label_smoothing`), with log p = log_softmax(x):
 *
 *   ℓ_i = (1 − ε) · w_{t_i} · (−log p_{i,t_i})  +  (ε / C) · Σ_c w_c · (−log p_ic)
 *   mean = Σ_i ℓ_i / Σ_i w_{t_i}  (= plain mean over N without weights); sum = Σ_i ℓ_i; none = ℓ [N]
 *   ∂ℓ/∂x_ij (no weights) = softmax(x_i)_j − [(1 − ε)·[j = t_i] + ε/C]
 *
 * torch divides the smoothing term by Σ w_t too when weights are given; so does this.
 */
@injectable()
export class CeLoss implements LossModule {
  readonly targetKind: TargetKind = 'index';
  readonly needsClassCounts = false;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: CeOptions) {}

  build(ctx: LossContext, inputs: LossInputs): Value {
    const { g, dtype } = ctx;
    const { label_smoothing: eps, class_weights: weights, reduction } = this.options;
    const x = inputs.logits;
    const classes = classCount('ce', x);
    const hot = oneHot(g, checkedTargets('ce', x, inputs.targets, 'index'), classes, dtype);
    if (weights) checkPerClass('ce', 'class_weights', weights, classes);
    const w = weights ? perClass(g, weights, dtype) : null;
    const negLogP = g.neg(g.logSoftmax(x, -1));
    // w_{t_i} · (−log p_{i,t_i}) and, for the mean, w_{t_i}.
    const weightedHot = w ? g.mul(hot, w) : hot;
    let loss = rowDot(g, weightedHot, negLogP);
    if (eps > 0) {
      const smooth = g.reduceSum(w ? g.mul(negLogP, w) : negLogP, [-1]);
      loss = g.add(g.mul(1 - eps, loss), g.mul(eps / classes, smooth));
    }
    if (reduction === 'none') return loss;
    const total = g.reduceSum(loss);
    if (reduction === 'sum') return total;
    return w ? g.div(total, g.reduceSum(weightedHot)) : g.div(total, g.scalar(loss.size, dtype));
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'ce',
  description: 'softmax cross-entropy with class-index targets (torch semantics), label smoothing and class weights',
  schema: {
    type: 'object',
    properties: {
      label_smoothing: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0,
        description: 'ε: the target distribution is (1 − ε)·one_hot + ε/C (torch label_smoothing)',
      },
      class_weights: {
        type: ['array', 'null'],
        items: { type: 'number', minimum: 0 },
        default: null,
        description: 'per-class weights w_c (torch weight); mean then divides by Σ_i w_{t_i}; null: 1',
      },
      reduction: {
        type: 'string',
        enum: ['mean', 'sum', 'none'],
        default: 'mean',
        description: 'mean: Σℓ / Σ_i w_{t_i} (N without weights); sum; none: the [N] per-sample losses',
      },
    },
    additionalProperties: false,
  },
  create: CeLoss,
});
