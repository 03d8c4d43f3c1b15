import {
  bceWithLogits,
  checkedTargets,
  checkPerClass,
  classCount,
  focalFactor,
  oneHot,
  oneMinusExpNeg,
  perClass,
  reduce,
  rowDot,
  sigmoid,
  type Reduction,
} from '../../core/engine/loss-ops.ts';
import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { ValidationError } from '../../core/config/errors.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

type Variant = 'sigmoid' | 'softmax' | 'animal_kingdom';

interface FocalOptions {
  variant: Variant;
  alpha: number | null;
  gamma: number | null;
  reduction: Reduction | null;
  softmax_form: 'ldam' | 'kornia';
  eps: number;
  class_weights: number[] | null;
}

/** The reference defaults of each variant, used where the config leaves a key null. */
const DEFAULTS: Record<Variant, { alpha: number; gamma: number; reduction: Reduction }> = {
  sigmoid: { alpha: 0.25, gamma: 2, reduction: 'none' }, // torchvision sigmoid_focal_loss
  softmax: { alpha: 0.25, gamma: 2, reduction: 'mean' }, // kornia focal_loss (γ=2); LDAM-DRW's CIFAR script passes γ=1
  animal_kingdom: { alpha: 1, gamma: 0, reduction: 'mean' }, // VideoLT / Animal Kingdom FocalLoss as configured there
};

/**
 * Focal loss, three published forms (ml-spec §1.2, §1.3, §1.5):
 *
 * `sigmoid` — `torchvision/ops/focal_loss.py::sigmoid_focal_loss(alpha=0.25, gamma=2, reduction='none')`:
 *   ce = BCEwithlogits(x, y);  p_t = p·y + (1 − p)(1 − y);  ℓ = ce · (1 − p_t)^γ · [α·y + (1 − α)(1 − y)]
 *   α_t is α on positives and 1 − α on NEGATIVES; α < 0 disables it. torchvision's default reduction is 'none'
 *   (kept here); mean = Σℓ / (N·C). γ = 0, α = 0.25 is α-weighted BCE, not plain BCE.
 *   ∂ℓ/∂x: y=1: α (1−p)^γ (γ p log p + p − 1);  y=0: (1−α) p^γ (p − γ (1−p) log(1−p)).
 *   1 − p_t is computed as y·σ(−x) + (1 − y)·σ(x) (equal, without the cancellation of 1 − p_t near p_t = 1).
 *
 * `softmax`, single-label (class-index targets), plain mean over N:
 *   softmax_form 'ldam' — `kaidic/LDAM-DRW losses.py::FocalLoss(weight, gamma)`: ce_i = −w_{t_i} log softmax(x_i)_{t_i},
 *     p_i = exp(−ce_i) (with weights p_{t_i}^{w_{t_i}}, not a probability), ℓ_i = (1 − p_i)^γ · ce_i. No α.
 *   softmax_form 'kornia' — Lin et al. eq. 5 as `kornia/losses/focal.py::focal_loss` (≤ 0.6, scalar α for every class):
 *     ℓ_i = −α (1 − p_{t_i} − eps)^γ log(p_{t_i} + eps), kornia's eps = 1e-8 added to the softmax probabilities
 *     (eps = 0: the log-softmax form); class_weights multiply ℓ_i by w_{t_i}.
 *
 * `animal_kingdom` — `17Skye17/VideoLT ops/losses.py::FocalLoss` (copied into Animal Kingdom):
 *   bce = BCEwithlogits(x, y);  ℓ = α (1 − e^−bce)^γ · bce, α on positives and negatives alike (no α_t); mean over N·C.
 *   Animal Kingdom runs it with α = 1, γ = 0 (this variant's defaults), which is exactly BCE.
 *
 * `class_weights` (per class, default none): the ldam form's `weight`; for the other forms a Vidra extension
 * multiplying each element (sigmoid, animal_kingdom) or sample (kornia) loss by the weight of its class.
 */
