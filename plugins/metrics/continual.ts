// Continual-learning metrics from the accuracy matrix, as Avalanche computes them (ContinualAI/avalanche
// avalanche/evaluation/metrics/: accuracy.py StreamAccuracy, forgetting_bwt.py, forward_transfer.py), ml-spec §2.4.
//
//   R[i][j]  accuracy on experience j right after training experience i (the eval stream holds every experience,
//            trained or not); b[j] the accuracy on j before any training; n[j] its number of patterns.
//   Top1_Acc_Stream (after i)      Σ_j n_j R[i][j] / Σ_j n_j   — pattern-weighted, not the mean over experiences,
//                                  and it includes experiences not trained yet
//   ExperienceForgetting_j (at i)  R[j][j] − R[i][j], for already-trained j < i (the value recorded right after
//                                  training j, minus the latest; NOT the max over the past as in Chaudhry et al.)
//   StreamForgetting (at i)        unweighted mean of ExperienceForgetting_j over the available j
//   BWT                            −Forgetting; at the end it equals GEM's BWT 1/(T−1) Σ_{j<T−1} (R[T−1][j] − R[j][j])
//   ExperienceForwardTransfer_j    R[j−1][j] − b_j   (needs an evaluation before training: Avalanche eval_every > −1)
//   StreamForwardTransfer (at i)   unweighted mean over the j ≥ 1 whose value exists (j ≤ i + 1)
// "Available" means both matrix entries are numbers; a missing entry is undefined or NaN. A stream mean over no
// experience is 0, as Avalanche's Mean reports it.
//
// The stability-gap metrics (per-iteration evaluation) are in stability-gap.ts and the EgoAdapt user-stream metrics
// in online.ts; both are re-exported here, and the `continual` metric combines this module with stability-gap.ts.

import { definePlugin } from '../../core/plugins/registry.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { checkClassIndices, checkScoreMatrix, describe, mean, MetricInputError } from './inputs.ts';
import type { Metric } from './metric.ts';
import { minAcc, wcAcc, windowedForgetting, windowedPlasticity } from './stability-gap.ts';
import { topkCorrect } from './topk.ts';

export * from './stability-gap.ts';
export * from './online.ts';

/** R[i][j]: accuracy on experience j after training experience i; undefined or NaN where not evaluated. */
export type AccuracyMatrix = readonly (readonly (number | undefined)[])[];

function value(x: number | undefined): number | undefined {
  return typeof x === 'number' && !Number.isNaN(x) ? x : undefined;
}

function checkRowIndex(R: AccuracyMatrix, i: number, what = 'i'): void {
  if (!Array.isArray(R) || R.length === 0) throw new MetricInputError('the accuracy matrix R must have at least one row (R[i][j] after training experience i)');
  if (!Number.isInteger(i) || i < 0 || i >= R.length) throw new MetricInputError(`${what} = ${describe(i)} is not a row of R (rows 0…${R.length - 1})`);
}

/** Avalanche Top1_Acc_Stream after training experience i: Σ_j n_j R[i][j] / Σ_j n_j over the whole eval stream. */
export function streamAccuracy(R: AccuracyMatrix, n: readonly number[], i: number = R.length - 1): number {
  checkRowIndex(R, i);
  const row = R[i]!;
  if (row.length !== n.length) throw new MetricInputError(`R[${i}] has ${row.length} experiences but n has ${n.length} pattern counts`);
  let num = 0;
  let den = 0;
  row.forEach((acc, j) => {
    const a = value(acc);
    if (a === undefined) throw new MetricInputError(`streamAccuracy: R[${i}][${j}] is missing; the stream accuracy covers every experience of the stream`);
    const nj = n[j]!;
    if (!Number.isInteger(nj) || nj < 0) throw new MetricInputError(`n[${j}] must be a pattern count, a non-negative integer, not ${describe(nj)}`);
    num += nj * a;
    den += nj;
  });
  if (den === 0) throw new MetricInputError('streamAccuracy: the stream has no patterns (Σ n_j = 0)');
  return num / den;
}

/** ExperienceForgetting_j at i: R[j][j] − R[i][j] for j < i; undefined when j ≥ i or an entry is missing. */
export function experienceForgetting(R: AccuracyMatrix, i: number, j: number): number | undefined {
  checkRowIndex(R, i);
  if (!Number.isInteger(j) || j < 0) throw new MetricInputError(`j must be an experience index, not ${describe(j)}`);
  if (j >= i) return undefined;
  const initial = value(R[j]![j]);
  const last = value(R[i]![j]);
  return initial === undefined || last === undefined ? undefined : initial - last;
}

