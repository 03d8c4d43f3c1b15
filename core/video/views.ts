// Multi-view testing (SlowFast's TEST.NUM_ENSEMBLE_VIEWS × TEST.NUM_SPATIAL_CROPS): `numClips` clips spread
// over the video as PyTorchVideo's ConstantClipsPerVideoSampler places them, each cut `numCrops` times.

import { type CropView, resizedSize, testViews } from './preprocess.ts';
import { clipDuration, clipIndices, uniformClipStarts } from './sampling.ts';

export interface TestViewSpec {
  /** Frames per clip and their rate (null: the native one). */
  frames: number;
  fps: number | null;
  size: number;
  short_side?: number;
  numClips: number;
  numCrops: 1 | 3;
}

export interface TestView {
  clip: number;
  crop: number;
  /** Seconds from the first frame. */
  start: number;
  indices: number[];
  view: CropView;
}

/** The numClips × numCrops views of a source (clip-major), as frame indices and crop positions. */
export function multiViewClips(source: { timestamps: readonly number[]; duration: number; fps: number; width: number; height: number }, spec: TestViewSpec): TestView[] {
  const seconds = clipDuration(spec.frames, spec.fps ?? source.fps);
  const r = spec.short_side === undefined ? { width: source.width, height: source.height } : resizedSize(source.width, source.height, spec.short_side);
  const crops = testViews(r.width, r.height, spec.size, spec.numCrops);
  return uniformClipStarts(source.duration, seconds, spec.numClips).flatMap((start, clip) => {
    const indices = clipIndices(source.timestamps, { start, frames: spec.frames, fps: spec.fps });
    return crops.map((view, crop) => ({ clip, crop, start, indices, view }));
  });
}
