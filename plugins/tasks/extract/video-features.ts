// One video's features: its frames streamed from one ffmpeg process (decoding runs ahead in ffmpeg while
// the backbone works on the previous batch), each decoded frame resized and cropped once, windows assembled
// from the frames they need, `batchSize` windows per backbone call. Memory holds the frames of the windows
// in flight and the decode read-ahead, never the whole video.

import type { FeatureExtractor } from '../../../core/engine/backbone.ts';
import { clipTensor, resampleIndices, VideoError, type FrameSource } from '../../../core/video/index.ts';
import { windowStarts } from './windows.ts';

export interface WindowOptions {
  frames: number;
  stride: number;
  /** Frames per second the windows count in; null: the video's own frames. */
  fps: number | null;
}

export interface VideoFeatures {
  data: Float32Array;
  rows: number;
  dim: number;
  /** Window start and end times (seconds). */
  start: Float64Array;
  end: Float64Array;
  /** The rate the windows count frames at. */
  fps: number;
  decodedFrames: number;
}

/** Seconds spent per stage (task=profile): waiting for decoded frames, resizing/cropping, the backbone. */
export interface StageTimes {
  decode: number;
  preprocess: number;
  model: number;
}

export interface ExtractHooks {
  signal?: AbortSignal;
  /** Added to when given. */
  times?: StageTimes;
  /** After each backbone call: windows done so far, frames decoded so far. */
  progress?: (windows: number, decoded: number) => void;
}

/** The backbone's crop size and the short side its config resizes to first (none: crop the frames as decoded). */
export function spatialOf(backbone: FeatureExtractor, node: Record<string, unknown>): { size: number; short_side?: number } {
  return { size: backbone.inputSpec.size, ...(typeof node.short_side === 'number' ? { short_side: node.short_side } : {}) };
}

/** Decoded frames waiting for the consumer: enough for a batch of windows, at most ~256 MiB. */
function readAhead(frameBytes: number, wanted: number): number {
  return Math.max(4, Math.min(wanted, Math.floor((256 << 20) / frameBytes)));
}

export async function extractVideo(source: FrameSource & { frames?: VideoSourceFrames }, backbone: FeatureExtractor, spatial: { size: number; short_side?: number }, window: WindowOptions, batchSize: number, hooks: ExtractHooks = {}): Promise<VideoFeatures> {
  if (source.length === 0) throw new VideoError(`video '${source.path}' has no frames`);
  const sequence = resampleIndices(source.timestamps, source.duration, window.fps);
  const count = sequence.length;
  const starts = windowStarts(count, window.frames, window.stride);
  const T = window.frames;
  const frameSize = spatial.size * spatial.size * 3;
  const dim = backbone.outputDim;
  const out = new Float32Array(starts.length * dim);
  const fps = window.fps ?? source.fps;
  const timeOf = (p: number) => (window.fps === null ? source.timestamps[sequence[p]!]! : p / window.fps);
  const start = Float64Array.from(starts, (s) => timeOf(s));
  const end = Float64Array.from(starts, (s) => timeOf(Math.min(s + T, count) - 1) + 1 / fps);
  // Native frame index of each window position (positions past the end repeat the last frame).
  const frameOf = (w: number, k: number) => sequence[Math.min(starts[w]! + k, count - 1)]!;
  const lastNeeded = sequence[count - 1]!;

  const ready = new Map<number, Float32Array>();
  const batch = new Float32Array(batchSize * T * frameSize);
  const times = hooks.times;
  let inBatch = 0;
  let next = 0;
  let decoded = 0;
  const flush = async () => {
    if (inBatch === 0) return;
    const t0 = performance.now();
    const feats = await backbone.extract(inBatch === batchSize ? batch : batch.subarray(0, inBatch * T * frameSize), inBatch);
    if (times) times.model += (performance.now() - t0) / 1000;
    out.set(feats.subarray(0, inBatch * dim), (next - inBatch) * dim);
    inBatch = 0;
    hooks.progress?.(next, decoded);
  };
  const frameBytes = source.width * source.height * 3;
  const frames = iterateFrames(source, lastNeeded + 1, readAhead(frameBytes, batchSize * Math.max(window.stride, 1) + T));
  try {
    for (;;) {
      const t0 = performance.now();
      const it = await frames.next();
      if (times) times.decode += (performance.now() - t0) / 1000;
      if (it.done) break;
      const f = it.value;
      if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error('aborted');
      decoded++;
      // Only frames some window still uses are preprocessed and kept.
      if (next < starts.length && f.index >= frameOf(next, 0)) {
        const t1 = performance.now();
        ready.set(f.index, clipTensor({ data: f.data, frames: 1, height: source.height, width: source.width, indices: [f.index] }, spatial));
        if (times) times.preprocess += (performance.now() - t1) / 1000;
      }
      while (next < starts.length && frameOf(next, T - 1) <= f.index) {
        for (let k = 0; k < T; k++) {
          const frame = ready.get(frameOf(next, k));
          if (!frame) throw new VideoError(`video '${source.path}': frame ${frameOf(next, k)} was not decoded (the decoder skipped it)`);
          batch.set(frame, (inBatch * T + k) * frameSize);
        }
        next++;
        inBatch++;
        if (next < starts.length) for (const i of ready.keys()) if (i < frameOf(next, 0)) ready.delete(i);
        if (inBatch === batchSize) await flush();
      }
      if (next >= starts.length) break;
    }
  } finally {
    // Stops the decoder when the loop ends early (all windows done, an abort, an error).
    await frames.return(undefined);
  }
  await flush();
  if (next < starts.length) throw new VideoError(`video '${source.path}' ended after ${decoded} of its ${source.length} frames (truncated or corrupt)`);
  return { data: out, rows: starts.length, dim, start, end, fps, decodedFrames: decoded };
}

type VideoSourceFrames = (options: { start?: number; end?: number; ahead?: number }) => AsyncGenerator<{ index: number; data: Uint8Array }>;

/** Frames [0, end) in order: one ffmpeg pass for video files, batches of a few frames for frame folders. */
async function* iterateFrames(source: FrameSource & { frames?: VideoSourceFrames }, end: number, ahead: number): AsyncGenerator<{ index: number; data: Uint8Array }> {
  if (source.frames) {
    yield* source.frames({ start: 0, end, ahead });
    return;
  }
  const bytes = source.width * source.height * 3;
  for (let s = 0; s < end; s += ahead) {
    const idx = Array.from({ length: Math.min(ahead, end - s) }, (_, k) => s + k);
    const b = await source.getBatch(idx);
    for (let k = 0; k < idx.length; k++) yield { index: idx[k]!, data: b.data.subarray(k * bytes, (k + 1) * bytes) };
  }
}
