// Clip datasets: samples are videos (files or frame folders, read through core/video), one label each. Their
// samples are not features: a task turns them into features through the frozen backbone at model.backbone
// (plugins/tasks/backbone-data.ts). Decoding is asynchronous (ffmpeg processes), so reading is `getClips`.
//
// `video_clips` reads a folder: `<split>.csv` (`path,label` with a header; path relative to the folder, a video
// file or a folder of frame images), `classes.txt` (one class name a line; labels are these names).
// `moving_shapes` generates the bundled moving-shapes videos (moving-shapes.ts) and reads them the same way.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { centerView, clipIndices, clipTensor, openSource, resizedSize, type FrameBatch } from '../../core/video/index.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import { definePlugin } from '../../core/plugins/registry.ts';
import { PLUGIN_CONFIG } from '../../core/plugins/tokens.ts';
import { LOADER_PROPERTIES, resolveIn, type Batch } from './dataset.ts';
import { parseCsv } from './formats/csv.ts';
import { fail } from './formats/errors.ts';
import { ensureMovingShapes, MOVING_SHAPES_DEFAULTS } from './moving-shapes.ts';

/** How a clip is cut from a video: the backbone's frames and crop, at `fps` (null: the native rate). */
export interface ClipSpec {
  frames: number;
  size: number;
  short_side: number;
  fps: number | null;
}

export interface ClipItem {
  path: string;
  label: number;
}

/** A split of a clip dataset: one centre clip per video (deterministic: the same clip every epoch). */
export class ClipDataset {
  readonly clips = true as const;
  readonly numClasses: Record<string, number>;
  constructor(
    readonly name: string,
    readonly split: string,
    readonly items: readonly ClipItem[],
    readonly classNames: readonly string[],
    /** The rate of frame folders (video files have their own). */
    readonly folderFps: number,
  ) {
    this.numClasses = { labels: classNames.length };
  }

  get length(): number {
    return this.items.length;
  }

  /** Its batches of clips cut by `spec` (clipBatches). */
  batches(spec: ClipSpec) {
    return clipBatches(this, spec);
  }

  /** [N, frames, size, size, 3] in [0, 255]: the centre clip of each video, resized and centre-cropped. */
  async getClips(indices: readonly number[], spec: ClipSpec): Promise<Float32Array> {
    const per = spec.frames * spec.size * spec.size * 3;
    const out = new Float32Array(indices.length * per);
    for (const [b, i] of indices.entries()) out.set(await centreClip(this.items[i]!.path, spec, this.folderFps), b * per);
    return out;
  }
}

/** A clip split's batches: input `clips` [B, frames, size, size, 3], target `labels` (what the prefetch worker reads). */
export function clipBatches(data: ClipDataset, spec: ClipSpec): { length: number; getBatch(indices: readonly number[]): Promise<Batch> } {
  return {
    length: data.length,
    getBatch: async (indices) => ({
      size: indices.length,
      inputs: { clips: { data: await data.getClips(indices, spec), shape: [indices.length, spec.frames, spec.size, spec.size, 3] } },
      targets: { labels: { data: Int32Array.from(indices, (i) => data.items[i]!.label), shape: [indices.length] } },
      meta: indices.map((i) => ({ path: data.items[i]!.path })),
    }),
  };
}

/** The centre clip of a video file or frame folder: [frames, size, size, 3] in [0, 255]. */
export async function centreClip(path: string, spec: ClipSpec, folderFps: number): Promise<Float32Array> {
  const source = await openSource(path, { fps: folderFps });
  const fps = spec.fps ?? source.fps;
  const start = Math.max(0, (source.duration - spec.frames / fps) / 2);
  return clipOf(await source.getBatch(clipIndices(source.timestamps, { start, frames: spec.frames, fps: spec.fps })), spec);
}

/** A batch of frames resized to the short side and centre-cropped. */
export function clipOf(batch: FrameBatch, spec: ClipSpec): Float32Array {
  const { width, height } = resizedSize(batch.width, batch.height, spec.short_side);
  return clipTensor(batch, { size: spec.size, short_side: spec.short_side }, centerView(width, height, spec.size));
}

export const isClipDataset = (d: unknown): d is ClipDataset => d instanceof ClipDataset;

export interface VideoClipsOptions {
  root: string;
  split: string;
  fps: number;
}

