// Clip → frozen backbone → features: what train and evaluate read when the dataset gives video clips and
// model.backbone is set. The backbone is frozen (a probe), so each video's features are computed once per
// split, batch by batch, the next batches decoding and preprocessing in a worker thread while the backbone runs.
// With model.backbone.cache=true they are kept in an HDF5 file under .cache/backbone-features/, named by a
// hash of the backbone (its config and weights/ONNX file bytes), the clip sampling and the videos (path,
// size, mtime, label), so later epochs, runs and sweeps over heads reuse them.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config/config.ts';
import { VidraError } from '../../core/config/errors.ts';
import { toPlain } from '../../core/config/node.ts';
import type { FeatureExtractor } from '../../core/engine/backbone.ts';
import type { PluginRegistry } from '../../core/plugins/registry.ts';
import type { Batch, Dataset } from '../datasets/dataset.ts';
import { checkIndices, countClasses } from '../datasets/dataset.ts';
import { FeatureFile, writeFeatureFile } from '../datasets/formats/hdf5-features.ts';
import { batchReader } from '../datasets/prefetch.ts';
import { isClipDataset, type ClipDataset, type ClipSpec } from '../datasets/video-clips.ts';
import { pluginAt } from './plugin-nodes.ts';

export const BACKBONE_PATH = 'model.backbone';
/** Clips per backbone call, and batches decoded ahead. */
const CLIP_BATCH = 4;
const PREFETCH = 2;

export interface BackboneDataOptions {
  config: Config;
  registry: PluginRegistry;
  task: string;
  /** The dataset node (task.nodes.data), for messages and clip_fps. */
  dataPath: string;
  info(line: string): void;
  signal?: AbortSignal;
}

/**
 * The splits of `source` as features: a features dataset as it is; a clip dataset through model.backbone,
 * built once for all the splits. Returns whether a backbone made them (then they are in memory).
 */
export async function loadFeatures(source: { load(split?: string): Promise<unknown> }, splits: readonly string[], o: BackboneDataOptions): Promise<{ datasets: Dataset[]; fromClips: boolean }> {
  let backbone: FeatureExtractor | undefined;
  const datasets: Dataset[] = [];
  try {
    for (const split of splits) {
      const data = await source.load(split);
      datasets.push(isClipDataset(data) ? await clipFeatures(data, () => (backbone ??= pluginAt<FeatureExtractor>(o.config, o.registry, o.task, BACKBONE_PATH, 'model')), o) : (data as Dataset));
    }
  } finally {
    await backbone?.dispose();
  }
  return { datasets, fromClips: datasets.some((d) => d instanceof ClipFeatures) };
}

