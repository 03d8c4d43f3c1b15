// Spatial preprocessing against hand computations (torch bilinear with align_corners=False, ShortSideScale
// sizes, centre / test / random crops, flip), then a decoded clip through the backbone's own ONNX
// preprocessing (scale to [0, 1], (x − mean)/std, NCTHW, SlowFast pathways) against the hand values.
import { afterAll, describe, expect, it } from 'vitest';
import { packPathways, preprocessClips, slowPathwayIndices, type InputSpec } from '../../core/engine/backbone.ts';
import { Graph } from '../../core/engine/graph.ts';
import { mulberry32 } from '../../core/random.ts';
import { centerView, clipIndices, clipTensor, multiViewClips, randomView, resizedSize, testViews, VideoSource, type FrameBatch } from '../../core/video/index.ts';
import { runGraph } from '../helpers/engine.ts';
import { indexVideo, tempDir } from './fixtures.ts';

/** One 4×2 frame: R = 40·x + 100·y, G = 7, B = 200. */
function tiny(): FrameBatch {
  const data = new Uint8Array(4 * 2 * 3);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) data.set([40 * x + 100 * y, 7, 200], (y * 4 + x) * 3);
  return { data, frames: 1, width: 4, height: 2, indices: [0] };
}
const channel = (t: Float32Array, size: number, c: number) => Array.from({ length: size }, (_, y) => Array.from({ length: size }, (_, x) => t[(y * size + x) * 3 + c]));

describe('spatial preprocessing', () => {
  it('ShortSideScale sizes: the short side becomes short_side, the long one floor(long·short_side/short)', () => {
    expect(resizedSize(320, 240, 256)).toEqual({ width: 341, height: 256 });
    expect(resizedSize(240, 320, 128)).toEqual({ width: 128, height: 170 });
    expect(resizedSize(1920, 1080, 256)).toEqual({ width: 455, height: 256 });
  });

  it('resize ×2 (bilinear, align_corners=False) then the centre 4×4 crop, by hand', () => {
    // Resized 8×4. Source coordinate of output o: max(0.5·o − 0.25, 0): x taps 0, .25, .75, … ; the crop keeps
    // columns 2..5 (x_src .75, 1.25, 1.75, 2.25 → R 30, 50, 70, 90) and rows 0..3 (y_src 0, .25, .75, 1 → +0, 25, 75, 100).
    const t = clipTensor(tiny(), { size: 4, short_side: 4 });
    expect(channel(t, 4, 0)).toEqual([
      [30, 50, 70, 90],
      [55, 75, 95, 115],
      [105, 125, 145, 165],
      [130, 150, 170, 190],
    ]);
    expect(new Set(channel(t, 4, 1).flat())).toEqual(new Set([7]));
    expect(new Set(channel(t, 4, 2).flat())).toEqual(new Set([200]));
    const flipped = clipTensor(tiny(), { size: 4, short_side: 4 }, { x: 2, y: 0, flip: true });
    expect(channel(flipped, 4, 0)[1]).toEqual([115, 95, 75, 55]);
    // The left edge: output column 0 clamps to source 0, the right edge to the last column.
    expect(channel(clipTensor(tiny(), { size: 4, short_side: 4 }, { x: 0, y: 0, flip: false }), 4, 0)[0]).toEqual([0, 10, 30, 50]);
    expect(channel(clipTensor(tiny(), { size: 4, short_side: 4 }, { x: 4, y: 0, flip: false }), 4, 0)[0]).toEqual([70, 90, 110, 120]);
  });

  it('no resize: a plain crop; a crop larger than the frame is an error', () => {
    expect(channel(clipTensor(tiny(), { size: 2 }), 2, 0)).toEqual([
      [40, 80],
      [140, 180],
    ]);
    expect(() => clipTensor(tiny(), { size: 3 })).toThrow('a 3x3 crop does not fit frames of 4x2');
    expect(() => clipTensor(tiny(), { size: 2 }, { x: 3, y: 0, flip: false })).toThrow('crop at (3, 0) of 2x2 leaves the 4x2 frame');
  });

  it('views: centre; 3 test crops along the long side; seeded random crops and flips', () => {
    expect(centerView(341, 256, 224)).toEqual({ x: 58, y: 16, flip: false });
    expect(testViews(341, 256, 224, 3).map((v) => [v.x, v.y])).toEqual([
      [0, 16],
      [58, 16],
      [117, 16],
    ]);
    expect(testViews(256, 341, 224, 3).map((v) => [v.x, v.y])).toEqual([
      [16, 0],
      [16, 58],
      [16, 117],
    ]);
    expect(testViews(341, 256, 224, 1)).toEqual([centerView(341, 256, 224)]);
    const draw = (seed: number) => Array.from({ length: 200 }, ((r) => () => randomView(341, 256, 224, r))(mulberry32(seed)));
    const a = draw(5);
    expect(draw(5)).toEqual(a);
    for (const v of a) {
      expect(v.x).toBeGreaterThanOrEqual(0);
      expect(v.x).toBeLessThanOrEqual(117);
      expect(v.y).toBeGreaterThanOrEqual(0);
      expect(v.y).toBeLessThanOrEqual(32);
    }
    expect(Math.max(...a.map((v) => v.x))).toBeGreaterThan(110);
    const flips = a.filter((v) => v.flip).length;
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
  });
});

