// Spatial preprocessing of decoded clips, as PyTorchVideo's transforms do it: resize the short side
// (ShortSideScale: bilinear, align_corners=False, no antialias, long side floor(long·short/short_side)), then a
// crop of `size` × `size` — the centre for extraction and test, seeded random for training — and an optional
// horizontal flip. The output is [T, size, size, 3] float32 in [0, 255], what FeatureExtractor.extract takes
// (input_range 255); scaling to [0, 1], (x − mean)/std, the layout and SlowFast's pathways are the backbone's
// ONNX preprocessing graph (core/engine/backbone.ts preprocessClips, packPathways), not repeated here.

import type { FrameBatch } from './source.ts';

export interface SpatialSpec {
  /** Crop height and width (the backbone's `size`). */
  size: number;
  /** Short side after resizing (the backbone's `short_side`); undefined: no resize (the crop must fit). */
  short_side?: number;
}

/** Where to crop in the resized frame, and whether to flip. */
export interface CropView {
  x: number;
  y: number;
  flip: boolean;
}

/** Size after ShortSideScale. */
export function resizedSize(width: number, height: number, shortSide: number): { width: number; height: number } {
  return width < height
    ? { width: shortSide, height: Math.floor((height / width) * shortSide) }
    : { width: Math.floor((width / height) * shortSide), height: shortSide };
}

/** Source coordinate taps of torch's bilinear interpolation (align_corners=False) for one axis. */
function taps(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const f = Math.floor(src);
    i0[o] = Math.min(f, inSize - 1);
    i1[o] = Math.min(f + 1, inSize - 1);
    w1[o] = src - f;
  }
  return { i0, i1, w1 };
}

/** Centre crop of a resized frame (SlowFast's uniform_crop with spatial_idx 1). */
export function centerView(width: number, height: number, size: number): CropView {
  return { x: Math.floor((width - size) / 2), y: Math.floor((height - size) / 2), flip: false };
}

/**
 * The `numCrops` spatial views of multi-view testing (SlowFast uniform_crop): 1 → the centre; 3 → start,
 * centre and end of the long side.
 */
export function testViews(width: number, height: number, size: number, numCrops: 1 | 3): CropView[] {
  const c = centerView(width, height, size);
  if (numCrops === 1) return [c];
  return height > width
    ? [0, c.y, height - size].map((y) => ({ x: c.x, y, flip: false }))
    : [0, c.x, width - size].map((x) => ({ x, y: c.y, flip: false }));
}

/** A training view: a uniformly placed crop, flipped with probability 1/2, from a seeded uniform stream. */
export function randomView(width: number, height: number, size: number, uniform: () => number): CropView {
  const x = Math.floor(uniform() * (width - size + 1));
  const y = Math.floor(uniform() * (height - size + 1));
  return { x, y, flip: uniform() < 0.5 };
}

/**
 * The clip tensor [T, size, size, 3] of a frame batch: short side resized, `view` cropped (default: the
 * centre), flipped if asked. Only the crop is interpolated.
 */
export function clipTensor(batch: FrameBatch, spec: SpatialSpec, view?: CropView): Float32Array {
  const { width: W, height: H, frames: T } = batch;
  const r = spec.short_side === undefined ? { width: W, height: H } : resizedSize(W, H, spec.short_side);
  const s = spec.size;
  if (s > r.width || s > r.height) {
    throw new RangeError(`a ${s}x${s} crop does not fit frames of ${r.width}x${r.height}${spec.short_side === undefined ? '' : ` (short side resized to ${spec.short_side})`}`);
  }
  const v = view ?? centerView(r.width, r.height, s);
  if (v.x < 0 || v.y < 0 || v.x + s > r.width || v.y + s > r.height) throw new RangeError(`crop at (${v.x}, ${v.y}) of ${s}x${s} leaves the ${r.width}x${r.height} frame`);
  const xs = taps(W, r.width);
  const ys = taps(H, r.height);
  const out = new Float32Array(T * s * s * 3);
  const src = batch.data;
  const frameBytes = W * H * 3;
  for (let t = 0; t < T; t++) {
    const base = t * frameBytes;
    for (let oy = 0; oy < s; oy++) {
      const yy = oy + v.y;
      const r0 = base + ys.i0[yy]! * W * 3;
      const r1 = base + ys.i1[yy]! * W * 3;
      const wy = ys.w1[yy]!;
      let o = ((t * s + oy) * s) * 3;
      for (let ox0 = 0; ox0 < s; ox0++) {
        const xx = (v.flip ? s - 1 - ox0 : ox0) + v.x;
        const c0 = xs.i0[xx]! * 3;
        const c1 = xs.i1[xx]! * 3;
        const wx = xs.w1[xx]!;
        for (let c = 0; c < 3; c++) {
          const top = src[r0 + c0 + c]! + (src[r0 + c1 + c]! - src[r0 + c0 + c]!) * wx;
          const bottom = src[r1 + c0 + c]! + (src[r1 + c1 + c]! - src[r1 + c0 + c]!) * wx;
          out[o++] = top + (bottom - top) * wy;
        }
      }
    }
  }
  return out;
}
