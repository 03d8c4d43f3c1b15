import { describe, expect, it } from 'vitest';
import { topkAccuracy, topkCorrect, topkIndices } from '../../plugins/metrics/topk.ts';

describe('topkIndices: highest first, ties to the lower index (torch.topk on CPU)', () => {
  it('orders by score, then by index among equal scores', () => {
    expect(topkIndices([0.1, 0.5, 0.5, 0.2], 4)).toEqual([1, 2, 3, 0]);
    expect(topkIndices([0.3, 0.3, 0.3], 2)).toEqual([0, 1]);
    expect(topkIndices([-Infinity, 0, Infinity], 1)).toEqual([2]);
  });
});

describe('topkAccuracy, single-label (SlowFast topks_correct): the label is among the k highest scores', () => {
  const scores = [
    [0.1, 0.5, 0.5, 0.2], // tie between classes 1 and 2
    [0.7, 0.1, 0.1, 0.1],
    [0.2, 0.3, 0.4, 0.1],
  ];

  it('a tied label loses top-1 to the lower index: labels [2, 0, 3] → top-1 1/3 (only row 1), top-2 2/3, top-4 1', () => {
    const labels = [2, 0, 3];
    expect(topkCorrect(scores, labels, 1)).toEqual([false, true, false]);
    expect(topkAccuracy(scores, labels, 1)).toBeCloseTo(1 / 3, 12);
    expect(topkAccuracy(scores, labels, 2)).toBeCloseTo(2 / 3, 12);
    expect(topkAccuracy(scores, labels, 4)).toBe(1);
  });

  it('the lower tied index is in the top-1', () => {
    expect(topkAccuracy([[0.1, 0.5, 0.5, 0.2]], [1], 1)).toBe(1);
  });

  it('k must be a positive integer no larger than the number of classes; labels must be class indices', () => {
    expect(() => topkAccuracy(scores, [0, 0, 0], 5)).toThrow(/top-5 accuracy needs at least 5 classes; the scores have 4/);
    expect(() => topkAccuracy(scores, [0, 0, 0], 0)).toThrow(/k must be a positive integer/);
    expect(() => topkAccuracy(scores, [0, 4, 0], 1)).toThrow(/labels\[1\] must be a class index, an integer in \[0, 3\]/);
    expect(() => topkAccuracy(scores, [0, 0], 1)).toThrow(/2 entries but the scores have 3 rows/);
  });
});

describe('topkAccuracy, multi-label (VideoLT): correct when any of the top k is a positive', () => {
  const scores = [
    [0.3, 0.2, 0.9, 0.1],
    [0.5, 0.4, 0.3, 0.2],
    [0.9, 0.8, 0.7, 0.6],
  ];
  const labels = [
    [1, 0, 0, 0],
    [0, 0, 0, 1],
    [0, 0, 0, 0], // no positive: never correct, still counted
  ];

  it('top-1: row 0 picks class 2 (negative), row 1 class 0 (negative) → 0', () => {
    expect(topkAccuracy(scores, labels, 1)).toBe(0);
  });

  it('top-2: row 0 {2, 0} hits class 0; row 1 {0, 1} misses → 1/3', () => {
    expect(topkAccuracy(scores, labels, 2)).toBeCloseTo(1 / 3, 12);
  });

  it('top-4: rows 0 and 1 hit; the row without positives never does → 2/3', () => {
    expect(topkAccuracy(scores, labels, 4)).toBeCloseTo(2 / 3, 12);
  });

  it('ties: the lower index enters the top k first', () => {
    // Classes 1 and 2 tie; only class 2 is positive: top-1 picks class 1 → wrong, top-2 → right.
    expect(topkAccuracy([[0.1, 0.6, 0.6]], [[0, 0, 1]], 1)).toBe(0);
    expect(topkAccuracy([[0.1, 0.6, 0.6]], [[0, 0, 1]], 2)).toBe(1);
  });
});
