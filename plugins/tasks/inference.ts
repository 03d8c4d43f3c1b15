// `inference` (Ego4D's inference.py): classify videos — or single images, as a clip of that one frame — with a
// classifier backbone at model.backbone (e.g. r2plus1d_18 with output=logits). As Ego4D does, a video (or frame
// folder) is cut into the windows task=extract_features would cut (the backbone's frames, `stride` apart, at
// `clip_fps`; the last one back-padded), every window is classified, and the softmax of the windows' mean
// logits gives the video's classes. The windows are decoded and preprocessed in the extraction worker thread
// (`prefetch` batches ahead, extract/extract-thread.ts) while the backbone runs. The top_k classes with
// probabilities are printed per example and written to predictions.jsonl (one line per input, in input order);
// an input that cannot be read fails alone (failed_inputs.json), the others are classified.
//
// Inputs are kept small here: `video_dir` (every video file, frame folder or image directly under it, in name
// order) and/or `inputs` (a list of paths); `num_examples` takes a seeded random subset.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import type { Config } from '../../core/config/config.ts';
import { UsageError, VidraError } from '../../core/config/errors.ts';
import { toPlain } from '../../core/config/node.ts';
import type { FeatureExtractor } from '../../core/engine/backbone.ts';
import { inject, injectable } from '../../core/plugins/di.ts';
import type { JobContext, Task } from '../../core/plugins/interfaces.ts';
import { definePlugin, type PluginRegistry } from '../../core/plugins/registry.ts';
import { CONFIG, JOB_CONTEXT, PLUGIN_CONFIG, REGISTRY } from '../../core/plugins/tokens.ts';
import { mulberry32 } from '../../core/random.ts';
import { writeFileAtomic } from '../../core/run/atomic.ts';
import { openSource } from '../../core/video/index.ts';
import { clipOf, type ClipSpec } from '../datasets/video-clips.ts';
import { BACKBONE_PATH } from './backbone-data.ts';
import { extractThread, type ExtractThread } from './extract/extract-thread.ts';
import { PREFETCH_SCHEMA } from './extract/extract_features.ts';
import { extractVideo } from './extract/video-features.ts';
import { pluginAt } from './plugin-nodes.ts';

interface InferenceOptions {
  video_dir: string | null;
  inputs: string[];
  top_k: number;
  num_examples: number | null;
  seed: number;
  labels: string | null;
  fps: number;
  clip_fps: number | null;
  stride: number | null;
  batch_size: number;
  prefetch: number;
}

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.webp', '.bmp']);
const VIDEO = new Set(['.mp4', '.mkv', '.webm', '.avi', '.mov', '.m4v', '.mpg', '.mpeg']);

/** The inputs in order: `video_dir`'s entries by name, then `inputs`. */
function listInputs(o: InferenceOptions): string[] {
  const fromDir = o.video_dir === null ? [] : readdirSync(o.video_dir).sort().map((n) => join(o.video_dir!, n)).filter((p) => statSync(p).isDirectory() || VIDEO.has(extname(p).toLowerCase()) || IMAGE.has(extname(p).toLowerCase()));
  return [...fromDir, ...o.inputs];
}

/** `n` of `items` chosen by a seeded shuffle, kept in their order. */
function subset<T>(items: readonly T[], n: number | null, seed: number): T[] {
  if (n === null || n >= items.length) return [...items];
  const u = mulberry32(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).sort((a, b) => a - b).map((i) => items[i]!);
}

/** An image as a clip: the one frame, `frames` times. */
async function imageClip(path: string, spec: ClipSpec): Promise<Float32Array> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frames = new Uint8Array(spec.frames * data.length);
  for (let t = 0; t < spec.frames; t++) frames.set(data, t * data.length);
  return clipOf({ data: frames, frames: spec.frames, height: info.height, width: info.width, indices: new Array<number>(spec.frames).fill(0) }, spec);
}

/** Each class's mean over the rows of `data` ([rows, dim]), the rows summed in order in float64. */
function meanRows(data: Float32Array, rows: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) mean[c]! += data[r * dim + c]!;
  for (let c = 0; c < dim; c++) mean[c]! /= rows;
  return mean;
}

