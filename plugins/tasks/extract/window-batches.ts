// The backbone's input for one video, batch by batch: frames streamed in order from one ffmpeg process
// (decoding runs ahead in ffmpeg), each frame some window uses resized and cropped once, windows assembled
// from the frames they need, `batchSize` windows a batch. Memory holds the frames of the windows in flight
// and the decode read-ahead, never the whole video. Pure of threads: the main thread runs it (task.prefetch
// 0) and so does the extraction worker (extract-worker.ts), so both give the same bytes.

import { clipTensor, resampleIndices, VideoError, type FrameSource } from '../../../core/video/index.ts';
import { windowStarts } from './windows.ts';

export interface WindowOptions {
  frames: number;
  stride: number;
  /** Frames per second the windows count in; null: the video's own frames. */
  fps: number | null;
}

export interface Spatial {
  size: number;
  short_side?: number;
}

/** Where a video's windows lie: a function of its timestamps only, so either thread can compute it. */
export interface VideoPlan {
  /** Native frame index of each position of the (resampled) sequence. */
  sequence: number[];
  /** Start position of each window in `sequence`. */
  starts: number[];
  /** Window start and end times (seconds). */
  start: Float64Array;
  end: Float64Array;
  /** The rate the windows count frames at. */
  fps: number;
}

/** `count` windows from window `first`, [count, frames, size, size, 3]; `data` owns its buffer (transferable). */
export interface WindowBatch {
  data: Float32Array;
  count: number;
  first: number;
  /** Frames decoded so far. */
  decoded: number;
  /** Seconds spent since the previous batch waiting for decoded frames, and resizing/cropping them. */
  decode: number;
  preprocess: number;
}

export type StreamingSource = FrameSource & { frames?: VideoSourceFrames };

type VideoSourceFrames = (options: { start?: number; end?: number; ahead?: number }) => AsyncGenerator<{ index: number; data: Uint8Array }>;

export function planVideo(source: Pick<FrameSource, 'path' | 'length' | 'timestamps' | 'duration' | 'fps'>, window: WindowOptions): VideoPlan {
  if (source.length === 0) throw new VideoError(`video '${source.path}' has no frames`);
  const sequence = resampleIndices(source.timestamps, source.duration, window.fps);
  const count = sequence.length;
  const starts = windowStarts(count, window.frames, window.stride);
  const fps = window.fps ?? source.fps;
  const timeOf = (p: number) => (window.fps === null ? source.timestamps[sequence[p]!]! : p / window.fps);
  const start = Float64Array.from(starts, (s) => timeOf(s));
  const end = Float64Array.from(starts, (s) => timeOf(Math.min(s + window.frames, count) - 1) + 1 / fps);
  return { sequence, starts, start, end, fps };
}

/** Decoded frames waiting for the consumer: enough for a batch of windows, at most ~256 MiB. */
function readAhead(frameBytes: number, wanted: number): number {
  return Math.max(4, Math.min(wanted, Math.floor((256 << 20) / frameBytes)));
}

/**
 * The video's windows in order, `batchSize` a batch (the last may hold fewer). Throws a VideoError naming
 * the video when a frame some window needs never comes (skipped by the decoder, or the file ends early).
 */
export async function* windowBatches(source: StreamingSource, spatial: Spatial, window: WindowOptions, batchSize: number, signal?: AbortSignal): AsyncGenerator<WindowBatch> {
  const { sequence, starts } = planVideo(source, window);
  const count = sequence.length;
  const T = window.frames;
  const frameSize = spatial.size * spatial.size * 3;
  // Native frame index of each window position (positions past the end repeat the last frame).
  const frameOf = (w: number, k: number) => sequence[Math.min(starts[w]! + k, count - 1)]!;
  const lastNeeded = sequence[count - 1]!;

  const ready = new Map<number, Float32Array>();
  let batch: WindowBatch | null = null;
  let next = 0;
  let decoded = 0;
  let decode = 0;
  let preprocess = 0;
  const frameBytes = source.width * source.height * 3;
  const frames = iterateFrames(source, lastNeeded + 1, readAhead(frameBytes, batchSize * Math.max(window.stride, 1) + T));
  try {
    for (;;) {
      const t0 = performance.now();
      const it = await frames.next();
      decode += (performance.now() - t0) / 1000;
      if (it.done) break;
      const f = it.value;
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      decoded++;
      // Only frames some window still uses are preprocessed and kept.
      if (next < starts.length && f.index >= frameOf(next, 0)) {
        const t1 = performance.now();
        ready.set(f.index, clipTensor({ data: f.data, frames: 1, height: source.height, width: source.width, indices: [f.index] }, spatial));
        preprocess += (performance.now() - t1) / 1000;
      }
      while (next < starts.length && frameOf(next, T - 1) <= f.index) {
        batch ??= { data: new Float32Array(Math.min(batchSize, starts.length - next) * T * frameSize), count: 0, first: next, decoded: 0, decode: 0, preprocess: 0 };
        for (let k = 0; k < T; k++) {
          const frame = ready.get(frameOf(next, k));
          if (!frame) throw new VideoError(`video '${source.path}': frame ${frameOf(next, k)} was not decoded (the decoder skipped it)`);
          batch.data.set(frame, (batch.count * T + k) * frameSize);
        }
        next++;
        batch.count++;
        if (next < starts.length) for (const i of ready.keys()) if (i < frameOf(next, 0)) ready.delete(i);
        if (batch.count === batchSize || next === starts.length) {
          const out: WindowBatch = { ...batch, decoded, decode, preprocess };
          batch = null;
          decode = 0;
          preprocess = 0;
          yield out;
        }
      }
      if (next >= starts.length) break;
    }
  } finally {
    // Stops the decoder when the loop ends early (all windows done, an abort, an error).
    await frames.return(undefined);
  }
  if (next < starts.length) throw new VideoError(`video '${source.path}' ended after ${decoded} of its ${source.length} frames (truncated or corrupt)`);
}

/** Frames [0, end) in order: one ffmpeg pass for video files, batches of a few frames for frame folders. */
async function* iterateFrames(source: StreamingSource, end: number, ahead: number): AsyncGenerator<{ index: number; data: Uint8Array }> {
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
