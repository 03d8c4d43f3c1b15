import { describe, expect, it } from 'vitest';
import { cutClips, EGOADAPT_CLIP_SECONDS, fifoSegments } from '../../plugins/datasets/user-stream.ts';

const e = (clip: string, start: number, end: number) => ({ clip_uid: clip, action_clip_start_sec: start, action_clip_end_sec: end });

describe('EgoAdapt FIFO overlap policy (annotation_fifo_policy)', () => {
  it('keeps non-overlapping actions whole', () => {
    const r = fifoSegments([e('a', 0, 3), e('a', 3, 6), e('a', 7, 8)]);
    expect(r.segments.map((s) => [s.start, s.end])).toEqual([
      [0, 3],
      [3, 6],
      [7, 8],
    ]);
    expect([r.dropped, r.trimmed]).toEqual([0, 0]);
  });

  it('moves an overlapping start to the previous end, drops covered or too-short remainders', () => {
    const r = fifoSegments([e('a', 0, 5), e('a', 2, 10), e('a', 4, 9), e('a', 9, 11), e('a', 9.5, 12)], 2);
    // [2, 10] → [5, 10]; [4, 9] is covered; [9, 11] → 11 − 10 = 1 < 2 s: dropped; [9.5, 12] → 12 − 10 = 2 ≥ 2: trimmed to [10, 12].
    expect(r.segments.map((s) => [s.start, s.end])).toEqual([
      [0, 5],
      [5, 10],
      [10, 12],
    ]);
    expect([r.dropped, r.trimmed]).toEqual([2, 2]);
  });

  it('resets at each new 5-min clip', () => {
    const r = fifoSegments([e('a', 0, 50), e('b', 1, 3)]);
    expect(r.segments.map((s) => [s.entry.clip_uid, s.start])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
  });
});

describe('cutting segments into 2.133 s clips (UniformClipSampler, stride = clip, no back-padding)', () => {
  const c = EGOADAPT_CLIP_SECONDS;
  const count = (len: number) => cutClips([{ entry: 0, start: 10, end: 10 + len }]).length;

  it('takes floor(duration / clip) clips, and always at least one', () => {
    expect(c).toBeCloseTo(2.1333333, 6);
    expect([0.5, c - 0.01, c, c + 0.01, 2 * c - 0.01, 2 * c, 5 * c + 1].map(count)).toEqual([1, 1, 1, 1, 1, 2, 5]);
  });

  it('clips are consecutive from the segment start', () => {
    const clips = cutClips([{ entry: 'x', start: 1, end: 1 + 3 * c }]);
    expect(clips.map((k) => [k.clipIndex, k.start, k.end].map((v) => Number(v.toFixed(6))))).toEqual([
      [0, 1, 1 + c].map((v) => Number(v.toFixed(6))),
      [1, 1 + c, 1 + 2 * c].map((v) => Number(v.toFixed(6))),
      [2, 1 + 2 * c, 1 + 3 * c].map((v) => Number(v.toFixed(6))),
    ]);
  });
});
