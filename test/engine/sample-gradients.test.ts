import { describe, expect, it } from 'vitest';
import type { OptimizerModule } from '../../core/engine/modules.ts';
import { SampleGradients } from '../../core/engine/sample-gradients.ts';
import { TrainStepRunner } from '../../core/engine/train-step.ts';
import { mulberry32 } from '../../core/random.ts';
import { createLoss } from '../../plugins/losses/evaluate.ts';
import { MultiHead } from '../../plugins/models/multi_head.ts';

const sgd: OptimizerModule = { state: [], update: ({ g, lr }, p) => ({ value: g.sub(p.value, g.mul(lr, p.grad)), state: [] }) };

describe('SampleGradients: per-sample gradients of the training loss (EWC’s Fisher)', () => {
  it('equal (θ − θ′)/lr of one SGD step on that sample alone', async () => {
    const model = new MultiHead({ in_dim: 3, num_inputs: 1, aggregate: 'concat', trunk_depth: 1, width: 4, activation: 'tanh', dropout: 0, layer_norm: false, heads: [{ name: 'verb', classes: 3 }, { name: 'noun', classes: 2 }], repeat: 1 });
    const loss = createLoss('multi_ce');
    const runner = await TrainStepRunner.create({ model, loss, optimizer: sgd, batchSize: 1, dtype: 'float32' }, { seed: 1, device: 'cpu' });
    const grads = await SampleGradients.create(model, loss, runner.compiled.params, { device: 'cpu' });
    const theta = Object.fromEntries(Object.entries(runner.parameters()).map(([k, v]) => [k, v.data]));
    const r = mulberry32(2);
    const samples = [0, 1, 2].map(() => ({ inputs: { x: Float32Array.from({ length: 3 }, () => r() - 0.5) }, target: [Math.floor(r() * 3), Math.floor(r() * 2)] }));
    const got = await grads.compute(theta, samples);
    expect(got).toHaveLength(3);
    for (const [i, s] of samples.entries()) {
      runner.reset(theta);
      await runner.run({ inputs: { x: s.inputs.x }, targets: BigInt64Array.from(s.target, BigInt), lrs: [1] });
      const after = runner.parameters();
      for (const [k, g] of Object.entries(got[i]!)) g.forEach((v, j) => expect(v).toBeCloseTo(theta[k]![j]! - after[k]!.data[j]!, 5));
    }
    // Different samples, different gradients.
    expect(Array.from(got[0]!['verb_head.weight']!)).not.toEqual(Array.from(got[1]!['verb_head.weight']!));
  });

  it('refuses losses without per-sample targets', async () => {
    const model = new MultiHead({ in_dim: 3, num_inputs: 1, aggregate: 'concat', trunk_depth: 0, width: 4, activation: 'tanh', dropout: 0, layer_norm: false, heads: [{ name: 'verb', classes: 3 }], repeat: 1 });
    await expect(SampleGradients.create(model, createLoss('infonce'), model.parameters(mulberry32(0)))).rejects.toThrow('per-sample gradients need a loss with targets');
  });
});
