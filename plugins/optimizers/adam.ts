import { asDtype, f64 } from '../../core/engine/optimizer-step.ts';
import type { OptimizerContext, OptimizerModule, OptimizerStateSpec } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  amsgrad: boolean;
  maximize: boolean;
}

/** torch.optim.Adam's defaults. */
export const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false };

/**
 * Adam (Kingma & Ba, ICLR 2015) exactly as PyTorch 1.13 computes it (`torch/optim/adam.py`,
 * `_single_tensor_adam`), with L2-coupled weight decay; t is the step count after this update:
 *
 *     g ← −g                                   if maximize
 *     g ← g + wd·θ                             L2 penalty folded into the gradient (not AdamW's decoupled decay)
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     v̂ ← max(v̂, v) if amsgrad, else v
 *     θ ← θ − (lr / (1 − β1^t)) · m / (sqrt(v̂) / sqrt(1 − β2^t) + ε)
 *
 * Parameters with `decay: false` get wd = 0, as a second parameter group would.
 */
@injectable()
export class Adam implements OptimizerModule {
  readonly options: AdamOptions;
  readonly state: readonly OptimizerStateSpec[];
  /** Decoupled weight decay (AdamW) instead of the L2 penalty folded into the gradient. */
  protected readonly decoupled: boolean = false;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<AdamOptions>) {
    this.options = { ...ADAM_DEFAULTS, ...options };
    this.state = [
      { name: 'exp_avg', init: 0 },
      { name: 'exp_avg_sq', init: 0 },
      ...(this.options.amsgrad ? [{ name: 'max_exp_avg_sq', init: 0 }] : []),
    ];
    checkAdamOptions(new.target === Adam ? 'adam' : 'adamw', this.options);
  }

  update(ctx: OptimizerContext, param: { value: Value; grad: Value; decay: boolean; state: Value[] }): { value: Value; state: Value[] } {
    const { g } = ctx;
    const { betas: [beta1, beta2], eps, amsgrad, maximize } = this.options;
    const wd = param.decay ? this.options.weight_decay : 0;
    const dtype = param.value.dtype;
    const [expAvg, expAvgSq, maxExpAvgSq] = param.state as [Value, Value, Value | undefined];
    const lr = f64(g, ctx.lr);
    const t = f64(g, ctx.step);

    let grad = maximize ? g.neg(param.grad) : param.grad;
    let theta = param.value;
    if (wd !== 0 && this.decoupled) theta = g.mul(theta, asDtype(g, g.sub(1, g.mul(lr, wd)), dtype));
    else if (wd !== 0) grad = g.add(grad, g.mul(param.value, wd));
    // (1 − β) is computed here in float64 and written once: 1 − β in float32 would be off by 1e-5 relative.
    const m = g.add(g.mul(expAvg, beta1), g.mul(grad, 1 - beta1));
    const v = g.add(g.mul(expAvgSq, beta2), g.mul(g.mul(grad, 1 - beta2), grad));
    const vHat = amsgrad ? g.max(maxExpAvgSq!, v) : v;

    // torch: θ − (lr / bc1) · m / (sqrt(v̂) / sqrt(bc2) + ε), with bc_i = 1 − β_i^t. Multiplying the fraction
    // by sqrt(bc2) leaves the value unchanged and the bias corrections in the scalars:
    //     θ − k · m / (sqrt(v̂) + ε'),   k = lr · sqrt(bc2) / bc1,   ε' = ε · sqrt(bc2)
    // 5 full-size ops instead of 6 (the step is memory-bound: each op is a pass over every parameter). The
    // scale multiplies m, not 1 / denominator, so lr = 0 still leaves θ unchanged.
    const bc1 = g.sub(1, g.pow(g.scalar(beta1, 'float64'), t));
    const bc2Sqrt = g.sqrt(g.sub(1, g.pow(g.scalar(beta2, 'float64'), t)));
    const k = asDtype(g, g.div(g.mul(lr, bc2Sqrt), bc1), dtype);
    const epsScaled = asDtype(g, g.mul(bc2Sqrt, eps), dtype);
    const value = g.sub(theta, g.div(g.mul(m, k), g.add(g.sqrt(vHat), epsScaled)));
    return { value, state: amsgrad ? [m, v, vHat] : [m, v] };
  }
}

/** PyTorch's constructor checks (the schema says the same for configs; these catch direct construction). */
function checkAdamOptions(name: string, o: AdamOptions): void {
  if (!(o.lr >= 0)) throw new RangeError(`${name}: invalid learning rate ${o.lr} (lr >= 0)`);
  if (!(o.eps >= 0)) throw new RangeError(`${name}: invalid epsilon ${o.eps} (eps >= 0)`);
  if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new RangeError(`${name}: betas must be two numbers [beta1, beta2]`);
  o.betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1)) throw new RangeError(`${name}: invalid beta parameter at index ${i}: ${b} (0 <= beta < 1)`);
  });
  if (!(o.weight_decay >= 0)) throw new RangeError(`${name}: invalid weight_decay ${o.weight_decay} (weight_decay >= 0)`);
}

/** The config keys of adam and adamw: the same, with their own defaults and the meaning of weight_decay. */
export function adamSchema(defaults: AdamOptions, notes: { betas: string; weight_decay: string }) {
  return {
    type: 'object',
    properties: {
      lr: { type: 'number', minimum: 0, default: defaults.lr, description: 'base learning rate (scaled by the schedule each step)' },
      betas: {
        type: 'array',
        items: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        minItems: 2,
        maxItems: 2,
        default: defaults.betas,
        description: notes.betas,
      },
      eps: { type: 'number', minimum: 0, default: defaults.eps, description: 'added to the bias-corrected sqrt(v)' },
      weight_decay: { type: 'number', minimum: 0, default: defaults.weight_decay, description: notes.weight_decay },
      amsgrad: { type: 'boolean', default: defaults.amsgrad, description: 'use the running maximum of v (Reddi et al. 2018)' },
      maximize: { type: 'boolean', default: defaults.maximize, description: 'maximize the objective instead of minimizing' },
    },
    additionalProperties: false,
  };
}

export const plugin = definePlugin({
  kind: 'optimizer',
  name: 'adam',
  description: 'Adam with L2 weight decay added to the gradient (torch.optim.Adam, exact torch 1.13 update)',
  schema: adamSchema(ADAM_DEFAULTS, {
    betas: '[beta1, beta2]: decay rates of the first and second moments',
    weight_decay: 'L2 penalty: g ← g + wd·θ; not applied to decay: false parameters',
  }),
  create: Adam,
});
