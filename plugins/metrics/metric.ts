// The interface of a metric plugin (kind 'metric'): a task feeds it batch after batch over an evaluation epoch,
// then reads the values. The math lives in plain functions over number arrays (same modules); a Metric only
// accumulates what those functions need, so `compute()` over an epoch equals the function over the whole epoch.

/** What classification metrics are fed: scores [N, C] and either class indices [N] or multi-hot rows [N, C]. */
export interface ClassificationBatch {
  scores: number[][];
  labels: number[] | number[][];
}

/**
 * An accumulating metric. `update` may be called any number of times; `compute` returns the metric values over
 * everything fed since the last `reset` (keys are the names the task logs, e.g. `map`, `top1`); it throws a
 * MetricInputError when nothing was fed.
 */
export interface Metric<B = ClassificationBatch> {
  /** The plugin name, for log prefixes. */
  readonly name: string;
  update(batch: B): void;
  compute(): Record<string, number>;
  reset(): void;
}
