// The interface every dataset plugin gives the rest of Vidra.
//
// A dataset plugin (kind 'dataset') is built from its config and `load(split)`s a Dataset: indexable
// samples of named float32 inputs and named targets. `getBatch` reads precomputed features in blocks
// (see formats/hdf5-features.ts); `get(i)` is a batch of one. Records that cannot be used (a video with no
// features, an empty feature dataset) are skipped, counted and listed in `skipped` — never dropped silently.

import { isAbsolute, join } from 'node:path';
import { VidraError } from '../../core/config/errors.ts';
import { fail } from './formats/errors.ts';
import type { FeatureFile } from './formats/hdf5-features.ts';

export type TargetArray = Float32Array | Int32Array;

export interface Sample {
  inputs: Record<string, Float32Array>;
  targets: Record<string, TargetArray>;
  meta: Record<string, unknown>;
}

/** A batched array: `data` row-major with `shape[0]` = batch size. */
export interface Batched<T> {
  data: T;
  shape: number[];
}

export interface Batch {
  size: number;
  inputs: Record<string, Batched<Float32Array>>;
  targets: Record<string, Batched<TargetArray>>;
  meta: Record<string, unknown>[];
}

export interface SkipReport {
  reason: string;
  count: number;
  /** Up to five distinct ids of skipped records. */
  examples: string[];
}

export interface Dataset {
  readonly name: string;
  readonly split: string;
  readonly length: number;
  /** Classes per target, e.g. { labels: 157 } or { verb: 117, noun: 521 }. */
  readonly numClasses: Record<string, number>;
  /** Training-split positives per class, per target (what long-tail losses need). */
  readonly classCounts?: Record<string, number[]>;
  /** Animal Kingdom: each class's head/middle/tail segment, from the data. */
  readonly segments?: Array<'head' | 'middle' | 'tail'>;
  /** User streams: users in stream order, each with its contiguous sample range [start, end). */
  readonly users?: Array<{ id: string; start: number; end: number }>;
  readonly skipped: SkipReport[];
  get(i: number): Sample;
  getBatch(indices: readonly number[]): Batch;
  /** Releases open files. */
  close(): void;
}

/** What a dataset plugin instance offers: its splits, and a loader per split. */
export interface DatasetSource {
  readonly splits: readonly string[];
  /** Loads `split` (default: the config's `split`). */
  load(split?: string): Promise<Dataset>;
}

/** Collects skipped records by reason. */
export class SkipLog {
  private readonly reports = new Map<string, SkipReport>();

  add(reason: string, example: string): void {
    let r = this.reports.get(reason);
    if (!r) this.reports.set(reason, (r = { reason, count: 0, examples: [] }));
    r.count++;
    if (r.examples.length < 5 && !r.examples.includes(example)) r.examples.push(example);
  }

  list(): SkipReport[] {
    return [...this.reports.values()].map((r) => ({ ...r, examples: [...r.examples] }));
  }
}

/**
 * A sample whose features are not in the HDF5 file. An error naming the file and the dataset key, unless
 * the dataset's config says `skip_missing: true`: then it is skipped and reported under `reason`.
 */
export function missingFeatures(skipMissing: boolean, skips: SkipLog, file: FeatureFile, key: string, sample: string, reason: string): void {
  if (skipMissing) return skips.add(reason, key);
  fail(
    file.path,
    undefined,
    `has no dataset '${file.datasetPath(key)}' for ${sample}; set skip_missing: true in the dataset's config ` +
      '(e.g. data.skip_missing=true) to skip samples without features',
  );
}

/** One line per reason: "skipped 3 clips: no features in f.h5 (e.g. a, b, c)". */
export function formatSkips(skipped: readonly SkipReport[], what = 'records'): string[] {
  return skipped.map((s) => `skipped ${s.count} ${what}: ${s.reason} (e.g. ${s.examples.join(', ')})`);
}

/** Checks batch indices against the dataset length. */
export function checkIndices(name: string, length: number, indices: readonly number[]): void {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= length) throw new VidraError(`${name}: sample index ${i} is out of range (the dataset has ${length} samples)`);
  }
}

/** Row `b` of a batch as a Sample (copies). */
export function unbatch(batch: Batch, b: number): Sample {
  const row = <T extends Float32Array | Int32Array>(x: Batched<T>): T => {
    const per = x.shape.slice(1).reduce((p, q) => p * q, 1);
    return x.data.slice(b * per, (b + 1) * per) as T;
  };
  return {
    inputs: Object.fromEntries(Object.entries(batch.inputs).map(([k, v]) => [k, row(v)])),
    targets: Object.fromEntries(Object.entries(batch.targets).map(([k, v]) => [k, row(v)])),
    meta: batch.meta[b]!,
  };
}

/** Multi-hot [indices.length, numClasses] from per-sample label lists. */
export function multiHot(labels: ReadonlyArray<readonly number[]>, numClasses: number): Float32Array {
  const out = new Float32Array(labels.length * numClasses);
  labels.forEach((ls, b) => {
    for (const l of ls) out[b * numClasses + l] = 1;
  });
  return out;
}

/** Positives per class over label lists. */
export function countClasses(labels: Iterable<readonly number[]>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const ls of labels) for (const l of ls) counts[l]!++;
  return counts;
}

/** Resolves a data path: absolute as is, else relative to `root`. */
export function resolveIn(root: string, path: string): string {
  return isAbsolute(path) ? path : join(root, path);
}

/**
 * Config keys every dataset plugin accepts for the loading side, as a Lightning DataModule holds them:
 * the task reads them (`task.batch_size: ${data.batch_size}`), the dataset itself does not.
 */
export const LOADER_PROPERTIES = {
  batch_size: { type: 'integer', minimum: 1, default: 32, description: 'training batch size (task.batch_size reads it)' },
  // What the data gives, declared so that the heads and the schedule can interpolate it at compose time and
  // the task's fit check can compare it with the model and loss before a run starts (null: not declared).
  feature_dim: { type: ['integer', 'null'], minimum: 1, default: null, description: 'width of the feature vectors (heads read it: in_dim: ${data.feature_dim})' },
  num_classes: { type: ['integer', 'null'], minimum: 1, default: null, description: 'classes of the label target (heads read it: out_dim: ${data.num_classes})' },
  train_size: { type: ['integer', 'null'], minimum: 1, default: null, description: 'samples in the training split (task.total_steps derives from it; null: counted when loaded)' },
  multi_label: { type: ['boolean', 'null'], default: null, description: 'true: multi-hot labels (bce, focal, eql, ldam); false: one class index per sample (ce)' },
} as const;

/**
 * The backbone a features file was extracted with ({name, dim}), declared by configs that pair features with a
 * backbone config (charades_finetune): the fit check then takes `model.backbone` as naming the features, not as
 * a backbone to run. The loader itself reads the file as it is.
 */
export const FEATURES_OF_PROPERTY = {
  backbone: {
    type: ['object', 'null'],
    properties: { name: { type: 'string' }, dim: { type: 'integer', minimum: 1 } },
    required: ['name', 'dim'],
    additionalProperties: false,
    default: null,
    description: 'the backbone whose features the file holds ({name, dim}; null: not declared)',
  },
} as const;

/** The config key of every dataset plugin that reads HDF5 features (see `missingFeatures`). */
export const SKIP_MISSING_PROPERTY = {
  skip_missing: {
    type: 'boolean',
    default: false,
    description: 'skip samples whose features are missing from the HDF5 file (reported as skipped); false: an error naming the key',
  },
} as const;
