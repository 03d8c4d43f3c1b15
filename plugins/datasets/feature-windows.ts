// Time → feature-row windows for Ego4D-style precomputed features (ml-spec §4, "Ego4D features / CLEP").
//
// Features are computed on windows of `window` = 32 frames with stride 16 at 30 fps ⇒ 30/16 = 1.875
// features per second; feature i covers frames [16i, 16i + 32), the last window back-padded to end at the
// last frame (39 frames → [0, 31] and [7, 38]); count = ceil((F − 32)/16) + 1.
//
// A time span [t1, t2] (seconds) maps to rows [x1, x2 + 1) with (CLEP `clep/dataset.py::get_start_end_idx`):
//   x1 = min(max(0, floor(t1·fps/stride)), n − 1),  x2 = min(floor(t2·fps/stride), n − 1),  t2 ≥ 0.
// A narration at ts uses [ts − 2, ts + 2] (width 2 s), the rows averaged.

import { VidraError } from '../../core/config/errors.ts';

export interface FeatureGrid {
  /** Video frame rate the features were computed at (Ego4D canonical: 30). */
  fps: number;
  /** Frames between consecutive features (16). */
  stride: number;
  /** Frames per feature window (32). */
  window: number;
}

export const EGO4D_GRID: FeatureGrid = { fps: 30, stride: 16, window: 32 };

/** Features per second: fps / stride (1.875 for Ego4D). */
export function featuresPerSecond(grid: Pick<FeatureGrid, 'fps' | 'stride'> = EGO4D_GRID): number {
  return grid.fps / grid.stride;
}

/** Rows [start, end) (end exclusive) of the features covering [t1, t2] seconds. */
export function featureWindow(t1: number, t2: number, options: Partial<FeatureGrid> & { numFeatures: number }): { start: number; end: number } {
  const { numFeatures } = options;
  if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new VidraError(`featureWindow: numFeatures must be an integer ≥ 1, got ${numFeatures}`);
  if (!(t2 >= 0)) throw new VidraError(`featureWindow: the window [${t1}, ${t2}] s ends before 0 s`);
  if (!(t1 <= t2)) throw new VidraError(`featureWindow: the window [${t1}, ${t2}] s ends before it starts`);
  const f = featuresPerSecond({ fps: options.fps ?? EGO4D_GRID.fps, stride: options.stride ?? EGO4D_GRID.stride });
  const x1 = Math.min(Math.max(0, Math.floor(t1 * f)), numFeatures - 1);
  const x2 = Math.min(Math.floor(t2 * f), numFeatures - 1);
  return { start: x1, end: Math.max(x1, x2) + 1 };
}

/** The rows a narration at `ts` averages over: [ts − width, ts + width] (CLEP width 2 s). */
export function narrationWindow(ts: number, options: Partial<FeatureGrid> & { numFeatures: number; width?: number }): { start: number; end: number } {
  const w = options.width ?? 2;
  return featureWindow(ts - w, ts + w, options);
}

/** Number of features of a video with `numFrames` frames: ceil((F − window)/stride) + 1 (at least 1 when F > 0). */
export function featureCount(numFrames: number, grid: FeatureGrid = EGO4D_GRID): number {
  if (numFrames <= 0) return 0;
  return Math.max(1, Math.ceil((numFrames - grid.window) / grid.stride) + 1);
}

/** Frames [first, last] (inclusive) feature i covers; the last window is back-padded to end at the last frame. */
export function featureFrames(i: number, numFrames: number, grid: FeatureGrid = EGO4D_GRID): [number, number] {
  const n = featureCount(numFrames, grid);
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new VidraError(`featureFrames: feature ${i} does not exist (the video has ${n} features)`);
  const start = i === n - 1 ? Math.max(0, numFrames - grid.window) : i * grid.stride;
  return [start, Math.min(start + grid.window, numFrames) - 1];
}
