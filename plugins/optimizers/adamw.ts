import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { Adam, adamSchema, type AdamOptions } from './adam.ts';

export type AdamWOptions = AdamOptions;

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
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(@inject(PLUGIN_CONFIG) options: Partial<AdamWOptions>) {
    super({ ...ADAMW_DEFAULTS, ...options });
  }
}

export const plugin = definePlugin({
  kind: 'optimizer',
  name: 'adamw',
  description: 'AdamW with decoupled weight decay (torch.optim.AdamW, exact torch 1.13 update)',
  schema: adamSchema(ADAMW_DEFAULTS, {
    betas: '[beta1, beta2]: decay rates of the first and second moments (CLIP: [0.9, 0.98])',
    weight_decay: 'decoupled decay θ ← θ(1 − lr·wd); not applied to decay: false parameters',
  }),
  create: AdamW,
});
