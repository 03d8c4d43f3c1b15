import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../core/engine/safetensors.ts';
import type { LossModule } from '../../core/engine/modules.ts';
import { TrainStepRunner, type TrainStepSpec } from '../../core/engine/train-step.ts';
import { mulberry32 } from '../../core/random.ts';
import { MlpHead } from '../../plugins/models/mlp.ts';
import { AdamW, ADAMW_DEFAULTS } from '../../plugins/optimizers/adamw.ts';

// Mean squared error to a fixed target, enough to drive the optimizer in this test.
const mse: LossModule = {
  targetKind: 'multi_hot',
  needsClassCounts: false,
  build: ({ g }, { logits, targets }) => g.reduceMean(g.pow(g.sub(logits, targets!), 2)),
};

const spec = (): TrainStepSpec => ({
  model: new MlpHead({ in_dim: 4, out_dim: 3, depth: 2, width: 6, activation: 'relu', dropout: 0.2, layer_norm: false }),
  loss: mse,
  optimizer: new AdamW({ ...ADAMW_DEFAULTS, lr: 0.01, amsgrad: true }),
  batchSize: 5,
  numClasses: 3,
  dtype: 'float32',
});

function batch(step: number) {
  const r = mulberry32(1000 + step);
  return {
    inputs: { x: Float32Array.from({ length: 20 }, () => 2 * r() - 1) },
    targets: Float32Array.from({ length: 15 }, () => r()),
    lrs: [0.01],
  };
}

describe('checkpoints: parameters and optimizer state in safetensors, resumed bit-exactly', () => {
  it('training 6 steps equals 3 steps, save, load into a fresh runner, 3 more steps', async () => {
    const straight = await TrainStepRunner.create(spec(), { seed: 4, device: 'cpu' });
    const losses: number[] = [];
    for (let s = 0; s < 6; s++) losses.push(...(await straight.run(batch(s))));

    const first = await TrainStepRunner.create(spec(), { seed: 4, device: 'cpu' });
    const resumedLosses: number[] = [];
    for (let s = 0; s < 3; s++) resumedLosses.push(...(await first.run(batch(s))));
    const dir = mkdtempSync(join(tmpdir(), 'vidra-ckpt-'));
    saveCheckpoint(dir, { params: first.parameters(), optimizerState: first.optimizerState(), step: first.step, optimizer: 'adamw' });

    const ckpt = loadCheckpoint(dir);
    expect(ckpt.step).toBe(3);
    expect(Object.keys(ckpt.params).sort()).toEqual(['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight']);
    expect(Object.keys(ckpt.optimizerState)).toContain('layers.0.weight.exp_avg');
    const second = await TrainStepRunner.create(spec(), { seed: 4, device: 'cpu' });
    second.restore(
      Object.fromEntries(Object.entries(ckpt.params).map(([k, t]) => [k, t.data as Float32Array])),
      Object.fromEntries(Object.entries(ckpt.optimizerState).map(([k, t]) => [k, t.data as Float32Array])),
      ckpt.step,
    );
    // Dropout masks depend on (seed, step) only, so the resumed run draws what the straight run drew.
    for (let s = 3; s < 6; s++) resumedLosses.push(...(await second.run(batch(s))));

    expect(resumedLosses).toEqual(losses);
    expect(second.parameters()).toEqual(straight.parameters());
    expect(second.optimizerState()).toEqual(straight.optimizerState());
  });
});