async function clipFeatures(data: ClipDataset, backboneOf: () => FeatureExtractor, o: BackboneDataOptions): Promise<Dataset> {
  const declared = o.config.select(`${o.dataPath}.num_classes`, { default: null });
  if (typeof declared === 'number' && declared !== data.classNames.length) {
    throw new VidraError(`${o.dataPath}.num_classes=${declared}, but the '${data.split}' split of ${data.name} has ${data.classNames.length} classes (classes.txt); set ${o.dataPath}.num_classes=${data.classNames.length}`);
  }
  const backboneNode = toPlain(o.config.resolvedNode(BACKBONE_PATH)) as Record<string, unknown>;
  const spec: ClipSpec = {
    frames: Number(backboneNode.frames),
    size: Number(backboneNode.size),
    short_side: Number(backboneNode.short_side ?? backboneNode.size),
    fps: (o.config.select(`${o.dataPath}.clip_fps`, { default: null }) as number | null) ?? null,
  };
  const dim = Number(backboneNode.output_dim);
  const file = backboneNode.cache === true ? cacheFile(backboneNode, spec, data) : null;
  if (file && existsSync(file)) {
    const f = await FeatureFile.open(file);
    try {
      o.info(`${BACKBONE_PATH}.cache: ${data.length} '${data.split}' features from ${file}`);
      return new ClipFeatures(data, f.readAll('features'), dim);
    } finally {
      f.close();
    }
  }
  const t0 = performance.now();
  const features = await extractAll(data, backboneOf(), spec, o);
  o.info(`${BACKBONE_PATH}: ${data.length} '${data.split}' clips (${spec.frames}×${spec.size}×${spec.size}) → ${dim}-d features in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (file) {
    mkdirSync(join(file, '..'), { recursive: true });
    await writeFeatureFile(file, [{ key: 'features', data: features, rows: data.length, dim }], { gzip: null });
    o.info(`${BACKBONE_PATH}.cache: wrote ${file}`);
  }
  return new ClipFeatures(data, features, dim);
}

/**
 * Every clip's features, in order. The clips are decoded and preprocessed in the prefetch worker thread
 * (plugins/datasets/prefetch.ts), `PREFETCH` batches ahead, while the backbone runs on the one before.
 */
async function extractAll(data: ClipDataset, backbone: FeatureExtractor, spec: ClipSpec, o: BackboneDataOptions): Promise<Float32Array> {
  const out = new Float32Array(data.length * backbone.outputDim);
  const batches: number[][] = [];
  for (let s = 0; s < data.length; s += CLIP_BATCH) batches.push(Array.from({ length: Math.min(CLIP_BATCH, data.length - s) }, (_, k) => s + k));
  const reader = batchReader(data.batches(spec), { depth: PREFETCH, config: o.config, path: o.dataPath, split: data.split, registry: o.registry, signal: o.signal, clips: spec, notice: o.info });
  try {
    const stream = reader.read(batches);
    for (const idx of batches) {
      if (o.signal?.aborted) throw new VidraError('interrupted');
      const batch = await stream.next();
      out.set(await backbone.extract(batch.inputs.clips!.data, idx.length), idx[0]! * backbone.outputDim);
    }
  } finally {
    await reader.close();
  }
  return out;
}

/** The cache file: a hash of what the features depend on. */
function cacheFile(backbone: Record<string, unknown>, spec: ClipSpec, data: ClipDataset): string {
  const h = createHash('sha256');
  const { device: _d, threads: _t, cache: _c, ...identity } = backbone;
  h.update(JSON.stringify({ identity, spec }));
  for (const key of ['path', 'weights']) {
    const p = backbone[key];
    if (typeof p === 'string' && existsSync(p)) h.update(readFileSync(p));
  }
  for (const it of data.items) {
    const st = statSync(it.path, { throwIfNoEntry: false });
    h.update(`${it.path}\0${st?.size ?? -1}\0${st?.mtimeMs ?? -1}\0${it.label}\n`);
  }
  const root = process.env.VIDRA_CACHE ?? '.cache';
  return join(root, 'backbone-features', `${String(backbone.name ?? backbone._target_)}-${data.split}-${h.digest('hex').slice(0, 16)}.h5`);
}

/** A clip dataset's split as features: input `features` [B, dim], target `labels` (class indices). */
class ClipFeatures implements Dataset {
  readonly name: string;
  readonly split: string;
  readonly numClasses: Record<string, number>;
  readonly classCounts: Record<string, number[]>;
  readonly skipped = [];
  constructor(
    private readonly clips: ClipDataset,
    private readonly features: Float32Array,
    private readonly dim: number,
  ) {
    this.name = clips.name;
    this.split = clips.split;
    this.numClasses = clips.numClasses;
    this.classCounts = { labels: countClasses(clips.items.map((it) => [it.label]), clips.classNames.length) };
  }

  get length(): number {
    return this.clips.length;
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices(this.name, this.length, indices);
    const B = indices.length;
    const data = new Float32Array(B * this.dim);
    indices.forEach((i, b) => data.set(this.features.subarray(i * this.dim, (i + 1) * this.dim), b * this.dim));
    return {
      size: B,
      inputs: { features: { data, shape: [B, this.dim] } },
      targets: { labels: { data: Int32Array.from(indices, (i) => this.clips.items[i]!.label), shape: [B] } },
      meta: indices.map((i) => ({ path: this.clips.items[i]!.path })),
    };
  }

  get(i: number) {
    const b = this.getBatch([i]);
    return { inputs: { features: b.inputs.features!.data }, targets: { labels: b.targets.labels!.data }, meta: b.meta[0]! };
  }

  close(): void {}
}
