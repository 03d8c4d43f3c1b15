import { describe, expect, it } from 'vitest';
import { minAcc, wcAcc, windowedForgetting, windowedPlasticity } from '../../plugins/metrics/stability-gap.ts';

// Task 0's accuracy evaluated after every iteration: three while it trains, three while task 1 trains.
// The drop to 0.4 right after the switch is the stability gap; the end-of-task accuracy (0.85) hides it.
const curve = [0.2, 0.6, 0.9, 0.4, 0.7, 0.85];

describe('min-ACC: the worst accuracy after the task’s training ended', () => {
  it('from the first evaluation after training (index 3): min(0.4, 0.7, 0.85) = 0.4', () => {
    expect(minAcc(curve, 3)).toBe(0.4);
  });

  it('NaN while there is no evaluation after training yet', () => {
    expect(minAcc(curve, 6)).toBeNaN();
  });
});

describe('WC-ACC = (1/K)·A_cur + (1 − 1/K)·avg-min-ACC', () => {
  it('K = 2: current 0.8, min-ACC 0.4 → 0.6', () => {
    expect(wcAcc(0.8, [0.4])).toBeCloseTo(0.6, 12);
  });

  it('K = 3: current 0.9, min-ACCs 0.3 and 0.5 → (1/3)·0.9 + (2/3)·0.4 = 0.5666…', () => {
    expect(wcAcc(0.9, [0.3, 0.5])).toBeCloseTo((1 / 3) * 0.9 + (2 / 3) * 0.4, 12);
  });

  it('the first task: WC-ACC is its current accuracy', () => {
    expect(wcAcc(0.7, [])).toBe(0.7);
  });
});

describe('windowed forgetting / plasticity: the largest drop / rise within w consecutive evaluations', () => {
  it('the stability-gap curve: WF² = 0.9 − 0.4 = 0.5; WP² = 0.6 − 0.2 = 0.4; WP³ = 0.9 − 0.2 = 0.7', () => {
    expect(windowedForgetting(curve, 2)).toBeCloseTo(0.5, 12);
    expect(windowedPlasticity(curve, 2)).toBeCloseTo(0.4, 12);
    expect(windowedPlasticity(curve, 3)).toBeCloseTo(0.7, 12);
  });

  it('the window bounds how far apart the two evaluations may be: a steady decline 1.0, 0.9, 0.8, 0.7 gives 0.1, 0.2, 0.3 for w = 2, 3, 4', () => {
    const decline = [1.0, 0.9, 0.8, 0.7];
    expect(windowedForgetting(decline, 2)).toBeCloseTo(0.1, 12);
    expect(windowedForgetting(decline, 3)).toBeCloseTo(0.2, 12);
    expect(windowedForgetting(decline, 4)).toBeCloseTo(0.3, 12);
    expect(windowedForgetting(decline, 1)).toBe(0); // one evaluation per window: no pair
  });

  it('never negative: a rising curve has WF 0, a falling one WP 0', () => {
    expect(windowedForgetting([0.1, 0.2, 0.3], 3)).toBe(0);
    expect(windowedPlasticity([0.3, 0.2, 0.1], 3)).toBe(0);
  });
});
