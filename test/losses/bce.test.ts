import { describe, expect, it } from 'vitest';
import { evaluateLoss } from '../../plugins/losses/evaluate.ts';
import { expectFloat32Close, lossGradCheck, matrix } from './harness.ts';
import { bce, bceElements, bceGrad, expectClose, expectFinite, sp, type Matrix } from './reference.ts';

const x = matrix(1, 3, 4);
const y: Matrix = [
  [1, 0, 0, 1],
  [0, 0, 1, 0],
  [1, 1, 0, 0],
];
const weight = [2, 0.5, 0, 1];
const posWeight = [3, 1, 0.25, 2];

describe('bce: torch binary_cross_entropy_with_logits (ml-spec §1.1)', () => {
  it('hand-computed: x = 0, y = 1 is ln 2; sum of [0, 2] vs [1, 0] is ln 2 + ln(1 + e²)', async () => {
    expectClose((await evaluateLoss('bce', {}, { logits: [[0]], targets: [[1]] })).loss, Math.LN2);
    expectClose((await evaluateLoss('bce', { reduction: 'sum' }, { logits: [[0, 2]], targets: [[1, 0]] })).loss, Math.LN2 + Math.log(1 + Math.exp(2)));
  });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`reduction ${reduction}: values and d loss / d logits as the spec's formulas`, async () => {
      const r = await evaluateLoss('bce', { reduction }, { logits: x, targets: y });
      expectClose(r.loss, bce(x, y, { reduction }));
      expectClose(r.grad, bceGrad(x, y, { reduction }));
    });

    it(`reduction ${reduction} with weight and pos_weight: ℓ = w[pw·y·sp(−x) + (1−y)·sp(x)], gradient w[σ(pw·y + 1 − y) − pw·y]`, async () => {
      const r = await evaluateLoss('bce', { reduction, weight, pos_weight: posWeight }, { logits: x, targets: y });
      expectClose(r.loss, bce(x, y, { reduction, weight, posWeight }));
      expectClose(r.grad, bceGrad(x, y, { reduction, weight, posWeight }));
    });
  }

  it('mean divides by N·C even with weights, not by Σw', async () => {
    const r = await evaluateLoss('bce', { weight }, { logits: x, targets: y });
    const elements = bceElements(x, y, { weight });
    const total = elements.flat().reduce((a, b) => a + b, 0);
    expectClose(r.loss, total / 12);
    expect(Math.abs((r.loss as number) - total / (3 * weight.reduce((a, b) => a + b)))).toBeGreaterThan(1e-3);
  });

  it('soft targets', async () => {
    const soft = matrix(7, 3, 4, 0, 1);
    const r = await evaluateLoss('bce', { pos_weight: posWeight }, { logits: x, targets: soft });
    expectClose(r.loss, bce(x, soft, { posWeight }));
    expectClose(r.grad, bceGrad(x, soft, { posWeight }));
  });

  it('mean_extreme_logits_stability: |x| ≥ 50 gives finite, exact losses and gradients', async () => {
    const big: Matrix = [
      [50, -50, 100, -100],
      [1000, -1000, 50, -50],
    ];
    const t: Matrix = [
      [1, 0, 0, 1],
      [0, 1, 1, 0],
    ];
    const r = await evaluateLoss('bce', { pos_weight: [1, 2, 1, 1] }, { logits: big, targets: t });
    expectFinite(r);
    // Hand-computed: sp(−50) ≈ 1.9e-22 twice, 100 twice, 1000 for x=1000,y=0, 2·1000 for x=−1000,y=1 with pw=2.
    expectClose(r.loss, (2 * sp(-50) + 100 + 100 + 1000 + 2000 + sp(-50) + sp(-50)) / 8);
    expectClose(r.grad, bceGrad(big, t, { posWeight: [1, 2, 1, 1] }));
    expectClose(r.grad[1], [1 / 8, -2 / 8, 0, 0], { atol: 1e-20 });
  });

  it('autodiff of the plugin graph matches central differences (float64)', async () => {
    await lossGradCheck('bce', { reduction: 'none', weight, pos_weight: posWeight }, { logits: x, targets: matrix(3, 3, 4, 0, 1) });
    await lossGradCheck('bce', {}, { logits: x, targets: y });
  });

  it('the gradient at x = 0 is σ(0) − y (no kink in the stable softplus)', async () => {
    const r = await evaluateLoss('bce', { reduction: 'sum' }, { logits: [[0, 0]], targets: [[1, 0]] });
    expectClose(r.grad, [[-0.5, 0.5]]);
  });

  it('float32 agrees with float64 to rel 1e-5', async () => {
    await expectFloat32Close('bce', { weight, pos_weight: posWeight }, { logits: x, targets: y });
  });

  it('a per-class option of the wrong length names the key and both sizes', async () => {
    await expect(evaluateLoss('bce', { pos_weight: [1, 2] }, { logits: x, targets: y })).rejects.toThrow(
      "the bce loss's pos_weight has 2 values, but the logits have 4 classes: give one value per class",
    );
  });
});
