import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { runOptimizer } from '../../core/engine/optimizer-step.ts';
import { ADAMW_DEFAULTS, AdamW, type AdamWOptions } from '../../plugins/optimizers/adamw.ts';
import { CosineWarmupSchedule } from '../../plugins/schedulers/cosine_warmup.ts';
import { adamwReference, expectTrajectory, fixtureGrad, fixtureParams, refParams } from './reference.ts';

const STEPS = 8;

async function check(options: Partial<AdamWOptions>, run: { dtype?: 'float32' | 'float64'; scalarDtype?: 'float32' | 'float64'; schedule?: CosineWarmupSchedule } = {}) {
  const params = fixtureParams();
  const full = { ...ADAMW_DEFAULTS, ...options };
  const got = await runOptimizer({ optimizer: new AdamW(options), params, steps: STEPS, lr: full.lr, grad: fixtureGrad, ...run });
  const lrs = (k: number) => full.lr * (run.schedule ? run.schedule.factor(k) : 1);
  const want = adamwReference(refParams(params), STEPS, lrs, fixtureGrad, full);
  got.slice(1).forEach((p, i) => expect(p.lr).toBe(lrs(i + 1)));
  if ((run.dtype ?? 'float64') === 'float64' && (run.scalarDtype ?? 'float64') === 'float64') expectTrajectory(got, want, 1e-12);
  else expectTrajectory(got, want, 1e-5, 1);
  return got;
}

describe('adamw: torch.optim.AdamW (1.13) trajectories', () => {
  it('defaults are torch’s: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2 (not 0)', async () => {
    expect(new AdamW({}).options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-2, amsgrad: false, maximize: false });
    await check({});
  });

  it('decoupled decay θ(1 − lr·wd) skips decay: false parameters (bias, logit scale)', async () => {
    const got = await check({ lr: 0.01, weight_decay: 0.5 });
    const none = await check({ lr: 0.01, weight_decay: 0 });
    for (const name of ['head.bias', 'logit_scale']) expect(Array.from(got[STEPS]!.params[name]!)).toEqual(Array.from(none[STEPS]!.params[name]!));
    expect(Array.from(got[STEPS]!.params['head.weight']!)).not.toEqual(Array.from(none[STEPS]!.params['head.weight']!));
    // The moments do not see the decay (unlike Adam's L2): they are the same with and without it on step 1.
    expect(Array.from(got[1]!.state['head.weight']!.exp_avg!)).toEqual(Array.from(none[1]!.state['head.weight']!.exp_avg!));
  });

  it('CLIP / Ego4D CLEP settings: betas (0.9, 0.98), eps 1e-6, wd 0.1', async () => {
    await check({ lr: 1e-3, betas: [0.9, 0.98], eps: 1e-6, weight_decay: 0.1 });
  });

  it('amsgrad', async () => {
    await check({ lr: 0.01, amsgrad: true, weight_decay: 0.1 });
  });

  it('with cosine warmup the first step has lr 0: parameters unchanged, moments advanced', async () => {
    const schedule = new CosineWarmupSchedule({ warmup_steps: 3, total_steps: STEPS });
    const got = await check({ lr: 0.01, betas: [0.9, 0.98], weight_decay: 0.1 }, { schedule });
    expect(got[1]!.lr).toBe(0);
    for (const name of ['head.weight', 'head.bias', 'logit_scale']) {
      expect(Array.from(got[1]!.params[name]!)).toEqual(Array.from(got[0]!.params[name]!));
      const g1 = fixtureGrad(1, got[0]!.params)[name]!;
      // m₁ = (1 − β1)·g₁ and v₁ = (1 − β2)·g₁², both nonzero.
      Array.from(got[1]!.state[name]!.exp_avg!).forEach((m, i) => expect(m).toBeCloseTo(0.1 * g1[i]!, 15));
      Array.from(got[1]!.state[name]!.exp_avg_sq!).forEach((v, i) => expect(v).toBeCloseTo(0.02 * g1[i]! ** 2, 15));
    }
    expect(Array.from(got[2]!.params['head.weight']!)).not.toEqual(Array.from(got[1]!.params['head.weight']!));
  });

  it('the update with the bias corrections folded into scalars stays on torch’s trajectory for 100 steps', async () => {
    // θ − k·m / (sqrt(v̂) + ε') in the graph, θ − (lr/bc1)·m / (sqrt(v̂)/sqrt(bc2) + ε) in torch: equal up to
    // float64 rounding, which must not grow along the trajectory.
    const o = { ...ADAMW_DEFAULTS, lr: 1e-2, betas: [0.9, 0.98] as [number, number], eps: 1e-6, weight_decay: 0.1, amsgrad: true };
    const params = fixtureParams();
    const got = await runOptimizer({ optimizer: new AdamW(o), params, steps: 100, lr: o.lr, grad: fixtureGrad });
    expectTrajectory(got, adamwReference(refParams(params), 100, () => o.lr, fixtureGrad, o), 1e-12);
  });

  it('lr 0 and zero gradients: parameters unchanged, no 0/0 (the lr scale multiplies m, not the denominator)', async () => {
    const params = fixtureParams();
    const zero = (_k: number, p: Readonly<Record<string, ArrayLike<number>>>) => Object.fromEntries(Object.entries(p).map(([n, v]) => [n, new Array<number>(v.length).fill(0)]));
    const schedule = { factor: (k: number) => (k === 1 ? 0 : 1) };
    const got = await runOptimizer({ optimizer: new AdamW({ lr: 1e-2, weight_decay: 0.1 }), params, steps: 2, lr: 1e-2, grad: zero, schedule });
    for (const p of params) expect(Array.from(got[1]!.params[p.name]!)).toEqual(Array.from(p.init));
    // Step 2 decays the weight and moves nothing else: m = v = 0 gives 0 / ε', not NaN.
    expect(Array.from(got[2]!.params['head.weight']!)).toEqual(Array.from(params[0]!.init, (x) => x * (1 - 1e-2 * 0.1)));
    expect(Array.from(got[2]!.params['head.bias']!)).toEqual(Array.from(params[1]!.init));
  });

  it('float32 graphs agree with the float64 formulas to 1e-5 (float32 and float64 lr/step inputs)', async () => {
    const schedule = new CosineWarmupSchedule({ warmup_steps: 2, total_steps: STEPS });
    await check({ lr: 1e-3, betas: [0.9, 0.98], eps: 1e-6, weight_decay: 0.1, amsgrad: true }, { dtype: 'float32', schedule });
    await check({ lr: 1e-3, weight_decay: 0.1 }, { dtype: 'float32', scalarDtype: 'float64' });
  });

  it('a float64 graph fed float32 lr and step stays within float32 rounding of lr', async () => {
    await check({ lr: 1e-3, weight_decay: 0.1 }, { scalarDtype: 'float32' });
  });

  it('rejects what torch rejects', () => {
    expect(() => new AdamW({ betas: [0.98, 1.5] })).toThrow(/invalid beta parameter at index 1: 1.5/);
    expect(() => new AdamW({ weight_decay: -0.1 })).toThrow(/invalid weight_decay/);
    expect(() => new AdamW({ lr: Number.NaN })).toThrow(/invalid learning rate/);
  });
});
