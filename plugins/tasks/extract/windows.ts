// Feature windows over a video, with Ego4D's semantics (ml-spec §4): feature i covers the frames
// [stride·i, stride·i + frames) of the (resampled) frame sequence; the last window is back-padded to end at
// the last frame; there are ceil((F − frames)/stride) + 1 of them. A video shorter than one window gives one
// window, padded by repeating its last frame.

/** Start positions of the windows over a sequence of `count` frames. */
export function windowStarts(count: number, frames: number, stride: number): number[] {
  if (!(Number.isInteger(count) && count > 0)) throw new RangeError(`a video needs at least one frame, got ${count}`);
  if (!(Number.isInteger(frames) && frames > 0 && Number.isInteger(stride) && stride > 0)) throw new RangeError(`window.frames and window.stride must be positive integers, got ${frames} and ${stride}`);
  if (count <= frames) return [0];
  const n = Math.ceil((count - frames) / stride) + 1;
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? count - frames : stride * i));
}

/**
 * The native frame indices of each window: `sequence` maps positions of the (resampled) sequence to native
 * frames (resampleIndices); positions past its end repeat the last frame.
 */
export function windowFrames(sequence: readonly number[], frames: number, stride: number): number[][] {
  const last = sequence.length - 1;
  return windowStarts(sequence.length, frames, stride).map((s) => Array.from({ length: frames }, (_, k) => sequence[Math.min(s + k, last)]!));
}

/** Windows of a video of `duration` seconds, as the planner and the profile estimate them (30 fps when window.fps is null). */
export function estimatedWindows(duration: number, window: { frames: number; stride: number; fps: number | null }): number {
  return duration > 0 ? windowStarts(Math.max(1, Math.ceil(duration * (window.fps ?? 30))), window.frames, window.stride).length : 0;
}
