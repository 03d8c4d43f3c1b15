import type { LossContext, LossInputs, LossModule, TargetKind } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { EngineError } from '../../core/engine/session.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

type Variant = 'clip' | 'clep';

interface InfoNceOptions {
  variant: Variant;
  normalize: boolean | null;
  use_logit_scale: boolean;
}

/**
 * Symmetric InfoNCE between two batches of embeddings paired row by row (ml-spec §1.6).
 *
 * `clip` — `mlfoundations/open_clip src/open_clip/loss.py::ClipLoss`:
 *   I = normalize(a), T = normalize(b)  (L2 over the feature dim; open_clip does it in encode_*, here `normalize`)
 *   s = exp(logit_scale)  (the parameter is a log; open_clip inits it to ln(1/0.07) ≈ 2.6593, s ≈ 14.286)
 *   L = s · I Tᵀ;  loss = ( CE(L, arange N) + CE(Lᵀ, arange N) ) / 2,  CE a mean over rows
 *   ∂loss/∂L_ij = [ (softmax_row(L)_ij − δ_ij) + (softmax_col(L)_ij − δ_ij) ] / (2N);  ∂loss/∂param = Σ_ij ∂loss/∂L_ij · L_ij
 *
 * `clep` — `facebookresearch/Ego4d ego4d/research/clep/train.py`: the same symmetric CE, but the model's raw
 * parameter multiplies the similarities WITHOUT exp (s = param, ≤ ln 100 after the clamp), and by default the
 * projections are not L2-normalised (`norm_logits: false`).
 *
 * Both clamp the log-parameter to [0, ln 100] after each optimizer step (`param.clamp_(0, ln 100)`): that is the
 * model's/optimizer's job, not the loss's — the loss reads the parameter as given. `use_logit_scale: false` is
 * CLEP's switch to drop the scale (s = 1).
 */
@injectable()
export class InfoNceLoss implements LossModule {
  readonly targetKind: TargetKind = 'none';
  readonly needsClassCounts = false;
  private readonly normalize: boolean;

  constructor(@inject(PLUGIN_CONFIG) private readonly options: InfoNceOptions) {
    this.normalize = options.normalize ?? options.variant === 'clip';
  }

  build(ctx: LossContext, inputs: LossInputs): Value {
    const { g, dtype } = ctx;
    const { logits: a, other: b, logitScale } = inputs;
    if (!b) throw new EngineError('the infonce loss needs the second embedding matrix (other [N, D]) besides the first (logits [N, D])');
    if (a.rank !== 2 || b.rank !== 2 || a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) {
      throw new EngineError(`the infonce loss pairs rows of two [N, D] embedding matrices of the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    }
    const n = a.shape[0]!;
    const left = this.normalize ? g.l2Normalize(a, -1) : a;
    const right = this.normalize ? g.l2Normalize(b, -1) : b;
    let sim = g.matmul(left, g.transpose(right, [1, 0]));
    if (this.options.use_logit_scale) {
      if (!logitScale) throw new EngineError('the infonce loss needs the logit-scale parameter (logitScale, a scalar), or use_logit_scale=false');
      if (logitScale.size !== 1) throw new EngineError(`the infonce loss's logit scale must be a scalar, got [${logitScale.shape.join(', ')}]`);
      const param = g.reshape(logitScale, []);
      sim = g.mul(this.options.variant === 'clip' ? g.exp(param) : param, sim);
    }
    const eye = g.constant(
      Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)),
      dtype,
      [n, n],
    );
    // CE(L, arange) uses log-softmax over rows; CE(Lᵀ, arange) the same over the columns of L.
    const rows = g.reduceSum(g.mul(eye, g.logSoftmax(sim, 1)));
    const cols = g.reduceSum(g.mul(eye, g.logSoftmax(sim, 0)));
    return g.div(g.add(rows, cols), g.scalar(-2 * n, dtype));
  }
}

export const plugin = definePlugin({
  kind: 'loss',
  name: 'infonce',
  description: 'symmetric InfoNCE (CLIP: scale exp(param), L2-normalised; Ego4D CLEP: raw param, not normalised)',
  schema: {
    type: 'object',
    properties: {
      variant: {
        type: 'string',
        enum: ['clip', 'clep'],
        default: 'clip',
        description: 'clip: open_clip ClipLoss, scale = exp(logit_scale); clep: Ego4D CLEP, scale = the raw parameter (no exp)',
      },
      normalize: {
        type: ['boolean', 'null'],
        default: null,
        description: 'L2-normalise both embeddings before the similarities; null: true for clip, false for clep (norm_logits: false)',
      },
      use_logit_scale: {
        type: 'boolean',
        default: true,
        description: "multiply the similarities by the logit scale; false: scale 1 (CLEP's use_logit_scale)",
      },
    },
    additionalProperties: false,
  },
  create: InfoNceLoss,
});
