// One video's features: its windows, assembled batch by batch (window-batches.ts) in the extraction worker
// thread or the main thread (extract-thread.ts), through the backbone. Memory holds the batches in flight
// and the decode read-ahead, never the whole video.

import type { FeatureExtractor } from '../../../core/engine/backbone.ts';
import { mainThreadBatches, type ExtractThread } from './extract-thread.ts';
import { planVideo, type Spatial, type StreamingSource, type WindowOptions } from './window-batches.ts';

export type { WindowOptions } from './window-batches.ts';

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

/**
 * Seconds per stage (task=profile): waiting for decoded frames, resizing/cropping, the backbone. Decode and
 * preprocess are measured where they run: in the worker thread they overlap with the model.
 */
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
  /** Where the windows are assembled (extractThread); default: the main thread, when the backbone asks. */
  thread?: ExtractThread;
}

/** The backbone's crop size and the short side its config resizes to first (none: crop the frames as decoded). */
export function spatialOf(backbone: FeatureExtractor, node: Record<string, unknown>): Spatial {
  return { size: backbone.inputSpec.size, ...(typeof node.short_side === 'number' ? { short_side: node.short_side } : {}) };
}

export async function extractVideo(source: StreamingSource, backbone: FeatureExtractor, spatial: Spatial, window: WindowOptions, batchSize: number, hooks: ExtractHooks = {}): Promise<VideoFeatures> {
  const plan = planVideo(source, window);
  const rows = plan.starts.length;
  const dim = backbone.outputDim;
  const out = new Float32Array(rows * dim);
  const times = hooks.times;
  const stream = hooks.thread ? hooks.thread.batches(source, spatial, window, batchSize, hooks.signal) : mainThreadBatches(source, spatial, window, batchSize, hooks.signal);
  let decoded = 0;
  try {
    for (let b = await stream.next(); b; b = await stream.next()) {
      if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error('aborted');
      if (times) {
        times.decode += b.decode;
        times.preprocess += b.preprocess;
      }
      decoded = b.decoded;
      const t0 = performance.now();
      const feats = await backbone.extract(b.data, b.count);
      if (times) times.model += (performance.now() - t0) / 1000;
      out.set(feats.subarray(0, b.count * dim), b.first * dim);
      hooks.progress?.(b.first + b.count, decoded);
    }
  } finally {
    // Stops the decoder when the loop ends early (an abort, an error).
    await stream.close();
  }
  return { data: out, rows, dim, start: plan.start, end: plan.end, fps: plan.fps, decodedFrames: decoded };
}
