import { bceWithLogits, checkedTargets, classCount, perClass, reduce, requireClassCounts, type Reduction } from '../../core/engine/loss-ops.ts';
import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { EngineError } from '../../core/engine/session.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

type Variant = 'original' | 'animal_kingdom';

interface EqlOptions {
  variant: Variant;
  lambda: number | null;
  max_tail_num: number;
  num_images: number | null;
  reduction: Reduction;
}

/** λ of eql.detectron2's cfg.py (the paper prints 1.76e-3), and VideoLT/Animal Kingdom's Bernoulli γ = 1.76e-3. */
const DEFAULT_LAMBDA: Record<Variant, number> = { original: 0.00177, animal_kingdom: 1.76e-3 };

/**
 * Equalization loss (Tan et al., CVPR 2020), two published forms (ml-spec §1.4). Both weight the element-wise BCE
 * with logits by w_ij and need the training set's class counts (data.class_counts).
 *
 * `original` — `tztztztztz/eql.detectron2 projects/EQL/eql/fast_rcnn.py::eql_loss` (= eqlv2 `mmdet/.../eql.py`):
 *   E_i = 1 unless row i is background (no positive: gt = C);  f_j = count_j / num_images;  T_j = [f_j < λ]  (STRICT <, a frequency)
 *   w_ij = 1 − E_i · T_j · (1 − y_ij)      — rare classes lose their NEGATIVE terms, for foreground samples only
 *   L = Σ_ij w_ij · BCE(x_ij, y_ij) / N     — the sum over classes, divided by the number of samples, not N·C
 *   ∂L/∂x_ij = w_ij (σ(x_ij) − y_ij) / N
 *   num_images is the number of training images/samples (eql.detectron2: images with annotations); when null it is
 *   Σ counts, exact for single-label data (one class per sample).
 *
 * `animal_kingdom` — `sutdcv/Animal-Kingdom .../slowfast/models/losses.py::EQL` (verbatim `17Skye17/VideoLT ops/losses.py::EQL`):
 *   tail_j = [count_j ≤ max_tail_num]  (a COUNT, inclusive);  β_ij ~ Bernoulli(λ) drawn fresh per element per step
 *   w_ij = 1 − β_ij · tail_j · (1 − y_ij);  L = BCEwithlogits(x, y, weight=w, reduction='mean')  (÷ N·C)
 *   λ = 1.76e-3 is the paper's threshold reused as the probability, so in expectation only 0.176 % of tail
 *   negatives are dropped. β is a graph input (`mask`, needsMask): the step runner draws it each step with
 *   P(1) = maskProbability from the run's seeded generator, `drawMask` draws it from any injectable RNG as VideoLT
 *   does; a mask of ones drops every tail negative, a mask of zeros is plain BCE.
 *
 * reduction: 'mean' is each variant's reference normalisation (original Σ/N, animal_kingdom Σ/(N·C)); 'sum' = Σ;
 * 'none' = the weighted element losses [N, C].
 */
@injectable()
export class EqlLoss implements LossModule {
  readonly targetKind: TargetKind = 'multi_hot';
  readonly needsClassCounts = true;
  readonly needsMask: boolean;
  /** animal_kingdom: P(β_ij = 1) = λ, for the step runner's seeded draw of the mask. */
  readonly maskProbability?: number;
  /** λ: the frequency threshold (original) or the Bernoulli probability of β (animal_kingdom). */
  readonly lambda: number;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: EqlOptions) {
    this.needsMask = options.variant === 'animal_kingdom';
    this.lambda = options.lambda ?? DEFAULT_LAMBDA[options.variant];
    if (this.needsMask) this.maskProbability = this.lambda;
  }

  /** One Bernoulli(λ) draw of β, [rows][cols] of 0/1, as VideoLT: u ~ U[0, 1), β = [u ≥ 1 − λ]. */
  drawMask(rows: number, cols: number, rng: () => number = Math.random): number[][] {
    return Array.from({ length: rows }, () => Array.from({ length: cols }, () => (rng() >= 1 - this.lambda ? 1 : 0)));
  }

  build(ctx: LossContext, inputs: LossInputs): Value {
    const { g, dtype } = ctx;
    const x = inputs.logits;
    const classes = classCount('eql', x);
    const y = checkedTargets('eql', x, inputs.targets, 'multi_hot');
    const counts = requireClassCounts(ctx, 'eql', classes);
    const bce = bceWithLogits(g, x, y);
    if (this.options.variant === 'original') {
      const images = this.options.num_images ?? counts.reduce((a, b) => a + b, 0);
      if (images <= 0) throw new EngineError('the eql loss (variant original) needs a positive number of training images (num_images, or a non-zero data.class_counts)');
      const rare = perClass(g, counts.map((n) => (n / images < this.lambda ? 1 : 0)), dtype);
      // E_i: a foreground row has at least one positive target.
      const foreground = g.cast(g.greater(g.reduceSum(y, [1], true), 0), dtype);
      const w = g.sub(1, g.mul(g.mul(foreground, rare), g.sub(1, y)));
      return reduce(g, g.mul(w, bce), this.options.reduction, x.shape[0]!);
    }
    const beta = inputs.mask;
    if (!beta) throw new EngineError('the eql loss (variant animal_kingdom) needs its Bernoulli mask β as an input (mask [N, C]); draw it with drawMask each step');
    if (beta.shape.length !== 2 || beta.shape[0] !== x.shape[0] || beta.shape[1] !== classes) {
      throw new EngineError(`the eql loss's mask must be shaped like the logits [${x.shape.join(', ')}], got [${beta.shape.join(', ')}]`);
    }
    const tail = perClass(g, counts.map((n) => (n <= this.options.max_tail_num ? 1 : 0)), dtype);
    const w = g.sub(1, g.mul(g.mul(beta, tail), g.sub(1, y)));
    return reduce(g, g.mul(w, bce), this.options.reduction);
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'eql',
  description: 'equalization loss: original (frequency < lambda, sum / N) or Animal Kingdom (count <= max_tail_num, Bernoulli mask, BCE mean)',
  schema: {
    type: 'object',
    properties: {
      variant: {
        type: 'string',
        enum: ['original', 'animal_kingdom'],
        default: 'original',
        description: 'original: eql.detectron2 (rare = frequency < lambda, Σ/N); animal_kingdom: VideoLT/AK (tail = count <= max_tail_num, β ~ Bernoulli(lambda), BCE mean)',
      },
      lambda: {
        type: ['number', 'null'],
        minimum: 0,
        maximum: 1,
        default: null,
        description: 'original: the frequency threshold λ (null: 0.00177, eql.detectron2 cfg.py); animal_kingdom: the Bernoulli probability of β (null: 1.76e-3)',
      },
      max_tail_num: {
        type: 'integer',
        minimum: 0,
        default: 100,
        description: 'animal_kingdom: a class with count <= max_tail_num is a tail class',
      },
      num_images: {
        type: ['integer', 'null'],
        minimum: 1,
        default: null,
        description: 'original: the number of training images the frequency divides by; null: the sum of data.class_counts (exact for single-label data)',
      },
      reduction: {
        type: 'string',
        enum: ['mean', 'sum', 'none'],
        default: 'mean',
        description: "mean: the variant's reference normalisation (original Σ/N, animal_kingdom Σ/(N·C)); sum; none: the [N, C] weighted losses",
      },
    },
    additionalProperties: false,
  },
  create: EqlLoss,
});
