import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { runOptimizer } from '../../core/engine/optimizer-step.ts';
import { Adam, type AdamOptions } from '../../plugins/optimizers/adam.ts';
import { adamReference, expectTrajectory, fixtureGrad, fixtureParams, refParams } from './reference.ts';

const STEPS = 8;
const LR = 0.01;

async function check(options: Partial<AdamOptions>, dtype: 'float32' | 'float64' = 'float64') {
  const params = fixtureParams();
  const lr = options.lr ?? 1e-3;
  const got = await runOptimizer({ optimizer: new Adam(options), params, steps: STEPS, lr, grad: fixtureGrad, dtype });
  const want = adamReference(refParams(params), STEPS, () => lr, fixtureGrad, options.lr === undefined ? { ...options, lr } : (options as AdamOptions));
  if (dtype === 'float64') expectTrajectory(got, want, 1e-12);
  else expectTrajectory(got, want, 1e-5, 1);
  return got;
}

describe('adam: torch.optim.Adam (1.13) trajectories', () => {
  it('defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay)', async () => {
    expect(new Adam({}).options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false });
    await check({});
  });

  it('L2 weight decay is added to the gradient, and only for decay: true parameters', async () => {
    const got = await check({ lr: LR, weight_decay: 0.1 });
    // The undecayed bias moves exactly as without weight decay.
    const plain = await check({ lr: LR });
    expect(Array.from(got[STEPS]!.params['head.bias']!)).toEqual(Array.from(plain[STEPS]!.params['head.bias']!));
    expect(Array.from(got[STEPS]!.params['head.weight']!)).not.toEqual(Array.from(plain[STEPS]!.params['head.weight']!));
  });

  it('amsgrad keeps the running maximum of v as a third state tensor', async () => {
    expect(new Adam({ amsgrad: true }).state.map((s) => s.name)).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']);
    await check({ lr: LR, amsgrad: true, weight_decay: 0.05 });
  });

  it('custom betas and eps, maximize', async () => {
    await check({ lr: LR, betas: [0.8, 0.95], eps: 1e-3 });
    await check({ lr: LR, maximize: true });
  });

  it('float32 graphs agree with the float64 formulas to 1e-5', async () => {
    await check({ lr: LR, weight_decay: 0.1, amsgrad: true }, 'float32');
  });

  it('rejects what torch rejects', () => {
    expect(() => new Adam({ betas: [0.9, 1] })).toThrow('adam: invalid beta parameter at index 1: 1 (0 <= beta < 1)');
    expect(() => new Adam({ eps: -1 })).toThrow(/invalid epsilon/);
  });
});
