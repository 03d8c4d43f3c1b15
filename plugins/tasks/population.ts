// The population model of the continual task: the head trained on the pre-training users before any stream.
import { VidraError } from '../../core/config/errors.ts';
import type { TrainStepRunner } from '../../core/engine/train-step.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Dataset } from '../datasets/dataset.ts';
import type { IndexSampler } from '../samplers/sampler.ts';
import { pickInput } from './evaluation.ts';
import { pluginNamed } from './plugin-nodes.ts';
import { Progress } from './progress.ts';
import { targetColumns, type TargetColumns } from './targets.ts';

export interface PretrainOptions {
  split: string;
  epochs: number;
  batchSize: number;
  seed: number;
  inputName: string;
  layout: readonly TargetColumns[];
  lrAt(step: number): number;
  logEvery: number;
  /** Called after each epoch with its last loss (the task writes it to metrics.jsonl). */
  onEpoch(epoch: number, step: number, loss: number): void;
}

/** Trains `runner` (of batch size `batchSize`) on `data` for `epochs` epochs of seeded random batches. */
export async function pretrainPopulation(runner: TrainStepRunner, data: Dataset, registry: PluginRegistry, job: JobContext, o: PretrainOptions): Promise<void> {
  const sampler = pluginNamed<{ bind(d: { size: number }): IndexSampler }>(registry, 'sampler', 'random', { seed: o.seed, batch_size: o.batchSize, drop_last: true }).bind({
    size: data.length,
  });
  if (sampler.numBatches === 0) throw new VidraError(`task.pretrain_batch_size=${o.batchSize} is larger than the '${o.split}' split (${data.length} samples)`);
  const progress = new Progress(o.epochs * sampler.numBatches, job.log, o.logEvery);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    let last = 0;
    for (const idx of sampler.batches(epoch)) {
      if (job.signal.aborted) throw new VidraError('interrupted');
      const b = data.getBatch(idx);
      [last] = await runner.run({ inputs: { [o.inputName]: pickInput(b, o.inputName, 1).data }, targets: targetColumns(b, o.layout), lrs: [o.lrAt(runner.step + 1)] });
      progress.tick(runner.step, last!);
    }
    o.onEpoch(epoch, runner.step, last!);
  }
  progress.done();
  job.log.info(`population model: ${runner.step} steps on '${o.split}' (${data.length} samples)`);
}
