import { describe, expect, it } from 'vitest';
import { ConstantClipsPerVideoSampler } from '../../plugins/samplers/constant_clips_per_video.ts';
import { RandomClipSampler } from '../../plugins/samplers/random_clip.ts';
import { RecentPastSampler } from '../../plugins/samplers/recent_past.ts';
import type { ClipSampler, ClipWindow } from '../../plugins/samplers/sampler.ts';
import { UniformClipSampler } from '../../plugins/samplers/uniform.ts';
import { build } from './build.ts';

const spans = (ws: ClipWindow[]) => ws.map((w) => [w.start, w.end]);
const exact = (ws: ClipWindow[]) => ws.map((w) => `${w.exact.start}..${w.exact.end}`);
const lastFlags = (ws: ClipWindow[]) => ws.map((w) => w.isLast);

describe('uniform: pytorchvideo UniformClipSampler (ml-spec §5)', () => {
  it('a video that is a whole number of clips: windows end exactly at the video end', () => {
    const ws = new UniformClipSampler({ clip_duration: 2 }).clips(10);
    expect(spans(ws)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
      [8, 10],
    ]);
    expect(lastFlags(ws)).toEqual([false, false, false, false, true]);
    expect(ws.map((w) => w.clipIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(ws.every((w) => w.augIndex === 0)).toBe(true);
  });

  it('without backpad a tail shorter than a clip is not covered (next end 10 > 9)', () => {
    const ws = new UniformClipSampler({ clip_duration: 2 }).clips(9);
    expect(spans(ws)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
    expect(lastFlags(ws)).toEqual([false, false, false, true]);
  });

  it('backpad_last shifts the last window back to end at the video end', () => {
    const ws = new UniformClipSampler({ clip_duration: 2, backpad_last: true }).clips(9);
    expect(spans(ws)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
      [7, 9],
    ]);
    expect(lastFlags(ws)).toEqual([false, false, false, false, true]);
    // An exact fit needs no padding and adds no window.
    expect(spans(new UniformClipSampler({ clip_duration: 2, backpad_last: true }).clips(8))).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
  });

  it('stride < clip: start = last_end − (clip − stride)', () => {
    const s = new UniformClipSampler({ clip_duration: 2, stride: 1 });
    expect(spans(s.clips(5))).toEqual([
      [0, 2],
      [1, 3],
      [2, 4],
      [3, 5],
    ]);
    expect(spans(new UniformClipSampler({ clip_duration: 2, stride: 1.5 }).clips(5.5))).toEqual([
      [0, 2],
      [1.5, 3.5],
      [3, 5],
    ]);
    expect(spans(new UniformClipSampler({ clip_duration: 2, stride: 1.5, backpad_last: true }).clips(5.5))).toEqual([
      [0, 2],
      [1.5, 3.5],
      [3, 5],
      [3.5, 5.5],
    ]);
  });

  it("pytorchvideo's docstring case: 39 frames @30 fps, clip 32 frames, stride 16 (frames 0–31, then 7–38 with backpad)", () => {
    const plain = new UniformClipSampler({ clip_duration: '32/30', stride: '16/30' }).clips('39/30');
    expect(exact(plain)).toEqual(['0..16/15']);
    expect(plain[0]!.isLast).toBe(true);
    const padded = new UniformClipSampler({ clip_duration: '32/30', stride: '16/30', backpad_last: true }).clips('39/30');
    expect(exact(padded)).toEqual(['0..16/15', '7/30..13/10']);
    expect(lastFlags(padded)).toEqual([false, true]);
  });

  it('exact rationals: 64/3 s of 32/15 s clips is exactly 10 windows, the last ending at 64/3', () => {
    const ws = new UniformClipSampler({ clip_duration: '32/15' }).clips('64/3');
    expect(ws).toHaveLength(10);
    expect(ws[9]!.exact.end.toString()).toBe('64/3');
    expect(ws[9]!.isLast).toBe(true);
  });

  it('a number is its binary value: ten double-0.1 s clips overrun 1 s (9 windows), "1/10" fits 10', () => {
    expect(new UniformClipSampler({ clip_duration: 0.1 }).clips(1)).toHaveLength(9);
    expect(new UniformClipSampler({ clip_duration: '1/10' }).clips(1)).toHaveLength(10);
  });

  it('a video shorter than a clip gives one window [0, clip] (backpad cannot move it before 0)', () => {
    for (const backpad_last of [false, true]) {
      const ws = new UniformClipSampler({ clip_duration: 2, backpad_last }).clips(1.5);
      expect(spans(ws)).toEqual([[0, 2]]);
      expect(ws[0]!.isLast).toBe(true);
    }
  });

  it('next() is one pytorchvideo call from the last end time', () => {
    const s = new UniformClipSampler({ clip_duration: 2, stride: 1 });
    const w = s.next(4, 5, 3);
    expect([w.start, w.end, w.clipIndex, w.isLast]).toEqual([3, 5, 3, true]);
  });

  it('rejects a stride that is 0 or longer than the clip', () => {
    expect(() => new UniformClipSampler({ clip_duration: 2, stride: 3 })).toThrow(/stride must be > 0 and <= clip_duration/);
    expect(() => new UniformClipSampler({ clip_duration: 2, stride: 0 })).toThrow(/stride/);
  });
});

describe('constant_clips_per_video: pytorchvideo ConstantClipsPerVideoSampler (ml-spec §5)', () => {
  it('start_k = k·max(dur − clip, 0)/n — divided by n, so the last window does not reach the end', () => {
    const ws = new ConstantClipsPerVideoSampler({ clip_duration: 2, clips_per_video: 4 }).clips(10);
    expect(spans(ws)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
    expect(lastFlags(ws)).toEqual([false, false, false, true]);
  });

  it('exact thirds', () => {
    const ws = new ConstantClipsPerVideoSampler({ clip_duration: 3, clips_per_video: 3 }).clips(10);
    expect(exact(ws)).toEqual(['0..3', '7/3..16/3', '14/3..23/3']);
  });

  it('augs_per_clip repeats each window with aug_index 0..augs − 1; only the very last is last', () => {
    const ws = new ConstantClipsPerVideoSampler({ clip_duration: 2, clips_per_video: 2, augs_per_clip: 3 }).clips(6);
    expect(ws.map((w) => [w.start, w.clipIndex, w.augIndex, w.isLast])).toEqual([
      [0, 0, 0, false],
      [0, 0, 1, false],
      [0, 0, 2, false],
      [2, 1, 0, false],
      [2, 1, 1, false],
      [2, 1, 2, true],
    ]);
  });

  it('a video shorter than a clip: n windows at 0', () => {
    expect(spans(new ConstantClipsPerVideoSampler({ clip_duration: 2, clips_per_video: 3 }).clips(1))).toEqual([
      [0, 2],
      [0, 2],
      [0, 2],
    ]);
  });
});

describe('random_clip: pytorchvideo RandomClipSampler, seeded', () => {
  const s = new RandomClipSampler({ clip_duration: 2, seed: 5 });

  it('one window with start in [0, dur − clip], end = start + clip exactly, last', () => {
    for (let index = 0; index < 200; index++) {
      const [w, ...rest] = s.clips(7, { epoch: 0, index });
      expect(rest).toHaveLength(0);
      expect(w!.start).toBeGreaterThanOrEqual(0);
      expect(w!.start).toBeLessThanOrEqual(5);
      expect(w!.exact.end.sub(w!.exact.start).eq(2)).toBe(true);
      expect([w!.clipIndex, w!.augIndex, w!.isLast]).toEqual([0, 0, true]);
    }
  });

  it('reproducible for (seed, epoch, video); different across epochs, videos and seeds', () => {
    const at = (sampler: RandomClipSampler, epoch: number, index: number) => sampler.clips(7, { epoch, index })[0]!.start;
    expect(at(s, 3, 9)).toBe(at(new RandomClipSampler({ clip_duration: 2, seed: 5 }), 3, 9));
    expect(at(s, 3, 9)).not.toBe(at(s, 4, 9));
    expect(at(s, 3, 9)).not.toBe(at(s, 3, 10));
    expect(at(s, 3, 9)).not.toBe(at(new RandomClipSampler({ clip_duration: 2, seed: 6 }), 3, 9));
  });

  it('starts are uniform on [0, dur − clip]: mean ≈ 2.5, deciles ≈ 0.1 each', () => {
    const starts = Array.from({ length: 4000 }, (_, index) => s.clips(7, { index })[0]!.start);
    const mean = starts.reduce((a, b) => a + b, 0) / starts.length;
    expect(Math.abs(mean - 2.5)).toBeLessThan(0.1);
    const bins = new Array(10).fill(0);
    for (const x of starts) bins[Math.min(9, Math.floor(x / 0.5))]++;
    for (const b of bins) expect(Math.abs(b / 4000 - 0.1)).toBeLessThan(0.02);
  });

  it('a video shorter than a clip starts at 0', () => {
    expect(spans(s.clips(1.5, { index: 3 }))).toEqual([[0, 2]]);
  });
});

describe('recent_past: the [T − Δ, T] window before an anchor', () => {
  it('only the Δ seconds before T', () => {
    expect(spans(new RecentPastSampler({ past: 4 }).clips(20, { anchor: 10 }))).toEqual([[6, 10]]);
  });

  it('clamped at 0 near the video start', () => {
    expect(spans(new RecentPastSampler({ past: 4 }).clips(20, { anchor: 2.5 }))).toEqual([[0, 2.5]]);
    expect(spans(new RecentPastSampler({ past: 4 }).clips(20, { anchor: 0 }))).toEqual([[0, 0]]);
  });

  it('an anticipation gap τ: [T − τ − Δ, T − τ], clamped too', () => {
    expect(spans(new RecentPastSampler({ past: 4, gap: 1 }).clips(20, { anchor: 10 }))).toEqual([[5, 9]]);
    expect(spans(new RecentPastSampler({ past: 4, gap: 1 }).clips(20, { anchor: 0.5 }))).toEqual([[0, 0]]);
  });

  it('the anchor defaults to the video end; exact rationals', () => {
    const [w] = new RecentPastSampler({ past: '32/15' }).clips('10/3');
    expect(`${w!.exact.start}..${w!.exact.end}`).toBe('6/5..10/3');
    expect(w!.isLast).toBe(true);
  });

  it('an anchor outside the video is an error', () => {
    expect(() => new RecentPastSampler({ past: 4 }).clips(20, { anchor: 21 })).toThrow(/outside the video/);
    expect(() => new RecentPastSampler({ past: 4 }).clips(20, { anchor: -1 })).toThrow(/outside the video/);
  });
});

describe('clip samplers from config', () => {
  it('builds each with schema defaults; exact strings pass the schema', () => {
    const u = build<ClipSampler>('sampler', 'uniform', { clip_duration: '32/30', stride: '16/30', backpad_last: true });
    expect(u.type).toBe('clip');
    expect(exact(u.clips('39/30'))).toEqual(['0..16/15', '7/30..13/10']);
    const c = build<ClipSampler>('sampler', 'constant_clips_per_video', { clip_duration: 2, clips_per_video: 4 });
    expect(c.clips(10)).toHaveLength(4);
    const r = build<ClipSampler>('sampler', 'random_clip', { clip_duration: 2 });
    expect(r.clips(7, { index: 1 })[0]!.start).toBe(new RandomClipSampler({ clip_duration: 2, seed: 0 }).clips(7, { index: 1 })[0]!.start);
    const p = build<ClipSampler>('sampler', 'recent_past', { past: 4 });
    expect(spans(p.clips(20, { anchor: 3 }))).toEqual([[0, 3]]);
  });

  it('validates keys', () => {
    expect(() => build('sampler', 'uniform', {})).toThrow(/clip_duration/);
    expect(() => build('sampler', 'uniform', { clip_duration: 'two' })).toThrow(/clip_duration/);
    expect(() => build('sampler', 'constant_clips_per_video', { clip_duration: 2, clips: 4 })).toThrow(/'sampler.clips' is not a key/);
    expect(() => build('sampler', 'uniform', { clip_duration: 1, stride: 2 })).toThrow(/stride must be/);
  });
});
