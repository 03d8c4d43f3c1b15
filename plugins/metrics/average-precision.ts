// Average precision and multi-label mAP, in the four variants video papers report (ml-spec §2.1).
//
//   sklearn  sklearn.metrics.average_precision_score per class: AP = Σ_n (R_n − R_{n−1}) P_n over the DISTINCT
//            score thresholds, descending (tied scores form one threshold: a tie block enters at once, at the
//            precision of the whole block). A class without positives has AP 0 (sklearn ≥ 1.1 sets recall to 1
//            everywhere and warns), and average='macro' keeps it in the mean.
//   slowfast SlowFast `get_map` (slowfast/utils/meters.py, also the Animal Kingdom README): drop the classes with no
//            positive label, mean of the sklearn APs of the rest; when nothing is left sklearn raises ValueError and
//            get_map returns mean([0]) = 0. This is the Charades / Animal Kingdom "mAP" and Vidra's default.
//   rank     torchnet APMeter (VideoLT ops/apmeter.py): rank the samples by score, descending, ties in row order
//            (a stable sort); AP = mean over the positives of precision@rank. A class without positives has AP 0
//            (the sum is divided by max(#pos, 1)) and stays in the mean. Ties are NOT grouped: the order of tied
//            samples changes the value.
//   charades the official Charades_v1_classify approximation (wykang/Charades, the Python port in Ego4D
//            ego4d/research/clep/utils.py::charades_map): first every row with no label gets −∞ scores, then the
//            rank AP per class; a class without positives is NaN, so the plain mean is NaN as soon as one class
//            has no positive (the `nanmean` flag averages the others instead). numpy's argsort (quicksort) leaves
//            the order of tied scores unspecified; here ties keep row order, as in `rank`.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkMultiHot, checkScoreMatrix, columns, mean, MetricInputError } from './inputs.ts';
import type { ClassificationBatch, Metric } from './metric.ts';

export type MapMode = 'slowfast' | 'sklearn' | 'rank' | 'charades';
export const MAP_MODES: readonly MapMode[] = ['slowfast', 'sklearn', 'rank', 'charades'];

export interface MapOptions {
  /** Which definition (default 'slowfast', SlowFast get_map). */
  mode?: MapMode;
  /** charades only: average the classes that have positives instead of returning NaN (np.nanmean). */
  nanmean?: boolean;
}

/** Row indices sorted by score, descending; ties keep row order (a stable sort; −∞ sorts last). */
function rankOrder(scores: ArrayLike<number>): number[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  return idx.sort((a, b) => {
    const sa = scores[a]!;
    const sb = scores[b]!;
    return sb > sa ? 1 : sb < sa ? -1 : a - b;
  });
}

function positives(labels: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < labels.length; i++) p += labels[i]!;
  return p;
}

/**
 * sklearn `average_precision_score(labels, scores)` for one class: Σ_n (R_n − R_{n−1}) P_n over the distinct score
 * thresholds (a block of tied scores is one threshold). 0 when the class has no positive (sklearn ≥ 1.1).
 */
export function averagePrecision(scores: readonly number[], labels: readonly number[]): number {
  checkVectorPair(scores, labels);
  return sklearnAp(scores, labels);
}

function sklearnAp(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  // The order inside a tie block does not matter here, so the positives' and the negatives' scores are sorted
  // apart (native numeric sort) and walked together from the top, one distinct threshold at a time.
  const p = positives(labels);
  if (p === 0) return 0;
  const pos = new Float64Array(p);
  const neg = new Float64Array(labels.length - p);
  let a = 0;
  let b = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) pos[a++] = scores[i]!;
    else neg[b++] = scores[i]!;
  }
  pos.sort();
  neg.sort();
  let pi = pos.length - 1;
  let ni = neg.length - 1;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  while (pi >= 0) {
    const threshold = ni >= 0 && neg[ni]! > pos[pi]! ? neg[ni]! : pos[pi]!;
    let blockPos = 0;
    while (pi >= 0 && pos[pi] === threshold) {
      blockPos++;
      pi--;
    }
    while (ni >= 0 && neg[ni] === threshold) {
      fp++;
      ni--;
    }
    tp += blockPos;
    // Recall rises by blockPos / p at this threshold, where precision is tp / (tp + fp).
    if (blockPos > 0) ap += (blockPos / p) * (tp / (tp + fp));
  }
  return ap;
}

/**
 * Rank AP (torchnet APMeter) for one class: the mean over the positives of precision at their rank, samples ranked
 * by score descending with ties in row order. 0 when the class has no positive.
 */
export function rankAveragePrecision(scores: readonly number[], labels: readonly number[]): number {
  checkVectorPair(scores, labels);
  return rankAp(scores, labels);
}

function rankAp(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = rankOrder(scores);
  let tp = 0;
  let sum = 0;
  for (let rank = 0; rank < order.length; rank++) {
    if (labels[order[rank]!] === 1) {
      tp += 1;
      sum += tp / (rank + 1);
    }
  }
  return sum / Math.max(tp, 1);
}

/**
 * The per-class APs of a mode, before its mean: NaN marks a class the mode leaves out of the mean
 * (no positives under slowfast — dropped; under charades — NaN), while sklearn and rank give such a class 0.
 */