/** Reads `<root>/<split>.csv` and `<root>/classes.txt`. */
export function readClipFolder(root: string, split: string, fps: number, name: string): ClipDataset {
  const classesFile = join(root, 'classes.txt');
  const csvFile = join(root, `${split}.csv`);
  for (const f of [classesFile, csvFile]) if (!existsSync(f)) fail(f, undefined, `does not exist (a video_clips folder holds classes.txt and <split>.csv with path,label)`);
  const classNames = readFileSync(classesFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const index = new Map(classNames.map((c, i) => [c, i]));
  const rows = parseCsv(readFileSync(csvFile, 'utf8'), csvFile);
  const [header, ...body] = rows;
  if (!header || header.fields[0] !== 'path' || header.fields[1] !== 'label') fail(csvFile, 1, "the header must be 'path,label'");
  const items = body.map((r) => {
    const [path, label] = r.fields;
    if (!path) fail(csvFile, r.line, 'the path is empty');
    const l = index.get(label ?? '');
    if (l === undefined) fail(csvFile, r.line, `label '${label ?? ''}' is not in ${classesFile} (${classNames.slice(0, 8).join(', ')}${classNames.length > 8 ? ', …' : ''})`);
    return { path: resolveIn(root, path), label: l };
  });
  return new ClipDataset(name, split, items, classNames, fps);
}

const CLIP_PROPERTIES = {
  split: { type: 'string', default: 'train' },
  fps: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'frame rate of frame folders (video files have their own)' },
  clip_fps: { type: ['number', 'null'], exclusiveMinimum: 0, default: null, description: "the clips' frame rate (null: each video's native rate)" },
  ...LOADER_PROPERTIES,
} as const;

@injectable()
export class VideoClips {
  readonly splits: readonly string[] = ['train', 'val', 'test'];
  constructor(@inject(PLUGIN_CONFIG) private readonly options: VideoClipsOptions) {}

  async load(split = this.options.split): Promise<ClipDataset> {
    return readClipFolder(this.options.root, split, this.options.fps, 'video_clips');
  }
}

export const plugin = definePlugin({
  kind: 'dataset',
  name: 'video_clips',
  description: 'video files or frame folders listed in <root>/<split>.csv (path,label) with classes.txt; features come from model.backbone',
  clips: true,
  inputs: (p) => [{ key: 'root', path: String(p.root), hint: 'data.root is the folder of classes.txt and <split>.csv (path,label)' }],
  schema: {
    type: 'object',
    properties: { root: { type: 'string', minLength: 1, description: 'the folder of classes.txt and <split>.csv' }, ...CLIP_PROPERTIES },
    required: ['root'],
    additionalProperties: false,
  },
  create: VideoClips,
});

interface MovingShapesConfig {
  root: string;
  seed: number;
  split: string;
  clips_per_class: { train: number; val: number };
  size: number;
  frames: number;
}

@injectable()
export class MovingShapes {
  readonly splits: readonly string[] = ['train', 'val'];
  constructor(@inject(PLUGIN_CONFIG) private readonly options: MovingShapesConfig) {}

  async load(split = this.options.split): Promise<ClipDataset> {
    const o = this.options;
    const dir = await ensureMovingShapes(o.root, o.seed, { ...MOVING_SHAPES_DEFAULTS, perClass: o.clips_per_class, size: o.size, frames: o.frames });
    return readClipFolder(dir, split, MOVING_SHAPES_DEFAULTS.fps, 'moving_shapes');
  }
}

export const movingShapesPlugin = definePlugin({
  kind: 'dataset',
  name: 'moving_shapes',
  description: 'generated videos of a moving coloured shape (class = shape × direction, 8 classes), made with ffmpeg on demand',
  clips: true,
  schema: {
    type: 'object',
    properties: {
      root: { type: 'string', minLength: 1, description: 'where the videos are generated (a versioned subfolder)' },
      seed: { type: 'integer', minimum: 0, default: 0 },
      clips_per_class: {
        type: 'object',
        properties: { train: { type: 'integer', minimum: 1, default: 4 }, val: { type: 'integer', minimum: 1, default: 2 } },
        additionalProperties: false,
        default: {},
      },
      size: { type: 'integer', minimum: 16, default: 64, description: 'frame side in pixels' },
      frames: { type: 'integer', minimum: 1, default: 16, description: 'frames per video (8 fps)' },
      ...CLIP_PROPERTIES,
    },
    required: ['root'],
    additionalProperties: false,
  },
  create: MovingShapes,
});
