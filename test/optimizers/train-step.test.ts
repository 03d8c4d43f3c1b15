import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { OptimizerModule } from '../../core/engine/modules.ts';
import { TrainStepRunner } from '../../core/engine/train-step.ts';
import { mulberry32 } from '../../core/random.ts';
import { LinearHead } from '../../plugins/models/linear.ts';
import { AdamW } from '../../plugins/optimizers/adamw.ts';
import { SGD } from '../../plugins/optimizers/sgd.ts';
import { CosineWarmupSchedule } from '../../plugins/schedulers/cosine_warmup.ts';
import { softmaxCe } from '../helpers/engine.ts';


function batches(n: number, seed: number) {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const x = Float64Array.from({ length: 12 }, () => 2 * r() - 1);
    const y = BigInt64Array.from({ length: 4 }, (_, i) => (x[i * 3]! + x[i * 3 + 1]! > 0 ? 1n : 0n));
    return { x, y };
  });
}

async function singleVsLooped(optimizer: () => OptimizerModule) {
  const spec = (stepsPerRun: number) => ({ model: new LinearHead({ in_dim: 3, out_dim: 2, bias: true }), loss: softmaxCe, optimizer: optimizer(), batchSize: 4, dtype: 'float64' as const, stepsPerRun });
  const single = await TrainStepRunner.create(spec(1), { seed: 5, device: 'cpu' });
  const looped = await TrainStepRunner.create(spec(3), { seed: 5, device: 'cpu' });
  const schedule = new CosineWarmupSchedule({ warmup_steps: 2, total_steps: 6 });
  const lrs = [1, 2, 3, 4, 5, 6].map((k) => 0.1 * schedule.factor(k));
  const data = batches(6, 11);
  const before = single.parameters();
  for (let k = 0; k < 6; k++) await single.run({ inputs: { x: data[k]!.x }, targets: data[k]!.y, lrs: [lrs[k]!] });
  for (const k of [0, 3]) {
    const x = new Float64Array(36);
    const y = new BigInt64Array(12);
    for (let j = 0; j < 3; j++) {
      x.set(data[k + j]!.x, j * 12);
      y.set(data[k + j]!.y, j * 4);
    }
    await looped.run({ inputs: { x }, targets: y, lrs: lrs.slice(k, k + 3) });
  }
  expect(looped.parameters()).toEqual(single.parameters());
  expect(looped.optimizerState()).toEqual(single.optimizerState());
  expect(single.parameters()).not.toEqual(before);
  return single;
}

describe('the optimizer plugins inside compileTrainStep', () => {
  it('adamw (amsgrad, CLIP betas): K steps per run equal K single steps exactly', async () => {
    const runner = await singleVsLooped(() => new AdamW({ betas: [0.9, 0.98], eps: 1e-6, weight_decay: 0.1, amsgrad: true }));
    expect(Object.keys(runner.optimizerState())).toEqual([
      'fc.weight.exp_avg', 'fc.weight.exp_avg_sq', 'fc.weight.max_exp_avg_sq', 'fc.bias.exp_avg', 'fc.bias.exp_avg_sq', 'fc.bias.max_exp_avg_sq',
    ]);
  });

  it('sgd with momentum and dampening (the first-step Where on the step count), K steps per run', async () => {
    await singleVsLooped(() => new SGD({ lr: 0.1, momentum: 0.9, dampening: 0.2, weight_decay: 0.01 }));
  });
});
