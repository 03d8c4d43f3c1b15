import { bceWithLogits, checkedTargets, checkPerClass, classCount, oneHot, perClass, reduce, requireClassCounts, rowDot, type Reduction } from '../../core/engine/loss-ops.ts';
import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

type Variant = 'softmax' | 'animal_kingdom';

interface LdamOptions {
  variant: Variant;
  max_m: number;
  s: number;
  drw: boolean;
  drw_epoch: number | null;
  drw_beta: number;
  class_weights: number[] | null;
  reduction: Reduction;
}

/** The DRW step epoch: LDAM-DRW's cifar_train.py (160), Animal Kingdom's LDAM step_epoch (80; VideoLT uses 50). */
const DEFAULT_DRW_EPOCH: Record<Variant, number> = { softmax: 160, animal_kingdom: 80 };

/** LDAM margins m_j = max_m · n_j^(−1/4) / max_k n_k^(−1/4): the largest margin goes to the rarest class. */
export function ldamMargins(counts: readonly number[], maxM: number): number[] {
  const raw = counts.map((n) => 1 / Math.sqrt(Math.sqrt(n)));
  const top = Math.max(...raw);
  return raw.map((m) => m * (maxM / top));
}

/**
 * Deferred re-weighting (LDAM-DRW cifar_train.py, train_rule 'DRW'): β = [0, drw_beta][min(epoch // drw_epoch, 1)],
 * w_j = (1 − β) / (1 − β^{n_j}), normalised to sum to C. Stage 1 (β = 0) is all ones.
 */
export function drwWeights(counts: readonly number[], epoch: number, drwEpoch: number, beta: number): number[] {
  const b = Math.floor(epoch / drwEpoch) >= 1 ? beta : 0;
  const w = counts.map((n) => (1 - b) / (1 - Math.pow(b, n)));
  const sum = w.reduce((a, v) => a + v, 0);
  return w.map((v) => (v / sum) * counts.length);
}

/**
 * LDAM loss with deferred re-weighting (Cao et al., NeurIPS 2019), two published forms (ml-spec §1.5). Both need
 * the training set's class counts (data.class_counts).
 *
 * `softmax` — `kaidic/LDAM-DRW losses.py::LDAMLoss` with class-index targets:
 *   m_j = max_m · n_j^(−1/4) / max_k n_k^(−1/4)     (max_m = 0.5 to the RAREST class)
 *   z_ij = s · (x_ij − m_{t_i}·[j = t_i])           (margin ONLY on the target logit, BEFORE the scale s = 30)
 *   L = F.cross_entropy(z, t, weight=w) = Σ_i w_{t_i} ℓ_i / Σ_i w_{t_i}
 *   ∂L/∂x_ij = s · (softmax(z_i)_j − [j = t_i]) · w_{t_i} / Σ_k w_{t_k}
 *   x are cosine logits (NormedLinear): s = 30 assumes |x| ≤ 1.
 *
 * `animal_kingdom` — `sutdcv/Animal-Kingdom .../models/losses.py::LDAM` (= `17Skye17/VideoLT ops/losses.py::LDAM`), multi-hot:
 *   batch_m_i = Σ_j m_j y_ij                        (the SUM of the margins of ALL positives of sample i)
 *   out_ij = x_ij − batch_m_i where y_ij = 1, else x_ij   (torch.where(y.type(uint8), …): only y ≥ 1 counts as positive)
 *   L = BCEwithlogits(s·out, y, weight=w per class, reduction='mean')   (÷ N·C)
 *
 * DRW (both): β = [0, drw_beta][epoch // drw_epoch] (clamped to the second stage), w_j = (1−β)/(1−β^{n_j}),
 * w ← w / Σw · C. The weights are constants of the graph built for `epoch` (LossContext.epoch, 0-based as in
 * cifar_train.py; absent = 0): a training loop rebuilds (or caches per stage) when the epoch crosses drw_epoch.
 * drw=false gives weight=None at every epoch (LDAM-DRW train_rule 'None'; Animal Kingdom as shipped, whose
 * reset_epoch call is commented out). class_weights, when given, replace the schedule at every epoch.
 *
 * reduction: 'mean' as above; 'sum' = Σ_i w_{t_i} ℓ_i (softmax) or Σ (animal_kingdom); 'none' = w_{t_i} ℓ_i [N] or [N, C].
 */
