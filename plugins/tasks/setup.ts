// What every task that trains a head reads from the job's config: the seed, the `engine` node, and the model,
// loss, optimizer and schedule plugins named in its `task.nodes`.
import type { Config } from '../../core/config/config.ts';
import type { LossModule, ModelModule, OptimizerModule, ScheduleModule } from '../../core/engine/modules.ts';
import type { Device, GraphOptimization } from '../../core/engine/session.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import { merge } from '../../core/config/merge.ts';
import { fromPlain, type DictNode } from '../../core/config/node.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import { metricsLogger } from '../../core/launch/job.ts';
import { MetricsLog } from '../../core/run/metrics-log.ts';
import { pluginAt, pluginIn } from './plugin-nodes.ts';

/** The `engine` node (conf/engine): where and how the compiled graphs run. */
export interface EngineOptions {
  device?: Device;
  threads?: number;
  graph_optimization?: GraphOptimization;
  steps_per_run?: number;
}

export const jobSeed = (config: Config): number => Number(config.select('seed', { default: 0 }));

export const engineOptions = (config: Config): EngineOptions => (config.select('engine', { default: {} }) ?? {}) as EngineOptions;

/** The job's metrics: metrics.jsonl, and the logger `vidra.logger` names (TensorBoard). */
export const metricsLog = (job: JobContext): MetricsLog =>
  new MetricsLog(job.outputDir, job.config.vidra ? metricsLogger(job.config.vidra, job.config.root) : null);

/** A step runner's options from the engine node; provider notices go to the job's log. */
export function runnerOptions(seed: number, engine: EngineOptions, notice: (line: string) => void) {
  return { seed, device: engine.device, threads: engine.threads, graphOptimization: engine.graph_optimization, notice };
}

export interface TrainingNodes {
  model: string;
  loss: string;
  optimizer: string;
  scheduler: string | null;
}

export interface TrainingPlugins {
  model: ModelModule;
  loss: LossModule;
  optimizer: OptimizerModule;
  /** The learning rate of optimizer step `step` (1-based): the optimizer's lr times the schedule's factor. */
  lrAt(step: number): number;
}

/** How long the run is, counted from the data it loaded: what a schedule's `total_steps` must follow. */
export interface RunLength {
  steps: number;
  /** Samples in the training split as loaded. */
  samples: number;
  /** How the count came about, for the warning (e.g. `task.epochs=10 × 9 batches: 300 training samples // task.batch_size=32`). */
  explain: string;
  info(line: string): void;
  warn(line: string): void;
}

/**
 * Builds the plugins of `nodes`; a scheduler node that is absent from the config means a constant lr. With
 * `run`, a schedule whose `total_steps` is null gets the run's length, and one whose number disagrees is a warning.
 */
export function trainingPlugins(config: Config, registry: PluginRegistry, task: string, nodes: TrainingNodes, run?: RunLength): TrainingPlugins {
  const model = pluginAt<ModelModule>(config, registry, task, nodes.model, 'model');
  const loss = pluginAt<LossModule>(config, registry, task, nodes.loss, 'loss');
  const optimizer = pluginAt<OptimizerModule>(config, registry, task, nodes.optimizer, 'optimizer');
  const schedule = nodes.scheduler && config.has(nodes.scheduler) ? scheduleAt(config, registry, task, nodes.scheduler, run) : null;
  if (schedule?.describe && run) run.info(`${nodes.scheduler}: ${String(config.select(`${nodes.scheduler}._target_`))} over ${schedule.describe()}`);
  const baseLr = Number(config.get(`${nodes.optimizer}.lr`));
  return { model, loss, optimizer, lrAt: (step) => baseLr * (schedule ? schedule.factor(step) : 1) };
}

function scheduleAt(config: Config, registry: PluginRegistry, task: string, path: string, run: RunLength | undefined): ScheduleModule {
  const node = config.resolvedNode(path);
  const total = node.kind === 'dict' ? node.entries.get('total_steps') : undefined;
  if (!run || total?.kind !== 'value') return pluginAt<ScheduleModule>(config, registry, task, path, 'scheduler');
  if (total.type === 'null') {
    run.info(`${path}.total_steps: ${run.steps} optimizer steps, counted from the data (${run.explain})`);
    return pluginIn<ScheduleModule>(merge(node, fromPlain({ total_steps: run.steps })) as DictNode, registry, path, 'scheduler');
  }
  if (total.value !== run.steps) {
    const declared = config.select('data.train_size', { default: null });
    run.warn(
      `${path}.total_steps is ${String(total.value)}, but this run takes ${run.steps} optimizer steps (${run.explain})` +
        `${declared !== null && declared !== run.samples ? `; data.train_size says ${String(declared)} training samples, the split has ${run.samples}` : ''}` +
        `: the schedule does not follow the run (${path}.total_steps=null follows it)`,
    );
  }
  return pluginAt<ScheduleModule>(config, registry, task, path, 'scheduler');
}
