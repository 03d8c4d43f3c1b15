import { describe, expect, it } from 'vitest';
import type { OptimizerModule } from '../../core/engine/modules.ts';
import { TrainStepRunner, type TrainStepSpec } from '../../core/engine/train-step.ts';
import { mulberry32 } from '../../core/random.ts';
import { LinearHead } from '../../plugins/models/linear.ts';
import { MultiHead } from '../../plugins/models/multi_head.ts';
import { createLoss } from '../../plugins/losses/evaluate.ts';

const sgd: OptimizerModule = {
  state: [],
  update: ({ g, lr }, p) => ({ value: g.sub(p.value, g.mul(lr, p.grad)), state: [] }),
};

function spec(over: Partial<TrainStepSpec> = {}): TrainStepSpec {
  return { model: new LinearHead({ in_dim: 3, out_dim: 2, bias: true }), loss: createLoss('ce'), optimizer: sgd, batchSize: 4, dtype: 'float64', ...over };
}

function batch(n: number, seed: number, dim = 3) {
  const r = mulberry32(seed);
  const x = Float64Array.from({ length: n * dim }, () => 2 * r() - 1);
  const y = BigInt64Array.from({ length: n }, (_, i) => (x[i * dim]! > 0 ? 1n : 0n));
  return { x, y };
}

const flat = (p: Record<string, { data: ArrayLike<number> }>) => Object.values(p).flatMap((t) => Array.from(t.data));

describe('the quadratic penalty input of a training step (EWC and friends)', () => {
  it('adds Σ A(θ − B)² + c to the loss and 2A(θ − B) to the gradient (one SGD step against the plain step)', async () => {
    const plain = await TrainStepRunner.create(spec(), { seed: 5, device: 'cpu' });
    const withPenalty = await TrainStepRunner.create(spec({ quadraticPenalty: true }), { seed: 5, device: 'cpu' });
    const theta = withPenalty.parameters();
    const r = mulberry32(9);
    const A = { 'fc.weight': Float64Array.from({ length: 6 }, () => r()), 'fc.bias': Float64Array.from({ length: 2 }, () => r()) };
    const B = { 'fc.weight': Float64Array.from({ length: 6 }, () => r() - 0.5), 'fc.bias': Float64Array.from({ length: 2 }, () => r() - 0.5) };
    const { x, y } = batch(4, 1);
    const lr = 0.3;
    const [l0] = await plain.run({ inputs: { x }, targets: y, lrs: [lr] });
    const [l1] = await withPenalty.run({ inputs: { x }, targets: y, lrs: [lr], penalty: { weight: A, anchor: B, constant: 0.75 } });
    let value = 0.75;
    for (const k of ['fc.weight', 'fc.bias'] as const) theta[k]!.data.forEach((v, j) => (value += A[k][j]! * (v - B[k][j]!) ** 2));
    expect(l1).toBeCloseTo(l0! + value, 12);
    const after = withPenalty.parameters();
    const ref = plain.parameters();
    for (const k of ['fc.weight', 'fc.bias'] as const) {
      after[k]!.data.forEach((v, j) => expect(v).toBeCloseTo(ref[k]!.data[j]! - lr * 2 * A[k][j]! * (theta[k]!.data[j]! - B[k][j]!), 12));
    }
  });

  it('without a penalty this run, a penalty-compiled step equals the plain step; a plain step refuses a penalty', async () => {
    const plain = await TrainStepRunner.create(spec(), { seed: 2, device: 'cpu' });
    const compiled = await TrainStepRunner.create(spec({ quadraticPenalty: true }), { seed: 2, device: 'cpu' });
    const { x, y } = batch(4, 3);
    expect(await compiled.run({ inputs: { x }, targets: y, lrs: [0.1] })).toEqual(await plain.run({ inputs: { x }, targets: y, lrs: [0.1] }));
    expect(compiled.parameters()).toEqual(plain.parameters());
    await expect(plain.run({ inputs: { x }, targets: y, lrs: [0.1], penalty: { weight: {}, anchor: {}, constant: 0 } })).rejects.toThrow('compiled without a quadratic penalty');
  });
});

describe('TrainStepRunner.withBatchSize: one set of parameters, a graph per batch size', () => {
  it('a sibling of another batch size trains the same parameters and step count; compiled once per size', async () => {
    const a = await TrainStepRunner.create(spec(), { seed: 4, device: 'cpu' });
    const twin = await TrainStepRunner.create(spec(), { seed: 4, device: 'cpu' });
    const b = await a.withBatchSize(6);
    expect(await a.withBatchSize(6)).toBe(b);
    expect(await a.withBatchSize(4)).toBe(a);
    const big = batch(6, 11);
    await b.run({ inputs: { x: big.x }, targets: big.y, lrs: [0.2] });
    expect(a.step).toBe(1);
    expect(a.parameters()).toEqual(b.parameters());
    expect(flat(a.parameters())).not.toEqual(flat(twin.parameters()));
    const small = batch(4, 12);
    await a.run({ inputs: { x: small.x }, targets: small.y, lrs: [0.2] });
    expect(b.step).toBe(2);
    expect(b.parameters()).toEqual(a.parameters());
  });
});

describe('multi_head + multi_ce: several class-index targets per example', () => {
  it('sections are each head repeated, z-major; training on verb and noun columns fits both', async () => {
    const model = new MultiHead({ in_dim: 4, num_inputs: 2, aggregate: 'concat', trunk_depth: 1, width: 16, activation: 'relu', dropout: 0, layer_norm: false, heads: [{ name: 'verb', classes: 3 }, { name: 'noun', classes: 2 }], repeat: 2 });
    expect(model.sections()).toEqual([3, 3, 2, 2]);
    expect(model.inputs()).toEqual([{ name: 'x', shape: [2, 4] }]);
    expect(model.parameters(mulberry32(0)).map((p) => `${p.name} ${p.shape.join('x')}`)).toEqual([
      'trunk.layers.0.weight 16x8',
      'trunk.layers.0.bias 16',
      'verb_head.weight 6x16',
      'verb_head.bias 6',
      'noun_head.weight 4x16',
      'noun_head.bias 4',
    ]);
    const runner = await TrainStepRunner.create(
      { model, loss: createLoss('multi_ce'), optimizer: sgd, batchSize: 16, dtype: 'float32' },
      { seed: 0, device: 'cpu' },
    );
    // Targets: future verb z = sign pattern of clip z's first feature, nouns of its second.
    const make = (seed: number) => {
      const r = mulberry32(seed);
      const x = Float32Array.from({ length: 16 * 8 }, () => 2 * r() - 1);
      const y = new BigInt64Array(16 * 4);
      for (let i = 0; i < 16; i++) {
        for (let z = 0; z < 2; z++) {
          const f0 = x[i * 8 + z * 4]!;
          y[i * 4 + z] = f0 < -0.33 ? 0n : f0 < 0.33 ? 1n : 2n;
          y[i * 4 + 2 + z] = x[i * 8 + z * 4 + 1]! > 0 ? 1n : 0n;
        }
      }
      return { x, y };
    };
    let first = 0;
    let last = 0;
    for (let s = 0; s < 300; s++) {
      const { x, y } = make(s);
      [last] = await runner.run({ inputs: { x }, targets: y, lrs: [0.5] });
      if (s === 0) first = last!;
    }
    // Four columns at ln 3, ln 3, ln 2, ln 2 at chance; well below after training.
    expect(first).toBeGreaterThan(3);
    expect(last).toBeLessThan(1.2);
  });
});
