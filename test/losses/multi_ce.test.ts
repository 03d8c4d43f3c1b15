import { describe, expect, it } from 'vitest';
import { evaluateLoss } from '../../plugins/losses/evaluate.ts';
import { matrix } from './harness.ts';
import { ce, expectClose, numericGrad } from './reference.ts';

// Sections [3, 2]: a verb head of 3 classes and a noun head of 2, side by side.
const sections = [3, 2];
const x = matrix(5, 4, 5);
const t = [
  [2, 1],
  [0, 0],
  [1, 1],
  [2, 0],
];
const part = (m: number[][], from: number, to: number) => m.map((r) => r.slice(from, to));
const col = (j: number) => t.map((r) => r[j]!);

describe('multi_ce: cross-entropy summed over target columns', () => {
  it('equals CE(verb section) + CE(noun section), with column weights and label smoothing', async () => {
    const r = await evaluateLoss('multi_ce', {}, { logits: x, targets: t, sections });
    expectClose(r.loss, (ce(part(x, 0, 3), col(0)) as number) + (ce(part(x, 3, 5), col(1)) as number));
    const w = await evaluateLoss('multi_ce', { column_weights: [0.25, 2], label_smoothing: 0.1, reduction: 'sum' }, { logits: x, targets: t, sections });
    const want = (m: number[][]) =>
      0.25 * (ce(part(m, 0, 3), col(0), { eps: 0.1, reduction: 'sum' }) as number) + 2 * (ce(part(m, 3, 5), col(1), { eps: 0.1, reduction: 'sum' }) as number);
    expectClose(w.loss, want(x));
    expectClose(w.grad, numericGrad(want, x), { rtol: 1e-7, atol: 1e-9 });
  });

  it('rejects targets that do not fit the sections, naming row, column and range', async () => {
    await expect(evaluateLoss('multi_ce', {}, { logits: x, targets: [[0, 2], ...t.slice(1)], sections })).rejects.toThrow(
      'targets[0][1] = 2 is not a class index in [0, 1]',
    );
    await expect(evaluateLoss('multi_ce', {}, { logits: x, targets: col(0), sections })).rejects.toThrow('takes targets [4, 2]');
    await expect(evaluateLoss('multi_ce', {}, { logits: x, targets: t, sections: [3, 3] })).rejects.toThrow('expects logits [N, 6] (sections 3 + 3), got [4, 5]');
    await expect(evaluateLoss('multi_ce', { column_weights: [1] }, { logits: x, targets: t, sections })).rejects.toThrow(
      "column_weights has 1 values, but there are 2 target columns",
    );
  });
});
