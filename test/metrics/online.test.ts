import { describe, expect, it } from 'vitest';
import { balancedAccuracy, OnlineAccuracy, onlineAdaptationGain, UserAdaptationGain, userMacro } from '../../plugins/metrics/online.ts';

// Two user streams, predict-then-update. (verbPred, nounPred | verbLabel, nounLabel)
//   u1: (1,1 | 1,1) ✓✓ action ✓   (1,2 | 1,1) ✓✗ ✗   (2,3 | 1,3) ✗✓ ✗   (1,1 | 1,1) ✓✓ ✓
//       verb 3/4, noun 3/4, action 2/4
//   u2: (0,0 | 5,5) ✗✗ ✗  → all 0
const steps = [
  { user: 'u1', verbPred: 1, nounPred: 1, verbLabel: 1, nounLabel: 1 },
  { user: 'u1', verbPred: 1, nounPred: 2, verbLabel: 1, nounLabel: 1 },
  { user: 'u1', verbPred: 2, nounPred: 3, verbLabel: 1, nounLabel: 3 },
  { user: 'u2', verbPred: 0, nounPred: 0, verbLabel: 5, nounLabel: 5 },
  { user: 'u1', verbPred: 1, nounPred: 1, verbLabel: 1, nounLabel: 1 },
];

describe('OnlineAccuracy: an action is correct iff verb and noun are; averaged per user, then over users', () => {
  const acc = new OnlineAccuracy();
  acc.update(steps);

  it('per user: u1 verb 3/4, noun 3/4, action 1/2 over 4 steps; u2 all 0 over 1 step', () => {
    const per = acc.perUser();
    expect(per.u1).toMatchObject({ verb: 0.75, noun: 0.75, action: 0.5, steps: 4 });
    expect(per.u2).toMatchObject({ verb: 0, noun: 0, action: 0, steps: 1 });
  });

  it('user-macro action (1/2 + 0)/2 = 1/4, not the pooled 2/5; verb 3/8, not the pooled 3/5', () => {
    const macro = acc.compute();
    expect(macro.action).toBeCloseTo(0.25, 12);
    expect(macro.verb).toBeCloseTo(0.375, 12);
    const pooled = acc.pooled();
    expect(pooled.action).toBeCloseTo(0.4, 12);
    expect(pooled.verb).toBeCloseTo(0.6, 12);
  });

  it('balanced action accuracy: u1 has actions (1,1) ×3 with 2 right and (1,3) ×1 wrong → (2/3 + 0)/2 = 1/3; macro (1/3 + 0)/2 = 1/6', () => {
    expect(acc.perUser().u1!.balancedAction).toBeCloseTo(1 / 3, 12);
    expect(acc.compute().balancedAction).toBeCloseTo(1 / 6, 12);
    // u1's verbs are all class 1 → balanced verb = plain verb accuracy 3/4.
    expect(acc.perUser().u1!.balancedVerb).toBeCloseTo(0.75, 12);
  });

  it('reset clears every stream; compute with nothing fed is an error', () => {
    const a = new OnlineAccuracy();
    a.update(steps[0]!);
    a.reset();
    expect(a.users()).toEqual([]);
    expect(() => a.compute()).toThrow(/no steps were fed/);
    expect(() => a.update({ ...steps[0]!, verbPred: 0.5 })).toThrow(/'verbPred' must be an integer class id/);
  });
});

describe('balancedAccuracy: per true class, then the unweighted mean over classes', () => {
  it('class a: 1 of 3 right, class b: 1 of 1 → (1/3 + 1)/2 = 2/3 (the plain accuracy is 2/4)', () => {
    expect(balancedAccuracy([true, false, false, true], ['a', 'a', 'a', 'b'])).toBeCloseTo(2 / 3, 12);
  });
});

describe('online adaptation gain: mean_t (L_pop − L_current-before-update), then user-macro', () => {
  it('u1: population [2, 2, 2], current [1, 1.5, 2.5] → gains 1, 0.5, −0.5 → 1/3', () => {
    expect(onlineAdaptationGain([2, 2, 2], [1, 1.5, 2.5])).toBeCloseTo(1 / 3, 12);
  });

  it('user-macro over u1 (1/3) and u2 (1 − 3 = −2): −5/6, not the pooled (1 + 0.5 − 0.5 − 2)/4 = −1/4', () => {
    const g = new UserAdaptationGain();
    g.update([
      { user: 'u1', populationLoss: 2, loss: 1 },
      { user: 'u2', populationLoss: 1, loss: 3 },
      { user: 'u1', populationLoss: 2, loss: 1.5 },
      { user: 'u1', populationLoss: 2, loss: 2.5 },
    ]);
    expect(g.perUser().u2).toBe(-2);
    expect(g.compute()).toBeCloseTo(-5 / 6, 12);
    expect(userMacro({ a: 1, b: 0 })).toBe(0.5);
  });

  it('the two loss lists must align', () => {
    expect(() => onlineAdaptationGain([1, 2], [1])).toThrow(/modelLosses has 1 entries, expected 2/);
  });
});