/** StreamForgetting at i: the unweighted mean of ExperienceForgetting_j over the available j < i (none → 0). */
export function streamForgetting(R: AccuracyMatrix, i: number = R.length - 1): number {
  checkRowIndex(R, i);
  const values: number[] = [];
  for (let j = 0; j < i; j++) {
    const f = experienceForgetting(R, i, j);
    if (f !== undefined) values.push(f);
  }
  return values.length ? mean(values) : 0;
}

/** Avalanche BWT at i = −StreamForgetting. */
export function backwardTransfer(R: AccuracyMatrix, i: number = R.length - 1): number {
  return -streamForgetting(R, i);
}

/** GEM's BWT (Lopez-Paz & Ranzato 2017) after the last of T experiences: 1/(T−1) Σ_{j<T−1} (R[T−1][j] − R[j][j]). */
export function gemBackwardTransfer(R: AccuracyMatrix): number {
  const t = R.length;
  if (t < 2) throw new MetricInputError('GEM BWT needs at least two trained experiences (rows of R)');
  let s = 0;
  for (let j = 0; j < t - 1; j++) {
    const last = value(R[t - 1]![j]);
    const diag = value(R[j]![j]);
    if (last === undefined || diag === undefined) throw new MetricInputError(`GEM BWT needs R[${t - 1}][${j}] and R[${j}][${j}]`);
    s += last - diag;
  }
  return s / (t - 1);
}

function checkBefore(b: readonly (number | undefined)[] | undefined): readonly (number | undefined)[] {
  if (!Array.isArray(b)) {
    throw new MetricInputError(
      'forward transfer needs b, the accuracy on every experience BEFORE any training (an evaluation pass before training; Avalanche eval_every > −1)',
    );
  }
  return b;
}

/** ExperienceForwardTransfer_j = R[j−1][j] − b_j; undefined for j = 0 or when an entry is missing. */
export function experienceForwardTransfer(R: AccuracyMatrix, b: readonly (number | undefined)[] | undefined, j: number): number | undefined {
  const before = checkBefore(b);
  if (!Number.isInteger(j) || j < 0) throw new MetricInputError(`j must be an experience index, not ${describe(j)}`);
  if (j === 0 || j - 1 >= R.length) return undefined;
  const after = value(R[j - 1]![j]);
  const initial = value(before[j]);
  return after === undefined || initial === undefined ? undefined : after - initial;
}

/** StreamForwardTransfer at i: the mean of ExperienceForwardTransfer_j over the j (1 ≤ j ≤ i + 1) that exist (none → 0). */
export function forwardTransfer(R: AccuracyMatrix, b: readonly (number | undefined)[] | undefined, i: number = R.length - 1): number {
  checkBefore(b);
  checkRowIndex(R, i);
  const experiences = Math.max(...R.map((row) => row.length));
  const values: number[] = [];
  for (let j = 1; j <= i + 1 && j < experiences; j++) {
    const f = experienceForwardTransfer(R, b, j);
    if (f !== undefined) values.push(f);
  }
  return values.length ? mean(values) : 0;
}

/** One evaluation of one experience, fed to the `continual` metric. */
export interface ContinualBatch {
  /** [N, C] scores; accuracy is top-1 (ties: lower index). */
  scores: number[][];
  /** [N] class indices. */
  labels: number[];
  /** The experience (task) this evaluation data belongs to. */
  experience: number;
  /** The experience trained last (being trained, for per-iteration evaluation); −1 before any training. */
  trainedExperience: number;
  /** The training iteration of a per-iteration evaluation; omit it for the evaluation at the end of an experience. */
  iteration?: number;
}

interface EvalPoint {
  trained: number;
  perExperience: Map<number, { correct: number; total: number }>;
}

interface ContinualConfig {
  window: number;
}

/**
 * Avalanche and continual-evaluation metrics over a run (`continual`). Feed every evaluation batch in time order;
 * batches with the same (trainedExperience, iteration) form one evaluation point. Keys:
 *   stream_acc         pattern-weighted accuracy over the experiences evaluated at the latest point
 *   forgetting, bwt    StreamForgetting and BWT from the end-of-experience evaluations (after ≥ 2 experiences)
 *   fwt                StreamForwardTransfer, when an evaluation with trainedExperience −1 was fed
 *   min_acc, wc_acc    average min-ACC of the earlier experiences, and WC-ACC at the latest point
 *   wf{w}, wp{w}       windowed forgetting / plasticity, averaged over the evaluated experiences
 * R[i] is taken from the LAST point with trainedExperience i (the end-of-experience evaluation).
 */
@injectable()
export class ContinualMetric implements Metric<ContinualBatch> {
  readonly name = 'continual';
  private points: EvalPoint[] = [];
  private readonly keys = new Map<string, EvalPoint>();
  constructor(@inject(PLUGIN_CONFIG) private readonly config: ContinualConfig) {}

