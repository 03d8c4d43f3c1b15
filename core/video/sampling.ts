// Clip sampling as pure functions of frame timestamps and time (PyTorchVideo's clip_sampling.py split): a
// clip is a list of frame indices; a source then decodes them. Resampling to a target rate is by timestamp:
// output frame k is shown at start + k/fps and takes the frame on screen then (the last one whose pts is not
// after it), so 25 → 30 fps repeats frames, 60 → 30 drops every other one, and variable-frame-rate input
// follows its real pts. Times are seconds from the first frame.

const EPS = 1e-6;

/** The frame on screen at time `t`: the last whose timestamp (relative to the first) is ≤ t; 0 before the start. */
export function frameAt(timestamps: readonly number[], t: number): number {
  const t0 = timestamps[0] ?? 0;
  let lo = 0;
  let hi = timestamps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (timestamps[mid]! - t0 <= t + EPS) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The whole video at `fps` (null: every frame, the native rate): frames at k/fps for every k/fps before
 * `duration`.
 */
export function resampleIndices(timestamps: readonly number[], duration: number, fps: number | null): number[] {
  if (fps === null) return timestamps.map((_, i) => i);
  const n = Math.max(1, Math.ceil(duration * fps - EPS));
  return Array.from({ length: n }, (_, k) => frameAt(timestamps, k / fps));
}

/**
 * `frames` indices from time `start` at `fps` (null: consecutive native frames from the one on screen at
 * `start`). A clip that runs past the end repeats the last frame.
 */
export function clipIndices(timestamps: readonly number[], clip: { start: number; frames: number; fps: number | null }): number[] {
  const last = timestamps.length - 1;
  if (clip.fps === null) {
    const first = frameAt(timestamps, clip.start);
    return Array.from({ length: clip.frames }, (_, k) => Math.min(first + k, last));
  }
  const fps = clip.fps;
  return Array.from({ length: clip.frames }, (_, k) => frameAt(timestamps, clip.start + k / fps));
}

/** Seconds a clip of `frames` spans at `fps`. */
export const clipDuration = (frames: number, fps: number) => frames / fps;

/** PyTorchVideo RandomClipSampler: start ~ U(0, max(duration − clip, 0)) from a seeded uniform stream. */
export function randomClipStart(duration: number, clip: number, uniform: () => number): number {
  return uniform() * Math.max(duration - clip, 0);
}

/**
 * PyTorchVideo ConstantClipsPerVideoSampler (multi-view testing): start_k = k·max(duration − clip, 0)/n for
 * k < n (÷ n, not n − 1: the last clip does not reach the end).
 */
export function uniformClipStarts(duration: number, clip: number, n: number): number[] {
  const span = Math.max(duration - clip, 0);
  return Array.from({ length: n }, (_, k) => (k * span) / n);
}