@injectable()
export class LdamLoss implements LossModule {
  readonly targetKind: TargetKind;
  readonly needsClassCounts = true;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: LdamOptions) {
    this.targetKind = options.variant === 'softmax' ? 'index' : 'multi_hot';
  }

  /** The per-class weights in force at `epoch` (null: none). */
  classWeights(counts: readonly number[], epoch = 0): number[] | null {
    const o = this.options;
    if (o.class_weights) return o.class_weights;
    if (!o.drw) return null;
    return drwWeights(counts, epoch, o.drw_epoch ?? DEFAULT_DRW_EPOCH[o.variant], o.drw_beta);
  }

  build(ctx: LossContext, inputs: LossInputs): Value {
    const { g, dtype } = ctx;
    const o = this.options;
    const x = inputs.logits;
    const classes = classCount('ldam', x);
    const counts = requireClassCounts(ctx, 'ldam', classes, { positive: true });
    if (o.class_weights) checkPerClass('ldam', 'class_weights', o.class_weights, classes);
    const weights = this.classWeights(counts, ctx.epoch ?? 0);
    const m = perClass(g, ldamMargins(counts, o.max_m), dtype);
    const w = weights ? perClass(g, weights, dtype) : null;

    if (o.variant === 'animal_kingdom') {
      const y = checkedTargets('ldam', x, inputs.targets, 'multi_hot');
      const batchM = g.reduceSum(g.mul(y, m), [1], true);
      const out = g.where(g.greaterOrEqual(y, 1), g.sub(x, batchM), x);
      const loss = bceWithLogits(g, g.mul(o.s, out), y);
      return reduce(g, w ? g.mul(w, loss) : loss, o.reduction);
    }

    const hot = oneHot(g, checkedTargets('ldam', x, inputs.targets, 'index'), classes, dtype);
    const z = g.mul(o.s, g.sub(x, g.mul(hot, m)));
    const nll = g.neg(rowDot(g, hot, g.logSoftmax(z, -1)));
    if (!w) return reduce(g, nll, o.reduction);
    const wt = rowDot(g, hot, w);
    return reduce(g, g.mul(wt, nll), o.reduction, g.reduceSum(wt));
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'ldam',
  description: 'LDAM with deferred re-weighting: single-label softmax (LDAM-DRW) or the Animal Kingdom multi-label BCE form',
  schema: {
    type: 'object',
    properties: {
      variant: {
        type: 'string',
        enum: ['softmax', 'animal_kingdom'],
        default: 'softmax',
        description: 'softmax: LDAM-DRW LDAMLoss (class indices, weighted CE); animal_kingdom: VideoLT/AK LDAM (multi-hot, summed margins, BCE mean)',
      },
      max_m: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'the largest margin, given to the rarest class' },
      s: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'logit scale applied after the margin (for cosine logits)' },
      drw: {
        type: 'boolean',
        default: true,
        description: 'deferred re-weighting by effective number after drw_epoch; false: no class weights (Animal Kingdom as shipped)',
      },
      drw_epoch: {
        type: ['integer', 'null'],
        minimum: 1,
        default: null,
        description: 'the epoch (0-based) from which the DRW weights apply; null: 160 (softmax, LDAM-DRW) or 80 (animal_kingdom)',
      },
      drw_beta: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9999, description: 'β of the effective number (1 − β^n)/(1 − β) in the second stage' },
      class_weights: {
        type: ['array', 'null'],
        items: { type: 'number', minimum: 0 },
        default: null,
        description: 'fixed per-class weights used at every epoch instead of the DRW schedule; null: DRW (or none with drw=false)',
      },
      reduction: {
        type: 'string',
        enum: ['mean', 'sum', 'none'],
        default: 'mean',
        description: 'mean: softmax Σ w_t ℓ / Σ w_t (weighted CE), animal_kingdom Σ/(N·C); sum; none: [N] (softmax) or [N, C]',
      },
    },
    additionalProperties: false,
  },
  create: LdamLoss,
});
