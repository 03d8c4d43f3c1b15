import { describe, expect, it } from 'vitest';
import { actionIds, editDistance, levenshtein, ltaEditDistance, outputsJson } from '../../plugins/metrics/lta.ts';
import { rng } from './helpers.ts';

describe('levenshtein: plain Levenshtein (editdistance.eval), not Damerau', () => {
  it('a swap of two adjacent items costs 2 (Damerau–Levenshtein would say 1)', () => {
    expect(levenshtein([1, 2, 3], [2, 1, 3])).toBe(2);
    expect(levenshtein('ab', 'ba')).toBe(2);
  });

  it('unit insertion, deletion and substitution', () => {
    expect(levenshtein('kitten', 'sitting')).toBe(3); // k→s, e→i, +g
    expect(levenshtein([], [1, 2])).toBe(2);
    expect(levenshtein([1, 2, 3], [1, 3])).toBe(1);
    expect(levenshtein([7, 7], [7, 7])).toBe(0);
  });
});

describe('editDistance: ED(z) = mean_n min_k lev(prefix z) / z, AUED = trapz / (Z − 1)', () => {
  it('one forecast with the last two actions swapped: ED(1..4) = 0, 0, 1/3, 2/4; AUED = (0 + 1/6 + 5/12) / 3 = 7/36', () => {
    // label [1,2,3,4], pred [1,2,4,3]:
    //   z=1 [1] vs [1] → 0;  z=2 → 0;  z=3 [1,2,4] vs [1,2,3] → 1/3;  z=4 swap → 2/4 (Damerau would give 1/4)
    //   trapz = (0+0)/2 + (0+1/3)/2 + (1/3+1/2)/2 = 0 + 1/6 + 5/12 = 7/12; ÷ (Z−1) = 3 → 7/36
    const r = editDistance([[[1, 2, 4, 3]]], [[1, 2, 3, 4]]);
    expect(r.perZ).toEqual([0, 0, expect.closeTo(1 / 3, 12), 0.5]);
    expect(r.edAtZ).toBe(0.5);
    expect(r.aued).toBeCloseTo(7 / 36, 12);
  });

  it('the min over K is per sample, the mean over N after it', () => {
    // Sample 0: candidates at distance 4 and 1 → 1/4. Sample 1: candidates at 2 and 3 → 2/4. ED@4 = (1/4 + 2/4)/2 = 3/8.
    const preds = [
      [
        [9, 9, 9, 9],
        [1, 2, 3, 0],
      ],
      [
        [5, 6, 0, 0],
        [5, 0, 0, 0],
      ],
    ];
    const labels = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ];
    expect(editDistance(preds, labels).edAtZ).toBeCloseTo(3 / 8, 12);
  });

  it('the per-prefix distances read off one table equal lev on the slices, on random sequences', () => {
    const r = rng(3);
    for (let trial = 0; trial < 100; trial++) {
      const z = 1 + Math.floor(r() * 8);
      const k = 1 + Math.floor(r() * 3);
      const seq = () => Array.from({ length: z }, () => Math.floor(r() * 3));
      const preds = [Array.from({ length: k }, seq)];
      const labels = [seq()];
      const got = editDistance(preds, labels).perZ;
      const want = Array.from({ length: z }, (_, i) => Math.min(...preds[0]!.map((p) => levenshtein(p.slice(0, i + 1), labels[0]!.slice(0, i + 1)))) / (i + 1));
      expect(got).toEqual(want.map((w) => expect.closeTo(w, 12)));
    }
  });

  it('Z = 1: AUED is 0/0 = NaN (as numpy), ED@1 is defined', () => {
    const r = editDistance([[[3], [4]]], [[4]]);
    expect(r.edAtZ).toBe(0);
    expect(r.aued).toBeNaN();
  });
});

