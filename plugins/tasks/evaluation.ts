// Evaluation shared by the train and evaluate tasks: the model's forward graph over a split, batch by batch,
// fed to metric plugins.
import type { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { VidraError } from '../../core/config/errors.ts';
import { ProgressBar } from '../../core/run/progress.ts';

// What the task needs of the dataset and sampler plugins (their modules define the full interfaces).
export interface Batched<T> {
  data: T;
  shape: number[];
}
export interface DatasetBatch {
  size: number;
  inputs: Record<string, Batched<Float32Array>>;
  targets: Record<string, Batched<Float32Array | Int32Array>>;
}
export interface Dataset {
  readonly length: number;
  readonly numClasses: Record<string, number>;
  readonly classCounts?: Record<string, number[]>;
  readonly segments?: Array<'head' | 'middle' | 'tail'>;
  readonly skipped: Array<{ reason: string; count: number; examples: string[] }>;
  getBatch(indices: readonly number[]): DatasetBatch;
  close(): void;
}
export interface DatasetSource {
  load(split?: string): Promise<Dataset>;
}
export interface IndexSampler {
  readonly numBatches: number;
  batches(epoch: number): Iterable<number[]>;
}
export interface Metric {
  update(batch: { scores: number[][]; labels: number[] | number[][] }): void;
  compute(): Record<string, number>;
}


export function pickInput(batch: DatasetBatch, name: string, count: number): Batched<Float32Array> {
  const found = batch.inputs[name] ?? (count === 1 && Object.keys(batch.inputs).length === 1 ? Object.values(batch.inputs)[0] : undefined);
  if (!found) throw new VidraError(`the model input '${name}' has no dataset input of that name (dataset inputs: ${Object.keys(batch.inputs).join(', ')})`);
  return found;
}

function padRows(data: Float32Array, rows: number, size: number): Float32Array {
  if (rows === size) return data;
  const out = new Float32Array((data.length / rows) * size);
  out.set(data);
  return out;
}

/** The forward graph's feeds for a batch of `rows` examples: it has a fixed batch `size`, so the rest is zeros. */
export function forwardFeeds(batch: DatasetBatch, model: ModelModule, rows: number, size: number): Record<string, Float32Array> {
  const inputs = model.inputs();
  return Object.fromEntries(inputs.map((mi) => [mi.name, padRows(pickInput(batch, mi.name, inputs.length).data, rows, size)]));
}

/** Metric plugins by name; `segment_map` gets the training split's segments (or class counts). */
export function buildMetrics(names: readonly string[], train: Dataset, target: string, make: (name: string, options: Record<string, unknown>) => Metric): Metric[] {
  return names.map((name) =>
    make(name, name === 'segment_map' ? (train.segments ? { segments: train.segments } : { class_counts: train.classCounts?.[target] }) : {}),
  );
}

/** What reads evaluation batches in the background (plugins/datasets/prefetch.ts). */
export interface EvalReader {
  read(order: Iterable<readonly number[]>): { next(): Promise<DatasetBatch> };
}

/** Every sample of `data` in order, in batches of `size` (the last one smaller), read through `reader` when given. */
export async function* evalBatches(data: Dataset, size: number, reader?: EvalReader): AsyncGenerator<{ idx: number[]; batch: DatasetBatch }> {
  const order = Array.from({ length: Math.ceil(data.length / size) }, (_, k) => Array.from({ length: Math.min(size, data.length - k * size) }, (_, i) => k * size + i));
  const stream = reader?.read(order);
  // A bar on a TTY; elsewhere a line every few seconds, so that only a long evaluation prints any.
  const bar = new ProgressBar('eval', data.length, undefined, { unit: 'samples' });
  let done = 0;
  try {
    for (const idx of order) {
      yield { idx, batch: stream ? await stream.next() : data.getBatch(idx) };
      done += idx.length;
      bar.update(done);
    }
  } finally {
    bar.done();
  }
}

/** Runs the forward graph over every sample of `data` and returns the metrics' values. */
export async function evaluateModel(args: {
  forward: ForwardRunner;
  params: Record<string, { data: Float32Array | Float64Array }>;
  model: ModelModule;
  data: Dataset;
  target: string;
  numClasses: number;
  metrics: Metric[];
  /** Reads the batches, e.g. ahead in a worker thread (datasets/prefetch.ts); default: `data.getBatch`. */
  reader?: EvalReader;
}): Promise<Record<string, number>> {
  const { forward, params, model, data, target, numClasses, metrics } = args;
  const size = forward.batchSize;
  for await (const { idx, batch } of evalBatches(data, size, args.reader)) {
    const { logits } = await forward.run(params, forwardFeeds(batch, model, idx.length, size));
    const C = logits.length / size;
    const scores = idx.map((_, r) => Array.from(logits.subarray(r * C, (r + 1) * C)));
    const t = batch.targets[target]!.data;
    const labels = t instanceof Int32Array && t.length === idx.length ? Array.from(t) : idx.map((_, r) => Array.from(t.subarray(r * numClasses, (r + 1) * numClasses)));
    for (const m of metrics) m.update({ scores, labels });
  }
  return Object.assign({}, ...metrics.map((m) => m.compute()));
}
