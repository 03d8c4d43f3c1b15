import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { LAST_CHECKPOINT, loadWeights, weightsFile } from '../../core/engine/safetensors.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../core/plugins/tokens.ts';
import { taskCallbacks } from './callback-nodes.ts';
import { checkCheckpointFits } from './checkpoint-fit.ts';
import { loadFeatures } from './backbone-data.ts';
import { checkBackboneFit } from './fit-check.ts';
import { pluginAt } from './plugin-nodes.ts';
import type { DatasetSource } from './evaluation.ts';
import { scoreModel, targetPlan } from './scoring.ts';
import { engineOptions, jobSeed, metricsLog } from './setup.ts';

interface EvaluateOptions {
  checkpoint: string;
  split: string;
  batch_size: number;
  target: string | string[];
  metrics: string[];
  forecast_samples: number;
  nodes: { data: string; model: string; callbacks: string | null };
}

/**
 * Evaluates a trained model: the parameters of `<checkpoint>/checkpoints/last.safetensors` (a run directory of
 * the train or continual task), or of the weights file `checkpoint` names (`.../best.safetensors`), on `split`, scored as the train task scores it (scoring.ts): metric plugins on
 * one target, per target of a multi-head model (lta_ed forecasts), or retrieval for a contrastive model. Writes `metrics.json` and one
 * `metrics.jsonl` line.
 */
@injectable()
export class EvaluateTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: EvaluateOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
    @inject(CONFIG) private readonly config: Config,
    @inject(REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const o = this.options;
    // A run directory (its last checkpoint) or a weights file of one (best, epoch_<N>) in its checkpoints/.
    const isFile = o.checkpoint.endsWith('.safetensors');
    const file = isFile ? resolve(o.checkpoint) : join(resolve(o.checkpoint), 'checkpoints', weightsFile(LAST_CHECKPOINT));
    if (!existsSync(file)) throw new VidraError(`task.checkpoint: ${file} does not exist (task.checkpoint names a train or continual run directory, or a .safetensors weights file)`);
    const ckpt = loadWeights(file);
    const callbacks = taskCallbacks(this.config, this.registry, 'evaluate', o.nodes.callbacks, this.job);
    const source = pluginAt<DatasetSource>(this.config, this.registry, 'evaluate', o.nodes.data, 'dataset');
    const features = { config: this.config, registry: this.registry, task: 'evaluate', dataPath: o.nodes.data, info: (l: string) => this.job.log.info(l), signal: this.job.signal };
    const { datasets } = await loadFeatures(source, o.split === 'train' ? ['train'] : [o.split, 'train'], features);
    const data = datasets[0]!;
    const train = datasets[1] ?? data;
    // Datasets hold open HDF5 files: close them whatever happens.
    try {
      const model = pluginAt<ModelModule>(this.config, this.registry, 'evaluate', o.nodes.model, 'model');
      const specs = model.parameters(() => 0);
      checkCheckpointFits(ckpt.params, specs, { key: 'task.checkpoint', file, runDir: isFile ? dirname(dirname(file)) : resolve(o.checkpoint), modelPath: o.nodes.model, config: this.config });
      const plan = targetPlan(model, o.target, data, o.metrics.includes('retrieval'));
      const engine = engineOptions(this.config);
      const forward = await ForwardRunner.create(model, specs, o.batch_size, { device: engine.device, threads: engine.threads, notice: (l) => this.job.log.warn(l) });
      const params = Object.fromEntries(Object.entries(ckpt.params).map(([k, t]) => [k, { data: t.data as Float32Array }]));
      const seed = jobSeed(this.config);
      const values = await scoreModel({ forward, params, model, data, train, plan, metrics: o.metrics, registry: this.registry, forecastSamples: o.forecast_samples, seed });
      const result = { step: ckpt.step, split: o.split, ...values };
      metricsLog(this.job).write(result);
      writeFileAtomic(join(this.job.outputDir, 'metrics.json'), `${JSON.stringify(result, null, 2)}\n`);
      this.job.log.info(`${o.split}: ${Object.entries(values).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(' ')}`);
      await callbacks.fire('after_eval', { step: ckpt.step, values, split: o.split, parameters: () => ckpt.params });
      return values;
    } finally {
      data.close();
      if (train !== data) train.close();
    }
  }
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'evaluate',
  description: 'evaluate the checkpoint of a train run on a split with metric plugins',
  schema: {
    type: 'object',
    properties: {
      checkpoint: { type: 'string', description: 'a train or continual run directory (its checkpoints/last.safetensors is read), or a weights file such as <run dir>/checkpoints/best.safetensors' },
      split: { type: 'string', default: 'val' },
      batch_size: { type: 'integer', minimum: 1, default: 64 },
      target: { type: ['string', 'array'], items: { type: 'string' }, default: 'labels', description: 'as the train task’s: one target, or a list for a multi-head model' },
      forecast_samples: { type: 'integer', minimum: 1, default: 5, description: 'lta_ed: K sequences sampled per forecast' },
      metrics: { type: 'array', items: { type: 'string' }, default: ['map', 'segment_map'] },
      nodes: {
        type: 'object',
        properties: {
          data: { type: 'string', default: 'data' },
          model: { type: 'string', default: 'model.head' },
          callbacks: { type: ['string', 'null'], default: 'callbacks', description: 'a map of callback nodes (the callbacks group); absent: none' },
        },
        additionalProperties: false,
        default: {},
      },
    },
    required: ['checkpoint'],
    additionalProperties: false,
  },
  create: EvaluateTask,
  check: checkBackboneFit,
});
