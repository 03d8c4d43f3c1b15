// Evaluation shared by the train and evaluate tasks: the model's forward graph over a split, batch by batch,
// fed to metric plugins.
import type { ForwardRunner } from '../../core/engine/forward.ts';
import type { ModelModule } from '../../core/engine/modules.ts';
import { VidraError } from '../../core/config/errors.ts';

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

/** Metric plugins by name; `segment_map` gets the training split's segments (or class counts). */
export function buildMetrics(names: readonly string[], train: Dataset, target: string, make: (name: string, options: Record<string, unknown>) => Metric): Metric[] {
  return names.map((name) =>
    make(name, name === 'segment_map' ? (train.segments ? { segments: train.segments } : { class_counts: train.classCounts?.[target] }) : {}),
  );
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
  reader?: { read(order: Iterable<readonly number[]>): { next(): Promise<DatasetBatch> } };
}): Promise<Record<string, number>> {
  const { forward, params, model, data, target, numClasses, metrics } = args;
  const size = forward.batchSize;
  const inputs = model.inputs();
  const order = Array.from({ length: Math.ceil(data.length / size) }, (_, k) => Array.from({ length: Math.min(size, data.length - k * size) }, (_, i) => k * size + i));
  const stream = args.reader?.read(order);
  for (const idx of order) {
    const batch = stream ? await stream.next() : data.getBatch(idx);
    // The graph has a fixed batch: pad the last one with zeros and read only the real rows.
    const feeds = Object.fromEntries(inputs.map((mi) => [mi.name, padRows(pickInput(batch, mi.name, inputs.length).data, idx.length, size)]));
    const { logits } = await forward.run(params, feeds);
    const C = logits.length / size;
    const scores = idx.map((_, r) => Array.from(logits.subarray(r * C, (r + 1) * C)));
    const t = batch.targets[target]!.data;
    const labels = t instanceof Int32Array && t.length === idx.length ? Array.from(t) : idx.map((_, r) => Array.from(t.subarray(r * numClasses, (r + 1) * numClasses)));
    for (const m of metrics) m.update({ scores, labels });
  }
  return Object.assign({}, ...metrics.map((m) => m.compute()));
}
