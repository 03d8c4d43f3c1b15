import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  classAveragePrecisions,
  meanAveragePrecision,
  rankAveragePrecision,
} from '../../plugins/metrics/average-precision.ts';
import { MetricInputError } from '../../plugins/metrics/inputs.ts';
import { rng } from './helpers.ts';

// The hand-computed values below were also checked against sklearn 1.9.1 `average_precision_score`.

// Three classes, four samples.
//   class 0: scores .9 .8 .7 .6, labels 1 0 1 0  (no ties)
//   class 1: scores .9 .5 .5 .1, labels 0 1 0 1  (a tie between a positive and a negative)
//   class 2: no positive at all
const S = [
  [0.9, 0.9, 0.3],
  [0.8, 0.5, 0.1],
  [0.7, 0.5, 0.6],
  [0.6, 0.1, 0.4],
];
const Y = [
  [1, 0, 0],
  [0, 1, 0],
  [1, 0, 0],
  [0, 1, 0],
];

/** sklearn AP by brute force: every distinct threshold t, predicted positive = score ≥ t, Σ (R_t − R_prev) P_t. */
function bruteForceAp(scores: number[], labels: number[]): number {
  const p = labels.filter((y) => y === 1).length;
  if (p === 0) return 0;
  const thresholds = [...new Set(scores)].sort((a, b) => b - a);
  let prevRecall = 0;
  let ap = 0;
  for (const t of thresholds) {
    let tp = 0;
    let fp = 0;
    scores.forEach((s, i) => {
      if (s >= t) labels[i] === 1 ? tp++ : fp++;
    });
    const recall = tp / p;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

describe('averagePrecision: sklearn semantics, tied scores form one threshold', () => {
  it('no ties: thresholds .9 (P 1, R 1/2) and .7 (P 2/3, R 1): AP = 1/2·1 + 1/2·2/3 = 5/6', () => {
    expect(averagePrecision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0])).toBeCloseTo(5 / 6, 12);
  });

  it('a tie block enters at once: .9 is a negative; the .5 block (1 pos, 1 neg) gives P = 1/3 at R = 1/2; .1 gives P = 2/4 at R = 1 → 1/6 + 1/4 = 5/12', () => {
    expect(averagePrecision([0.9, 0.5, 0.5, 0.1], [0, 1, 0, 1])).toBeCloseTo(5 / 12, 12);
  });

  it('the order of tied rows does not matter (the positive second in the tie gives the same 5/12)', () => {
    expect(averagePrecision([0.9, 0.5, 0.5, 0.1], [0, 0, 1, 1])).toBeCloseTo(5 / 12, 12);
  });

  it('all scores tied: one threshold, AP = the positive rate', () => {
    expect(averagePrecision([0.3, 0.3, 0.3, 0.3], [1, 0, 0, 0])).toBeCloseTo(1 / 4, 12);
  });

  it('a class without positives is 0 (sklearn ≥ 1.1), and a perfectly ranked class is 1', () => {
    expect(averagePrecision([0.1, 0.2, 0.3], [0, 0, 0])).toBe(0);
    expect(averagePrecision([0.1, 0.2, 0.9], [0, 0, 1])).toBe(1);
  });

  it('agrees with a brute-force threshold enumeration on random cases with many ties', () => {
    const r = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 12);
      const scores = Array.from({ length: n }, () => Math.floor(r() * 5) / 4);
      const labels = Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
      expect(averagePrecision(scores, labels)).toBeCloseTo(bruteForceAp(scores, labels), 12);
    }
  });

  it('−∞ scores are valid (they rank last); NaN is rejected', () => {
    expect(averagePrecision([-Infinity, 0.5], [1, 0])).toBeCloseTo(1 / 2, 12);
    expect(() => averagePrecision([NaN, 0.5], [1, 0])).toThrow(MetricInputError);
    expect(() => averagePrecision([0.1, 0.5], [1, 2])).toThrow(/must be 0 or 1/);
    expect(() => averagePrecision([0.1], [1, 0])).toThrow(/1 scores but 2 labels/);
  });
});

describe('rankAveragePrecision: torchnet APMeter, ties in row order', () => {
  it('no ties: the same 5/6 as sklearn (positives at ranks 1 and 3: (1 + 2/3) / 2)', () => {
    expect(rankAveragePrecision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0])).toBeCloseTo(5 / 6, 12);
  });

  it('ties are not grouped: positive first in the tie → ranks 2, 4 → (1/2 + 2/4)/2 = 1/2; positive second → ranks 3, 4 → (1/3 + 1/2)/2 = 5/12', () => {
    expect(rankAveragePrecision([0.9, 0.5, 0.5, 0.1], [0, 1, 0, 1])).toBeCloseTo(1 / 2, 12);
    expect(rankAveragePrecision([0.9, 0.5, 0.5, 0.1], [0, 0, 1, 1])).toBeCloseTo(5 / 12, 12);
  });

  it('a class without positives is 0 (sum / max(#pos, 1))', () => {
    expect(rankAveragePrecision([0.1, 0.2], [0, 0])).toBe(0);
  });
});

