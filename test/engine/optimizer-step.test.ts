import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { Graph, ShapeError } from '../../core/engine/graph.ts';
import type { OptimizerModule, ParameterSpec } from '../../core/engine/modules.ts';
import { buildOptimizerGraph, buildOptimizerStep, runOptimizer } from '../../core/engine/optimizer-step.ts';
import { SGD } from '../../plugins/optimizers/sgd.ts';
import { CosineWarmupSchedule } from '../../plugins/schedulers/cosine_warmup.ts';

const spec = (name: string, shape: number[], decay = true): ParameterSpec => ({ name, shape, init: new Float64Array(shape.reduce((a, b) => a * b, 1)), decay });

describe('buildOptimizerStep: one call updates every parameter', () => {
  it('returns the new value and state of each parameter, in order', () => {
    const g = new Graph();
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    const params = [spec('w', [2, 3]), spec('b', [3], false)].map((s) => ({
      spec: s,
      value: g.input(s.name, 'float32', s.shape),
      grad: g.input(`${s.name}.grad`, 'float32', s.shape),
      state: [g.input(`${s.name}.momentum_buffer`, 'float32', s.shape)],
    }));
    const out = buildOptimizerStep(g, opt, params, g.input('lr', 'float32', []), g.input('step', 'float32', []));
    expect(out.map((u) => [u.spec.name, u.value.shape, u.state.length])).toEqual([
      ['w', [2, 3], 1],
      ['b', [3], 1],
    ]);
  });

  it('names the parameter when a gradient or the state does not fit', () => {
    const g = new Graph();
    const s = spec('head.weight', [2, 3]);
    const lr = g.input('lr', 'float64', []);
    const step = g.input('step', 'float64', []);
    const value = g.input('w', 'float64', [2, 3]);
    const opt: OptimizerModule = new SGD({ lr: 0.1, momentum: 0.9 });
    expect(() => buildOptimizerStep(g, opt, [{ spec: s, value, grad: g.input('gw', 'float64', [3, 2]), state: [value] }], lr, step)).toThrow(
      "optimizer step, parameter 'head.weight': the gradient is float64 [3, 2], the parameter float64 [2, 3]",
    );
    expect(() => buildOptimizerStep(g, opt, [{ spec: s, value, grad: value, state: [] }], lr, step)).toThrow(/0 state tensors given, the optimizer keeps 1 \(momentum_buffer\)/);
    expect(() => buildOptimizerStep(g, opt, [{ spec: s, value, grad: value, state: [value] }], g.input('lrv', 'float64', [1]), step)).toThrow(ShapeError);
  });

  it('buildOptimizerGraph names inputs and outputs after the parameters and torch’s state names', () => {
    const g = buildOptimizerGraph(new SGD({ lr: 0.1, momentum: 0.9 }), [spec('w', [2])], 'float64');
    expect(g.inputs.map((v) => v.name)).toEqual(['lr', 'step', 'param.w', 'grad.w', 'state.w.momentum_buffer']);
    expect([...g.outputNames.values()]).toEqual(['new.param.w', 'new.state.w.momentum_buffer']);
  });
});

describe('runOptimizer: T steps in ONNX Runtime, outputs fed back', () => {
  it('returns the initial point and one point per step, with the scheduled lr of each step', async () => {
    // SGD on f(θ) = θ²/2 from θ = 1 with lr 0.5·factor: θ_k = θ_{k−1}(1 − lr_k).
    const schedule = new CosineWarmupSchedule({ warmup_steps: 2, total_steps: 4 });
    const traj = await runOptimizer({
      optimizer: new SGD({ lr: 0.5 }),
      params: [{ name: 'x', shape: [1], init: Float64Array.of(1), decay: true }],
      steps: 4,
      lr: 0.5,
      schedule,
      grad: (_k, p) => ({ x: [p.x![0]!] }),
    });
    expect(traj.map((p) => p.lr)).toEqual([0, 0, 0.25, 0.5, 0.5 * schedule.factor(4)]);
    let x = 1;
    traj.forEach((p, k) => {
      if (k > 0) x *= 1 - p.lr;
      expect(p.params.x![0]).toBeCloseTo(x, 15);
    });
  });

  it('says which parameter lacks a gradient', async () => {
    await expect(
      runOptimizer({ optimizer: new SGD({ lr: 0.1 }), params: [spec('w', [2])], steps: 1, lr: 0.1, grad: () => ({ w: [1] }) }),
    ).rejects.toThrow("runOptimizer: step 1 gives 1 gradient values for 'w', expected 2");
  });
});
