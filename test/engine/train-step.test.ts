import { describe, expect, it } from 'vitest';
import type { OptimizerModule } from '../../core/engine/modules.ts';
import { NonFiniteLossError, TrainStepRunner, type TrainStepSpec } from '../../core/engine/train-step.ts';
import { mulberry32 } from '../../core/random.ts';
import { MlpHead } from '../../plugins/models/mlp.ts';
import { LinearHead } from '../../plugins/models/linear.ts';
import { softmaxCe } from '../helpers/engine.ts';

// Plain SGD written for these tests, so that the compiler is checked against plain-JS arithmetic (with
// the helpers' softmax cross-entropy).
const sgd: OptimizerModule = {
  state: [],
  update: ({ g, lr }, p) => ({ value: g.sub(p.value, g.mul(lr, p.grad)), state: [] }),
};
const adamLike: OptimizerModule = {
  state: [{ name: 'm', init: 0 }],
  update: ({ g, lr, step }, p) => {
    const m = g.add(g.mul(0.9, p.state[0]!), g.mul(0.1, p.grad));
    // Bias correction m / (1 − 0.9^t), with 0.9^t as exp(t·ln 0.9): exercises the step counter.
    const corrected = g.div(m, g.sub(1, g.exp(g.mul(step, Math.log(0.9)))));
    return { value: g.sub(p.value, g.mul(lr, corrected)), state: [m] };
  },
};

function spec(over: Partial<TrainStepSpec> = {}): TrainStepSpec {
  return {
    model: new LinearHead({ in_dim: 3, out_dim: 2, bias: true }),
    loss: softmaxCe,
    optimizer: sgd,
    batchSize: 4,
    dtype: 'float64',
    ...over,
  };
}

/** A linearly separable problem: class = (x0 + x1 > 0). */
function data(n: number, seed: number, dim = 3) {
  const r = mulberry32(seed);
  const x = new Float64Array(n * dim);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) x[i * dim + d] = 2 * r() - 1;
    y[i] = x[i * dim]! + x[i * dim + 1]! > 0 ? 1n : 0n;
  }
  return { x, y };
}

/** One SGD step of softmax regression in plain JS, torch's layout (W [out, in]). */
function referenceStep(W: number[], b: number[], x: Float64Array, y: BigInt64Array, lr: number, C: number, D: number): number {
  const N = y.length;
  const gW = new Array<number>(W.length).fill(0);
  const gb = new Array<number>(C).fill(0);
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const z = Array.from({ length: C }, (_, c) => b[c]! + Array.from({ length: D }, (_, d) => W[c * D + d]! * x[i * D + d]!).reduce((a, v) => a + v, 0));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    loss -= z[Number(y[i])]! - lse;
    for (let c = 0; c < C; c++) {
      const g = Math.exp(z[c]! - lse) - (Number(y[i]) === c ? 1 : 0);
      gb[c]! += g / N;
      for (let d = 0; d < D; d++) gW[c * D + d]! += (g * x[i * D + d]!) / N;
    }
  }
  for (let k = 0; k < W.length; k++) W[k]! -= lr * gW[k]!;
  for (let c = 0; c < C; c++) b[c]! -= lr * gb[c]!;
  return loss / N;
}