function softmax(scores: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(scores));
  const e = Array.from(scores, (s) => Math.exp(s - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

@injectable()
export class InferenceTask implements Task {
  constructor(
    @inject(PLUGIN_CONFIG) private readonly options: InferenceOptions,
    @inject(JOB_CONTEXT) private readonly job: JobContext,
    @inject(CONFIG) private readonly config: Config,
    @inject(REGISTRY) private readonly registry: PluginRegistry,
  ) {}

  async run(): Promise<Record<string, unknown>> {
    const o = this.options;
    const node = toPlain(this.config.resolvedNode(BACKBONE_PATH)) as Record<string, unknown>;
    const spec: ClipSpec = { frames: Number(node.frames), size: Number(node.size), short_side: Number(node.short_side ?? node.size), fps: o.clip_fps };
    const labels = o.labels === null ? null : readLabels(o.labels);
    const inputs = subset(listInputs(o), o.num_examples, o.seed);
    if (inputs.length === 0) throw new VidraError(`task=inference: no inputs (task.video_dir${o.video_dir ? `=${o.video_dir} holds no video, frame folder or image` : ' is null'}, task.inputs is empty)`);
    const backbone = pluginAt<FeatureExtractor>(this.config, this.registry, 'inference', BACKBONE_PATH, 'model');
    const thread = extractThread({ prefetch: o.prefetch, notice: (line) => this.job.log.warn(line) });
    const lines: string[] = [];
    const failed: Array<{ input: string; reason: string }> = [];
    let windows = 0;
    try {
      for (const path of inputs) {
        if (this.job.signal.aborted) throw new VidraError('interrupted');
        let scores: { logits: ArrayLike<number>; windows: number };
        try {
          scores = IMAGE.has(extname(path).toLowerCase()) ? { logits: await backbone.extract(await imageClip(path, spec), 1), windows: 1 } : await this.videoScores(path, spec, backbone, thread);
        } catch (err) {
          if (this.job.signal.aborted) throw err;
          const reason = String((err as Error).message ?? err).trim();
          failed.push({ input: path, reason });
          this.job.log.warn(`${path}: failed: ${reason}`);
          continue;
        }
        const probs = softmax(scores.logits);
        const top = probs
          .map((p, c) => ({ class: c, p }))
          .sort((a, b) => b.p - a.p || a.class - b.class)
          .slice(0, o.top_k)
          .map(({ class: c, p }) => ({ class: c, ...(labels ? { label: labels[c]! } : {}), prob: p }));
        lines.push(JSON.stringify({ input: path, windows: scores.windows, top_k: top }));
        windows += scores.windows;
        this.job.log.info(`${path}: ${top.map((t) => `${t.label ?? t.class} (${t.prob.toFixed(3)})`).join(', ')}`);
      }
    } finally {
      await thread.close();
      await backbone.dispose();
    }
    writeFileAtomic(join(this.job.outputDir, 'predictions.jsonl'), lines.length ? `${lines.join('\n')}\n` : '');
    writeFileAtomic(join(this.job.outputDir, 'failed_inputs.json'), `${JSON.stringify(failed, null, 2)}\n`);
    if (failed.length) {
      throw new Error(`${failed.length} of ${inputs.length} inputs failed (${failed.length < inputs.length ? 'the others are in predictions.jsonl; ' : ''}reasons in failed_inputs.json):\n${failed.map((f) => `  ${f.input}: ${f.reason}`).join('\n')}`);
    }
    return { examples: inputs.length, windows };
  }

  /** The mean logits of the video's windows (extract_features' windows of the backbone's frames). */
  private async videoScores(path: string, spec: ClipSpec, backbone: FeatureExtractor, thread: ExtractThread): Promise<{ logits: Float64Array; windows: number }> {
    const o = this.options;
    const source = await openSource(path, { fps: o.fps });
    const window = { frames: spec.frames, stride: o.stride ?? spec.frames, fps: o.clip_fps };
    const f = await extractVideo(source, backbone, { size: spec.size, short_side: spec.short_side }, window, o.batch_size, { signal: this.job.signal, thread });
    return { logits: meanRows(f.data, f.rows, f.dim), windows: f.rows };
  }
}

const readLabels = (file: string) => readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/** Before any run directory: a classifier backbone is configured, and the inputs named exist. */
function checkInference({ config, params }: { config: Config; params: Record<string, unknown> }): void {
  if (!config.has(`${BACKBONE_PATH}._target_`)) {
    throw new UsageError(`task=inference classifies with the backbone at ${BACKBONE_PATH}, and none is configured: add one, e.g. +model=r2plus1d model.backbone.output=logits model.backbone.output_dim=400`);
  }
  const o = params as unknown as InferenceOptions;
  if (o.video_dir !== null && !(existsSync(o.video_dir) && statSync(o.video_dir).isDirectory())) {
    throw new UsageError(`task.video_dir: ${o.video_dir} is not a directory (${resolve(o.video_dir)})`);
  }
  const classes = config.select(`${BACKBONE_PATH}.output_dim`, { default: null });
  if (o.labels !== null && existsSync(o.labels) && typeof classes === 'number') {
    const n = readLabels(o.labels).length;
    if (n !== classes) throw new UsageError(`task.labels: ${o.labels} names ${n} classes, but the backbone scores ${classes} (${BACKBONE_PATH}.output_dim); give one class name a line for each`);
  }
  o.inputs.forEach((p, i) => {
    if (!existsSync(p)) throw new UsageError(`task.inputs[${i}]: ${p} does not exist (${resolve(p)})`);
  });
}

export const plugin = definePlugin({
  kind: 'task',
  name: 'inference',
  description: 'classify videos (the mean logits of their windows), frame folders or images with the classifier backbone at model.backbone; top-k per example, predictions.jsonl',
  schema: {
    type: 'object',
    properties: {
      video_dir: { type: ['string', 'null'], default: null, description: 'classify every video file, frame folder and image directly under it (name order)' },
      inputs: { type: 'array', items: { type: 'string' }, default: [], description: 'video files, frame folders or images to classify (after video_dir’s)' },
      top_k: { type: 'integer', minimum: 1, default: 5, description: 'classes printed and written per example' },
      num_examples: { type: ['integer', 'null'], minimum: 1, default: null, description: 'a seeded random subset of the inputs of this size (null: all)' },
      seed: { type: 'integer', minimum: 0, default: 0, description: 'the seed of num_examples’ subset' },
      labels: { type: ['string', 'null'], default: null, description: 'a file of class names, one per line (null: class indices)' },
      fps: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'frame rate of frame folders' },
      clip_fps: { type: ['number', 'null'], exclusiveMinimum: 0, default: null, description: "the windows' frame rate (null: the video's own)" },
      stride: { type: ['integer', 'null'], minimum: 1, default: null, description: 'frames between window starts (null: the backbone’s frames, windows side by side)' },
      batch_size: { type: 'integer', minimum: 1, default: 8, description: 'windows per backbone call' },
      prefetch: PREFETCH_SCHEMA,
    },
    additionalProperties: false,
  },
  inputs: (params) => (typeof params.labels === 'string' ? [{ key: 'labels', path: params.labels }] : []),
  check: checkInference,
  create: InferenceTask,
});
