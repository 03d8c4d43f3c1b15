// How a task scores a model on a split, whatever the model: a contrastive model by retrieval between its two
// embeddings, a multi-head model per target (and by forecasts for lta_ed), a classification head by the metric
// plugins on its one target. Shared by the train task's evaluations and the evaluate task.

import type { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { VidraError } from '../../core/config/errors.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { LtaInput } from '../metrics/lta.ts';
import type { Metric as MetricOf } from '../metrics/metric.ts';
import type { RetrievalBatch } from '../metrics/retrieval.ts';
import { buildMetrics, evaluateModel, type Dataset, type EvalReader, type Metric } from './evaluation.ts';
import { evaluateColumns } from './forecast.ts';
import { pluginNamed } from './plugin-nodes.ts';
import { evaluatePairs } from './retrieval-eval.ts';
import { targetLayout, type TargetColumns } from './targets.ts';

/** What a split's targets are for a model: one target with its classes, or columns over a multi-head model's sections. */
export interface TargetPlan {
  target: string;
  layout: TargetColumns[] | null;
  numClasses: number;
}

/** `contrastive`: the model pairs two inputs and reads no target. */
export function targetPlan(model: ModelModule, target: string | readonly string[], data: Dataset, contrastive: boolean): TargetPlan {
  const targets = typeof target === 'string' ? [target] : [...target];
  if (contrastive) return { target: targets[0]!, layout: null, numClasses: 0 };
  const sections = model.sections?.();
  if (sections) return { target: targets[0]!, layout: targetLayout(targets, data.getBatch([0]), sections), numClasses: 0 };
  if (targets.length !== 1) throw new VidraError(`task.target: [${targets.join(', ')}] is several targets; they need a multi-head model (e.g. multi_head) and loss multi_ce`);
  const numClasses = data.numClasses[targets[0]!];
  if (numClasses === undefined) throw new VidraError(`task.target: the dataset has no target '${targets[0]}' (targets: ${Object.keys(data.numClasses).join(', ')})`);
  return { target: targets[0]!, layout: null, numClasses };
}

export async function scoreModel(args: {
  forward: ForwardRunner;
  params: Record<string, { data: Float32Array | Float64Array }>;
  model: ModelModule;
  data: Dataset;
  /** The training split (class counts and segments for segment mAP, vocabulary sizes). */
  train: Dataset;
  plan: TargetPlan;
  metrics: readonly string[];
  registry: PluginRegistry;
  /** lta_ed: K sequences sampled per forecast, from a generator seeded by `seed`. */
  forecastSamples: number;
  seed: number;
  reader?: EvalReader;
}): Promise<Record<string, number>> {
  const { forward, params, model, data, train, plan, metrics: names, registry, reader } = args;
  const make = (name: string, options: Record<string, unknown>) => pluginNamed<Metric>(registry, 'metric', name, options);
  if (names.includes('retrieval')) {
    const metric = pluginNamed<MetricOf<RetrievalBatch>>(registry, 'metric', 'retrieval', {});
    return evaluatePairs({ forward, params, model, data, metric, reader });
  }
  const { layout } = plan;
  if (layout) {
    const verb = layout.find((l) => l.name === 'verb');
    const metrics = {
      forecast: names.includes('lta_ed')
        ? {
            metric: pluginNamed<MetricOf<LtaInput>>(registry, 'metric', 'lta_ed', { z: verb?.width ?? 1, num_nouns: train.numClasses.noun ?? 1 }),
            samples: args.forecastSamples,
            seed: args.seed,
          }
        : undefined,
      perTarget: names.filter((m) => m !== 'lta_ed').flatMap((m) => layout.map((l) => ({ target: l.name, metric: make(m, {}) }))),
    };
    return evaluateColumns({ forward, params, model, data, layout, metrics, reader });
  }
  const metrics = buildMetrics(names, train, plan.target, make);
  return evaluateModel({ forward, params, model, data, target: plan.target, numClasses: plan.numClasses, metrics, reader });
}