@injectable()
export class FocalLoss implements LossModule {
  readonly targetKind: TargetKind;
  readonly needsClassCounts = false;
  private readonly alpha: number;
  private readonly gamma: number;
  private readonly reduction: Reduction;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: FocalOptions) {
    const d = DEFAULTS[options.variant];
    if (options.variant === 'softmax' && options.softmax_form === 'ldam' && options.alpha !== null) {
      throw new ValidationError(
        `the focal loss's alpha has no effect with variant=softmax, softmax_form=ldam (LDAM-DRW's FocalLoss has no α): ` +
          `remove alpha, use class_weights, or set softmax_form=kornia`,
      );
    }
    this.targetKind = options.variant === 'softmax' ? 'index' : 'multi_hot';
    this.alpha = options.alpha ?? d.alpha;
    this.gamma = options.gamma ?? d.gamma;
    this.reduction = options.reduction ?? d.reduction;
  }

  build(ctx: LossContext, inputs: LossInputs): Value {
    const x = inputs.logits;
    const classes = classCount('focal', x);
    const weights = this.options.class_weights;
    if (weights) checkPerClass('focal', 'class_weights', weights, classes);
    const w = weights ? perClass(ctx.g, weights, ctx.dtype) : null;
    switch (this.options.variant) {
      case 'sigmoid':
        return this.sigmoidForm(ctx, x, checkedTargets('focal', x, inputs.targets, 'multi_hot'), w);
      case 'animal_kingdom':
        return this.animalKingdomForm(ctx, x, checkedTargets('focal', x, inputs.targets, 'multi_hot'), w);
      case 'softmax': {
        const hot = oneHot(ctx.g, checkedTargets('focal', x, inputs.targets, 'index'), classes, ctx.dtype);
        return this.options.softmax_form === 'ldam' ? this.ldamForm(ctx, x, hot, w) : this.korniaForm(ctx, x, hot, w);
      }
    }
  }

  private sigmoidForm({ g }: LossContext, x: Value, y: Value, w: Value | null): Value {
    const ce = bceWithLogits(g, x, y);
    const oneMinusPt = g.add(g.mul(y, sigmoid(g, g.neg(x))), g.mul(g.sub(1, y), sigmoid(g, x)));
    const factor = focalFactor(g, oneMinusPt, this.gamma);
    let loss = factor ? g.mul(ce, factor) : ce;
    if (this.alpha >= 0) loss = g.mul(loss, g.add(g.mul(this.alpha, y), g.mul(1 - this.alpha, g.sub(1, y))));
    if (w) loss = g.mul(loss, w);
    return reduce(g, loss, this.reduction);
  }

  private animalKingdomForm({ g }: LossContext, x: Value, y: Value, w: Value | null): Value {
    const bce = bceWithLogits(g, x, y);
    const factor = focalFactor(g, oneMinusExpNeg(g, bce), this.gamma);
    let loss = g.mul(this.alpha, factor ? g.mul(factor, bce) : bce);
    if (w) loss = g.mul(loss, w);
    return reduce(g, loss, this.reduction);
  }

  private ldamForm({ g }: LossContext, x: Value, hot: Value, w: Value | null): Value {
    const negLogPt = g.neg(rowDot(g, hot, g.logSoftmax(x, -1)));
    const ce = w ? g.mul(rowDot(g, hot, w), negLogPt) : negLogPt;
    const factor = focalFactor(g, oneMinusExpNeg(g, ce), this.gamma);
    return reduce(g, factor ? g.mul(factor, ce) : ce, this.reduction);
  }

  private korniaForm({ g }: LossContext, x: Value, hot: Value, w: Value | null): Value {
    const eps = this.options.eps;
    const probs = g.softmax(x, -1);
    // 1 − p_t as the sum of the other classes' probabilities: no cancellation when p_t ≈ 1.
    const others = rowDot(g, g.sub(1, hot), probs);
    const logPt = eps > 0 ? g.log(g.add(rowDot(g, hot, probs), eps)) : rowDot(g, hot, g.logSoftmax(x, -1));
    // kornia's 1 − (p_t + eps) is negative when p_t > 1 − eps (NaN for a fractional γ): floored at 0.
    const base = eps > 0 ? g.max(g.sub(others, eps), 0) : others;
    const factor = focalFactor(g, base, this.gamma);
    let loss = g.neg(factor ? g.mul(factor, logPt) : logPt);
    if (this.alpha >= 0) loss = g.mul(this.alpha, loss);
    if (w) loss = g.mul(loss, rowDot(g, hot, w));
    return reduce(g, loss, this.reduction);
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'focal',
  description: 'focal loss: torchvision sigmoid (default, alpha_t = 1-alpha on negatives), softmax (LDAM-DRW or kornia), Animal Kingdom BCE-based',
  schema: {
    type: 'object',
    properties: {
      variant: {
        type: 'string',
        enum: ['sigmoid', 'softmax', 'animal_kingdom'],
        default: 'sigmoid',
        description: 'sigmoid: torchvision sigmoid_focal_loss (multi-hot); softmax: single-label (class indices); animal_kingdom: VideoLT/AK BCE-based focal',
      },
      alpha: {
        type: ['number', 'null'],
        default: null,
        description:
          'sigmoid: α on positives, 1 − α on negatives, negative disables (default 0.25); softmax kornia form: scalar α (default 0.25, negative disables); ' +
          'animal_kingdom: α on every element (default 1); not used by the softmax ldam form',
      },
      gamma: {
        type: ['number', 'null'],
        minimum: 0,
        default: null,
        description: 'focusing exponent γ; null: 2 (sigmoid, softmax; LDAM-DRW CIFAR uses 1), 0 (animal_kingdom)',
      },
      reduction: {
        type: ['string', 'null'],
        enum: ['mean', 'sum', 'none', null],
        default: null,
        description:
          "null: the variant's reference default — 'none' for sigmoid (torchvision's default!), 'mean' for softmax and animal_kingdom. " +
          'mean: sigmoid/animal_kingdom Σℓ/(N·C), softmax Σℓ/N (plain, also with class_weights)',
      },
      softmax_form: {
        type: 'string',
        enum: ['ldam', 'kornia'],
        default: 'ldam',
        description: "variant=softmax only: 'ldam' (kaidic/LDAM-DRW FocalLoss: (1 − p)^γ·ce, p = exp(−ce)) or 'kornia' (−α(1 − p_t)^γ log p_t)",
      },
      eps: {
        type: 'number',
        minimum: 0,
        default: 1e-8,
        description: "softmax_form=kornia only: added to the softmax probabilities (kornia ≤ 0.6); 0: log-softmax form",
      },
      class_weights: {
        type: ['array', 'null'],
        items: { type: 'number', minimum: 0 },
        default: null,
        description: "per-class weights: the ldam form's weight (inside ce and p); other forms multiply each loss by its class's weight; null: none",
      },
    },
    additionalProperties: false,
  },
  create: FocalLoss,
});