describe('a decoded clip through the backbone preprocessing (SlowFast spec)', () => {
  const tmp = tempDir('preprocess');
  afterAll(() => tmp.remove());

  it('frames scaled to [0, 1], normalised with mean/std, NCTHW, slow pathway = frames/alpha of the fast one', async () => {
    const v = await VideoSource.open(indexVideo(tmp.dir, 'p60', 'mkv', 60, 40));
    // Matroska stores 60 fps pts in whole milliseconds; the probe snaps them back to the 1/60 s grid.
    expect(v.meta.variableFrameRate).toBe(false);
    const idx = clipIndices(v.timestamps, { start: 0.1, frames: 8, fps: 30 });
    expect(idx).toEqual([6, 8, 10, 12, 14, 16, 18, 20]);
    const size = 8;
    const clip = clipTensor(await v.getBatch(idx), { size, short_side: 12 });
    const spec: InputSpec = { frames: 8, size, channels: 3, layout: 'NCTHW', mean: [0.45, 0.45, 0.45], std: [0.225, 0.225, 0.225], inputRange: 255 };
    const g = new Graph();
    const shape = [1, 8, size, size, 3];
    const [slow, fast] = packPathways(g, preprocessClips(g, g.input('clips', 'float32', shape), spec), 'NCTHW', 4);
    g.output(slow, 'slow');
    g.output(fast, 'fast');
    const out = await runGraph(g, { clips: { data: clip, shape, dtype: 'float32' } });
    // Frame n is uniform (n, 255 − n, 128): every pixel of channel c at time t is (value/255 − 0.45)/0.225.
    const hand = (n: number) => [n, 255 - n, 128].map((x) => (x / 255 - 0.45) / 0.225);
    const at = (x: ArrayLike<number>, T: number, c: number, t: number, p: number) => x[((c * T + t) * size * size) + p]!;
    for (let c = 0; c < 3; c++) {
      idx.forEach((n, t) => {
        for (const p of [0, 27, 63]) expect(at(out.fast!, 8, c, t, p)).toBeCloseTo(hand(n)[c]!, 5);
      });
      const slowIdx = slowPathwayIndices(8, 4);
      expect(slowIdx).toEqual([0, 7]);
      slowIdx.forEach((ti, t) => expect(at(out.slow!, 2, c, t, 5)).toBeCloseTo(hand(idx[ti]!)[c]!, 5));
    }
  });
});

describe('multi-view testing', () => {
  it('numClips × numCrops views: clips at k·(duration − clip)/n, three crops along the long side', () => {
    const source = { timestamps: Array.from({ length: 100 }, (_, i) => i / 25), duration: 4, fps: 25, width: 320, height: 240 };
    const views = multiViewClips(source, { frames: 8, fps: 12.5, size: 112, short_side: 128, numClips: 2, numCrops: 3 });
    // Clip of 8 frames at 12.5 fps = 0.64 s; starts 0 and (4 − 0.64)/2 = 1.68 s; frames every 2nd from there.
    // Resized to 170×128: crops at x = 0, floor((170 − 112)/2) = 29, 170 − 112 = 58; y = (128 − 112)/2 = 8.
    expect(views.map((v) => [v.clip, v.crop, v.start, v.indices[0], v.indices[7], v.view.x, v.view.y])).toEqual([
      [0, 0, 0, 0, 14, 0, 8],
      [0, 1, 0, 0, 14, 29, 8],
      [0, 2, 0, 0, 14, 58, 8],
      [1, 0, 1.68, 42, 56, 0, 8],
      [1, 1, 1.68, 42, 56, 29, 8],
      [1, 2, 1.68, 42, 56, 58, 8],
    ]);
    expect(views[3]!.indices).toEqual([42, 44, 46, 48, 50, 52, 54, 56]);
  });
});