describe('ltaEditDistance: verb, noun and action scored separately', () => {
  // One sample, K = 2, Z = 4. Candidate 0 has every verb right and every noun wrong; candidate 1 the opposite.
  const input = {
    verbPreds: [
      [
        [1, 2, 3, 4],
        [9, 9, 9, 9],
      ],
    ],
    nounPreds: [
      [
        [0, 0, 0, 0],
        [5, 6, 7, 8],
      ],
    ],
    verbLabels: [[1, 2, 3, 4]],
    nounLabels: [[5, 6, 7, 8]],
  };

  it('the verb minimum comes from candidate 0 and the noun minimum from candidate 1 (both 0), but no candidate gets an action right (1)', () => {
    const r = ltaEditDistance(input);
    expect(r.verb.edAtZ).toBe(0);
    expect(r.noun.edAtZ).toBe(0);
    expect(r.action.edAtZ).toBe(1);
    expect(r.action.perZ).toEqual([1, 1, 1, 1]);
    expect(r.action.aued).toBe(1);
  });

  it('an action matches iff verb and noun both match', () => {
    // Candidate: verbs 1 2 3 4 (all right), nouns 5 6 0 8 (third wrong) → actions: third wrong → ED@4 = 1/4.
    const r = ltaEditDistance({
      verbPreds: [[[1, 2, 3, 4]]],
      nounPreds: [[[5, 6, 0, 8]]],
      verbLabels: [[1, 2, 3, 4]],
      nounLabels: [[5, 6, 7, 8]],
    });
    expect(r.verb.edAtZ).toBe(0);
    expect(r.noun.edAtZ).toBe(0.25);
    expect(r.action.edAtZ).toBe(0.25);
  });

  it('action id = verb · numNouns + noun (521 by default); a noun id ≥ numNouns is an error', () => {
    expect(actionIds([1, 0], [2, 520])).toEqual([523, 520]);
    expect(actionIds([[1]], [[2]], 10)).toEqual([[12]]);
    expect(() => ltaEditDistance(input, { numNouns: 8 })).toThrow(/noun id 8 .* is not below numNouns = 8/);
  });

  it('checks shapes: preds N×K×Z, labels N×Z, verb and noun alike', () => {
    expect(() => ltaEditDistance({ ...input, nounPreds: [[[0, 0, 0]]] })).toThrow(/nounPreds\[0\] must hold K = 1|verbPreds is 1×2×4 but nounPreds is 1×1×3/);
    expect(() => ltaEditDistance({ ...input, verbLabels: [[1, 2, 3]] })).toThrow(/verbLabels\[0\] must be a sequence of Z = 4 ids/);
    expect(() => ltaEditDistance({ ...input, verbLabels: [[1, 2, 3, -1]] })).toThrow(/verbLabels\[0\]\[3\] must be a class id/);
    expect(() => ltaEditDistance({ ...input, verbPreds: [[1, 2, 3, 4]] as never })).toThrow(/N×K×Z/);
  });
});

describe('outputsJson: the Ego4D LTA test submission', () => {
  it('keys "<clip_uid>_<action_idx>" with K×Z verb and noun ids', () => {
    const out = outputsJson([
      { clipUid: 'abc', actionIdx: 7, verbPreds: [[1, 2], [3, 4]], nounPreds: [[5, 6], [7, 8]] },
      { clipUid: 'def', actionIdx: 0, verbPreds: [[0, 0], [0, 1]], nounPreds: [[1, 1], [1, 0]] },
    ]);
    expect(out).toEqual({
      abc_7: { verb: [[1, 2], [3, 4]], noun: [[5, 6], [7, 8]] },
      def_0: { verb: [[0, 0], [0, 1]], noun: [[1, 1], [1, 0]] },
    });
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('rejects two forecasts for one key and mismatched verb/noun shapes', () => {
    const f = { clipUid: 'abc', actionIdx: 7, verbPreds: [[1, 2]], nounPreds: [[5, 6]] };
    expect(() => outputsJson([f, f])).toThrow(/two forecasts for the key 'abc_7'/);
    expect(() => outputsJson([{ ...f, nounPreds: [[5, 6, 7]] }])).toThrow(/verbPreds is 1×2 but nounPreds is 1×3/);
  });
});
