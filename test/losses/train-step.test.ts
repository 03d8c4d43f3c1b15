// The loss plugins inside the training step: built into compileTrainStep's graph (also with K steps per run),
// and the first loss of a run equal to evaluateLoss on the same logits.
import { describe, expect, it } from 'vitest';
import { createLoss, evaluateLoss, type LossEvalInputs } from '../../plugins/losses/evaluate.ts';
import type { OptimizerModule } from '../../core/engine/modules.ts';
import { TrainStepRunner } from '../../core/engine/train-step.ts';
import { ClipProjection } from '../../plugins/models/clip_projection.ts';
import { LinearHead } from '../../plugins/models/linear.ts';
import { matrix } from './harness.ts';
import { expectClose, type Matrix } from './reference.ts';

const sgd: OptimizerModule = {
  state: [],
  update: ({ g, lr }, p) => ({ value: g.sub(p.value, g.mul(lr, p.grad)), state: [] }),
};

const N = 4;
const D = 3;
const C = 3;
const features = matrix(71, N, D, -1, 1);
const multiHot: Matrix = [
  [1, 0, 0],
  [0, 1, 1],
  [0, 0, 0],
  [1, 0, 1],
];
const indices = [0, 2, 1, 2];
const counts = [500, 40, 3];

const cases: Array<{ name: string; options: Record<string, unknown>; extra?: Partial<LossEvalInputs> }> = [
  { name: 'bce', options: { pos_weight: [1, 2, 3] } },
  { name: 'ce', options: { label_smoothing: 0.1 } },
  { name: 'focal', options: { reduction: 'mean' } },
  { name: 'focal', options: { variant: 'softmax', gamma: 1 } },
  { name: 'eql', options: {} },
  // λ = 1: the runner's Bernoulli draw is all ones, so the mask is known
  { name: 'eql', options: { variant: 'animal_kingdom', lambda: 1 }, extra: { mask: multiHot.map((r) => r.map(() => 1)) } },
  { name: 'ldam', options: {}, extra: { epoch: 200 } },
  { name: 'ldam', options: { variant: 'animal_kingdom' }, extra: { epoch: 100 } },
];

describe('the loss plugins in compileTrainStep', () => {
  for (const { name, options, extra } of cases) {
    it(`${name} ${JSON.stringify(options)}: the step's first loss is evaluateLoss's (float64), and 2 steps per run run`, async () => {
      const loss = createLoss(name, options);
      const index = loss.targetKind === 'index';
      const epoch = extra?.epoch;
      const base = { model: new LinearHead({ in_dim: D, out_dim: C, bias: true }), loss, optimizer: sgd, batchSize: N, numClasses: C, classCounts: counts, epoch };
      const runner = await TrainStepRunner.create({ ...base, dtype: 'float64' }, { seed: 5, device: 'cpu' });
      const p = runner.parameters();
      const W = p['fc.weight']!.data;
      const b = p['fc.bias']!.data;
      const logits = features.map((row) => Array.from({ length: C }, (_, c) => b[c]! + row.reduce((s, v, d) => s + v * W[c * D + d]!, 0)));
      const targets = index ? BigInt64Array.from(indices, BigInt) : Float64Array.from(multiHot.flat());
      const [first] = await runner.run({ inputs: { x: Float64Array.from(features.flat()) }, targets, lrs: [0.1] });
      const expected = await evaluateLoss(name, options, { logits, targets: index ? indices : multiHot, classCounts: counts, ...extra });
      expectClose(first, expected.loss as number, { rtol: 1e-12 });

      const looped = await TrainStepRunner.create({ ...base, dtype: 'float32', stepsPerRun: 2 }, { seed: 5, device: 'cpu' });
      const twice = (a: Float32Array | BigInt64Array) => (a instanceof BigInt64Array ? BigInt64Array.from([...a, ...a]) : Float32Array.from([...a, ...a]));
      const losses = await looped.run({
        inputs: { x: twice(Float32Array.from(features.flat())) as Float32Array },
        targets: twice(index ? BigInt64Array.from(indices, BigInt) : Float32Array.from(multiHot.flat())),
        lrs: [0.1, 0.1],
      });
      expect(losses).toHaveLength(2);
      expectClose(losses[0], expected.loss as number, { rtol: 1e-5 });
      expect(losses[1]).toBeLessThan(losses[0]!);
    });
  }

  it('infonce with the CLIP projection heads: finite, decreasing losses', async () => {
    const model = new ClipProjection({ video_dim: 3, text_dim: 2, hidden_dim: 4, embed_dim: 3, depth: 2, activation: 'relu', dropout: 0, layer_norm: false, normalize: true, logit_scale_init: Math.log(1 / 0.07) });
    const runner = await TrainStepRunner.create({ model, loss: createLoss('infonce'), optimizer: sgd, batchSize: N, dtype: 'float32', stepsPerRun: 3 }, { seed: 2, device: 'cpu' });
    const video = Float32Array.from(Array.from({ length: 3 }, () => matrix(72, N, 3).flat()).flat());
    const text = Float32Array.from(Array.from({ length: 3 }, () => matrix(73, N, 2).flat()).flat());
    const losses = await runner.run({ inputs: { video, text }, lrs: [0.05, 0.05, 0.05] });
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]).toBeLessThan(losses[0]!);
  });
});
