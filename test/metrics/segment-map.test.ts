import { describe, expect, it } from 'vitest';
import { classSegments, segmentMeanAveragePrecision, segmentOf } from '../../plugins/metrics/segment-map.ts';

// Three classes whose APs are known (see average-precision.test.ts):
//   class 0: scores .9 .8 .7 .6, labels 1 0 1 0 → 5/6
//   class 1: scores .1 .2 .3 .4, labels 0 0 0 1 → 1
//   class 2: scores .9 .5 .5 .1, labels 0 1 0 1 → 5/12
const S = [
  [0.9, 0.1, 0.9],
  [0.8, 0.2, 0.5],
  [0.7, 0.3, 0.5],
  [0.6, 0.4, 0.1],
];
const Y = [
  [1, 0, 0],
  [0, 0, 1],
  [1, 0, 0],
  [0, 1, 1],
];

describe('segmentOf: the boundaries 99 / 100 / 101 / 500 / 501 under both conventions', () => {
  const cases: [number, string, string][] = [
    // count, paper (tail < 100 ≤ middle ≤ 500 < head), videolt (tail ≤ 100 < middle ≤ 500 < head)
    [0, 'tail', 'tail'],
    [99, 'tail', 'tail'],
    [100, 'middle', 'tail'],
    [101, 'middle', 'middle'],
    [500, 'middle', 'middle'],
    [501, 'head', 'head'],
    [10_000, 'head', 'head'],
  ];
  for (const [count, paper, videolt] of cases) {
    it(`${count} training samples: ${paper} (paper), ${videolt} (videolt)`, () => {
      expect(segmentOf(count, 'paper')).toBe(paper);
      expect(segmentOf(count, 'videolt')).toBe(videolt);
    });
  }

  it("'paper' is the default; counts must be non-negative integers", () => {
    expect(classSegments([99, 100, 501])).toEqual(['tail', 'middle', 'head']);
    expect(() => classSegments([10, -1])).toThrow(/trainClassCounts\[1\]: a training-sample count must be a non-negative integer/);
    expect(() => segmentOf(1.5)).toThrow(/non-negative integer/);
  });
});

describe('segmentMeanAveragePrecision: get_map on each segment’s columns', () => {
  it('paper, counts [100, 501, 50]: middle = class 0 (5/6), head = class 1 (1), tail = class 2 (5/12); overall (5/6 + 1 + 5/12)/3 = 3/4', () => {
    const r = segmentMeanAveragePrecision(S, Y, [100, 501, 50], { convention: 'paper' });
    expect(r.middle).toBeCloseTo(5 / 6, 12);
    expect(r.head).toBe(1);
    expect(r.tail).toBeCloseTo(5 / 12, 12);
    expect(r.overall).toBeCloseTo(3 / 4, 12);
  });

  it('videolt, same counts: 100 is tail, so tail = (5/6 + 5/12)/2 = 5/8 and the middle has no class: NaN', () => {
    const r = segmentMeanAveragePrecision(S, Y, [100, 501, 50], { convention: 'videolt' });
    expect(r.tail).toBeCloseTo(5 / 8, 12);
    expect(r.middle).toBeNaN();
    expect(r.head).toBe(1);
    expect(r.overall).toBeCloseTo(3 / 4, 12);
  });

  it('segments read from the data override the counts', () => {
    const r = segmentMeanAveragePrecision(S, Y, [100, 501, 50], { segments: ['tail', 'head', 'middle'] });
    expect(r).toEqual({ head: 1, middle: expect.closeTo(5 / 12, 12), tail: expect.closeTo(5 / 6, 12), overall: expect.closeTo(3 / 4, 12) });
    expect(segmentMeanAveragePrecision(S, Y, null, { segments: ['tail', 'head', 'middle'] }).head).toBe(1);
  });

  it('classes without positives are dropped inside a segment; a segment with only such classes is 0 (get_map), not NaN', () => {
    // A fourth class with no positive at all.
    const s = S.map((row, i) => [...row, i / 10]);
    const y = Y.map((row) => [...row, 0]);
    // head = {class 1, class 3}: class 3 dropped → 1.
    expect(segmentMeanAveragePrecision(s, y, [100, 501, 50, 600]).head).toBe(1);
    // tail = {class 3} only → every class dropped → 0.
    const r = segmentMeanAveragePrecision(s, y, [100, 501, 200, 20]);
    expect(r.tail).toBe(0);
    expect(r.overall).toBeCloseTo(3 / 4, 12);
  });

  it('checks that counts or segments cover every class', () => {
    expect(() => segmentMeanAveragePrecision(S, Y, [100, 501])).toThrow(/trainClassCounts lists 2 classes but the scores have 3/);
    expect(() => segmentMeanAveragePrecision(S, Y, null)).toThrow(/needs the training-sample count of every class/);
    expect(() => segmentMeanAveragePrecision(S, Y, null, { segments: ['head', 'body' as never, 'tail'] })).toThrow(/segments\[1\] must be head, middle or tail/);
  });
});
