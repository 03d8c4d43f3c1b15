import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/random.ts';
import type { QuadraticPenalty } from '../../plugins/strategies/events.ts';
import { foldPenalty } from '../../plugins/strategies/fold-penalty.ts';
import { penaltyGradient, penaltyValue } from '../../plugins/strategies/penalty.ts';

const r = mulberry32(21);
const vec = (n: number, scale = 1) => Float64Array.from({ length: n }, () => scale * (r() - 0.5));
const abs = (v: Float64Array) => v.map(Math.abs);

describe('foldPenalty: a sum of quadratic terms as one term plus a constant', () => {
  // Two past experiences (EWC separate mode); the second does not cover the head's new bias.
  const penalty: QuadraticPenalty = {
    name: 'ewc',
    kind: 'quadratic',
    terms: [
      { scale: 50, importance: { w: abs(vec(5)), b: abs(vec(2)) }, anchor: { w: vec(5), b: vec(2) } },
      { scale: 50, importance: { w: abs(vec(5)) }, anchor: { w: vec(5) } },
    ],
  };
  const folded = foldPenalty(penalty, { w: 5, b: 2, extra: 3 });

  it('has the same value and gradient as the terms at any θ', () => {
    for (let trial = 0; trial < 5; trial++) {
      const theta = { w: vec(5, 4), b: vec(2, 4), extra: vec(3, 4) };
      let value = folded.constant;
      const grad: Record<string, number[]> = {};
      for (const [k, t] of Object.entries(theta)) {
        grad[k] = Array.from(t, (v, j) => 2 * folded.weight[k]![j]! * (v - folded.anchor[k]![j]!));
        t.forEach((v, j) => (value += folded.weight[k]![j]! * (v - folded.anchor[k]![j]!) ** 2));
      }
      expect(value).toBeCloseTo(penaltyValue(penalty, theta), 10);
      const want = penaltyGradient(penalty, theta);
      for (const k of Object.keys(theta)) grad[k]!.forEach((g, j) => expect(g).toBeCloseTo(want[k]![j]!, 10));
    }
  });

  it('gives zero weight to parameters no term covers, and says when shapes disagree', () => {
    expect(Array.from(folded.weight.extra!)).toEqual([0, 0, 0]);
    expect(() => foldPenalty(penalty, { w: 4 })).toThrow("ewc penalty: 'w' has 4 values, its anchor 5 and importance 5");
  });
});
