import { asDtype, f64 } from '../../core/engine/optimizer-step.ts';
import type { OptimizerContext, OptimizerModule, OptimizerStateSpec } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

export interface AdamWOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** torch.optim.AdamW's defaults (weight_decay is 1e-2, not 0 as in Adam). */
export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-2, amsgrad: false, maximize: false };

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) exactly as PyTorch 1.13
 * computes it (`torch/optim/adamw.py`, `_single_tensor_adamw`), t the step count after this update:
 *
 *     g ← −g                                   if maximize
 *     θ ← θ · (1 − lr·wd)                      decoupled decay, with this step's scheduled lr
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     v̂ ← max(v̂, v) if amsgrad, else v
 *     θ ← θ − (lr / (1 − β1^t)) · m / (sqrt(v̂) / sqrt(1 − β2^t) + ε)
 *
 * ε is added after bias-correcting sqrt(v). Parameters with `decay: false` (biases, norms, CLIP's logit scale)
 * get wd = 0, as a second parameter group would. CLIP and Ego4D CLEP use betas (0.9, 0.98), eps 1e-6, wd 0.1.
 * `lr` in the config is the base rate; the training loop feeds lr·schedule(k) each step (`lr` of the context).
 */
@injectable()
export class AdamW implements OptimizerModule {
  readonly options: AdamWOptions;
  readonly state: readonly OptimizerStateSpec[];

  constructor(@inject(PLUGIN_CONFIG) options: Partial<AdamWOptions>) {
    this.options = { ...ADAMW_DEFAULTS, ...options };
    checkAdamOptions('adamw', this.options);
    this.state = [
      { name: 'exp_avg', init: 0 },
      { name: 'exp_avg_sq', init: 0 },
      ...(this.options.amsgrad ? [{ name: 'max_exp_avg_sq', init: 0 }] : []),
    ];
  }

  update(ctx: OptimizerContext, param: { value: Value; grad: Value; decay: boolean; state: Value[] }): { value: Value; state: Value[] } {
    const { g } = ctx;
    const { betas: [beta1, beta2], eps, amsgrad, maximize } = this.options;
    const wd = param.decay ? this.options.weight_decay : 0;
    const dtype = param.value.dtype;
    const [expAvg, expAvgSq, maxExpAvgSq] = param.state as [Value, Value, Value | undefined];
    const grad = maximize ? g.neg(param.grad) : param.grad;
    const lr = f64(g, ctx.lr);
    const t = f64(g, ctx.step);

    const theta = wd === 0 ? param.value : g.mul(param.value, asDtype(g, g.sub(1, g.mul(lr, wd)), dtype));
    // (1 − β) is computed here in float64 and written once: 1 − β in float32 would be off by 1e-5 relative.
    const m = g.add(g.mul(expAvg, beta1), g.mul(grad, 1 - beta1));
    const v = g.add(g.mul(expAvgSq, beta2), g.mul(g.mul(grad, 1 - beta2), grad));
    const vHat = amsgrad ? g.max(maxExpAvgSq!, v) : v;

    const stepSize = asDtype(g, g.div(lr, g.sub(1, g.pow(g.scalar(beta1, 'float64'), t))), dtype);
    const bc2Sqrt = asDtype(g, g.sqrt(g.sub(1, g.pow(g.scalar(beta2, 'float64'), t))), dtype);
    const denom = g.add(g.div(g.sqrt(vHat), bc2Sqrt), eps);
    const value = g.sub(theta, g.mul(g.div(m, denom), stepSize));
    return { value, state: amsgrad ? [m, v, vHat] : [m, v] };
  }
}

/** PyTorch's constructor checks (the schema says the same for configs; these catch direct construction). */
function checkAdamOptions(name: string, o: { lr: number; betas: [number, number]; eps: number; weight_decay: number }): void {
  if (!(o.lr >= 0)) throw new RangeError(`${name}: invalid learning rate ${o.lr} (lr >= 0)`);
  if (!(o.eps >= 0)) throw new RangeError(`${name}: invalid epsilon ${o.eps} (eps >= 0)`);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new RangeError(`${name}: betas must be two numbers [beta1, beta2]`);
  o.betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1)) throw new RangeError(`${name}: invalid beta parameter at index ${i}: ${b} (0 <= beta < 1)`);
  });
  if (!(o.weight_decay >= 0)) throw new RangeError(`${name}: invalid weight_decay ${o.weight_decay} (weight_decay >= 0)`);
}

export const plugin = definePlugin({
  kind: 'optimizer',
  name: 'adamw',
  description: 'AdamW with decoupled weight decay (torch.optim.AdamW, exact torch 1.13 update)',
  schema: {
    type: 'object',
    properties: {
      lr: { type: 'number', minimum: 0, default: ADAMW_DEFAULTS.lr, description: 'base learning rate (scaled by the schedule each step)' },
      betas: {
        type: 'array',
        items: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        minItems: 2,
        maxItems: 2,
        default: ADAMW_DEFAULTS.betas,
        description: '[beta1, beta2]: decay rates of the first and second moments (CLIP: [0.9, 0.98])',
      },
      eps: { type: 'number', minimum: 0, default: ADAMW_DEFAULTS.eps, description: 'added to the bias-corrected sqrt(v)' },
      weight_decay: { type: 'number', minimum: 0, default: ADAMW_DEFAULTS.weight_decay, description: 'decoupled decay θ ← θ(1 − lr·wd); not applied to decay: false parameters' },
      amsgrad: { type: 'boolean', default: ADAMW_DEFAULTS.amsgrad, description: 'use the running maximum of v (Reddi et al. 2018)' },
      maximize: { type: 'boolean', default: ADAMW_DEFAULTS.maximize, description: 'maximize the objective instead of minimizing' },
    },
    additionalProperties: false,
  },
  create: AdamW,
});