describe('compileTrainStep: forward, loss, backward and update in one ONNX graph', () => {
  it('matches a plain-JS softmax-regression SGD step by step (float64)', async () => {
    const runner = await TrainStepRunner.create(spec(), { seed: 7, device: 'cpu' });
    const init = runner.parameters();
    const W = Array.from(init['fc.weight']!.data);
    const b = Array.from(init['fc.bias']!.data);
    for (let s = 0; s < 5; s++) {
      const { x, y } = data(4, 100 + s);
      const [loss] = await runner.run({ inputs: { x }, targets: y, lrs: [0.5] });
      const ref = referenceStep(W, b, x, y, 0.5, 2, 3);
      expect(loss).toBeCloseTo(ref, 12);
    }
    const after = runner.parameters();
    Array.from(after['fc.weight']!.data).forEach((v, k) => expect(v).toBeCloseTo(W[k]!, 12));
    Array.from(after['fc.bias']!.data).forEach((v, k) => expect(v).toBeCloseTo(b[k]!, 12));
    expect(runner.step).toBe(5);
    expect(runner.provider).toBe('cpu');
  });

  it.each(['float64', 'float32'] as const)('K steps per run equal K single steps exactly, optimizer state and dropout masks included (%s)', async (dtype) => {
    // ONNX Runtime's graph rewrites differ by dtype: in both, K steps in one graph compute what K single steps do, bit for bit.
    const model = () => new MlpHead({ in_dim: 3, out_dim: 2, depth: 2, width: 5, activation: 'gelu', dropout: 0.3, layer_norm: true });
    const single = await TrainStepRunner.create(spec({ model: model(), optimizer: adamLike, dtype }), { seed: 3, device: 'cpu' });
    const looped = await TrainStepRunner.create(spec({ model: model(), optimizer: adamLike, stepsPerRun: 3, dtype }), { seed: 3, device: 'cpu' });
    const batches = [0, 1, 2, 3, 4, 5].map((s) => data(4, 200 + s));
    const lrs = [0.1, 0.05, 0.02, 0.2, 0.1, 0.01];
    const singleLosses: number[] = [];
    for (let s = 0; s < 6; s++) singleLosses.push(...(await single.run({ inputs: { x: batches[s]!.x }, targets: batches[s]!.y, lrs: [lrs[s]!] })));
    const loopLosses: number[] = [];
    for (const k of [0, 3]) {
      const x = new Float64Array(3 * 4 * 3);
      const y = new BigInt64Array(3 * 4);
      for (let j = 0; j < 3; j++) {
        x.set(batches[k + j]!.x, j * 12);
        y.set(batches[k + j]!.y, j * 4);
      }
      loopLosses.push(...(await looped.run({ inputs: { x }, targets: y, lrs: lrs.slice(k, k + 3) })));
    }
    expect(loopLosses).toEqual(singleLosses);
    expect(looped.parameters()).toEqual(single.parameters());
    expect(looped.optimizerState()).toEqual(single.optimizerState());
    expect(looped.step).toBe(6);
  });

  it('learns a separable problem (float32)', async () => {
    const runner = await TrainStepRunner.create(spec({ dtype: 'float32', batchSize: 32 }), { seed: 1, device: 'cpu' });
    let last = Infinity;
    for (let s = 0; s < 60; s++) {
      const { x, y } = data(32, 1000 + s);
      [last] = await runner.run({ inputs: { x: Float32Array.from(x) }, targets: y, lrs: [1] });
    }
    expect(last).toBeLessThan(0.3);
    // Accuracy of the learned weights on fresh data.
    const params = runner.parameters();
    const W = params['fc.weight']!.data;
    const b = params['fc.bias']!.data;
    const { x, y } = data(500, 9);
    let correct = 0;
    for (let i = 0; i < 500; i++) {
      const z = [0, 1].map((c) => b[c]! + W[c * 3]! * x[i * 3]! + W[c * 3 + 1]! * x[i * 3 + 1]! + W[c * 3 + 2]! * x[i * 3 + 2]!);
      if ((z[1]! > z[0]! ? 1n : 0n) === y[i]) correct++;
    }
    expect(correct / 500).toBeGreaterThan(0.95);
  });

  it('the same seed gives bit-identical losses; restore() resumes exactly', async () => {
    const a = await TrainStepRunner.create(spec(), { seed: 11, device: 'cpu' });
    const b = await TrainStepRunner.create(spec(), { seed: 11, device: 'cpu' });
    const la: number[] = [];
    const lb: number[] = [];
    for (let s = 0; s < 3; s++) {
      const { x, y } = data(4, 300 + s);
      la.push(...(await a.run({ inputs: { x }, targets: y, lrs: [0.3] })));
      lb.push(...(await b.run({ inputs: { x }, targets: y, lrs: [0.3] })));
    }
    expect(la).toEqual(lb);
    const resumed = await TrainStepRunner.create(spec(), { seed: 99, device: 'cpu' });
    const params = Object.fromEntries(Object.entries(a.parameters()).map(([k, v]) => [k, v.data]));
    resumed.restore(params, {}, a.step);
    const { x, y } = data(4, 400);
    expect(await resumed.run({ inputs: { x }, targets: y, lrs: [0.3] })).toEqual(await a.run({ inputs: { x }, targets: y, lrs: [0.3] }));
    expect(resumed.parameters()).toEqual(a.parameters());
  });

  it('says what is wrong with a batch', async () => {
    const runner = await TrainStepRunner.create(spec(), { seed: 1, device: 'cpu' });
    await expect(runner.run({ inputs: { x: new Float64Array(5) }, targets: new BigInt64Array(4), lrs: [0.1] })).rejects.toThrow(
      "the model input 'x' needs 4×3 values, got 5",
    );
    await expect(runner.run({ inputs: { x: new Float64Array(12) }, targets: new BigInt64Array(4), lrs: [0.1, 0.2] })).rejects.toThrow(
      'expected 1 learning rates (engine.steps_per_run), got 2',
    );
  });
});


describe('a NaN or infinite loss stops training with the step number', () => {
  it('keeps the parameters of the last good step', async () => {
    const runner = await TrainStepRunner.create(spec(), { seed: 5, device: 'cpu' });
    const { x, y } = data(4, 1);
    await runner.run({ inputs: { x }, targets: y, lrs: [0.1] });
    const good = runner.parameters();
    const poisoned = Float64Array.from(x);
    poisoned[0] = Number.NaN;
    let err: unknown;
    try {
      await runner.run({ inputs: { x: poisoned }, targets: y, lrs: [0.1] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as NonFiniteLossError).step).toBe(2);
    expect((err as Error).message).toBe(
      'the loss is NaN at step 2; lower optim.lr, check the data, or use a stable loss',
    );
    expect(runner.parameters()).toEqual(good);
    expect(runner.step).toBe(1);
  });
});
