import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { runOptimizer } from '../../core/engine/optimizer-step.ts';
import { SGD, type SGDOptions } from '../../plugins/optimizers/sgd.ts';
import { expectTrajectory, fixtureGrad, fixtureParams, refParams, sgdReference } from './reference.ts';

const STEPS = 7;

async function check(options: Partial<SGDOptions> & { lr: number }, dtype: 'float32' | 'float64' = 'float64') {
  const params = fixtureParams();
  const got = await runOptimizer({ optimizer: new SGD(options), params, steps: STEPS, lr: options.lr, grad: fixtureGrad, dtype });
  const want = sgdReference(refParams(params), STEPS, () => options.lr, fixtureGrad, options);
  if (dtype === 'float64') expectTrajectory(got, want, 1e-12);
  else expectTrajectory(got, want, 1e-5, 1);
  return got;
}

describe('sgd: torch.optim.SGD (1.13) trajectories', () => {
  it('plain SGD keeps no state: θ ← θ − lr·g', async () => {
    expect(new SGD({ lr: 0.1 }).state).toEqual([]);
    await check({ lr: 0.1 });
  });

  it('momentum: b ← μb + g', async () => {
    await check({ lr: 0.05, momentum: 0.9 });
  });

  it('dampening scales the gradient into the buffer from the second step on; the first step copies it', async () => {
    const got = await check({ lr: 0.05, momentum: 0.9, dampening: 0.3 });
    // torch creates the buffer as a copy of d at the first step: no (1 − dampening) factor there.
    const g1 = fixtureGrad(1, got[0]!.params);
    expect(Array.from(got[1]!.state['head.weight']!.momentum_buffer!)).toEqual(g1['head.weight']);
  });

  it('nesterov: θ ← θ − lr·(d + μb)', async () => {
    await check({ lr: 0.05, momentum: 0.8, nesterov: true });
  });

  it('weight decay (L2 into the gradient) applies only to decay: true parameters', async () => {
    await check({ lr: 0.05, momentum: 0.9, weight_decay: 0.1 });
    await check({ lr: 0.05, weight_decay: 0.5, nesterov: false });
  });

  it('maximize follows the gradient upwards', async () => {
    await check({ lr: 0.02, momentum: 0.5, maximize: true });
  });

  it('float32 graphs agree with the float64 formulas to 1e-5', async () => {
    await check({ lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 0.01 }, 'float32');
    await check({ lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01 }, 'float32');
  });

  it('rejects what torch rejects', () => {
    expect(() => new SGD({ lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires a momentum > 0 and zero dampening/);
    expect(() => new SGD({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/zero dampening/);
    expect(() => new SGD({ lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new SGD({} as { lr: number })).toThrow(/lr is required/);
  });
});
