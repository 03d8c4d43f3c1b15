// Evaluation of multi-target models (index-column targets): long-term anticipation forecasts scored by edit
// distance, and classification metrics per target on its first column (the next action).

import type { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { VidraError } from '../../core/config/errors.ts';
import { mulberry32 } from '../../core/random.ts';
import type { LtaInput } from '../metrics/lta.ts';
import type { Metric as MetricOf } from '../metrics/metric.ts';
import { evalBatches, forwardFeeds, type Dataset, type EvalReader, type Metric } from './evaluation.ts';
import { sectionScores, type TargetColumns } from './targets.ts';

/** Draws `k` class ids from softmax(scores) with `random` (inverse CDF), as torch's Categorical(logits).sample(). */
export function sampleCategorical(scores: readonly number[], k: number, random: () => number): number[] {
  const m = Math.max(...scores);
  const p = scores.map((s) => Math.exp(s - m));
  const total = p.reduce((a, b) => a + b, 0);
  return Array.from({ length: k }, () => {
    let u = random() * total;
    for (let c = 0; c < p.length; c++) {
      u -= p[c]!;
      if (u < 0) return c;
    }
    return p.length - 1;
  });
}

export interface ColumnMetrics {
  /** lta_ed, fed K sampled sequences of the verb and noun targets. */
  forecast?: { metric: MetricOf<LtaInput>; samples: number; seed: number };
  /** Classification metrics per target (scored on the target's first column). */
  perTarget: Array<{ target: string; metric: Metric }>;
}

/**
 * Runs the forward graph over `data` and feeds the metrics. Forecasts (Ego4D LTA `generate(x, k)`): for every
 * example, future step z and candidate k, the verb and the noun are sampled independently from the softmax of
 * their section, from one generator seeded by `seed` (the same forecasts for the same parameters).
 */
export async function evaluateColumns(args: {
  forward: ForwardRunner;
  params: Record<string, { data: Float32Array | Float64Array }>;
  model: ModelModule;
  data: Dataset;
  layout: readonly TargetColumns[];
  metrics: ColumnMetrics;
  reader?: EvalReader;
}): Promise<Record<string, number>> {
  const { forward, params, model, data, layout, metrics } = args;
  const size = forward.batchSize;
  const verb = layout.find((l) => l.name === 'verb');
  const noun = layout.find((l) => l.name === 'noun');
  if (metrics.forecast && (!verb || !noun || verb.width !== noun.width)) {
    throw new VidraError('task.metrics: lta_ed scores forecasts of verbs and nouns: set task.target to [verb, noun] with as many future steps each');
  }
  const random = mulberry32(metrics.forecast?.seed ?? 0);
  for await (const { idx, batch } of evalBatches(data, size, args.reader)) {
    const { logits } = await forward.run(params, forwardFeeds(batch, model, idx.length, size));
    const width = logits.length / size;
    const labels = (l: TargetColumns, r: number) => Array.from(batch.targets[l.name]!.data.subarray(r * l.width, (r + 1) * l.width), Number);
    if (metrics.forecast) {
      const K = metrics.forecast.samples;
      const sample = (l: TargetColumns, r: number) => {
        const perStep = l.sections.map((s) => sampleCategorical(sectionScores(logits, width, r, s), K, random));
        return Array.from({ length: K }, (_, k) => perStep.map((draws) => draws[k]!));
      };
      const rows = idx.map((_, r) => ({ verb: sample(verb!, r), noun: sample(noun!, r) }));
      metrics.forecast.metric.update({
        verbPreds: rows.map((x) => x.verb),
        nounPreds: rows.map((x) => x.noun),
        verbLabels: idx.map((_, r) => labels(verb!, r)),
        nounLabels: idx.map((_, r) => labels(noun!, r)),
      });
    }
    for (const { target, metric } of metrics.perTarget) {
      const l = layout.find((x) => x.name === target)!;
      metric.update({ scores: idx.map((_, r) => sectionScores(logits, width, r, l.sections[0]!)), labels: idx.map((_, r) => labels(l, r)[0]!) });
    }
  }
  const out: Record<string, number> = {};
  if (metrics.forecast) Object.assign(out, metrics.forecast.metric.compute());
  for (const { target, metric } of metrics.perTarget) for (const [k, v] of Object.entries(metric.compute())) out[`${target}/${k}`] = v;
  return out;
}
