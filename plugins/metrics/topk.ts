// Top-k accuracy (ml-spec §2.1), as a fraction in [0, 1] (SlowFast logs the error 100·(1 − acc) instead).
//
//   single-label  labels are class indices: a sample is correct when its label is among the k highest scores
//                 (SlowFast slowfast/utils/metrics.py::topks_correct over torch.topk).
//   multi-label   labels are multi-hot rows: a sample is correct when ANY of its k highest-scored classes is a
//                 positive (VideoLT). A row without positives is never correct and stays in the denominator.
//
// Ties: among equal scores the lower class index ranks first. That is what torch.topk returns on CPU in practice
// (PyTorch does not document an order for ties); it decides whether a tied label is inside the top k.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkClassIndices, checkMultiHot, checkPositiveInteger, checkScoreMatrix, MetricInputError } from './inputs.ts';
import type { ClassificationBatch, Metric } from './metric.ts';

/** The k class indices with the highest scores, best first; ties: lower index first. */
export function topkIndices(row: readonly number[], k: number): number[] {
  const idx = row.map((_, j) => j);
  idx.sort((a, b) => {
    const sa = row[a]!;
    const sb = row[b]!;
    return sb > sa ? 1 : sb < sa ? -1 : a - b;
  });
  return idx.slice(0, k);
}

function isMultiHot(labels: number[] | number[][]): labels is number[][] {
  return labels.length > 0 && Array.isArray(labels[0]);
}

/** Per sample: is it correct at k (see the module comment for single- vs multi-label). */
export function topkCorrect(scores: number[][], labels: number[] | number[][], k: number): boolean[] {
  const [n, c] = checkScoreMatrix('scores', scores);
  checkPositiveInteger('k', k);
  if (k > c) throw new MetricInputError(`top-${k} accuracy needs at least ${k} classes; the scores have ${c} (torch.topk raises too)`);
  if (isMultiHot(labels)) {
    checkMultiHot('labels', labels, n, c);
    return scores.map((row, i) => topkIndices(row, k).some((j) => labels[i]![j] === 1));
  }
  checkClassIndices('labels', labels, n, c);
  return scores.map((row, i) => topkIndices(row, k).includes((labels as number[])[i]!));
}

/** Top-k accuracy in [0, 1]: class indices → label in the top k; multi-hot rows → any positive in the top k. */
export function topkAccuracy(scores: number[][], labels: number[] | number[][], k: number): number {
  const correct = topkCorrect(scores, labels, k);
  return correct.filter(Boolean).length / correct.length;
}

interface TopkConfig {
  k: number[];
}

/** Top-k accuracies over an epoch (`topk`): keys top1, top5, … as fractions, pooled over all samples. */
@injectable()
export class TopkMetric implements Metric {
  readonly name = 'topk';
  private correct: number[] = [];
  private total = 0;
  constructor(@inject(PLUGIN_CONFIG) private readonly config: TopkConfig) {
    this.correct = config.k.map(() => 0);
  }

  update(batch: ClassificationBatch): void {
    const perK = this.config.k.map((k) => topkCorrect(batch.scores, batch.labels, k).filter(Boolean).length);
    perK.forEach((c, i) => (this.correct[i]! += c));
    this.total += batch.scores.length;
  }

  compute(): Record<string, number> {
    if (this.total === 0) throw new MetricInputError(`${this.name}: compute() before any update(): no samples to evaluate`);
    return Object.fromEntries(this.config.k.map((k, i) => [`top${k}`, this.correct[i]! / this.total]));
  }

  reset(): void {
    this.correct = this.config.k.map(() => 0);
    this.total = 0;
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'topk',
  description: 'top-k accuracy (label in the top k; multi-label: any positive in the top k), as fractions',
  schema: {
    type: 'object',
    properties: {
      k: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1, default: [1, 5], description: 'the k values, e.g. [1, 5]' },
    },
    additionalProperties: false,
  },
  create: TopkMetric,
});
