// Test fixtures for extraction: a probe "backbone" (ONNX, built with the graph builder) whose features are
// each frame's per-channel mean, so a feature row tells exactly which frames its window held; and small
// lossless index-encoding videos (test/video/fixtures.ts).
import { writeFileSync } from 'node:fs';
import type { FeatureExtractor } from '../../core/engine/backbone.ts';
import { Graph } from '../../core/engine/graph.ts';
import { createPlugin } from '../../plugins/create.ts';
import { FeatureFile } from '../../plugins/datasets/formats/hdf5-features.ts';
import { toOnnxModel } from '../../core/engine/onnx-export.ts';

/** [N, 3, T, S, S] → [N, 3·T]: row = R means of the T frames, then G, then B (values in [0, 1]). */
export function writeProbeModel(path: string, frames: number, size: number): void {
  const g = new Graph({ name: 'probe' });
  const x = g.input('video', 'float32', [1, 3, frames, size, size]);
  g.output(g.reshape(g.reduceMean(x, [3, 4]), [1, 3 * frames]), 'features');
  // A fixed batch of 1: onnx_backbone runs it clip by clip.
  writeFileSync(path, toOnnxModel(g));
}

/** The probe written to `path` as a loaded onnx_backbone (mean 0, std 1: features are pixel/255), short side 24. */
export async function loadProbe(path: string, frames: number, size: number): Promise<FeatureExtractor> {
  writeProbeModel(path, frames, size);
  const probe = createPlugin<FeatureExtractor>('model', 'onnx_backbone', {
    path, generate_if_missing: false, frames, size, short_side: 24, layout: 'NCTHW', mean: [0, 0, 0], std: [1, 1, 1], output_dim: 3 * frames, device: 'cpu', threads: 1,
  });
  await probe.load();
  return probe;
}

/** Overrides that run the probe as model.backbone (an onnx_backbone: mean 0, std 1, so features are pixel/255). */
export const probeOverrides = (path: string, frames: number, size = 16) => [
  'model/backbone=mvit_v2_s',
  `model.backbone.path=${path}`,
  'model.backbone.name=probe',
  'model.backbone.generate_if_missing=false',
  `model.backbone.frames=${frames}`,
  `model.backbone.size=${size}`,
  'model.backbone.short_side=24',
  'model.backbone.mean=[0,0,0]',
  'model.backbone.std=[1,1,1]',
  `model.backbone.output_dim=${3 * frames}`,
  'engine.device=cpu',
  'engine.threads=1',
];

/** The frame indices a probe row holds (R channel × 255). */
export const rowFrames = (row: Float32Array, frames: number) => Array.from(row.subarray(0, frames), (v) => Math.round(v * 255));

/** Every dataset of an HDF5 features file by uid, read by the features reader that data=ego4d_features uses. */
export async function featureContents(path: string): Promise<Record<string, number[]>> {
  const f = await FeatureFile.open(path);
  try {
    return Object.fromEntries([...f.keys].sort().map((k) => [k, Array.from(f.readAll(k))]));
  } finally {
    f.close();
  }
}
