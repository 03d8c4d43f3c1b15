// What every video backbone gives the rest of Vidra: a frozen feature extractor with a declared input
// spec, and the preprocessing that turns decoded frames into what the network was trained on. The
// preprocessing is an ONNX graph (written here, run by the same execution provider as the network), so
// CPU and CUDA compute the very same thing.

import { ShapeError, type Graph, type Value } from './graph.ts';
import { EngineError } from './session.ts';

/** Memory layout of the network's input: channels before time (torchvision, PyTorchVideo) or after it. */
export type ClipLayout = 'NCTHW' | 'NTCHW';

export interface InputSpec {
  /** Frames per clip (for SlowFast, the fast pathway's). */
  frames: number;
  /** Height and width of the (square, already cropped) frames. */
  size: number;
  channels: number;
  layout: ClipLayout;
  /** Per-channel mean and std of frames scaled to [0, 1] (RGB). */
  mean: readonly number[];
  std: readonly number[];
  /** The value of a white pixel in the clips given to `extract`: 255 (decoded uint8 video) or 1. */
  inputRange: number;
}

/** A frozen video backbone: clips in, one feature vector (or logits row) per clip out. */
export interface FeatureExtractor {
  readonly inputSpec: InputSpec;
  /** Length of each output row. */
  readonly outputDim: number;
  /** The execution provider in use; undefined until the first `load()`/`extract()`. */
  readonly provider: 'cuda' | 'cpu' | undefined;
  /** Builds or loads the network and its session (the first `extract` does it when not called). */
  load(): Promise<void>;
  /**
   * `clips`: `batch` clips of RGB frames in N, T, H, W, C order (what a video decoder gives), values in
   * [0, inputRange]. Returns [batch, outputDim] row-major.
   */
  extract(clips: Float32Array, batch: number): Promise<Float32Array>;
  /** Frees the ONNX Runtime sessions. */
  dispose(): Promise<void>;
}

/** A user-fixable backbone problem: its message starts with the config key to change. */
export class BackboneError extends EngineError {}

/** Where backbones sit in the composed config (`conf/model/backbone/*.yaml`); errors name keys under it. */
export const BACKBONE_KEY = 'model.backbone';

/** JSON Schema properties of the input spec, shared by every backbone plugin. */
export function inputSpecSchema(defaults: { frames?: number; size?: number; mean?: number[]; std?: number[]; layouts?: ClipLayout[] } = {}) {
  const triple = (d: number[] | undefined, description: string, min?: number) => ({
    type: 'array',
    items: min === undefined ? { type: 'number' } : { type: 'number', exclusiveMinimum: min },
    minItems: 1,
    ...(d ? { default: d } : {}),
    description,
  });
  return {
    frames: { type: 'integer', minimum: 1, ...(defaults.frames ? { default: defaults.frames } : {}), description: 'frames per clip' },
    size: { type: 'integer', minimum: 1, ...(defaults.size ? { default: defaults.size } : {}), description: 'frame height and width after the center crop' },
    short_side: { type: 'integer', minimum: 1, description: 'resize the short side to this before cropping `size` (read by the data pipeline)' },
    layout: { enum: defaults.layouts ?? ['NCTHW', 'NTCHW'], default: 'NCTHW', description: "the network's input layout" },
    mean: triple(defaults.mean, 'per-channel mean of [0, 1] RGB frames'),
    std: triple(defaults.std, 'per-channel std of [0, 1] RGB frames', 0),
    input_range: { enum: [1, 255], default: 255, description: 'the value of a white pixel in the clips given to the backbone (255: decoded uint8 video)' },
    device: { enum: ['auto', 'cuda', 'cpu'], default: 'auto', description: 'execution provider (wire it to ${engine.device})' },
    threads: { type: 'integer', minimum: 1, default: 2, description: 'ONNX Runtime intra-op threads' },
    name: { type: 'string', description: 'a label for the backbone' },
    cache: { type: 'boolean', default: false, description: 'train/evaluate on clips: keep the features in HDF5 under .cache/backbone-features/ (keyed by backbone hash + sampling)' },
  } as const;
}

/** The input spec from a validated plugin config. */
export function inputSpecFrom(cfg: { frames: number; size: number; layout: ClipLayout; mean: number[]; std: number[]; input_range: number }): InputSpec {
  if (cfg.mean.length !== cfg.std.length) {
    throw new BackboneError(`${BACKBONE_KEY}.mean has ${cfg.mean.length} values but ${BACKBONE_KEY}.std has ${cfg.std.length}: give one per channel`);
  }
  return { frames: cfg.frames, size: cfg.size, channels: cfg.mean.length, layout: cfg.layout, mean: [...cfg.mean], std: [...cfg.std], inputRange: cfg.input_range };
}

