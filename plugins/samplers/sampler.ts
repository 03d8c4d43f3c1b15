// What samplers are, for the tasks that use them. Two families share the `sampler` plugin kind:
//
// * index samplers decide which dataset items go into which batch, epoch by epoch (torch's Sampler + BatchSampler);
//   the plugin built from config is bound to a dataset description (`bind(data)`) and then yields batches;
// * clip samplers decide which time windows of a video are read (pytorchvideo's ClipSampler); they need no dataset.
//
// Randomness comes only from `core/random.ts` seeded by (seed, epoch[, video]): any epoch of any sampler can be
// replayed alone, in any order, in any worker, and gives the same indices or windows.

import { mulberry32 } from '../../core/random.ts';
import { Fraction, type Rational } from './fraction.ts';

export { Fraction, type Rational } from './fraction.ts';

/** A label as samplers read it: a class index (single-label) or the list of positive class indices (multi-label). */
export type Label = number | readonly number[];

/** The chronological key of an item in a user stream (ml-spec §4, EgoAdapt's stream order). */
export interface StreamKey {
  origin_video_id: string;
  clip_parent_start_sec: number;
  action_idx: number;
  /** Start of the item inside its action (an action is cut into consecutive clips); orders clips of one action. */
  clip_start_sec?: number;
}

/** What a task tells an index sampler about its dataset. Each sampler says which fields it needs. */
export interface SamplerData {
  /** Number of items; indices are 0 .. size − 1. */
  size: number;
  /** Per-item labels (class_balanced). */
  labels?: readonly Label[];
  /** Per-item user ids (user_stream); null/undefined = unknown user. */
  users?: readonly (string | number | null | undefined)[];
  /** Per-item chronological keys (user_stream). */
  streamKeys?: readonly StreamKey[];
}

/** Yields the batches of dataset indices of an epoch. `batches(e)` is a pure function of (config, data, e). */
export interface IndexSampler {
  readonly batch_size: number;
  readonly drop_last: boolean;
  /** Indices drawn per epoch (before batching). */
  readonly numSamples: number;
  /** Batches per epoch. */
  readonly numBatches: number;
  batches(epoch: number): Iterable<number[]>;
}

/** An index-sampler plugin (what `_target_: random` builds): binds its config to a dataset. */
export interface IndexSamplerPlugin {
  readonly type: 'index';
  bind(data: SamplerData): IndexSampler;
}

/** One clip window of a video, in seconds; `start`/`end` are the exact times rounded once to doubles. */
export interface ClipWindow {
  start: number;
  end: number;
  /** Index of the clip in the video (pytorchvideo `clip_index`). */
  clipIndex: number;
  /** Index of the augmentation (view) of that clip (pytorchvideo `aug_index`). */
  augIndex: number;
  /** No window follows in this video (pytorchvideo `is_last_clip`). */
  isLast: boolean;
  /** The exact times. */
  exact: { start: Fraction; end: Fraction };
}

/** Per-call inputs of a clip sampler. */
export interface ClipContext {
  /** Epoch, for seeded random samplers (default 0). */
  epoch?: number;
  /** Dataset index of the video, for seeded random samplers (default 0). */
  index?: number;
  /** The anchor time T of `recent_past` (e.g. the start of the action to anticipate); default: the video end. */
  anchor?: Rational;
}

/** A clip sampler (and a clip-sampler plugin): every window of one video, in order, the last one `isLast`. */
export interface ClipSampler {
  readonly type: 'clip';
  clips(duration: Rational, context?: ClipContext): ClipWindow[];
}

/** Options every index sampler shares (config keys). */
export interface BatchOptions {
  batch_size: number;
  drop_last: boolean;
}

export const BATCH_DEFAULTS: BatchOptions = { batch_size: 1, drop_last: false };

/** JSON Schema properties shared by index samplers. */
export const BATCH_SCHEMA = {
  batch_size: { type: 'integer', minimum: 1, default: 1, description: 'indices per batch (torch DataLoader batch_size)' },
  drop_last: { type: 'boolean', default: false, description: 'drop the last incomplete batch of an epoch' },
} as const;

/** JSON Schema of a time in seconds: a number, or an exact ratio / decimal string ("32/15", "2.5"). */
export const RATIONAL_SCHEMA = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: '^\\s*(\\d+\\s*/\\s*\\d+|\\d*\\.?\\d+([eE][+-]?\\d+)?)\\s*$' },
  ],
} as const;

/** Cuts an index sequence into batches (torch BatchSampler). */
export function* chunk(indices: Iterable<number>, batchSize: number, dropLast: boolean): Generator<number[]> {
  let batch: number[] = [];
  for (const i of indices) {
    batch.push(i);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0 && !dropLast) yield batch;
}

/** Number of batches of `n` indices. */
export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from a base seed and keys (epoch, video index…): murmur3's finaliser over the words. */
export function seedFor(seed: number, ...keys: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const k of keys) h = fmix32((h ^ fmix32((k >>> 0) + 0x7f4a7c15)) >>> 0);
  return h;
}

/** The uniform stream for (seed, keys). */
export function rngFor(seed: number, ...keys: number[]): () => number {
  return mulberry32(seedFor(seed, ...keys));
}

/** Uniform integer in [0, n). */
export function randomInt(rng: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** In-place Fisher–Yates shuffle. */
export function shuffle<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** A permutation of 0 .. n − 1 (torch.randperm). */
export function permutation(n: number, rng: () => number): number[] {
  return shuffle(
    Array.from({ length: n }, (_, i) => i),
    rng,
  );
}

/** Builds a ClipWindow from exact times. */
export function window(start: Fraction, end: Fraction, clipIndex: number, augIndex: number, isLast: boolean): ClipWindow {
  return { start: start.toNumber(), end: end.toNumber(), clipIndex, augIndex, isLast, exact: { start, end } };
}

/** A video duration or time argument, checked. */
export function seconds(what: string, x: Rational): Fraction {
  const f = Fraction.from(x);
  if (f.lt(0)) throw new RangeError(`${what} must be >= 0 seconds (got ${f.toNumber()})`);
  return f;
}

export function checkSize(name: string, data: SamplerData): number {
  const n = data.size;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`the ${name} sampler needs data.size, a non-negative integer (got ${n})`);
  return n;
}