export function classAveragePrecisions(scores: number[][], labels: number[][], options: MapOptions = {}): number[] {
  const mode = checkMode(options.mode);
  const [n, c] = checkScoreMatrix('scores', scores);
  checkMultiHot('labels', labels, n, c);
  let ranked = scores;
  if (mode === 'charades') {
    // charades_map: rows without any label are pushed to the bottom of every class's ranking.
    ranked = scores.map((row, i) => (positives(labels[i]!) === 0 ? row.map(() => -Infinity) : row));
  }
  const scoreColumns = columns(ranked, c);
  const labelColumns = columns(labels, c);
  const aps: number[] = [];
  for (let j = 0; j < c; j++) {
    const s = scoreColumns[j]!;
    const y = labelColumns[j]!;
    const empty = positives(y) === 0;
    switch (mode) {
      case 'slowfast':
        aps.push(empty ? NaN : sklearnAp(s, y));
        break;
      case 'sklearn':
        aps.push(sklearnAp(s, y));
        break;
      case 'rank':
        aps.push(rankAp(s, y));
        break;
      case 'charades':
        aps.push(empty ? NaN : rankAp(s, y));
        break;
    }
  }
  return aps;
}

/**
 * The mean of per-class APs as `mode` takes it: slowfast averages the non-NaN entries (none → 0, get_map's
 * mean([0])); charades is the plain mean (NaN if any class is NaN) or, with `nanmean`, the mean of the others
 * (NaN if none); sklearn and rank are the plain mean. An empty list (no classes) gives NaN in every mode.
 */
export function reduceClassAveragePrecisions(aps: readonly number[], options: MapOptions = {}): number {
  const mode = checkMode(options.mode);
  if (aps.length === 0) return NaN;
  if (mode === 'slowfast') {
    const kept = aps.filter((a) => !Number.isNaN(a));
    return kept.length ? mean(kept) : 0;
  }
  if (mode === 'charades' && options.nanmean) return mean(aps.filter((a) => !Number.isNaN(a)));
  return mean(aps);
}

/**
 * Multi-label mean average precision of scores [N, C] against 0/1 labels [N, C], SlowFast `get_map` by default
 * (see the module comment for the four modes).
 */
export function meanAveragePrecision(scores: number[][], labels: number[][], options: MapOptions = {}): number {
  return reduceClassAveragePrecisions(classAveragePrecisions(scores, labels, options), options);
}

function checkMode(mode: unknown): MapMode {
  if (mode === undefined) return 'slowfast';
  if (!(MAP_MODES as readonly unknown[]).includes(mode)) {
    throw new MetricInputError(`unknown mAP mode ${JSON.stringify(mode)}; the modes are ${MAP_MODES.join(', ')}`);
  }
  return mode as MapMode;
}

function checkVectorPair(scores: readonly number[], labels: readonly number[]): void {
  if (!Array.isArray(scores) || !Array.isArray(labels)) throw new MetricInputError('average precision takes two arrays: scores and 0/1 labels');
  if (scores.length !== labels.length) {
    throw new MetricInputError(`average precision: ${scores.length} scores but ${labels.length} labels`);
  }
  scores.forEach((s, i) => {
    if (typeof s !== 'number' || Number.isNaN(s)) throw new MetricInputError(`average precision: scores[${i}] must be a number, not ${String(s)}`);
  });
  labels.forEach((y, i) => {
    if (y !== 0 && y !== 1) throw new MetricInputError(`average precision: labels[${i}] must be 0 or 1, not ${String(y)}`);
  });
}

/** Rows of an epoch, gathered batch by batch: mAP is not a mean of per-batch values. */
export class RowAccumulator {
  scores: number[][] = [];
  labels: number[][] = [];

  add(metric: string, batch: ClassificationBatch): void {
    const [n, c] = checkScoreMatrix(`${metric}: scores`, batch.scores);
    checkMultiHot(`${metric}: labels`, batch.labels, n, c);
    const have = this.scores[0]?.length;
    if (have !== undefined && have !== c) throw new MetricInputError(`${metric}: this batch has ${c} classes, earlier batches had ${have}`);
    for (let i = 0; i < n; i++) {
      this.scores.push(batch.scores[i]!);
      this.labels.push((batch.labels as number[][])[i]!);
    }
  }

  require(metric: string): void {
    if (this.scores.length === 0) throw new MetricInputError(`${metric}: compute() before any update(): no samples to evaluate`);
  }

  reset(): void {
    this.scores = [];
    this.labels = [];
  }
}

interface MapConfig {
  mode: MapMode;
  nanmean: boolean;
}

/** mAP over an evaluation epoch (`map`), the mode's definition applied once to all rows. */
@injectable()
export class MapMetric implements Metric {
  readonly name = 'map';
  private readonly rows = new RowAccumulator();
  constructor(@inject(PLUGIN_CONFIG) private readonly config: MapConfig) {}

  update(batch: ClassificationBatch): void {
    this.rows.add(this.name, batch);
  }

  compute(): Record<string, number> {
    this.rows.require(this.name);
    return { map: meanAveragePrecision(this.rows.scores, this.rows.labels, this.config) };
  }

  reset(): void {
    this.rows.reset();
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'map',
  description: 'multi-label mAP (SlowFast get_map by default; sklearn macro, torchnet rank AP, official Charades)',
  schema: {
    type: 'object',
    properties: {
      mode: {
        enum: [...MAP_MODES],
        default: 'slowfast',
        description: 'slowfast: drop classes without positives; sklearn: they count 0; rank: torchnet APMeter; charades: official (NaN if a class is empty)',
      },
      nanmean: { type: 'boolean', default: false, description: 'charades only: ignore classes without positives instead of returning NaN' },
    },
    additionalProperties: false,
  },
  create: MapMetric,
});