/** Clip shape as given to `extract`: [N, T, H, W, C]. */
export function clipShape(spec: InputSpec, batch: number): number[] {
  return [batch, spec.frames, spec.size, spec.size, spec.channels];
}

/** The network input shape for a layout. */
export function modelInputShape(spec: Pick<InputSpec, 'channels' | 'size' | 'layout'>, batch: number, frames: number): number[] {
  return spec.layout === 'NCTHW' ? [batch, spec.channels, frames, spec.size, spec.size] : [batch, frames, spec.channels, spec.size, spec.size];
}

/** Checks that `clips` holds `batch` clips of the spec's shape, naming the keys that set it. */
export function checkClips(clips: Float32Array, batch: number, spec: InputSpec): void {
  if (!Number.isInteger(batch) || batch < 1) throw new BackboneError(`extract: batch must be a positive integer, got ${batch}`);
  const shape = clipShape(spec, batch);
  const want = shape.reduce((a, b) => a * b, 1);
  if (clips.length !== want) {
    throw new BackboneError(
      `extract: got ${clips.length} values for ${batch} clip(s); the backbone expects [N, T, H, W, C] = [${shape.join(', ')}] = ${want} values ` +
        `(set by ${BACKBONE_KEY}.frames=${spec.frames}, ${BACKBONE_KEY}.size=${spec.size} and ${spec.channels} channels in ${BACKBONE_KEY}.mean)`,
    );
  }
}

/**
 * Writes the preprocessing: clips [N, T, H, W, C] in [0, inputRange] → (x / inputRange − mean) / std,
 * permuted to the network layout. The two affine steps are one Mul and one Add per element
 * (scale = 1 / (inputRange · std), shift = −mean / std), before the Transpose, where channels are last
 * and the constants broadcast.
 */
export function preprocessClips(g: Graph, clips: Value, spec: InputSpec): Value {
  const c = spec.channels;
  if (clips.rank !== 5 || clips.shape[4] !== c) throw new ShapeError(`preprocess: clips [${clips.shape.join(', ')}] must be [N, T, H, W, ${c}]`);
  const scale = g.constant(spec.std.map((s) => 1 / (spec.inputRange * s)), clips.dtype, [c]);
  const shift = g.constant(spec.mean.map((m, i) => -m / spec.std[i]!), clips.dtype, [c]);
  const normalized = g.add(g.mul(clips, scale), shift);
  return g.transpose(normalized, spec.layout === 'NCTHW' ? [0, 4, 1, 2, 3] : [0, 1, 4, 2, 3]);
}

/**
 * Frame indices of SlowFast's slow pathway: T/alpha frames evenly spaced over T, as PyTorchVideo's
 * `PackPathway` (torch.linspace(0, T − 1, T // alpha).long(): truncation, not rounding).
 */
export function slowPathwayIndices(frames: number, alpha: number): number[] {
  const n = Math.floor(frames / alpha);
  if (n < 1) throw new BackboneError(`${BACKBONE_KEY}.alpha=${alpha} leaves no frame for the slow pathway out of ${BACKBONE_KEY}.frames=${frames}`);
  if (n === 1) return [0];
  // torch's float32 linspace kernel: the first half counts up from the start, the second down from the end.
  const end = frames - 1;
  const step = Math.fround(end / (n - 1));
  return Array.from({ length: n }, (_, i) => Math.trunc(i < n / 2 ? Math.fround(step * i) : Math.fround(end - Math.fround(step * (n - 1 - i)))));
}

/** [slow, fast] pathways of a preprocessed clip batch (layout-aware Gather along time). */
export function packPathways(g: Graph, x: Value, layout: ClipLayout, alpha: number): [Value, Value] {
  const timeAxis = layout === 'NCTHW' ? 2 : 1;
  const idx = g.constant(slowPathwayIndices(x.shape[timeAxis]!, alpha), 'int64');
  return [g.gather(x, idx, timeAxis), x];
}

/** Checks a head's input width against the backbone's features, naming both keys. */
export function checkHeadInput(backbone: Pick<FeatureExtractor, 'outputDim'>, headInDim: number, headKey = 'model.head.in_dim'): void {
  if (backbone.outputDim !== headInDim) {
    throw new BackboneError(
      `${headKey}=${headInDim}, but the backbone gives ${backbone.outputDim} features (${BACKBONE_KEY}.output_dim); ` +
        `set ${headKey}=${backbone.outputDim} (or \${..backbone.output_dim}), or fix ${BACKBONE_KEY}.output_dim`,
    );
  }
}
