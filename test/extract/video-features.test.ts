// Frame accuracy of extraction: lossless videos whose frames encode their index, read through a probe ONNX
// backbone whose features are per-frame channel means, so every feature row names the frames of its window.
// Both ways of assembling windows: in the main thread (task.prefetch=0) and in the worker thread.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureExtractor } from '../../core/engine/backbone.ts';
import { clipTensor, VideoSource } from '../../core/video/index.ts';
import { extractThread, type ExtractThread } from '../../plugins/tasks/extract/extract-thread.ts';
import { extractVideo } from '../../plugins/tasks/extract/video-features.ts';
import { windowFrames } from '../../plugins/tasks/extract/windows.ts';
import { ffmpeg, indexVideo, tempDir } from '../video/fixtures.ts';
import { loadProbe, rowFrames } from './probe.ts';

const FRAMES = 4;
const SIZE = 16;
const spatial = { size: SIZE, short_side: 24 };
let tmp: ReturnType<typeof tempDir>;
let probe: FeatureExtractor;

beforeAll(async () => {
  tmp = tempDir('extract-frames');
  probe = await loadProbe(join(tmp.dir, 'probe.onnx'), FRAMES, SIZE);
});
afterAll(async () => {
  await probe?.dispose();
  tmp?.remove();
});

const rows = (f: { data: Float32Array; rows: number; dim: number }) => Array.from({ length: f.rows }, (_, i) => rowFrames(f.data.subarray(i * f.dim, (i + 1) * f.dim), FRAMES));

describe.each([0, 2])('extractVideo, task.prefetch=%i', (prefetch) => {
  let thread: ExtractThread;
  beforeAll(() => {
    thread = extractThread({ prefetch, notice: (line) => expect.fail(line) });
  });
  afterAll(() => thread?.close());
  const hooks = () => ({ thread });

  it('every window holds exactly its frames at the native rate, the last back-padded to end at the last frame', async () => {
    const v = await VideoSource.open(indexVideo(tmp.dir, 'n30', 'mp4', 30, 22));
    const f = await extractVideo(v, probe, spatial, { frames: FRAMES, stride: 4, fps: null }, 3, hooks());
    expect(rows(f)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19], [18, 19, 20, 21]]);
    expect(Array.from(f.start)).toEqual([0, 4, 8, 12, 16, 18].map((i) => v.timestamps[i]));
    expect(f.end[5]).toBeCloseTo(22 / 30, 9);
    expect([f.rows, f.dim, f.fps, f.decodedFrames]).toEqual([6, 12, 30, 22]);
  });

  it('25 → 30 fps repeats frames and 60 → 30 drops them, exactly as resampleIndices says', async () => {
    for (const [fps, n] of [[25, 50], [60, 120]] as const) {
      const v = await VideoSource.open(indexVideo(tmp.dir, `r${fps}`, 'mkv', fps, n));
      const f = await extractVideo(v, probe, spatial, { frames: FRAMES, stride: 3, fps: 30 }, 4, hooks());
      const seq = Array.from({ length: 60 }, (_, k) => Math.floor((k / 30) * fps + 1e-9));
      expect(rows(f)).toEqual(windowFrames(seq, FRAMES, 3));
      expect(f.rows).toBe(Math.ceil((60 - FRAMES) / 3) + 1);
    }
  });

  it('a video shorter than one window gives one window repeating its last frame', async () => {
    const v = await VideoSource.open(indexVideo(tmp.dir, 'short', 'mp4', 30, 2));
    const f = await extractVideo(v, probe, spatial, { frames: FRAMES, stride: 4, fps: null }, 8, hooks());
    expect(rows(f)).toEqual([[0, 1, 1, 1]]);
  });

  it('equals the same windows read by seeking (getBatch) and the same extraction of a rotated file', async () => {
    const path = indexVideo(tmp.dir, 'seek', 'mp4', 30, 90);
    const v = await VideoSource.open(path, { maxGap: 2 });
    const window = { frames: FRAMES, stride: 20, fps: null };
    const f = await extractVideo(v, probe, spatial, window, 2, hooks());
    const seq = Array.from({ length: 90 }, (_, i) => i);
    const sought: number[][] = [];
    for (const idx of windowFrames(seq, FRAMES, 20)) {
      const clip = clipTensor(await v.getBatch(idx), spatial);
      sought.push(rowFrames(await probe.extract(clip, 1), FRAMES));
    }
    expect(rows(f)).toEqual(sought);
    expect(rows(f)).toEqual([[0, 1, 2, 3], [20, 21, 22, 23], [40, 41, 42, 43], [60, 61, 62, 63], [80, 81, 82, 83], [86, 87, 88, 89]]);

    const rotated = join(tmp.dir, 'seek-rot.mp4');
    ffmpeg(['-i', path, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const r = await VideoSource.open(rotated);
    expect([r.width, r.height]).toEqual([24, 32]);
    expect(rows(await extractVideo(r, probe, spatial, window, 2, hooks()))).toEqual(rows(f));
  });
});
