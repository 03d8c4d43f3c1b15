// Clip sampling: resampling by timestamp (25 → 30 repeats, 60 → 30 drops, null keeps), clips past the end,
// random and uniform clip starts; and the resampled indices read from real videos hold those frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import { clipIndices, frameAt, randomClipStart, resampleIndices, uniformClipStarts, VideoSource } from '../../core/video/index.ts';
import { indexVideo, indicesOf, tempDir } from './fixtures.ts';

const cfr = (n: number, fps: number) => Array.from({ length: n }, (_, i) => i / fps);

describe('resampling by timestamp (pure)', () => {
  it('25 → 30 fps repeats frames: output k shows frame floor(k·25/30)', () => {
    const idx = resampleIndices(cfr(25, 25), 1, 30);
    expect(idx).toHaveLength(30);
    expect(idx).toEqual(Array.from({ length: 30 }, (_, k) => Math.floor((k * 25) / 30)));
    expect(idx.slice(0, 8)).toEqual([0, 0, 1, 2, 3, 4, 5, 5]);
  });

  it('60 → 30 fps drops every other frame', () => {
    expect(resampleIndices(cfr(60, 60), 1, 30)).toEqual(Array.from({ length: 30 }, (_, k) => 2 * k));
  });

  it('null keeps the native rate: every frame once', () => {
    expect(resampleIndices(cfr(7, 25), 7 / 25, null)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('frameAt: the frame on screen, timestamps taken relative to the first', () => {
    const ts = [1.0, 1.04, 1.2, 1.5];
    expect([-1, 0, 0.039, 0.04, 0.1999, 0.2, 0.49, 0.5, 9].map((t) => frameAt(ts, t))).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 3]);
  });

  it('a clip past the end repeats the last frame, at the target rate and at the native one', () => {
    expect(clipIndices(cfr(10, 25), { start: 0.3, frames: 5, fps: 12.5 })).toEqual([7, 9, 9, 9, 9]);
    expect(clipIndices(cfr(10, 25), { start: 0.3, frames: 5, fps: null })).toEqual([7, 8, 9, 9, 9]);
  });

  it('random clip starts are seeded and inside [0, duration − clip]; uniform starts divide by n', () => {
    const a = Array.from({ length: 50 }, ((r) => () => randomClipStart(10, 2, r))(mulberry32(3)));
    const b = Array.from({ length: 50 }, ((r) => () => randomClipStart(10, 2, r))(mulberry32(3)));
    expect(a).toEqual(b);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(8);
    expect(randomClipStart(1, 2, () => 0.9)).toBe(0);
    expect(uniformClipStarts(10, 2, 4)).toEqual([0, 2, 4, 6]);
    expect(uniformClipStarts(1, 2, 3)).toEqual([0, 0, 0]);
  });
});

describe('resampled clips of real videos', () => {
  const tmp = tempDir('sampling');
  let v25: VideoSource;
  let v60: VideoSource;
  beforeAll(async () => {
    v25 = await VideoSource.open(indexVideo(tmp.dir, 'r25', 'mp4', 25, 50));
    v60 = await VideoSource.open(indexVideo(tmp.dir, 'r60', 'mp4', 60, 120));
  });
  afterAll(() => tmp.remove());

  it('25 → 30 fps: the decoded frames are the expected repeats', async () => {
    const idx = resampleIndices(v25.timestamps, v25.duration, 30);
    expect(idx).toEqual(Array.from({ length: 60 }, (_, k) => Math.floor((k * 25) / 30)));
    expect(indicesOf(await v25.getBatch(idx))).toEqual(idx);
  });

  it('60 → 30 fps: a 16-frame clip at 1 s holds frames 60, 62, …, 90', async () => {
    const idx = clipIndices(v60.timestamps, { start: 1, frames: 16, fps: 30 });
    expect(idx).toEqual(Array.from({ length: 16 }, (_, k) => 60 + 2 * k));
    expect(indicesOf(await v60.getBatch(idx))).toEqual(idx);
  });
});
