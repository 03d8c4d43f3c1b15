import { describe, expect, it } from 'vitest';
import {
  backwardTransfer,
  experienceForgetting,
  experienceForwardTransfer,
  forwardTransfer,
  gemBackwardTransfer,
  streamAccuracy,
  streamForgetting,
} from '../../plugins/metrics/continual.ts';
import { rng } from './helpers.ts';

// R[i][j]: accuracy on experience j after training experience i (3 experiences, all evaluated each time).
const R = [
  [0.9, 0.1, 0.2],
  [0.95, 0.8, 0.3], // training experience 1 IMPROVED experience 0 (0.9 → 0.95)
  [0.5, 0.7, 0.9],
];
const n = [300, 100, 100];
const b = [0.1, 0.2, 0.25]; // accuracies before any training

describe('streamAccuracy: Avalanche Top1_Acc_Stream is pattern-weighted over the whole stream', () => {
  it('after experience 2: (300·0.5 + 100·0.7 + 100·0.9) / 500 = 0.62, not the unweighted 0.7', () => {
    expect(streamAccuracy(R, n, 2)).toBeCloseTo(0.62, 12);
  });

  it('after experience 0 it includes the experiences not trained yet: (270 + 10 + 20) / 500 = 0.6', () => {
    expect(streamAccuracy(R, n, 0)).toBeCloseTo(0.6, 12);
  });

  it('needs every entry of the row and a count per experience', () => {
    expect(() => streamAccuracy([[0.5, undefined]], [1, 1], 0)).toThrow(/R\[0\]\[1\] is missing/);
    expect(() => streamAccuracy(R, [1, 1], 0)).toThrow(/R\[0\] has 3 experiences but n has 2 pattern counts/);
  });
});

describe('forgetting: the value right after training j minus the latest (not the max over the past)', () => {
  it('ExperienceForgetting at i = 2: j = 0 → R[0][0] − R[2][0] = 0.9 − 0.5 = 0.4 (Chaudhry’s max would give 0.95 − 0.5 = 0.45); j = 1 → 0.8 − 0.7 = 0.1', () => {
    expect(experienceForgetting(R, 2, 0)).toBeCloseTo(0.4, 12);
    expect(experienceForgetting(R, 2, 1)).toBeCloseTo(0.1, 12);
  });

  it('only for already-trained j < i: the current and future experiences have none', () => {
    expect(experienceForgetting(R, 2, 2)).toBeUndefined();
    expect(experienceForgetting(R, 1, 2)).toBeUndefined();
  });

  it('StreamForgetting is the unweighted mean over the available j: (0.4 + 0.1)/2 = 0.25 at i = 2; 0.9 − 0.95 = −0.05 at i = 1; 0 at i = 0 (no value)', () => {
    expect(streamForgetting(R, 2)).toBeCloseTo(0.25, 12);
    expect(streamForgetting(R)).toBeCloseTo(0.25, 12);
    expect(streamForgetting(R, 1)).toBeCloseTo(-0.05, 12);
    expect(streamForgetting(R, 0)).toBe(0);
  });

  it('missing entries are skipped, not counted as 0', () => {
    const partial = [
      [0.9, undefined],
      [0.7, NaN], // R[1][1] was not evaluated: no forgetting value for j = 1
      [0.6, 0.5],
    ];
    expect(streamForgetting(partial, 2)).toBeCloseTo(0.3, 12); // only j = 0: 0.9 − 0.6 (counting j = 1 as 0 would give 0.15)
    expect(streamForgetting([[0.9], [undefined]], 1)).toBe(0);
  });
});

describe('BWT = −Forgetting, and at the end it is GEM’s BWT', () => {
  it('on the example: BWT = −0.25 = ((0.5 − 0.9) + (0.7 − 0.8)) / 2', () => {
    expect(backwardTransfer(R)).toBeCloseTo(-0.25, 12);
    expect(gemBackwardTransfer(R)).toBeCloseTo(-0.25, 12);
  });

  it('the identity holds on random square accuracy matrices', () => {
    const r = rng(5);
    for (let trial = 0; trial < 50; trial++) {
      const t = 2 + Math.floor(r() * 6);
      const m = Array.from({ length: t }, () => Array.from({ length: t }, () => r()));
      expect(backwardTransfer(m, t - 1)).toBeCloseTo(gemBackwardTransfer(m), 12);
    }
  });

  it('GEM BWT needs two experiences', () => {
    expect(() => gemBackwardTransfer([[0.5]])).toThrow(/at least two/);
  });
});

describe('forward transfer: R[j−1][j] − b_j, needing the accuracies before training', () => {
  it('ExperienceForwardTransfer: j = 1 → 0.1 − 0.2 = −0.1; j = 2 → 0.3 − 0.25 = 0.05; none for j = 0', () => {
    expect(experienceForwardTransfer(R, b, 1)).toBeCloseTo(-0.1, 12);
    expect(experienceForwardTransfer(R, b, 2)).toBeCloseTo(0.05, 12);
    expect(experienceForwardTransfer(R, b, 0)).toBeUndefined();
  });

  it('StreamForwardTransfer is the mean over the j that exist: −0.1 after experience 0 (only j = 1), (−0.1 + 0.05)/2 = −0.025 at the end', () => {
    expect(forwardTransfer(R, b, 0)).toBeCloseTo(-0.1, 12);
    expect(forwardTransfer(R, b)).toBeCloseTo(-0.025, 12);
  });

  it('without b (no evaluation before training) it is an error that says what is missing', () => {
    expect(() => forwardTransfer(R, undefined)).toThrow(/needs b, the accuracy on every experience BEFORE any training .*eval_every > −1/);
    expect(() => experienceForwardTransfer(R, undefined, 1)).toThrow(/before any training/i);
  });
});