describe('meanAveragePrecision: the four modes on one matrix (class APs 5/6, tie class, empty class)', () => {
  it('slowfast (default, SlowFast get_map): the empty class is dropped → (5/6 + 5/12) / 2 = 5/8', () => {
    expect(meanAveragePrecision(S, Y)).toBeCloseTo(5 / 8, 12);
    expect(meanAveragePrecision(S, Y, { mode: 'slowfast' })).toBeCloseTo(5 / 8, 12);
  });

  it('sklearn (macro): the empty class counts 0 → (5/6 + 5/12 + 0) / 3 = 5/12', () => {
    expect(meanAveragePrecision(S, Y, { mode: 'sklearn' })).toBeCloseTo(5 / 12, 12);
  });

  it('rank (torchnet): tie class 1/2, empty class 0 kept → (5/6 + 1/2 + 0) / 3 = 4/9', () => {
    expect(meanAveragePrecision(S, Y, { mode: 'rank' })).toBeCloseTo(4 / 9, 12);
  });

  it('charades: the empty class is NaN so the mean is NaN; nanmean → (5/6 + 1/2) / 2 = 2/3', () => {
    expect(meanAveragePrecision(S, Y, { mode: 'charades' })).toBeNaN();
    expect(meanAveragePrecision(S, Y, { mode: 'charades', nanmean: true })).toBeCloseTo(2 / 3, 12);
  });

  it('per-class values: NaN marks what a mode leaves out of its mean', () => {
    const sf = classAveragePrecisions(S, Y);
    expect(sf[0]).toBeCloseTo(5 / 6, 12);
    expect(sf[1]).toBeCloseTo(5 / 12, 12);
    expect(sf[2]).toBeNaN();
    expect(classAveragePrecisions(S, Y, { mode: 'sklearn' })[2]).toBe(0);
    expect(classAveragePrecisions(S, Y, { mode: 'rank' })[2]).toBe(0);
  });

  it('charades pushes rows without labels to −∞; rank mode does not', () => {
    // A fifth row with no label but the highest scores [1, 1, 1].
    const s = [...S, [1, 1, 1]];
    const y = [...Y, [0, 0, 0]];
    // charades: the row goes to the bottom, nothing changes → 2/3 with nanmean.
    expect(meanAveragePrecision(s, y, { mode: 'charades', nanmean: true })).toBeCloseTo(2 / 3, 12);
    // rank: class 0 order: row4(0) row0(1) row1(0) row2(1) row3(0) → (1/2 + 2/4)/2 = 1/2;
    //       class 1 order: row4(0) row0(0) row1(1) row2(0) row3(1) → (1/3 + 2/5)/2 = 11/30;
    //       mean with the empty class: (1/2 + 11/30 + 0)/3 = 13/45.
    expect(meanAveragePrecision(s, y, { mode: 'rank' })).toBeCloseTo(13 / 45, 12);
  });

  it('no positive anywhere: slowfast 0 (get_map catches the ValueError: mean([0])), sklearn 0, rank 0, charades NaN even with nanmean', () => {
    const s = [
      [0.2, 0.4],
      [0.6, 0.1],
    ];
    const y = [
      [0, 0],
      [0, 0],
    ];
    expect(meanAveragePrecision(s, y)).toBe(0);
    expect(meanAveragePrecision(s, y, { mode: 'sklearn' })).toBe(0);
    expect(meanAveragePrecision(s, y, { mode: 'rank' })).toBe(0);
    expect(meanAveragePrecision(s, y, { mode: 'charades', nanmean: true })).toBeNaN();
  });

  it('slowfast equals the mean of brute-force APs over the classes with a positive, on random matrices', () => {
    const r = rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const n = 2 + Math.floor(r() * 10);
      const c = 1 + Math.floor(r() * 6);
      const s = Array.from({ length: n }, () => Array.from({ length: c }, () => Math.floor(r() * 4) / 3));
      const y = Array.from({ length: n }, () => Array.from({ length: c }, () => (r() < 0.3 ? 1 : 0)));
      const aps: number[] = [];
      for (let j = 0; j < c; j++) {
        const col = y.map((row) => row[j]!);
        if (col.some((v) => v === 1)) aps.push(bruteForceAp(s.map((row) => row[j]!), col));
      }
      const expected = aps.length ? aps.reduce((a, b) => a + b, 0) / aps.length : 0;
      expect(meanAveragePrecision(s, y)).toBeCloseTo(expected, 12);
    }
  });
});

describe('meanAveragePrecision: input validation', () => {
  it('rejects mismatched shapes, non-0/1 labels, class indices and unknown modes with clear messages', () => {
    expect(() => meanAveragePrecision([[0.1, 0.2]], [[1, 0, 0]])).toThrow(/labels\[0\] has 3 columns but the scores have 2/);
    expect(() => meanAveragePrecision([[0.1, 0.2]], [[1, 0], [0, 1]])).toThrow(/2 rows but the scores have 1/);
    expect(() => meanAveragePrecision([[0.1, 0.2], [0.3]], [[1, 0], [0, 1]])).toThrow(/ragged/);
    expect(() => meanAveragePrecision([[0.1, 0.2]], [[0.5, 0]])).toThrow(/labels\[0\]\[0\] must be 0 or 1/);
    expect(() => meanAveragePrecision([[0.1, 0.2]], [1] as unknown as number[][])).toThrow(/class indices are not multi-hot/);
    expect(() => meanAveragePrecision([], [])).toThrow(/non-empty/);
    expect(() => meanAveragePrecision(S, Y, { mode: 'macro' as never })).toThrow(/unknown mAP mode "macro"; the modes are slowfast, sklearn, rank, charades/);
  });
});
