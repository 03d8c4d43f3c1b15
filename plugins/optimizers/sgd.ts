import { asDtype, f64 } from '../../core/engine/optimizer-step.ts';
import type { OptimizerContext, OptimizerModule, OptimizerStateSpec } from '../../core/engine/modules.ts';
import type { Value } from '../../core/engine/graph.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weight_decay: number;
  maximize: boolean;
}

/** torch.optim.SGD's defaults, but for lr, which torch 1.13 requires (`lr=required`). */
export const SGD_DEFAULTS: Omit<SGDOptions, 'lr'> = { momentum: 0, dampening: 0, nesterov: false, weight_decay: 0, maximize: false };

/**
 * Stochastic gradient descent with momentum exactly as PyTorch 1.13 computes it (`torch/optim/sgd.py`,
 * `_single_tensor_sgd`; Nesterov momentum after Sutskever et al., ICML 2013):
 *
 *     d ← −g if maximize, else g
 *     d ← d + wd·θ                              if wd ≠ 0 (L2, coupled)
 *     if μ ≠ 0:
 *       b ← d                                   at the first step (torch creates the buffer as a copy of d)
 *       b ← μ·b + (1 − dampening)·d             afterwards
 *       d ← d + μ·b if nesterov, else b
 *     θ ← θ − lr·d
 *
 * The first-step case is a Where on the step count, so the buffer is an ordinary state tensor. Parameters with
 * `decay: false` get wd = 0, as a second parameter group would. Without momentum there is no state.
 */
@injectable()
export class SGD implements OptimizerModule {
  readonly options: SGDOptions;
  readonly state: readonly OptimizerStateSpec[];

  constructor(@inject(PLUGIN_CONFIG) options: Partial<SGDOptions> & { lr: number }) {
    this.options = { ...SGD_DEFAULTS, ...options };
    const o = this.options;
    if (typeof o.lr !== 'number' || !(o.lr >= 0)) throw new RangeError(`sgd: invalid learning rate ${o.lr} (lr is required, lr >= 0)`);
    if (!(o.momentum >= 0)) throw new RangeError(`sgd: invalid momentum value ${o.momentum} (momentum >= 0)`);
    if (!(o.weight_decay >= 0)) throw new RangeError(`sgd: invalid weight_decay value ${o.weight_decay} (weight_decay >= 0)`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new RangeError('sgd: Nesterov momentum requires a momentum > 0 and zero dampening');
    this.state = o.momentum !== 0 ? [{ name: 'momentum_buffer', init: 0 }] : [];
  }

  update(ctx: OptimizerContext, param: { value: Value; grad: Value; decay: boolean; state: Value[] }): { value: Value; state: Value[] } {
    const { g } = ctx;
    const { momentum, dampening, nesterov, maximize } = this.options;
    const wd = param.decay ? this.options.weight_decay : 0;
    let d = maximize ? g.neg(param.grad) : param.grad;
    if (wd !== 0) d = g.add(d, g.mul(param.value, wd));
    const state: Value[] = [];
    if (momentum !== 0) {
      const running = g.add(g.mul(param.state[0]!, momentum), g.mul(d, 1 - dampening));
      const buf = g.where(g.equal(f64(g, ctx.step), 1), d, running);
      state.push(buf);
      d = nesterov ? g.add(d, g.mul(buf, momentum)) : buf;
    }
    const value = g.sub(param.value, g.mul(d, asDtype(g, ctx.lr, param.value.dtype)));
    return { value, state };
  }
}

export const plugin = definePlugin({
  kind: 'optimizer',
  name: 'sgd',
  description: 'SGD with optional (Nesterov) momentum, dampening and L2 weight decay (torch.optim.SGD, exact torch 1.13 update)',
  schema: {
    type: 'object',
    properties: {
      lr: { type: 'number', minimum: 0, description: 'base learning rate (required, as in torch 1.13; scaled by the schedule each step)' },
      momentum: { type: 'number', minimum: 0, default: SGD_DEFAULTS.momentum, description: 'momentum factor μ (0: no momentum buffer)' },
      dampening: { type: 'number', default: SGD_DEFAULTS.dampening, description: 'the buffer adds (1 − dampening)·d after the first step' },
      nesterov: { type: 'boolean', default: SGD_DEFAULTS.nesterov, description: 'Nesterov momentum (needs momentum > 0 and dampening 0)' },
      weight_decay: { type: 'number', minimum: 0, default: SGD_DEFAULTS.weight_decay, description: 'L2 penalty: d ← d + wd·θ; not applied to decay: false parameters' },
      maximize: { type: 'boolean', default: SGD_DEFAULTS.maximize, description: 'maximize the objective instead of minimizing' },
    },
    required: ['lr'],
    additionalProperties: false,
  },
  create: SGD,
});
