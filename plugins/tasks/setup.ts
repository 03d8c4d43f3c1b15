// What every task that trains a head reads from the job's config: the seed, the `engine` node, and the model,
// loss, optimizer and schedule plugins named in its `task.nodes`.
import type { Config } from '../../core/config/config.ts';
import type { LossModule, ModelModule, OptimizerModule, ScheduleModule } from '../../core/engine/modules.ts';
import type { Device, GraphOptimization } from '../../core/engine/session.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { JobContext } from '../../core/plugins/interfaces.ts';
import { metricsLogger } from '../../core/launch/job.ts';
import { MetricsLog } from '../../core/run/metrics-log.ts';
import { pluginAt } from './plugin-nodes.ts';

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

/** Builds the plugins of `nodes`; a scheduler node that is absent from the config means a constant lr. */
export function trainingPlugins(config: Config, registry: PluginRegistry, task: string, nodes: TrainingNodes): TrainingPlugins {
  const model = pluginAt<ModelModule>(config, registry, task, nodes.model, 'model');
  const loss = pluginAt<LossModule>(config, registry, task, nodes.loss, 'loss');
  const optimizer = pluginAt<OptimizerModule>(config, registry, task, nodes.optimizer, 'optimizer');
  const schedule = nodes.scheduler && config.has(nodes.scheduler) ? pluginAt<ScheduleModule>(config, registry, task, nodes.scheduler, 'scheduler') : null;
  const baseLr = Number(config.get(`${nodes.optimizer}.lr`));
  return { model, loss, optimizer, lrAt: (step) => baseLr * (schedule ? schedule.factor(step) : 1) };
}
