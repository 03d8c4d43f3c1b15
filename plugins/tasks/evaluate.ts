import { join, resolve } from 'node:path';
import { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { loadCheckpoint } from '../../core/engine/safetensors.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../core/plugins/tokens.ts';
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
  nodes: { data: string; model: string };
}

/**
 * Evaluates a trained model: the parameters of `<checkpoint>/checkpoints/checkpoint.safetensors` (a run
 * directory of the train task) on `split`, scored as the train task scores it (scoring.ts): metric plugins on
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
    const dir = join(resolve(o.checkpoint), 'checkpoints');
    const ckpt = loadCheckpoint(dir);
    const source = pluginAt<DatasetSource>(this.config, this.registry, 'evaluate', o.nodes.data, 'dataset');
    const data = await source.load(o.split);
    const train = o.split === 'train' ? data : await source.load('train');
    // Datasets hold open HDF5 files: close them whatever happens.
    try {
      const model = pluginAt<ModelModule>(this.config, this.registry, 'evaluate', o.nodes.model, 'model');
      const specs = model.parameters(() => 0);
      for (const p of specs) {
        const t = ckpt.params[p.name];
        if (!t) throw new VidraError(`task.checkpoint: ${dir} has no parameter '${p.name}' for the model at '${o.nodes.model}'`);
        const size = p.shape.reduce((a, b) => a * b, 1);
        if (t.data.length !== size) throw new VidraError(`task.checkpoint: '${p.name}' has ${t.data.length} values in ${dir}, the model at '${o.nodes.model}' needs ${size}`);
      }
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
      checkpoint: { type: 'string', description: 'the run directory of a train run (its checkpoints/ is read)' },
      split: { type: 'string', default: 'val' },
      batch_size: { type: 'integer', minimum: 1, default: 64 },
      target: { type: ['string', 'array'], items: { type: 'string' }, default: 'labels', description: 'as the train task’s: one target, or a list for a multi-head model' },
      forecast_samples: { type: 'integer', minimum: 1, default: 5, description: 'lta_ed: K sequences sampled per forecast' },
      metrics: { type: 'array', items: { type: 'string' }, default: ['map', 'segment_map'] },
      nodes: {
        type: 'object',
        properties: { data: { type: 'string', default: 'data' }, model: { type: 'string', default: 'model.head' } },
        additionalProperties: false,
        default: {},
      },
    },
    required: ['checkpoint'],
    additionalProperties: false,
  },
  create: EvaluateTask,
});
