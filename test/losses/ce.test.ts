import { describe, expect, it } from 'vitest';
import { evaluateLoss } from '../../plugins/losses/evaluate.ts';
import { expectFloat32Close, lossGradCheck, matrix } from './harness.ts';
import { ce, ceGradUnweighted, expectClose, expectFinite, numericGrad } from './reference.ts';

const x = matrix(11, 4, 3);
const t = [2, 0, 1, 2];
const weight = [0.5, 2, 1.25];

describe('ce: torch cross_entropy with label smoothing and class weights', () => {
  it('hand-computed: uniform logits give ln C, with or without label smoothing', async () => {
    expectClose((await evaluateLoss('ce', {}, { logits: [[0, 0, 0]], targets: [1] })).loss, Math.log(3));
    expectClose((await evaluateLoss('ce', { label_smoothing: 0.3 }, { logits: [[0, 0, 0]], targets: [1] })).loss, Math.log(3));
    // [0, ln 3]: p = [1/4, 3/4]; target 1 → −ln(3/4); ε = 0.5 → 0.5·(−ln 3/4) + 0.25·(−ln 1/4 − ln 3/4)
    const r = await evaluateLoss('ce', { label_smoothing: 0.5 }, { logits: [[0, Math.log(3)]], targets: [1] });
    expectClose(r.loss, -0.5 * Math.log(0.75) - 0.25 * (Math.log(0.25) + Math.log(0.75)));
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: values; gradient softmax − [(1 − ε)·onehot + ε/C]`, async () => {
      for (const eps of [0, 0.1]) {
        const r = await evaluateLoss('ce', { reduction, label_smoothing: eps }, { logits: x, targets: t });
        expectClose(r.loss, ce(x, t, { eps, reduction }));
        const g = ceGradUnweighted(x, t, eps).map((row) => row.map((v) => (reduction === 'mean' ? v : v * x.length)));
        expectClose(r.grad, g);
      }
    });

    it(`reduction ${reduction} with class weights and label smoothing (mean divides by Σ w_t, the smoothing term too)`, async () => {
      const r = await evaluateLoss('ce', { reduction, label_smoothing: 0.2, class_weights: weight }, { logits: x, targets: t });
      expectClose(r.loss, ce(x, t, { eps: 0.2, weight, reduction }));
      const total = (m: number[][]) => {
        const v = ce(m, t, { eps: 0.2, weight, reduction });
        return typeof v === 'number' ? v : v.reduce((a, b) => a + b, 0);
      };
      expectClose(r.grad, numericGrad(total, x), { rtol: 1e-7, atol: 1e-9 });
    });
  }

  it('stable for |x| ≥ 50: [50, −50, 0] with target 1 costs 100', async () => {
    const r = await evaluateLoss('ce', {}, { logits: [[50, -50, 0], [-1000, 1000, 0]], targets: [1, 0] });
    expectFinite(r);
    expectClose(r.loss, (100 + 2000) / 2);
    expectClose(r.grad, [[0.5, -0.5, 0], [-0.5, 0.5, 0]], { atol: 1e-20 });
  });

  it('autodiff of the plugin graph matches central differences (float64)', async () => {
    await lossGradCheck('ce', { label_smoothing: 0.1, class_weights: weight }, { logits: x, targets: t });
    await lossGradCheck('ce', { reduction: 'none' }, { logits: x, targets: t });
  });

  it('float32 agrees with float64 to rel 1e-5', async () => {
    await expectFloat32Close('ce', { label_smoothing: 0.1, class_weights: weight }, { logits: x, targets: t });
  });

  it('takes class indices, not a one-hot matrix; indices must be in range', async () => {
    await expect(evaluateLoss('ce', {}, { logits: x, targets: [[1, 0, 0]] })).rejects.toThrow('the ce loss (with these options) takes class-index targets [4] (single-label), not a matrix');
    await expect(evaluateLoss('ce', {}, { logits: x, targets: [0, 1, 3, 0] })).rejects.toThrow('targets[2] = 3 is not a class index in [0, 2] (logits [4, 3])');
    await expect(evaluateLoss('ce', {}, { logits: x, targets: [0, 1] })).rejects.toThrow('the ce loss needs one class index per row of the logits: 2 targets for logits [4, 3]');
  });
});