  update(batch: ContinualBatch): void {
    const [n, c] = checkScoreMatrix(`${this.name}: scores`, batch.scores);
    checkClassIndices(`${this.name}: labels`, batch.labels, n, c);
    const { experience, trainedExperience, iteration } = batch;
    if (!Number.isInteger(experience) || experience < 0) throw new MetricInputError(`${this.name}: experience must be a non-negative integer, not ${describe(experience)}`);
    if (!Number.isInteger(trainedExperience) || trainedExperience < -1) {
      throw new MetricInputError(`${this.name}: trainedExperience must be an integer ≥ −1 (−1 before training), not ${describe(trainedExperience)}`);
    }
    if (iteration !== undefined && !Number.isInteger(iteration)) throw new MetricInputError(`${this.name}: iteration must be an integer, not ${describe(iteration)}`);
    const key = `${trainedExperience}:${iteration ?? 'end'}`;
    let point = this.keys.get(key);
    if (!point) {
      const latest = this.points.at(-1);
      if (latest && trainedExperience < latest.trained) {
        throw new MetricInputError(`${this.name}: evaluations must come in time order; trainedExperience ${trainedExperience} after ${latest.trained}`);
      }
      point = { trained: trainedExperience, perExperience: new Map() };
      this.points.push(point);
      this.keys.set(key, point);
    }
    const counts = point.perExperience.get(experience) ?? { correct: 0, total: 0 };
    counts.correct += topkCorrect(batch.scores, batch.labels, 1).filter(Boolean).length;
    counts.total += n;
    point.perExperience.set(experience, counts);
  }

  compute(): Record<string, number> {
    const last = this.points.at(-1);
    if (!last) throw new MetricInputError(`${this.name}: compute() before any update(): no evaluations`);
    const acc = (p: EvalPoint, j: number) => {
      const c = p.perExperience.get(j);
      return c ? c.correct / c.total : undefined;
    };
    let correct = 0;
    let total = 0;
    for (const c of last.perExperience.values()) {
      correct += c.correct;
      total += c.total;
    }
    const out: Record<string, number> = { stream_acc: correct / total };

    const endOf = (i: number) => this.points.filter((p) => p.trained === i).at(-1);
    const experiences = Math.max(...this.points.flatMap((p) => [...p.perExperience.keys()])) + 1;
    const current = last.trained;
    const R: (number | undefined)[][] = [];
    for (let i = 0; i <= current; i++) {
      const p = endOf(i);
      R.push(Array.from({ length: experiences }, (_, j) => (p ? acc(p, j) : undefined)));
    }
    if (current >= 1) {
      out.forgetting = streamForgetting(R, current);
      out.bwt = -out.forgetting;
    }
    const before = endOf(-1);
    if (before && current >= 0) {
      out.fwt = forwardTransfer(R, Array.from({ length: experiences }, (_, j) => acc(before, j)), current);
    }

    if (current >= 0) {
      // Stability gap: each experience's accuracy curve over the evaluation points, in time order.
      const minAccs: number[] = [];
      for (let k = 0; k < current; k++) {
        const after = this.points.filter((p) => p.trained > k).map((p) => acc(p, k)).filter((a): a is number => a !== undefined);
        if (after.length) minAccs.push(minAcc(after));
      }
      if (minAccs.length) out.min_acc = mean(minAccs);
      const cur = acc(last, current);
      if (cur !== undefined) out.wc_acc = wcAcc(cur, minAccs);
      const w = this.config.window;
      const curves = Array.from({ length: experiences }, (_, k) => this.points.map((p) => acc(p, k)).filter((a): a is number => a !== undefined)).filter(
        (curve) => curve.length > 0,
      );
      out[`wf${w}`] = mean(curves.map((curve) => windowedForgetting(curve, w)));
      out[`wp${w}`] = mean(curves.map((curve) => windowedPlasticity(curve, w)));
    }
    return out;
  }

  /** The latest evaluation's accuracy on each experience (null: not evaluated): one row of the accuracy matrix. */
  accuracies(): Array<number | null> {
    const last = this.points.at(-1);
    if (!last) return [];
    const experiences = Math.max(...this.points.flatMap((p) => [...p.perExperience.keys()])) + 1;
    return Array.from({ length: experiences }, (_, j) => {
      const c = last.perExperience.get(j);
      return c ? c.correct / c.total : null;
    });
  }

  reset(): void {
    this.points = [];
    this.keys.clear();
  }
}

export const plugin = definePlugin({
  kind: 'metric',
  name: 'continual',
  description: 'Avalanche stream accuracy, forgetting, BWT, forward transfer; min-ACC, WC-ACC, windowed forgetting/plasticity',
  schema: {
    type: 'object',
    properties: {
      window: { type: 'integer', minimum: 1, default: 10, description: 'window w of WF^w / WP^w, in evaluations' },
    },
    additionalProperties: false,
  },
  create: ContinualMetric,
});
