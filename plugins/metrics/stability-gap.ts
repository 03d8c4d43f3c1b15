// Continual evaluation and the stability gap (De Lange, van de Ven, Tuytelaars, ICLR 2023, arXiv 2205.13452;
// Mattdl/ContinualEvaluation src/eval/continual_eval_metrics.py), ml-spec §2.5.
//
// The model is evaluated on every seen task after every training iteration, giving per task an accuracy curve
// A_0, A_1, … Right after a task switch the accuracy of earlier tasks drops and partly recovers: the stability gap.
// End-of-task accuracies miss it; these metrics see it:
//   min-ACC_k  = min of task k's accuracy over the evaluations after its training ended
//                (TaskTrackingMINAccuracyPluginMetric: every evaluation while another task is being learned)
//   WC-ACC_t   = mean([A_t(current task)] + [min-ACC_k for the earlier tasks k])
//              = (1/K)·A_cur + (1 − 1/K)·avg-min-ACC, with K = 1 + number of earlier tasks   (WCACCPluginMetric)
//   WF^w       = max over sliding windows of the last w evaluations of max_{i<j} (A_i − A_j), at least 0
//                (WindowedForgettingPluginMetric: the per-task maximum starts at 0)
//   WP^w       = the same with A_j − A_i (WindowedPlasticityPluginMetric)

import { checkPositiveInteger, describe, mean, MetricInputError } from './inputs.ts';

function checkCurve(what: string, curve: unknown): number[] {
  if (!Array.isArray(curve)) throw new MetricInputError(`${what} must be an array of accuracies (got ${describe(curve)})`);
  curve.forEach((a, i) => {
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new MetricInputError(`${what}[${i}] must be a finite accuracy, not ${describe(a)}`);
  });
  return curve as number[];
}

/**
 * min-ACC of one task: the minimum of its accuracy curve from index `from` on (the first evaluation after its
 * training ended). NaN when there is no such evaluation (the task is still being learned).
 */
export function minAcc(curve: readonly number[], from = 0): number {
  const c = checkCurve('curve', curve);
  if (!Number.isInteger(from) || from < 0) throw new MetricInputError(`from must be a non-negative index, not ${describe(from)}`);
  const after = c.slice(from);
  return after.length ? Math.min(...after) : NaN;
}

/** Worst-case accuracy WC-ACC = mean([current-task accuracy, ...min-ACC of the earlier tasks]). */
export function wcAcc(currentAcc: number, earlierMinAccs: readonly number[]): number {
  checkCurve('currentAcc', [currentAcc]);
  checkCurve('earlierMinAccs', earlierMinAccs);
  // (1/K)·A_cur + (1 − 1/K)·avg-min-ACC, written as one mean as the reference code does.
  return mean([currentAcc, ...earlierMinAccs]);
}

function windowedMaxDelta(curve: readonly number[], w: number, delta: (first: number, next: number) => number): number {
  const c = checkCurve('curve', curve);
  checkPositiveInteger('window size w', w);
  let best = 0;
  // Pairs i < j inside one window of w evaluations: j − i ≤ w − 1.
  for (let j = 1; j < c.length; j++) {
    for (let i = Math.max(0, j - w + 1); i < j; i++) best = Math.max(best, delta(c[i]!, c[j]!));
  }
  return best;
}

/** Windowed forgetting WF^w of one task's accuracy curve: the largest drop A_i − A_j (i < j) within w evaluations, ≥ 0. */
export function windowedForgetting(curve: readonly number[], w: number): number {
  return windowedMaxDelta(curve, w, (first, next) => first - next);
}

/** Windowed plasticity WP^w: the largest rise A_j − A_i (i < j) within w evaluations, ≥ 0. */
export function windowedPlasticity(curve: readonly number[], w: number): number {
  return windowedMaxDelta(curve, w, (first, next) => next - first);
}
